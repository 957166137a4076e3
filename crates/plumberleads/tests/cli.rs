//! The binary as an operator runs it.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

type R = anyhow::Result<()>;

/// The binary with a clean environment, run from an empty folder (so no `.env` is picked up).
fn plumberleads(dir: &tempfile::TempDir) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plumberleads"));
    cmd.env_clear().current_dir(dir.path()).env("PLUMBERLEADS_LOG_FORMAT", "json").kill_on_drop(true);
    cmd
}

#[tokio::test]
async fn invalid_configuration_stops_start_up_with_one_line_naming_the_setting() -> R {
    let dir = tempfile::tempdir()?;
    let out = plumberleads(&dir).arg("serve").env("PLUMBERLEADS_DB_MAX_CONNECTIONS", "many").output().await?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(stderr, "configuration error: PLUMBERLEADS_DB_MAX_CONNECTIONS: expected a whole number, got \"many\"\n");

    let out = plumberleads(&dir).arg("check-config").env("REDIS_URL", "http://:hunter2@cache").output().await?;
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8(out.stderr)?.contains("hunter2"));
    Ok(())
}

#[tokio::test]
async fn a_local_postgresql_that_does_not_answer_is_one_line_saying_what_to_run() -> R {
    let dir = tempfile::tempdir()?;
    // Nothing listens on port 1.
    let out = plumberleads(&dir).arg("migrate").env("DATABASE_URL", "postgres://127.0.0.1:1/pl").output().await?;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: PostgreSQL is not answering at 127.0.0.1:1. Start it with: pg_ctlcluster ")
            || stderr.starts_with("error: PostgreSQL is not answering at 127.0.0.1:1, and it is not installed here."),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn check_config_prints_the_configuration_with_secrets_redacted() -> R {
    let dir = tempfile::tempdir()?;
    let out = plumberleads(&dir)
        .arg("check-config")
        .env("DATABASE_URL", "postgres://app:hunter2@db.internal/pl")
        .output()
        .await?;
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout)?;
    assert!(stdout.starts_with("Configuration is valid."));
    assert!(stdout.contains("postgres://app:********@db.internal/pl"), "{stdout}");
    assert!(!stdout.contains("hunter2"));
    Ok(())
}

#[tokio::test]
async fn every_subcommand_has_useful_help() -> R {
    let dir = tempfile::tempdir()?;
    for (args, needle) in [
        (vec!["--help"], "check-config"),
        (vec!["serve", "--help"], "--no-worker"),
        (vec!["worker", "--help"], "--listen"),
        (vec!["migrate", "--help"], "migrations"),
        (vec!["seed", "--help"], "--demo"),
        (vec!["check-config", "--help"], "--connect"),
        (vec!["admin", "--help"], "dead-jobs"),
    ] {
        let out = plumberleads(&dir).args(&args).output().await?;
        assert!(out.status.success(), "{args:?}");
        assert!(String::from_utf8(out.stdout)?.contains(needle), "{args:?} should mention {needle}");
    }
    Ok(())
}

/// Creates a database name that does not exist yet; dropped at the end of the test.
struct NewDatabase {
    name: String,
}

impl NewDatabase {
    fn new() -> Self {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self { name: format!("plt_{secs}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]) }
    }

    fn url(&self) -> String {
        format!("postgres://localhost/{}", self.name)
    }

    async fn drop_it(self) -> anyhow::Result<()> {
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect("postgres://localhost/postgres").await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).execute(&mut admin).await?;
        Ok(())
    }
}

#[tokio::test]
async fn serve_creates_the_database_serves_and_exits_0_on_sigterm() -> R {
    let dir = tempfile::tempdir()?;
    let db = NewDatabase::new();
    let mut child = plumberleads(&dir)
        .args(["serve", "--demo"])
        .env("DATABASE_URL", db.url())
        .env("PLUMBERLEADS_BIND", "127.0.0.1:0")
        .env("PLUMBERLEADS_STORAGE_DIR", dir.path().join("storage"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await??.unwrap_or_default();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|u| u.trim_end_matches('/').to_owned())
        .ok_or_else(|| anyhow::anyhow!("no URL in {first:?}"))?;
    let second = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await??.unwrap_or_default();
    assert_eq!(
        second,
        format!("Demo plumber login: demo-pro@plumberleads.localhost / copper wrench harbor 27 ({base}/login)")
    );

    let client = reqwest::Client::builder().no_proxy().build()?;
    let health = client.get(format!("{base}/health")).send().await?;
    assert_eq!(health.status(), 200);
    let home = client.get(format!("{base}/")).send().await?.text().await?;
    assert!(home.contains("Clogged toilet"), "categories come from the new database");
    assert_eq!(client.get(format!("{base}/metrics")).send().await?.status(), 200);

    let pid = child.id().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let killed = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await??;
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");

    // Running migrate again on the same database is a no-op that succeeds.
    let out = plumberleads(&dir).arg("migrate").env("DATABASE_URL", db.url()).output().await?;
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout)?, "The database is up to date.\n");
    db.drop_it().await
}

