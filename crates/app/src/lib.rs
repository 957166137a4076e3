//! Wires the parts together once, the same way for the binary and for tests.

use domain::Clock;
use jobs::{Queue, QueueConfig, Worker};
use services::Ctx;
use settings::Settings;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use web::AppState;

/// What a node answers over HTTP.
pub enum Surface {
    /// The whole site and API, plus `extra` routes (tests add probes).
    Site(axum::Router<AppState>),
    /// Only `/health`, `/health/live` and `/metrics`: a worker-only node, watched like the others.
    Probes,
}

pub struct App {
    /// Every use case's context: the CLI and the workers start from it.
    pub ctx: Ctx,
    /// What HTTP serves from (the same `Ctx`, and the web's own parts).
    pub state: AppState,
    pub worker: Worker<Ctx>,
}

impl App {
    pub async fn new(settings: Arc<Settings>, pool: PgPool, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        if settings.secret_key.is_none() {
            tracing::warn!(
                "PLUMBERLEADS_SECRET_KEY is not set: using the key generated for this database (development only)"
            );
        }
        let secrets = services::infra::signing::SecretKeys::resolve(&settings, &pool).await?;
        let j = &settings.jobs;
        let queue = Queue::new(
            pool.clone(),
            clock.clone(),
            QueueConfig {
                lease: j.lease,
                backoff_base: j.backoff_base,
                backoff_max: j.backoff_max,
                default_max_attempts: j.max_attempts,
            },
        );
        let providers = integrations::Providers::from_settings(&settings, pool.clone(), clock.clone())?;
        let ctx = Ctx::new(pool, settings, clock, queue.clone(), providers, secrets);
        let worker = Worker::new(queue, services::jobs::registry(), ctx.clone());
        let state = AppState::new(ctx.clone(), web::metrics_handle());
        Ok(Self { ctx, state, worker })
    }

    /// Serves HTTP on `listener` (if any) and runs workers (if asked) until `shutdown`, then
    /// finishes in-flight requests and jobs within the grace period.
    pub async fn run(
        self,
        http: Option<(TcpListener, Surface)>,
        run_worker: bool,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let settings = self.state.settings.clone();
        // Every node that enqueues wakes the workers, wherever they run.
        let notifier = tokio::spawn(self.state.queue.clone().run_notifier(shutdown.clone()));
        // The live feed: every node publishes; nodes serving HTTP also listen for their streams.
        let feed_sender = tokio::spawn(services::market::feed::run_sender(self.ctx.clone(), shutdown.clone()));
        let serves_site = matches!(http, Some((_, Surface::Site(_))));
        let feed_listener = serves_site.then(|| {
            tokio::spawn(services::market::feed::run_listener(
                self.ctx.clone(),
                settings.jobs.poll_interval,
                shutdown.clone(),
            ))
        });
        let housekeeping = run_worker.then(|| tokio::spawn(housekeeping(self.ctx.clone(), shutdown.clone())));
        if run_worker {
            // The roster's first read is every pro and every covered ZIP (seconds at 15,000 pros):
            // read it now, not while the first verified lead waits.
            let ctx = self.ctx.clone();
            tokio::spawn(async move {
                if let Err(e) = ctx.roster.refresh(&ctx.pool).await {
                    tracing::warn!(error = %e, "could not read the roster ahead; the first look will");
                }
            });
        }
        let worker = run_worker.then(|| {
            let token = shutdown.clone();
            tokio::spawn(self.worker.clone().run(settings.jobs.concurrency, settings.jobs.poll_interval, token))
        });
        if let Some((listener, surface)) = http {
            let router = match surface {
                Surface::Site(extra) => web::router_with(self.state.clone(), extra),
                Surface::Probes => web::probes_router(self.state.clone()),
            };
            web::serve(listener, router, shutdown.clone(), settings.http.shutdown_grace).await?;
        } else {
            shutdown.cancelled().await;
        }
        notifier.abort();
        feed_sender.abort();
        if let Some(h) = feed_listener {
            h.abort();
        }
        if let Some(h) = housekeeping {
            h.abort();
        }
        if let Some(worker) = worker {
            match tokio::time::timeout(settings.http.shutdown_grace, worker).await {
                Ok(res) => res?,
                Err(_) => tracing::warn!(
                    "running jobs did not finish within the grace period; their leases will expire and another worker retries them"
                ),
            }
        }
        Ok(())
    }
}

/// How often each worker node enqueues the housekeeping job.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Every hour, a `Housekeeping` job (`services::housekeeping`), run by whichever worker takes it.
async fn housekeeping(ctx: Ctx, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        let enqueued = async {
            let mut conn = ctx.pool.acquire().await?;
            ctx.queue.enqueue(&mut conn, &services::jobs::Housekeeping {}).await
        };
        match enqueued.await {
            Ok(_) => ctx.queue.wake_workers(),
            Err(e) => tracing::warn!(error = %e, "could not enqueue housekeeping; it is tried again next hour"),
        }
    }
}
