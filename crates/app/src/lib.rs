//! Wires the parts together once, the same way for the binary and for tests.

use domain::Clock;
use jobs::handlers::JobContext;
use jobs::{Queue, QueueConfig, Worker};
use settings::Settings;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use web::AppState;

pub struct App {
    pub state: AppState,
    pub worker: Worker<JobContext>,
}

impl App {
    pub fn new(settings: Arc<Settings>, pool: PgPool, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
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
        let worker = Worker::new(
            queue.clone(),
            jobs::handlers::registry(),
            JobContext { pool: pool.clone(), providers: providers.clone() },
        );
        let state = AppState::new(pool, settings, clock, queue, providers, web::metrics_handle());
        Ok(Self { state, worker })
    }

    /// Serves HTTP on `listener` (if any) and runs workers (if asked) until `shutdown`, then
    /// finishes in-flight requests and jobs within the grace period.
    pub async fn run(
        self,
        listener: Option<TcpListener>,
        run_worker: bool,
        extra: axum::Router<AppState>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let settings = self.state.settings.clone();
        // Every node that enqueues wakes the workers, wherever they run.
        let notifier = tokio::spawn(self.state.queue.clone().run_notifier(shutdown.clone()));
        let housekeeping = run_worker.then(|| tokio::spawn(housekeeping(self.state.clone(), shutdown.clone())));
        let worker = run_worker.then(|| {
            let token = shutdown.clone();
            tokio::spawn(self.worker.clone().run(settings.jobs.concurrency, settings.jobs.poll_interval, token))
        });
        if let Some(listener) = listener {
            let router = web::router_with(self.state.clone(), extra);
            web::serve(listener, router, shutdown.clone(), settings.http.shutdown_grace).await?;
        } else {
            shutdown.cancelled().await;
        }
        notifier.abort();
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

/// How often worker nodes prune expired rows.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

async fn housekeeping(state: AppState, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        match prune(&state).await {
            Ok((keys, windows)) => {
                tracing::info!(
                    keys,
                    windows,
                    "pruned expired idempotency keys, rate-limit windows, login failures and sessions"
                )
            }
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; it runs again next hour"),
        }
    }
}

/// Deletes idempotency keys past their replay window and rate-limit windows that ended long
/// ago. Safe to run on many nodes at once. Returns (keys, windows) removed.
pub async fn prune(state: &AppState) -> anyhow::Result<(u64, u64)> {
    let now = state.clock.now();
    let ttl = time::Duration::try_from(state.settings.intake.idempotency_ttl)?;
    let longest_window =
        [state.settings.intake.per_ip, state.settings.intake.per_phone, state.settings.intake.per_partner]
            .iter()
            .map(|l| l.window)
            .max()
            .unwrap_or_default();
    let mut conn = state.pool.acquire().await?;
    let keys = store::idempotency::prune(&mut conn, now - ttl).await?;
    let windows = store::rate_limit::prune(&mut conn, now - time::Duration::try_from(longest_window)?).await?;
    // Login throttling looks back one hour; ended sessions are kept a month for the owner's
    // and staff's questions (the audit log keeps the logins themselves).
    store::login_failures::prune(&mut conn, now - time::Duration::HOUR).await?;
    store::sessions::prune(&mut conn, now - time::Duration::days(30)).await?;
    Ok((keys, windows))
}
