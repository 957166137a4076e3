//! Runs jobs: a few concurrent slots per process, woken by NOTIFY, polling as a fallback.

use crate::CHANNEL;
use crate::queue::{ClaimedJob, Queue};
use crate::registry::{JobError, Registry};
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct Worker<C> {
    queue: Queue,
    registry: Arc<Registry<C>>,
    ctx: C,
    owner: Uuid,
}

impl<C> Clone for Worker<C>
where
    C: Clone,
{
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone(), registry: self.registry.clone(), ctx: self.ctx.clone(), owner: self.owner }
    }
}

impl<C: Clone + Send + Sync + 'static> Worker<C> {
    pub fn new(queue: Queue, registry: Registry<C>, ctx: C) -> Self {
        Self { queue, registry: Arc::new(registry), ctx, owner: Uuid::now_v7() }
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Runs every job that is due now, one after another, and returns how many ran. Tests drive
    /// the queue with this and a moved clock; nothing waits for real time.
    pub async fn run_pending(&self) -> Result<usize, sqlx::Error> {
        let mut ran = 0;
        while self.run_one().await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// Claims and runs one due job; `false` when none was due.
    pub async fn run_one(&self) -> Result<bool, sqlx::Error> {
        let Some(job) = self.queue.claim(self.owner).await? else {
            return Ok(false);
        };
        self.execute(job).await?;
        Ok(true)
    }

    /// Works until `shutdown` is cancelled, then lets running jobs finish and returns.
    pub async fn run(self, concurrency: usize, poll_interval: Duration, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(self.queue.pool().clone(), wake.clone(), poll_interval, shutdown.clone()));
        let slots: Vec<_> = (0..concurrency.max(1))
            .map(|_| tokio::spawn(self.clone().slot(wake.clone(), poll_interval, shutdown.clone())))
            .collect();
        for slot in slots {
            if let Err(e) = slot.await {
                tracing::error!(error = %e, "a worker slot stopped abnormally");
            }
        }
        listener.abort();
        tracing::info!("worker stopped");
    }

    async fn slot(self, wake: Arc<Notify>, poll_interval: Duration, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            // Register for a wake-up before looking, so a NOTIFY between the look and the wait is not lost.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let found = match self.run_one().await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, "could not reach the job queue");
                    false
                }
            };
            if !found {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = tokio::time::timeout(poll_interval, notified) => {}
                }
            }
        }
    }

    /// Runs a claimed job in its own task (a panic is a failed attempt, not a dead worker), keeps
    /// its lease alive meanwhile, and records the outcome.
    async fn execute(&self, job: ClaimedJob) -> Result<(), sqlx::Error> {
        let started = std::time::Instant::now();
        let kind = job.kind.clone();
        let outcome = match self.registry.get(&job.kind) {
            None => Err(JobError::from(anyhow::anyhow!("no handler for job kind {:?}", job.kind))),
            Some(handler) => {
                let mut run = tokio::spawn(handler(self.ctx.clone(), job.payload.clone()));
                let mut beat = tokio::time::interval(self.queue.config().lease / 3);
                beat.tick().await;
                loop {
                    tokio::select! {
                        res = &mut run => break match res {
                            Ok(r) => r,
                            Err(e) if e.is_panic() => Err(JobError::from(anyhow::anyhow!("the job panicked"))),
                            Err(e) => Err(JobError::from(anyhow::anyhow!("the job was cancelled: {e}"))),
                        },
                        _ = beat.tick() => {
                            if !self.queue.heartbeat(&job).await.unwrap_or(false) {
                                tracing::warn!(job = job.id, kind = %job.kind, "lost the lease on a running job");
                            }
                        }
                    }
                }
            }
        };
        let elapsed = started.elapsed().as_secs_f64();
        metrics::histogram!("jobs_run_seconds", "kind" => kind.clone()).record(elapsed);
        match outcome {
            Ok(()) => {
                if self.queue.complete(&job).await? {
                    metrics::counter!("jobs_completed_total", "kind" => kind).increment(1);
                } else {
                    tracing::warn!(job = job.id, kind = %job.kind, "finished a job after losing its lease");
                }
            }
            Err(err) => {
                let message = format!("{:#}", err.error);
                let state = self.queue.fail(&job, &message, err.permanent).await?;
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempt, error = %message, now = ?state, "job failed");
                let outcome = if state == Some("dead") { "dead" } else { "retry" };
                metrics::counter!("jobs_failed_total", "kind" => kind, "outcome" => outcome).increment(1);
            }
        }
        Ok(())
    }
}

/// Turns NOTIFYs into wake-ups. If the listening connection drops, workers still poll.
async fn listen(pool: sqlx::PgPool, wake: Arc<Notify>, retry_every: Duration, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "job listener could not connect; polling meanwhile");
                let _ = tokio::time::timeout(retry_every, shutdown.cancelled()).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "job listener could not LISTEN; polling meanwhile");
            let _ = tokio::time::timeout(retry_every, shutdown.cancelled()).await;
            continue;
        }
        // Jobs enqueued before we were listening sent their NOTIFY to nobody: look now.
        wake.notify_waiters();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                msg = listener.recv() => match msg {
                    Ok(_) => wake.notify_waiters(),
                    Err(e) => {
                        tracing::warn!(error = %e, "job listener lost its connection");
                        // Wake everyone: jobs may have arrived while we were deaf.
                        wake.notify_waiters();
                        break;
                    }
                }
            }
        }
    }
}
