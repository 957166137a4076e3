//! A job queue in PostgreSQL, shaped like crates.io's worker:
//!
//! - [`Queue::enqueue`] inserts inside the caller's transaction, so a business write and its jobs
//!   commit or vanish together; [`Queue::wake_workers`] after the commit sends a (coalesced)
//!   NOTIFY that wakes idle workers on every node.
//! - Workers claim one job at a time with `FOR UPDATE SKIP LOCKED` and take a *lease* (a deadline),
//!   not a row lock held for the job's run; a heartbeat extends the lease while the job runs.
//! - Success deletes the job; failure re-queues it after an exponential backoff, or buries it as
//!   `dead` once its attempts are spent. A job whose worker died is taken again when its lease ends.
//! - Every finish is fenced by (id, owner, attempt): a worker that lost its lease cannot complete
//!   or fail a job someone else now holds, so no job is ever run twice at the same time.

mod queue;
mod registry;
mod worker;

pub use queue::{ClaimedJob, DeadJob, JobRow, Queue, QueueConfig, QueueStats};
pub use registry::{Job, JobError, Registry};
pub use worker::Worker;

/// The channel workers LISTEN on; `Queue::wake_workers` NOTIFYs it.
pub const CHANNEL: &str = "plumberleads_jobs";
