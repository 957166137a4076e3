//! The job queue against a real PostgreSQL, with a clock the tests move.

use domain::{Clock, ManualClock};
use jobs::{Job, JobError, Queue, QueueConfig, Registry, Worker};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use testkit::TestDatabase;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type R = anyhow::Result<()>;

const LEASE: Duration = Duration::from_secs(60);
const BASE: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct Ctx {
    pool: PgPool,
    ran: mpsc::UnboundedSender<i64>,
}

/// Records its run in `runs` (one row per run) and reports it on the channel.
#[derive(Serialize, Deserialize)]
struct Record {
    n: i64,
}

impl Job for Record {
    const KIND: &'static str = "test_record";
    type Context = Ctx;
    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        sqlx::query("INSERT INTO runs (n) VALUES ($1)").bind(self.n).execute(&ctx.pool).await?;
        let _ = ctx.ran.send(self.n);
        Ok(())
    }
}

/// Fails until it has been tried `succeed_on` times.
#[derive(Serialize, Deserialize)]
struct Flaky {
    succeed_on: i64,
}

impl Job for Flaky {
    const KIND: &'static str = "test_flaky";
    const MAX_ATTEMPTS: Option<i32> = Some(3);
    type Context = Ctx;
    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let tries: i64 = sqlx::query_scalar(
            "INSERT INTO runs (n) VALUES (-1) RETURNING (SELECT count(*) + 1 FROM runs WHERE n = -1)",
        )
        .fetch_one(&ctx.pool)
        .await?;
        if tries < self.succeed_on { Err(anyhow::anyhow!("flaked on try {tries}").into()) } else { Ok(()) }
    }
}

#[derive(Serialize, Deserialize)]
struct Refused;

impl Job for Refused {
    const KIND: &'static str = "test_refused";
    type Context = Ctx;
    async fn run(self, _: Ctx) -> Result<(), JobError> {
        Err(JobError::permanent(anyhow::anyhow!("the address does not exist")))
    }
}

#[derive(Serialize, Deserialize)]
struct Panics;

impl Job for Panics {
    const KIND: &'static str = "test_panics";
    type Context = Ctx;
    async fn run(self, _: Ctx) -> Result<(), JobError> {
        panic!("boom")
    }
}

struct Fixture {
    _db: TestDatabase,
    pool: PgPool,
    clock: ManualClock,
    queue: Queue,
    ran: mpsc::UnboundedReceiver<i64>,
    ctx: Ctx,
}

impl Fixture {
    async fn new() -> anyhow::Result<Self> {
        let db = TestDatabase::create().await?;
        // The schema's owner makes the test's own table; the queue runs as the app.
        let owner = PgPool::connect(&db.owner_url).await?;
        sqlx::query("CREATE TABLE runs (id bigserial PRIMARY KEY, n bigint NOT NULL)").execute(&owner).await?;
        owner.close().await;
        let pool = PgPool::connect(&db.url).await?;
        let clock = ManualClock::starting_now();
        let config = QueueConfig {
            lease: LEASE,
            backoff_base: BASE,
            backoff_max: Duration::from_secs(3600),
            default_max_attempts: 5,
        };
        let queue = Queue::new(pool.clone(), Arc::new(clock.clone()), config);
        let (tx, ran) = mpsc::unbounded_channel();
        let ctx = Ctx { pool: pool.clone(), ran: tx };
        Ok(Self { _db: db, pool, clock, queue, ran, ctx })
    }

    fn worker(&self) -> Worker<Ctx> {
        let registry =
            Registry::new().register::<Record>().register::<Flaky>().register::<Refused>().register::<Panics>();
        Worker::new(self.queue.clone(), registry, self.ctx.clone())
    }

    async fn enqueue<J: Job>(&self, job: &J) -> anyhow::Result<i64> {
        let mut conn = self.pool.acquire().await?;
        Ok(self.queue.enqueue(&mut conn, job).await?)
    }

    async fn row(&self, id: i64) -> anyhow::Result<Option<(String, i32, Option<String>, time::OffsetDateTime)>> {
        Ok(sqlx::query_as("SELECT state::text, attempts, last_error, run_at FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn runs(&self, n: i64) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM runs WHERE n = $1").bind(n).fetch_one(&self.pool).await?)
    }
}

