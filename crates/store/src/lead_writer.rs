//! Group commit for new leads. Submissions that arrive while earlier ones are being written wait
//! together and are then written in one call (`leads::write_new`): one round trip, one set
//! of statements and one commit for all of them. Nothing waits for a timer: a submission arriving
//! at an idle writer is written at once, alone; batches only form when writes are already busy,
//! which is when sharing their fixed costs matters (measured with bench/leads).
//!
//! Each caller is answered only after its lead is committed, exactly as if it had written alone.

use crate::leads::{Counted, Intake, Written};
use futures::FutureExt;
use sqlx::PgPool;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// The most submissions written in one call.
const MAX_BATCH: usize = 64;
/// Submissions waiting for a writer before new ones wait to be queued.
const QUEUE: usize = 4096;

type Reply = Result<Written, Arc<sqlx::Error>>;

struct Pending {
    intake: Intake,
    /// The address (or partner) limit, when PostgreSQL counts it.
    limit: Option<Counted>,
    reply: oneshot::Sender<Reply>,
}

pub struct LeadWriter {
    pool: PgPool,
    /// Started on first use, so the writer runs on the runtime that serves requests.
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl LeadWriter {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, queue: OnceLock::new() }
    }

    /// Writes one submission (with whatever others are waiting) and answers once it is committed;
    /// `limit` is counted first, and a submission over it is answered `Limited`.
    pub async fn write(&self, intake: Intake, limit: Option<Counted>) -> Result<Written, WriteError> {
        let queue = self.queue.get_or_init(|| start(&self.pool));
        let (reply, answer) = oneshot::channel();
        queue.send(Pending { intake, limit, reply }).await.map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?.map_err(WriteError::Database)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the lead writer has stopped")]
    Stopped,
    /// The call that carried this submission failed (shared by the others written with it).
    #[error(transparent)]
    Database(Arc<sqlx::Error>),
}

/// One writer per node: while it writes, the next submissions gather for its next call. Measured
/// with bench/leads (workers off, 2 cores, 32 connections): 1 writer 8.2k leads/s, 2 writers
/// 6.5k, 4 writers 5.9k — on a machine whose cores are all busy, bigger batches (fewer calls for
/// the same leads) win over overlapping calls. Its calls are short (no lock is held across them
/// but one phone's), and many nodes each have their own.
///
/// The writer stops when the last sender (the app state) is dropped.
fn start(pool: &PgPool) -> mpsc::Sender<Pending> {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(run(pool.clone(), rx));
    tx
}

async fn run(pool: PgPool, mut queue: mpsc::Receiver<Pending>) {
    // The first submission (waiting for one if there is none), then every other already queued.
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        metrics::histogram!("lead_intake_batch_size").record(batch.len() as f64);
        for group in distinct_phones(batch) {
            // A bug that panics fails its own group's requests (their answers are dropped), not
            // every later submission on the node.
            if AssertUnwindSafe(write(&pool, group)).catch_unwind().await.is_err() {
                tracing::error!("writing a group of leads panicked; its requests failed");
            }
        }
    }
}

/// Splits a batch so that no call holds two submissions from one phone: the later one is
/// written in a later call, after the earlier one committed, so it sees it (as a duplicate, or
/// in the phone's count).
fn distinct_phones(batch: Vec<Pending>) -> Vec<Vec<Pending>> {
    let mut groups: Vec<Vec<Pending>> = Vec::new();
    for p in batch {
        let phone = &p.intake.lead.phone;
        // After the last group holding this phone, so submissions from one phone keep their order.
        let after = groups.iter().rposition(|g| g.iter().any(|q| &q.intake.lead.phone == phone)).map_or(0, |i| i + 1);
        match groups.get_mut(after) {
            Some(g) => g.push(p),
            None => groups.push(vec![p]),
        }
    }
    groups
}

async fn write(pool: &PgPool, group: Vec<Pending>) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return fail(group.into_iter().map(|p| p.reply), e),
    };
    let group = match count_limits(&mut conn, group).await {
        Ok(admitted) => admitted,
        Err((e, group)) => return fail(group.into_iter().map(|p| p.reply), e),
    };
    if group.is_empty() {
        return;
    }
    let (intakes, replies): (Vec<Intake>, Vec<_>) = group.into_iter().map(|p| (p.intake, p.reply)).unzip();
    match crate::leads::write_new(&mut conn, &intakes).await {
        Ok(written) => {
            for (reply, w) in replies.into_iter().zip(written) {
                let _ = reply.send(Ok(w));
            }
        }
        // One bad submission must not fail the others with it: each is written alone.
        Err(e) if intakes.len() > 1 => {
            tracing::warn!(error = %e, size = intakes.len(), "writing a batch of leads failed; writing each alone");
            drop(conn);
            for (intake, reply) in intakes.iter().zip(replies) {
                let alone = async {
                    let mut conn = pool.acquire().await?;
                    crate::leads::write_new(&mut conn, std::slice::from_ref(intake))
                        .await?
                        .pop()
                        .ok_or_else(|| sqlx::Error::Decode("no answer for a lead".into()))
                };
                let _ = reply.send(alone.await.map_err(Arc::new));
            }
        }
        Err(e) => fail(replies, e),
    }
}

fn fail(replies: impl IntoIterator<Item = oneshot::Sender<Reply>>, e: sqlx::Error) {
    let e = Arc::new(e);
    for reply in replies {
        let _ = reply.send(Err(e.clone()));
    }
}

/// Counts the group's address limits in one statement of its own (committed at once, so a
/// counter many submissions share is not held locked while their leads commit) and answers
/// those over their limit; returns the others.
async fn count_limits(
    conn: &mut sqlx::PgConnection,
    group: Vec<Pending>,
) -> Result<Vec<Pending>, (sqlx::Error, Vec<Pending>)> {
    let hits: Vec<(&str, time::OffsetDateTime)> =
        group.iter().filter_map(|p| p.limit.as_ref()).map(|l| (l.key.as_str(), l.window)).collect();
    if hits.is_empty() {
        return Ok(group);
    }
    let counts = match crate::rate_limit::hit_each(conn, &hits).await {
        Ok(counts) => counts,
        Err(e) => return Err((e, group)),
    };
    let mut counts = counts.into_iter();
    let mut admitted = Vec::with_capacity(group.len());
    for p in group {
        let over = p.limit.as_ref().is_some_and(|l| counts.next().is_some_and(|c| c > l.max));
        if over {
            let _ = p.reply.send(Ok(Written::Limited));
        } else {
            admitted.push(p);
        }
    }
    Ok(admitted)
}
