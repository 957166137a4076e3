//! Typed jobs and the table from a job's kind to the code that runs it.

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// A unit of background work. Its fields are its payload (stored as JSON); `KIND` names it in the
/// table, so renaming a kind needs a migration of queued rows.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    const KIND: &'static str;
    /// Attempts before the job is buried; `None` takes the queue's default.
    const MAX_ATTEMPTS: Option<i32> = None;
    /// Shared state handlers need (pool, providers, clock…).
    type Context: Clone + Send + Sync + 'static;

    fn run(self, ctx: Self::Context) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Why a run failed. Retryable by default; `permanent` skips the remaining attempts.
#[derive(Debug)]
pub struct JobError {
    pub error: anyhow::Error,
    pub permanent: bool,
}

impl JobError {
    pub fn permanent(error: impl Into<anyhow::Error>) -> Self {
        Self { error: error.into(), permanent: true }
    }
}

impl<E: Into<anyhow::Error>> From<E> for JobError {
    fn from(error: E) -> Self {
        Self { error: error.into(), permanent: false }
    }
}

type Handler<C> = Arc<dyn Fn(C, serde_json::Value) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// Maps each kind to its handler. Built once at start-up.
pub struct Registry<C> {
    handlers: HashMap<&'static str, Handler<C>>,
}

impl<C: Clone + Send + Sync + 'static> Default for Registry<C> {
    fn default() -> Self {
        Self { handlers: HashMap::new() }
    }
}

impl<C: Clone + Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn register<J: Job<Context = C>>(mut self) -> Self {
        let handler: Handler<C> = Arc::new(|ctx, payload| {
            Box::pin(async move {
                // A payload that no longer parses will never parse: bury it at once.
                let job: J = serde_json::from_value(payload).map_err(JobError::permanent)?;
                job.run(ctx).await
            })
        });
        self.handlers.insert(J::KIND, handler);
        self
    }

    pub(crate) fn get(&self, kind: &str) -> Option<Handler<C>> {
        self.handlers.get(kind).cloned()
    }
}
