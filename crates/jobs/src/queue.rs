//! The queue's SQL: enqueue, claim, finish, and the numbers `/metrics` shows.

use crate::{CHANNEL, Job};
use domain::Clock;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// How long a claim holds a job before another worker may take it.
    pub lease: Duration,
    /// Retry n waits `backoff_base × 2^(n-1)`, at most `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub default_max_attempts: i32,
}

/// Cheap to clone: the pool and clock are shared.
#[derive(Debug, Clone)]
pub struct Queue {
    /// For the queue's bookkeeping only (`bookkeeping_pool`).
    pool: PgPool,
    clock: Arc<dyn Clock>,
    config: QueueConfig,
    wake: Arc<tokio::sync::Notify>,
    /// When this node last buried abandoned jobs (unix seconds by the queue's clock).
    last_bury: Arc<std::sync::atomic::AtomicI64>,
}

/// A job a worker holds the lease on.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempt: i32,
    pub max_attempts: i32,
    pub owner: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    /// Queued and due now: the backlog.
    pub due: i64,
    /// Queued for later (a retry's backoff or a scheduled job).
    pub scheduled: i64,
    pub running: i64,
    pub dead: i64,
    /// Age of the oldest due job: how far behind the workers are.
    pub oldest_due_age: Duration,
}

fn to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// A job as the row it becomes in `jobs`.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    pub max_attempts: i32,
}

/// The queue's own writes (claims, heartbeats, completions, failures) commit without waiting for
/// the WAL flush: one fdatasync per job state change was most of the queue's cost (≈0.3 ms a
/// commit here, two per job, thirteen jobs per distributed lead). What a PostgreSQL crash can lose
/// is the last moments of bookkeeping, never a job: a lost claim re-queues the job at its lease's
/// end, a lost completion runs it again — the at-least-once promise a worker dying between its
/// work and its completion already makes. Enqueues are written in the caller's transaction, with
/// the caller's durability. Connections are opened as needed, up to the given pool's size.
fn bookkeeping_pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options()).clone().options([("synchronous_commit", "off")]);
    let sizing = pool.options();
    PgPoolOptions::new()
        .test_before_acquire(false)
        .max_connections(sizing.get_max_connections())
        .acquire_timeout(sizing.get_acquire_timeout())
        .idle_timeout(sizing.get_idle_timeout())
        .connect_lazy_with(options)
}

