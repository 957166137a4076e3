//! `plumberleads`: one binary, every role. See `--help`.

mod cli;
mod failure;
mod telemetry;

use anyhow::Context;
use clap::Parser;
use cli::{AdminCommand, Cli, Command};
use domain::SystemClock;
use secrecy::ExposeSecret;
use services::{Conflict, ServiceError};
use settings::Settings;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// mimalloc: a request allocates and frees many small buffers across threads, which glibc's
/// allocator handled at about a tenth of the server's time (measured with perf under bench/run).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    match run(cli.command, settings.clone()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Once, on stderr, like a configuration error (not also as a log event: that went to
            // stderr too and said the same again).
            eprintln!("error: {}", failure::message(&e, settings.database.url.expose_secret()));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Arc<Settings>) -> anyhow::Result<()> {
    match command {
        Command::Serve { no_worker, demo } => {
            let pool = store::prepare(&settings.database).await?;
            guard_history(&settings, &pool).await?;
            let app = app::App::new(settings.clone(), pool, Arc::new(SystemClock)).await?;
            if demo {
                seed_demo(&app.ctx).await?;
            }
            let listener = tokio::net::TcpListener::bind(settings.http.bind).await?;
            let addr = listener.local_addr()?;
            println!("PlumberLeads is running at http://{addr}/ (health: http://{addr}/health). Ctrl-C stops it.");
            if demo {
                println!("{}", demo_login(&addr.to_string()));
            }
            tracing::info!(%addr, worker = !no_worker, "serving");
            app.run(Some((listener, app::Surface::Site(axum_extra()))), !no_worker, shutdown_signal()).await
        }
        Command::Worker { listen } => {
            let pool = store::prepare(&settings.database).await?;
            guard_history(&settings, &pool).await?;
            let app = app::App::new(settings.clone(), pool, Arc::new(SystemClock)).await?;
            let probes = match listen {
                Some(addr) => {
                    let listener = tokio::net::TcpListener::bind(addr).await?;
                    tracing::info!(addr = %listener.local_addr()?, "health and metrics");
                    Some((listener, app::Surface::Probes))
                }
                None => None,
            };
            tracing::info!(concurrency = settings.jobs.concurrency, "working");
            app.run(probes, true, shutdown_signal()).await
        }
        Command::Migrate => {
            store::prepare(&settings.database).await?;
            println!("The database is up to date.");
            Ok(())
        }
        Command::Seed { demo, pros } => {
            let pool = store::prepare(&settings.database).await?;
            if demo {
                let app = app::App::new(settings.clone(), pool, Arc::new(SystemClock)).await?;
                seed_demo(&app.ctx).await?;
                seed_demo_pros(&app.ctx, pros).await?;
                println!("{}", demo_login(&settings.http.bind.to_string()));
            }
            println!("Reference data is loaded{}.", if demo { ", and the demo data" } else { "" });
            Ok(())
        }
        Command::CheckConfig { connect } => check_config(&settings, connect).await,
        Command::Admin { command } => admin(command, settings).await,
    }
}

fn axum_extra() -> axum::Router<web::AppState> {
    axum::Router::new()
}

/// The demo pro's login, printed by `serve --demo` and `seed --demo`.
const DEMO_PRO_EMAIL: &str = "demo-pro@plumberleads.localhost";
const DEMO_PRO_PASSWORD: &str = "copper wrench harbor 27";

/// Demo content for a first look: a plumber in Minneapolis, approved, with $500.00 in the
/// wallet, who is offered what a newcomer requests there. Running it again changes nothing.
async fn seed_demo(ctx: &services::Ctx) -> anyhow::Result<()> {
    let setup = services::pros::ready::Setup { business_name: "Demo Plumbing Co.".into(), ..Default::default() };
    demo_pro(ctx, DEMO_PRO_EMAIL, "Dana Demo", "+16125550100", &setup).await
}

