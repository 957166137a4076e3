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