impl Queue {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, config: QueueConfig) -> Self {
        Self {
            pool: bookkeeping_pool(&pool),
            clock,
            config,
            wake: Arc::default(),
            last_bury: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// The row a job becomes, for a caller that writes it within a statement of its own
    /// (due at once; call `wake_workers` after the commit).
    pub fn row<J: Job>(&self, job: &J) -> Result<JobRow, serde_json::Error> {
        Ok(JobRow {
            kind: J::KIND,
            payload: serde_json::to_value(job)?,
            max_attempts: J::MAX_ATTEMPTS.unwrap_or(self.config.default_max_attempts),
        })
    }

    /// Adds a job, due now, inside the caller's transaction (then `wake_workers` after commit).
    pub async fn enqueue<J: Job>(&self, conn: &mut PgConnection, job: &J) -> Result<i64, sqlx::Error> {
        self.enqueue_at(conn, job, self.clock.now()).await
    }

    /// Adds a job due at `run_at`, inside the caller's transaction. Call `wake_workers` after
    /// committing, so idle workers look at once rather than at their next poll.
    pub async fn enqueue_at<J: Job>(
        &self,
        conn: &mut PgConnection,
        job: &J,
        run_at: OffsetDateTime,
    ) -> Result<i64, sqlx::Error> {
        let JobRow { kind, payload, max_attempts } = self.row(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let now = self.clock.now();
        let id = sqlx::query_scalar!(
            "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            kind,
            payload,
            max_attempts,
            run_at,
            now
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok(id)
    }

    /// Adds several jobs, due now, in one statement inside the caller's transaction (then
    /// `wake_workers` after commit): a distribution look's texts and e-mails are one insert, not
    /// one round trip each while the look holds its lead.
    pub async fn enqueue_all(&self, conn: &mut PgConnection, rows: &[JobRow]) -> Result<u64, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        let kinds: Vec<&str> = rows.iter().map(|r| r.kind).collect();
        let payloads: Vec<serde_json::Value> = rows.iter().map(|r| r.payload.clone()).collect();
        let attempts: Vec<i32> = rows.iter().map(|r| r.max_attempts).collect();
        let now = self.clock.now();
        let done = sqlx::query!(
            "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at, updated_at)
             SELECT kind, payload, max_attempts, $4, $4, $4
             FROM unnest($1::text[], $2::jsonb[], $3::int[]) WITH ORDINALITY AS j(kind, payload, max_attempts, n)
             ORDER BY n",
            &kinds as &[&str],
            &payloads,
            &attempts,
            now
        )
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected())
    }

    /// Tells idle workers on every node that jobs were committed; call it after the commit.
    /// Bursts coalesce into one NOTIFY sent from a connection of its own: a NOTIFY inside the
    /// business transaction would make PostgreSQL serialise every such commit (it holds a global
    /// lock on its notification queue through commit), capping intake at one fsync per lead.
    pub fn wake_workers(&self) {
        self.wake.notify_one();
    }

    /// Sends the coalesced NOTIFYs until `shutdown`. One per process.
    pub async fn run_notifier(self, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
            }
            if let Err(e) = sqlx::query!("SELECT pg_notify($1, '')", CHANNEL).execute(&self.pool).await {
                // Workers still poll; the job is only later, never lost.
                tracing::warn!(error = %e, "could not notify workers");
            }
        }
    }

    /// Takes the next due job (or one whose lease ran out) and leases it to `owner`.
    pub async fn claim(&self, owner: Uuid) -> Result<Option<ClaimedJob>, sqlx::Error> {
        let now = self.clock.now();
        let lease_until = now + to_time(self.config.lease);
        let mut conn = self.pool.acquire().await?;
        // Only a lease that ran out can leave a job to bury, so looking once per quarter lease
        // is enough; looking before every claim was a write per job.
        let every = i64::try_from(self.config.lease.as_secs() / 4).unwrap_or(i64::MAX).max(1);
        let last = self.last_bury.load(std::sync::atomic::Ordering::Relaxed);
        if now.unix_timestamp().saturating_sub(last) >= every {
            self.last_bury.store(now.unix_timestamp(), std::sync::atomic::Ordering::Relaxed);
            self.bury_abandoned(&mut conn, now).await?;
        }
        // A lease that ran out first, else the next due job: each branch walks its own partial
        // index and the first row found ends the search. (One WHERE with OR made PostgreSQL
        // collect and sort every due job on each claim: 4 ms apiece with a few thousand queued.)
        let row = sqlx::query!(
            r#"WITH expired AS (
                   SELECT id FROM jobs
                   WHERE state = 'running' AND lease_until <= $1 AND attempts < max_attempts
                   ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED
               ), due AS (
                   SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1
                   ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
               ), next AS (
                   SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT 1
               )
               UPDATE jobs j
               SET state = 'running', attempts = j.attempts + 1, lease_owner = $2, lease_until = $3, updated_at = $1
               FROM next WHERE j.id = next.id
               RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts"#,
            now,
            owner,
            lease_until
        )
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(|r| ClaimedJob {
            id: r.id,
            kind: r.kind,
            payload: r.payload,
            attempt: r.attempts,
            max_attempts: r.max_attempts,
            owner,
        }))
    }

    /// A job whose last permitted attempt died with its worker goes to the dead letters.
    async fn bury_abandoned(&self, conn: &mut PgConnection, now: OffsetDateTime) -> Result<(), sqlx::Error> {
        let buried = sqlx::query!(
            "UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = $1,
                 last_error = 'the worker stopped during the last attempt (lease expired)'
             WHERE state = 'running' AND lease_until <= $1 AND attempts >= max_attempts",
            now
        )
        .execute(conn)
        .await?
        .rows_affected();
        if buried > 0 {
            metrics::counter!("jobs_dead_total", "reason" => "lease_expired").increment(buried);
        }
        Ok(())
    }

    /// Extends the lease of a running job. `false` means the lease was lost.
    pub async fn heartbeat(&self, job: &ClaimedJob) -> Result<bool, sqlx::Error> {
        let now = self.clock.now();
        let lease_until = now + to_time(self.config.lease);
        let done = sqlx::query!(
            "UPDATE jobs SET lease_until = $4, updated_at = $5
             WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'running'",
            job.id,
            job.owner,
            job.attempt,
            lease_until,
            now
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a finished job. `false` means the lease was lost and someone else holds it.
    pub async fn complete(&self, job: &ClaimedJob) -> Result<bool, sqlx::Error> {
        let done = sqlx::query!(
            "DELETE FROM jobs WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'running'",
            job.id,
            job.owner,
            job.attempt
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt: back to the queue after the backoff, or dead when spent.
    /// Returns the state the job is now in, or `None` when the lease was lost.
    pub async fn fail(
        &self,
        job: &ClaimedJob,
        error: &str,
        permanent: bool,
    ) -> Result<Option<&'static str>, sqlx::Error> {
        let now = self.clock.now();
        let run_at = now + to_time(self.backoff(job.attempt));
        let dead = permanent || job.attempt >= job.max_attempts;
        let done = sqlx::query!(
            r#"UPDATE jobs SET state = (CASE WHEN $4 THEN 'dead' ELSE 'queued' END)::job_state,
                   run_at = $5, last_error = $6, lease_owner = NULL, lease_until = NULL, updated_at = $7
               WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'running'"#,
            job.id,
            job.owner,
            job.attempt,
            dead,
            run_at,
            error,
            now
        )
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(if dead { "dead" } else { "queued" }))
    }

    /// The wait before the retry that follows attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: i32) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(30);
        self.config.backoff_base.saturating_mul(1 << exp).min(self.config.backoff_max)
    }

    pub async fn stats(&self) -> Result<QueueStats, sqlx::Error> {
        let now = self.clock.now();
        let r = sqlx::query!(
            r#"SELECT
                 count(*) FILTER (WHERE state = 'queued' AND run_at <= $1) AS "due!",
                 count(*) FILTER (WHERE state = 'queued' AND run_at > $1) AS "scheduled!",
                 count(*) FILTER (WHERE state = 'running') AS "running!",
                 count(*) FILTER (WHERE state = 'dead') AS "dead!",
                 min(run_at) FILTER (WHERE state = 'queued' AND run_at <= $1) AS oldest_due
               FROM jobs"#,
            now
        )
        .fetch_one(&self.pool)
        .await?;
        let oldest_due_age = r.oldest_due.map(|t| (now - t).try_into().unwrap_or_default()).unwrap_or_default();
        Ok(QueueStats { due: r.due, scheduled: r.scheduled, running: r.running, dead: r.dead, oldest_due_age })
    }

    /// Dead letters, newest first, for staff.
    pub async fn dead_jobs(&self, limit: i64) -> Result<Vec<DeadJob>, sqlx::Error> {
        let rows = sqlx::query!(
            "SELECT id, kind, attempts, last_error FROM jobs WHERE state = 'dead' ORDER BY updated_at DESC, id DESC LIMIT $1",
            limit
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeadJob { id: r.id, kind: r.kind, attempts: r.attempts, last_error: r.last_error })
            .collect())
    }

    /// Gives a dead job a fresh set of attempts (staff action, after fixing the cause).
    pub async fn retry_dead(&self, id: i64) -> Result<bool, sqlx::Error> {
        let now = self.clock.now();
        let done = sqlx::query!(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2 WHERE id = $1 AND state = 'dead'",
            id,
            now
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