#[tokio::test]
async fn a_worker_told_to_listen_answers_its_probes_and_metrics_and_nothing_else() -> R {
    let dir = tempfile::tempdir()?;
    let db = NewDatabase::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = plumberleads(&dir)
        .args(["worker", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db.url())
        .env("PLUMBERLEADS_STORAGE_DIR", dir.path().join("storage"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // Listening once it logs so (it creates and migrates the database first), within a minute.
    let stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut lines = BufReader::new(stderr).lines();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if line.contains("health and metrics") {
                return Ok(());
            }
        }
        anyhow::bail!("the worker exited before listening")
    })
    .await??;
    // Keep reading, so that its logs never fill the pipe and block it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::builder().no_proxy().build()?;
    let health = client.get(format!("{base}/health")).send().await?;
    assert_eq!(health.status(), 200);
    assert_eq!(client.get(format!("{base}/health/live")).send().await?.status(), 200);
    let metrics = client.get(format!("{base}/metrics")).send().await?;
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await?;
    assert!(metrics.contains("health_status 1") && metrics.contains("jobs_queue_depth{state=\"due\"}"), "{metrics}");
    for path in ["/", "/request", "/api/v1/categories", "/login"] {
        assert_eq!(client.get(format!("{base}{path}")).send().await?.status(), 404, "{path}: a worker serves no site");
    }

    let pid = child.id().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await??;
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
    db.drop_it().await
}

#[tokio::test]
async fn verify_audit_says_whether_the_chain_holds() -> R {
    let app = testkit::TestApp::spawn().await?;
    app.signup_pro("jane@example.com", "+16125550123").await?;
    app.api_login("jane@example.com", testkit::PRO_PASSWORD).await?;
    let dir = tempfile::tempdir()?;
    let verify = || {
        plumberleads(&dir)
            .args(["admin", "verify-audit"])
            .env("DATABASE_URL", &app.db.url)
            .env("DATABASE_MIGRATION_URL", &app.db.owner_url)
            .output()
    };
    let out = verify().await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout)?, "The audit log is intact: 2 entries, chain unbroken.\n");
    let owner = app.owner_pool().await?;
    sqlx::query("ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only").execute(&owner).await?;
    sqlx::query("UPDATE identity.audit_log SET action = 'staff_created' WHERE seq = 1").execute(&owner).await?;
    let out = verify().await?;
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains("broken at entry 1: its contents were changed"));
    Ok(())
}

#[tokio::test]
async fn create_staff_prints_a_first_password_once_and_reset_mfa_clears_the_factor() -> R {
    let app = testkit::TestApp::spawn().await?;
    let dir = tempfile::tempdir()?;
    let admin = |args: &[&str]| {
        let mut cmd = plumberleads(&dir);
        cmd.arg("admin").args(args).env("DATABASE_URL", &app.db.url).env("DATABASE_MIGRATION_URL", &app.db.owner_url);
        cmd.output()
    };
    let out = admin(&["create-staff", "olga@plumberleads.example", "Olga Ops"]).await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout)?;
    let password = stdout.lines().nth(2).unwrap_or_default().to_owned();
    assert_eq!(password.len(), 43, "{stdout}");
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM identity.users WHERE email = 'olga@plumberleads.example'")
            .fetch_one(&app.pool)
            .await?;
    assert!(hash.starts_with("$argon2id$"), "kept as an Argon2id hash");
    // The printed password is the account's: it signs in (on to the second factor's set-up), and a
    // password one character off does not.
    let login = |password: String| {
        app.post("/login").form(&[("email", "olga@plumberleads.example".to_owned()), ("password", password)]).send()
    };
    let res = login(password.clone()).await?;
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str()?), (303, "/staff/mfa"));
    let mut off_by_one = password.clone();
    let last = off_by_one.pop().map_or('x', |c| if c == 'x' { 'y' } else { 'x' });
    off_by_one.push(last);
    assert_eq!(login(off_by_one).await?.status().as_u16(), 401);
    let again = admin(&["create-staff", "OLGA@plumberleads.example", "Olga Two"]).await?;
    assert!(!again.status.success());
    assert!(String::from_utf8(again.stderr)?.contains("already has an account"));
    let out = admin(&["create-staff", "not-an-address", "Olga"]).await?;
    assert!(!out.status.success());

    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM identity.users WHERE email = 'olga@plumberleads.example'")
        .fetch_one(&app.pool)
        .await?;
    app.enrol_staff(id).await?;
    let out = admin(&["reset-mfa", "olga@plumberleads.example"]).await?;
    assert!(out.status.success());
    let enabled: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT totp_enabled_at FROM identity.users WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!(enabled, None);
    Ok(())
}