/// Metros the demo plumbers work around: (ZIP, licence state, time zone).
const DEMO_METROS: [(&str, &str, &str); 10] = [
    ("55401", "MN", "America/Chicago"),
    ("60601", "IL", "America/Chicago"),
    ("10001", "NY", "America/New_York"),
    ("90012", "CA", "America/Los_Angeles"),
    ("77002", "TX", "America/Chicago"),
    ("85004", "AZ", "America/Phoenix"),
    ("19103", "PA", "America/New_York"),
    ("75201", "TX", "America/Chicago"),
    ("80202", "CO", "America/Denver"),
    ("98101", "WA", "America/Los_Angeles"),
];

/// `n` more demo plumbers, spread over the metros, each offering every category.
async fn seed_demo_pros(ctx: &services::Ctx, n: u32) -> anyhow::Result<()> {
    let categories: Vec<&'static str> = vec![
        "burst-pipe",
        "drain-cleaning",
        "clogged-toilet",
        "water-heater-repair",
        "water-heater-install",
        "sewer-line",
        "leak-detection",
        "fixture-install",
        "garbage-disposal",
        "sump-pump",
        "repiping",
        "gas-line",
        "water-treatment",
        "backflow-testing",
        "remodel-plumbing",
    ];
    for i in 0..n {
        let (zip, state, time_zone) = DEMO_METROS[i as usize % DEMO_METROS.len()];
        let setup = services::pros::ready::Setup {
            business_name: format!("Demo Plumber {}", i + 1),
            licence_state: state,
            zip: zip.into(),
            radius_miles: 15,
            categories: categories.clone(),
            time_zone,
            ..Default::default()
        };
        let email = format!("demo-pro-{}@plumberleads.localhost", i + 1);
        let phone = format!("+1612555{:04}", 2000 + i % 8000);
        demo_pro(ctx, &email, &format!("Demo Owner {}", i + 1), &phone, &setup).await?;
    }
    if n > 0 {
        println!(
            "{n} more demo plumbers: demo-pro-1@plumberleads.localhost … demo-pro-{n}@plumberleads.localhost, password as the demo plumber's."
        );
    }
    Ok(())
}

async fn demo_pro(
    ctx: &services::Ctx,
    email: &str,
    owner: &str,
    phone: &str,
    setup: &services::pros::ready::Setup,
) -> anyhow::Result<()> {
    let input = domain::account::SignupInput {
        business_name: setup.business_name.clone(),
        owner_name: owner.into(),
        email: email.into(),
        phone: phone.into(),
        password: DEMO_PRO_PASSWORD.into(),
    };
    match services::accounts::signup(ctx, &input, "127.0.0.1").await {
        Ok(id) => services::pros::ready::complete(ctx, id, setup)
            .await
            .map_err(refused)
            .context("making the demo plumber ready")?,
        Err(ServiceError::Conflict(Conflict::EmailTaken)) => {}
        Err(e) => anyhow::bail!("creating the demo plumber {email}: {e}"),
    }
    Ok(())
}

fn demo_login(addr: &str) -> String {
    format!("Demo plumber login: {DEMO_PRO_EMAIL} / {DEMO_PRO_PASSWORD} (http://{addr}/login)")
}

async fn check_config(settings: &Settings, connect: bool) -> anyhow::Result<()> {
    println!("Configuration is valid.");
    println!("  listen on        {}", settings.http.bind);
    println!("  public URL       {}", settings.http.public_url);
    println!("  database         {}", redact(settings.database.url.expose_secret()));
    println!(
        "  redis            {}",
        settings
            .redis_url
            .as_ref()
            .map_or("not configured (PostgreSQL and in-process instead)".to_owned(), |u| redact(u.expose_secret()))
    );
    println!("  email / sms      {:?} / {:?}", settings.providers.email, settings.providers.sms);
    println!("  payments         {:?}", settings.providers.payments);
    println!("  storage          {}", settings.providers.storage_dir.display());
    println!(
        "  secret key       {}",
        match (&settings.secret_key, &settings.previous_secret_key) {
            (Some(_), Some(_)) => "set, with a previous key still accepted (rotation)",
            (Some(_), None) => "set",
            (None, _) => "not set: generated once and kept in the database (development only)",
        }
    );
    if connect {
        let pool = store::connect(&settings.database).await?;
        store::ping(&pool, settings.health.component_timeout).await.map_err(|e| anyhow::anyhow!("PostgreSQL: {e}"))?;
        println!("  PostgreSQL       answers");
        if let Some(url) = &settings.redis_url {
            services::infra::redis_check::RedisCheck::new(url)?
                .ping()
                .await
                .map_err(|e| anyhow::anyhow!("Redis: {e}"))?;
            println!("  Redis            answers");
        }
    }
    Ok(())
}