#[tokio::test]
async fn a_job_commits_or_vanishes_with_the_callers_transaction() -> R {
    let f = Fixture::new().await?;
    let mut tx = f.pool.begin().await?;
    f.queue.enqueue(&mut tx, &Record { n: 1 }).await?;
    tx.rollback().await?;
    let mut tx = f.pool.begin().await?;
    let kept = f.queue.enqueue(&mut tx, &Record { n: 2 }).await?;
    tx.commit().await?;

    assert_eq!(f.worker().run_pending().await?, 1);
    assert_eq!((f.runs(1).await?, f.runs(2).await?), (0, 1));
    assert!(f.row(kept).await?.is_none(), "a finished job is removed");
    Ok(())
}

#[tokio::test]
async fn jobs_enqueued_together_are_each_a_job_of_its_own_in_order_and_only_if_committed() -> R {
    let f = Fixture::new().await?;
    let rows =
        vec![f.queue.row(&Record { n: 7 })?, f.queue.row(&Flaky { succeed_on: 1 })?, f.queue.row(&Record { n: 8 })?];
    let mut tx = f.pool.begin().await?;
    assert_eq!(f.queue.enqueue_all(&mut tx, &rows).await?, 3);
    tx.rollback().await?;
    let mut tx = f.pool.begin().await?;
    assert_eq!(f.queue.enqueue_all(&mut tx, &[]).await?, 0);
    assert_eq!(f.queue.enqueue_all(&mut tx, &rows).await?, 3);
    tx.commit().await?;

    let stored: Vec<(String, i32)> =
        sqlx::query_as("SELECT kind, max_attempts FROM jobs ORDER BY id").fetch_all(&f.pool).await?;
    let expected = [("test_record", 5), ("test_flaky", 3), ("test_record", 5)];
    assert_eq!(stored, expected.map(|(k, m)| (k.to_owned(), m)).to_vec(), "each keeps its kind and attempts");
    assert_eq!(f.worker().run_pending().await?, 3);
    let order: Vec<i64> = sqlx::query_scalar("SELECT n FROM runs ORDER BY id").fetch_all(&f.pool).await?;
    assert_eq!(order, vec![7, -1, 8], "run in the order given; the rolled-back copies never ran");
    Ok(())
}

#[tokio::test]
async fn only_the_queues_own_bookkeeping_skips_the_wait_for_the_wal_flush() -> R {
    let f = Fixture::new().await?;
    let setting = "SELECT current_setting('synchronous_commit')";
    let queue_side: String = sqlx::query_scalar(setting).fetch_one(f.queue.pool()).await?;
    assert_eq!(queue_side, "off", "claims and completions commit asynchronously");
    let mut tx = f.pool.begin().await?;
    f.queue.enqueue(&mut tx, &Record { n: 1 }).await?;
    let caller_side: String = sqlx::query_scalar(setting).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    assert_eq!(caller_side, "on", "an enqueue commits with its caller's business write, durably");
    assert_eq!(f.worker().run_pending().await?, 1);
    Ok(())
}