/// The line a failed command ends with (log events may come before it on stderr).
fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).lines().last().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn verify_audit_with_a_logged_head_catches_the_newest_entries_deleted() -> R {
    let app = testkit::TestApp::spawn().await?;
    app.signup_pro("jane@example.com", "+16125550123").await?;
    app.api_login("jane@example.com", testkit::PRO_PASSWORD).await?;
    let head = services::audit::publish_head(&app.state.ctx).await?.ok_or_else(|| anyhow::anyhow!("no head"))?;
    assert_eq!(head.seq, 2);
    let dir = tempfile::tempdir()?;
    let verify = |args: &[&str]| {
        let mut cmd = plumberleads(&dir);
        cmd.args(["admin", "verify-audit"]).args(args);
        cmd.env("DATABASE_URL", &app.db.url).env("DATABASE_MIGRATION_URL", &app.db.owner_url).output()
    };
    let out = verify(&["--head", &head.to_string()]).await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout)?,
        "The audit log is intact: 2 entries, chain unbroken and reaches every head given.\n"
    );

    // Someone with the owner's rights removes the newest entry: the chain alone still holds.
    let owner = app.owner_pool().await?;
    sqlx::query("ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only").execute(&owner).await?;
    sqlx::query("DELETE FROM identity.audit_log WHERE seq = 2").execute(&owner).await?;
    let out = verify(&[]).await?;
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout)?, "The audit log is intact: 1 entries, chain unbroken.\n");
    let out = verify(&["--head", &head.to_string()]).await?;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out.stderr),
        "error: the audit log is broken: entry 2 was logged as the head but is gone: the newest entries were deleted"
    );

    // A new entry takes the deleted one's number, but not its hash.
    app.api_login("jane@example.com", testkit::PRO_PASSWORD).await?;
    let out = verify(&["--head", &head.to_string()]).await?;
    assert!(String::from_utf8(out.stderr)?.contains("entry 2 is not the one logged as the head (its hash differs)"));

    let out = verify(&["--head", "2:beef"]).await?;
    assert_eq!(out.status.code(), Some(2), "a malformed head is a usage error");
    Ok(())
}

#[tokio::test]
async fn production_refuses_an_app_role_that_could_rewrite_the_audit_log() -> R {
    let dir = tempfile::tempdir()?;
    let db = testkit::TestDatabase::create().await?;
    let production = |database_url: &str| {
        let mut cmd = plumberleads(&dir);
        cmd.arg("serve")
            .env("PLUMBERLEADS_ENV", "production")
            .env("PLUMBERLEADS_SECRET_KEY", "0123456789abcdef0123456789abcdef0123456789abcdef")
            .env("PLUMBERLEADS_BIND", "127.0.0.1:0")
            .env("PLUMBERLEADS_STORAGE_DIR", dir.path().join("storage"))
            .env("DATABASE_URL", database_url)
            .env("DATABASE_MIGRATION_URL", &db.owner_url);
        cmd
    };
    // The schema's owner as the app: it could drop the trigger and delete entries.
    let out = tokio::time::timeout(Duration::from_secs(60), production(&db.owner_url).output()).await??;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out.stderr),
        "error: the role in DATABASE_URL owns or may rewrite the audit log: log the app in as a member of \
         plumberleads_app and run migrations with DATABASE_MIGRATION_URL (deploy/README.md)"
    );

    // A member of plumberleads_app starts.
    let mut child = production(&db.url).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let first = tokio::time::timeout(Duration::from_secs(60), BufReader::new(stdout).lines().next_line())
        .await??
        .unwrap_or_default();
    assert!(first.starts_with("PlumberLeads is running at http://127.0.0.1:"), "{first:?}");
    child.kill().await?;
    Ok(())
}

#[tokio::test]
async fn an_operator_exports_and_erases_a_homeowners_data_by_phone() -> R {
    let app = testkit::TestApp::spawn().await?;
    app.verified_lead("6125550190", "drain-cleaning", "within_48h", "55401").await?;
    let dir = tempfile::tempdir()?;
    let admin = |args: &[&str]| {
        let mut cmd = plumberleads(&dir);
        cmd.arg("admin").args(args);
        cmd.env("DATABASE_URL", &app.db.url).env("DATABASE_MIGRATION_URL", &app.db.owner_url).output()
    };
    let out = admin(&["export-homeowner", "(612) 555-0190"]).await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copy: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(copy["requests"][0]["name"], "Pat Lee");

    let out = admin(&["erase-homeowner", "612-555-0190"]).await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout)?, "Erased the personal data of 1 request(s) from 612-555-0190.\n");
    let out = admin(&["export-homeowner", "6125550190"]).await?;
    let copy: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(copy["requests"], serde_json::json!([]));

    let out = admin(&["erase-homeowner", "12345"]).await?;
    assert_eq!(out.status.code(), Some(1));
    assert!(last_line(&out.stderr).starts_with("error: phone: "), "{}", last_line(&out.stderr));
    Ok(())
}