/// A URL with its password replaced, for showing which server is meant.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("********"));
            }
            u.to_string()
        }
        Err(_) => "(unparseable)".into(),
    }
}

/// In production the app's own database role may not be able to rewrite history: owning the
/// audit log would let it drop the append-only trigger, and DELETE would let it remove the
/// newest entries. Elsewhere (one machine, one role) it is only said.
async fn guard_history(settings: &Settings, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let guard = store::db::history_guard(pool).await?;
    if guard.holds() {
        return Ok(());
    }
    let what = "the role in DATABASE_URL owns or may rewrite the audit log: log the app in as a member of \
                plumberleads_app and run migrations with DATABASE_MIGRATION_URL (deploy/README.md)";
    if settings.production {
        anyhow::bail!(what);
    }
    tracing::info!("{what}; allowed outside production");
    Ok(())
}

async fn admin(command: AdminCommand, settings: Arc<Settings>) -> anyhow::Result<()> {
    let pool = store::prepare(&settings.database).await?;
    let app = app::App::new(settings, pool, Arc::new(SystemClock)).await?;
    let ctx = &app.ctx;
    let queue = &ctx.queue;
    match command {
        AdminCommand::DeadJobs { limit } => {
            let dead = queue.dead_jobs(limit).await?;
            if dead.is_empty() {
                println!("No dead jobs.");
            }
            for j in dead {
                println!("{}\t{}\t{} attempts\t{}", j.id, j.kind, j.attempts, j.last_error.unwrap_or_default());
            }
        }
        AdminCommand::CreatePartner { name } => {
            let (id, key) = services::partners::create(ctx, &name).await.map_err(refused)?;
            println!("Partner {} created with id {id}.", name.trim());
            println!("API key (shown only now; store it in the partner's secret manager):\n{key}");
        }
        AdminCommand::RevokePartner { id } => {
            let mut conn = ctx.pool.acquire().await?;
            if store::partners::revoke(&mut conn, id, ctx.clock.now()).await? {
                println!("Partner {id}'s key no longer works.");
            } else {
                anyhow::bail!("there is no active partner {id}");
            }
        }
        AdminCommand::LedgerCheck => {
            let c = services::market::wallet::check(ctx).await.map_err(refused)?;
            println!(
                "{} transfers, {} entries: {} unbalanced transfers, {} negative wallets, {} drifted balances, \
                 {} broken running balances, {} purchases without their payment",
                c.transfers,
                c.entries,
                c.unbalanced_transfers,
                c.negative_wallets,
                c.drifted_balances,
                c.broken_running_balances,
                c.unmatched_purchases
            );
            anyhow::ensure!(c.sound(), "the ledger is NOT sound");
            println!("The ledger is sound.");
        }
        AdminCommand::ExportHomeowner { phone } => {
            let copy = services::privacy::export_homeowner(ctx, &phone).await.map_err(refused)?;
            println!("{copy:#}");
        }
        AdminCommand::EraseHomeowner { phone } => {
            let n = services::privacy::erase_homeowner(ctx, &phone).await.map_err(refused)?;
            println!("Erased the personal data of {n} request(s) from {phone}.");
        }
        AdminCommand::ExportPro { email } => match services::privacy::export_pro(ctx, &email).await {
            Ok(copy) => println!("{copy:#}"),
            Err(ServiceError::NotFound) => anyhow::bail!("there is no plumber {email}"),
            Err(e) => return Err(refused(e).context("exporting")),
        },
        AdminCommand::ApprovePro { email } => match services::pros::approval::approve_by_operator(ctx, &email).await {
            Ok(id) => println!("{email} ({id}) is approved: leads can reach them now."),
            Err(ServiceError::NotFound) => anyhow::bail!("there is no plumber {email} awaiting approval"),
            Err(e) => return Err(refused(e).context("approving")),
        },
        AdminCommand::Partners => {
            let mut conn = ctx.pool.acquire().await?;
            for p in store::partners::list(&mut conn).await? {
                let state = if p.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\tpl_{}_…\t{state}", p.id, p.name, p.key_prefix);
            }
        }
        AdminCommand::Rejections { limit } => {
            let mut conn = ctx.pool.acquire().await?;
            for r in store::rejections::recent(&mut conn, limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.created_at,
                    r.reason,
                    r.source,
                    r.client_ip.unwrap_or_default(),
                    r.submission
                );
            }
        }
        AdminCommand::CreateStaff { email, name, admin } => {
            let role = if admin { domain::account::Role::Admin } else { domain::account::Role::Staff };
            match services::accounts::create_staff(ctx, None, &email, &name, role).await {
                Ok((id, password)) => {
                    println!("Staff account {email} created with id {id} ({}).", role.as_str());
                    println!("First password (shown only now; hand it over safely):\n{password}");
                    println!(
                        "At first sign-in they set up an authenticator app, from an address in PLUMBERLEADS_STAFF_ALLOW."
                    );
                }
                Err(ServiceError::Conflict(Conflict::EmailTaken)) => anyhow::bail!("{email} already has an account"),
                Err(e) => return Err(refused(e).context("creating the staff account")),
            }
        }
        AdminCommand::ResetMfa { email } => match services::accounts::reset_second_factor(ctx, &email).await {
            Ok(_) => println!("{email}'s second factor is removed; they set it up again at their next sign-in."),
            Err(ServiceError::BadCredentials) => anyhow::bail!("there is no account {email}"),
            Err(e) => anyhow::bail!("resetting the second factor: {e}"),
        },
        AdminCommand::VerifyAudit { head } => {
            let mut conn = ctx.pool.acquire().await?;
            let rows = match store::audit::verify(&mut conn, &services::audit::keys(ctx)).await? {
                store::audit::Verdict::Intact { rows } => rows,
                store::audit::Verdict::Broken { seq, why } => {
                    anyhow::bail!("the audit log is broken at entry {seq}: {why}")
                }
            };
            for logged in &head {
                if let Some(why) = services::audit::reaches(&mut conn, logged).await? {
                    anyhow::bail!("the audit log is broken: {why}")
                }
            }
            let reached = if head.is_empty() { String::new() } else { " and reaches every head given".to_owned() };
            println!("The audit log is intact: {rows} entries, chain unbroken{reached}.");
        }
        AdminCommand::Audit { limit } => {
            let mut conn = ctx.pool.acquire().await?;
            for r in store::audit::recent(&mut conn, limit).await? {
                let who = r.actor_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
                println!("{}	{}	{}	{who}	{}	{}", r.seq, r.at, r.action, r.ip.unwrap_or_default(), r.detail);
            }
        }
        AdminCommand::RetryJob { id } => {
            if queue.retry_dead(id).await? {
                println!("Job {id} is queued again.");
            } else {
                anyhow::bail!("there is no dead job {id}");
            }
        }
    }
    Ok(())
}

/// Cancelled on SIGTERM (the supervisor) or SIGINT (Ctrl-C).
fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        t.cancel();
    });
    token
}

/// A use case's refusal, said as the CLI says things: field by field for invalid input.
fn refused(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(errors) => {
            let why: Vec<String> = errors.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            anyhow::anyhow!("{}", why.join("; "))
        }
        other => other.into(),
    }
}