#[tokio::test]
async fn failures_retry_after_exponential_backoff_then_succeed() -> R {
    let f = Fixture::new().await?;
    let worker = f.worker();
    let id = f.enqueue(&Flaky { succeed_on: 3 }).await?;
    let t0 = f.clock.now();

    assert_eq!(worker.run_pending().await?, 1);
    let (state, attempts, error, run_at) = f.row(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((state.as_str(), attempts), ("queued", 1));
    assert_eq!(error.as_deref(), Some("flaked on try 1"));
    assert_eq!(run_at - t0, time::Duration::seconds(10), "first retry waits the base");

    // Not due yet: nothing runs until the clock reaches the backoff.
    f.clock.advance(time::Duration::seconds(9));
    assert_eq!(worker.run_pending().await?, 0);
    f.clock.advance(time::Duration::seconds(1));
    assert_eq!(worker.run_pending().await?, 1);
    let (_, attempts, _, run_at) = f.row(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(attempts, 2);
    assert_eq!(run_at - f.clock.now(), time::Duration::seconds(20), "then twice the base");

    f.clock.advance(time::Duration::seconds(20));
    assert_eq!(worker.run_pending().await?, 1);
    assert!(f.row(id).await?.is_none(), "succeeded on the third try");
    assert_eq!(f.runs(-1).await?, 3);
    Ok(())
}

#[tokio::test]
async fn spent_attempts_and_permanent_failures_go_to_the_dead_letters() -> R {
    let f = Fixture::new().await?;
    let worker = f.worker();
    let flaky = f.enqueue(&Flaky { succeed_on: 99 }).await?;
    let refused = f.enqueue(&Refused).await?;
    for _ in 0..5 {
        worker.run_pending().await?;
        f.clock.advance(time::Duration::hours(1));
    }
    let (state, attempts, _, _) = f.row(flaky).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((state.as_str(), attempts), ("dead", 3), "MAX_ATTEMPTS is 3 for this kind");
    let (state, attempts, error, _) = f.row(refused).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((state.as_str(), attempts), ("dead", 1), "permanent: no retries");
    assert_eq!(error.as_deref(), Some("the address does not exist"));
    let stats = f.queue.stats().await?;
    assert_eq!((stats.dead, stats.due, stats.scheduled), (2, 0, 0));
    assert_eq!(f.queue.dead_jobs(10).await?.len(), 2);

    // Staff give it another go after fixing the cause.
    assert!(f.queue.retry_dead(flaky).await?);
    assert!(!f.queue.retry_dead(flaky).await?, "only dead jobs can be retried");
    assert_eq!(f.row(flaky).await?.map(|r| (r.0, r.1)), Some(("queued".into(), 0)));
    Ok(())
}

#[tokio::test]
async fn unknown_kinds_bad_payloads_and_panics_are_failed_attempts_not_dead_workers() -> R {
    let f = Fixture::new().await?;
    let worker = f.worker();
    let panics = f.enqueue(&Panics).await?;
    let bad = sqlx::query_scalar::<_, i64>(
        "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at, updated_at) VALUES ('test_record', '{\"n\":\"x\"}', 5, $1, $1, $1) RETURNING id",
    )
    .bind(f.clock.now())
    .fetch_one(&f.pool)
    .await?;
    let unknown = sqlx::query_scalar::<_, i64>(
        "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at, updated_at) VALUES ('from_the_future', '{}', 5, $1, $1, $1) RETURNING id",
    )
    .bind(f.clock.now())
    .fetch_one(&f.pool)
    .await?;
    assert_eq!(worker.run_pending().await?, 3);

    let f = &f;
    let row = |id| async move { f.row(id).await.ok().flatten().map(|r| (r.0, r.2.unwrap_or_default())) };
    let (state, error) = row(panics).await.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((state.as_str(), error.as_str()), ("queued", "the job panicked"));
    let (state, error) = row(bad).await.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(state, "dead", "a payload that does not parse never will: {error}");
    let (state, error) = row(unknown).await.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(state, "queued", "a newer deploy may know this kind");
    assert!(error.contains("no handler"), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_job_whose_worker_died_is_taken_again_after_its_lease_and_the_dead_worker_is_fenced_off() -> R {
    let f = Fixture::new().await?;
    let id = f.enqueue(&Record { n: 7 }).await?;
    // Worker A claims the job and then "dies": it never finishes.
    let a = f.queue.claim(Uuid::now_v7()).await?.ok_or_else(|| anyhow::anyhow!("nothing to claim"))?;
    assert_eq!(a.id, id);

    let b = f.worker();
    assert_eq!(b.run_pending().await?, 0, "leased: nobody else may take it");
    f.clock.advance(time::Duration::seconds(59));
    assert_eq!(b.run_pending().await?, 0);
    f.clock.advance(time::Duration::seconds(1));
    assert_eq!(b.run_pending().await?, 1, "the lease ran out: B takes it");
    assert_eq!(f.runs(7).await?, 1);

    // A wakes up late: its finish and its failure are both refused.
    assert!(!f.queue.complete(&a).await?);
    assert_eq!(f.queue.fail(&a, "late", false).await?, None);
    assert!(!f.queue.heartbeat(&a).await?);
    Ok(())
}

#[tokio::test]
async fn a_heartbeat_keeps_a_long_job_from_being_taken() -> R {
    let f = Fixture::new().await?;
    f.enqueue(&Record { n: 8 }).await?;
    let a = f.queue.claim(Uuid::now_v7()).await?.ok_or_else(|| anyhow::anyhow!("nothing to claim"))?;
    f.clock.advance(time::Duration::seconds(50));
    assert!(f.queue.heartbeat(&a).await?);
    f.clock.advance(time::Duration::seconds(50));
    assert_eq!(f.worker().run_pending().await?, 0, "the heartbeat extended the lease");
    assert!(f.queue.complete(&a).await?);
    Ok(())
}

#[tokio::test]
async fn a_job_whose_worker_died_on_its_last_attempt_is_buried() -> R {
    let f = Fixture::new().await?;
    let id = f.enqueue(&Flaky { succeed_on: 1 }).await?;
    for _ in 0..3 {
        let claimed = f.queue.claim(Uuid::now_v7()).await?;
        assert!(claimed.is_some());
        f.clock.advance(time::Duration::seconds(61));
    }
    assert_eq!(f.worker().run_pending().await?, 0);
    let (state, attempts, error, _) = f.row(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!((state.as_str(), attempts), ("dead", 3));
    assert!(error.unwrap_or_default().contains("lease expired"));
    Ok(())
}

#[tokio::test]
async fn two_workers_racing_for_1000_jobs_run_each_exactly_once() -> R {
    let f = Fixture::new().await?;
    let mut tx = f.pool.begin().await?;
    for n in 0..1000 {
        f.queue.enqueue(&mut tx, &Record { n }).await?;
    }
    tx.commit().await?;

    // Two workers as two processes would be: separate pools, separate owners, four slots each.
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let pool = PgPool::connect(&f._db.url).await?;
        let config = f.queue.config().clone();
        let queue = Queue::new(pool, Arc::new(f.clock.clone()), config);
        let worker = Worker::new(queue, Registry::new().register::<Record>(), f.ctx.clone());
        for _ in 0..4 {
            let w = worker.clone();
            tasks.push(tokio::spawn(async move { w.run_pending().await }));
        }
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    assert_eq!(total, 1000);
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT n) FROM runs").fetch_one(&f.pool).await?;
    assert_eq!((rows, distinct), (1000, 1000), "every job ran, none twice");
    assert_eq!(f.queue.stats().await?, jobs::QueueStats::default());
    Ok(())
}

#[tokio::test]
async fn running_workers_are_woken_by_notify_and_stop_gracefully() -> R {
    let mut f = Fixture::new().await?;
    let shutdown = CancellationToken::new();
    // A poll interval far longer than the test: only NOTIFY can wake them in time.
    let mut handles = Vec::new();
    for _ in 0..2 {
        let pool = PgPool::connect(&f._db.url).await?;
        let queue = Queue::new(pool, Arc::new(f.clock.clone()), f.queue.config().clone());
        let worker = Worker::new(queue, Registry::new().register::<Record>(), f.ctx.clone());
        handles.push(tokio::spawn(worker.run(4, Duration::from_secs(3600), shutdown.clone())));
    }
    // Enqueued while the workers start: each job is found by a NOTIFY or by the look every
    // listener takes once it is subscribed, never by waiting out the hour.
    let notifier = tokio::spawn(f.queue.clone().run_notifier(shutdown.clone()));
    for n in 0..200 {
        f.enqueue(&Record { n }).await?;
        f.queue.wake_workers();
    }
    let mut seen = std::collections::HashSet::new();
    let collect = async {
        while seen.len() < 200 {
            match f.ran.recv().await {
                Some(n) => assert!(seen.insert(n), "job {n} ran twice"),
                None => break,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), collect).await?;
    assert_eq!(seen.len(), 200);
    shutdown.cancel();
    for h in handles {
        tokio::time::timeout(Duration::from_secs(30), h).await??;
    }
    notifier.await?;
    assert_eq!(f.runs(0).await?, 1);
    Ok(())
}
