//! Rate limits shared by every node: fixed windows counted in Redis when it is configured, in
//! PostgreSQL otherwise. Windows follow the platform clock, so tests move time instead of waiting.

use domain::Clock;
use redis::aio::ConnectionManager;
use settings::RateLimit;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub enum RateLimiter {
    Postgres {
        pool: PgPool,
        clock: Arc<dyn Clock>,
    },
    Redis {
        client: redis::Client,
        conn: Arc<OnceCell<ConnectionManager>>,
        clock: Arc<dyn Clock>,
        namespace: String,
        /// Where counting goes while Redis does not answer.
        pool: PgPool,
    },
}

/// Redis answers in well under a millisecond; one slower than this is treated as away.
const REDIS_WAIT: Duration = Duration::from_millis(250);

/// Over the limit: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl RateLimiter {
    async fn count_in_postgres(
        pool: &PgPool,
        conn: Option<&mut sqlx::PgConnection>,
        key: &str,
        window: Window,
    ) -> Result<i64, anyhow::Error> {
        let start = window.start_time();
        Ok(i64::from(match conn {
            Some(conn) => store::rate_limit::hit(conn, key, start).await?,
            None => store::rate_limit::hit(&mut *pool.acquire().await?, key, start).await?,
        }))
    }

    /// Redis when a URL is configured, PostgreSQL otherwise.
    pub fn from_settings(
        settings: &settings::Settings,
        pool: PgPool,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, redis::RedisError> {
        use secrecy::ExposeSecret;
        Ok(match &settings.redis_url {
            Some(url) => RateLimiter::Redis {
                client: redis::Client::open(url.expose_secret())?,
                conn: Arc::default(),
                clock,
                namespace: settings.redis_namespace.clone(),
                pool,
            },
            None => RateLimiter::Postgres { pool, clock },
        })
    }

    /// Whether limits are counted in PostgreSQL, where a write can count its own limit in the
    /// same call.
    pub fn counts_in_postgres(&self) -> bool {
        matches!(self, RateLimiter::Postgres { .. })
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        match self {
            RateLimiter::Postgres { clock, .. } | RateLimiter::Redis { clock, .. } => clock,
        }
    }

    /// Counts one event for `key` and says whether it is within `limit`.
    pub async fn check(&self, key: &str, limit: RateLimit) -> Result<Result<(), Limited>, anyhow::Error> {
        self.check_on(None, key, limit).await
    }

    /// As `check`, counting in PostgreSQL on the caller's connection (inside its transaction)
    /// rather than taking another from the pool.
    pub async fn check_in(
        &self,
        conn: &mut sqlx::PgConnection,
        key: &str,
        limit: RateLimit,
    ) -> Result<Result<(), Limited>, anyhow::Error> {
        self.check_on(Some(conn), key, limit).await
    }

    async fn check_on(
        &self,
        conn: Option<&mut sqlx::PgConnection>,
        key: &str,
        limit: RateLimit,
    ) -> Result<Result<(), Limited>, anyhow::Error> {
        let window = Window::of(limit, self.clock().now());
        let Window { start, ends, .. } = window;
        let count: i64 = match self {
            RateLimiter::Postgres { pool, .. } => Self::count_in_postgres(pool, conn, key, window).await?,
            RateLimiter::Redis { client, conn: redis_conn, namespace, pool, .. } => {
                let k = format!("{namespace}:rl:{key}:{start}");
                let counted = async {
                    // One connection per node, re-established by the manager after a failure.
                    let mut c = redis_conn.get_or_try_init(|| client.get_connection_manager()).await?.clone();
                    // INCR and EXPIRE together; the key vanishes with its window.
                    let (count,): (i64,) = redis::pipe()
                        .atomic()
                        .incr(&k, 1)
                        .expire(&k, i64::try_from(ends - start).unwrap_or(i64::MAX))
                        .ignore()
                        .query_async(&mut c)
                        .await?;
                    Ok::<_, redis::RedisError>(count)
                };
                match tokio::time::timeout(REDIS_WAIT, counted).await {
                    Ok(Ok(count)) => count,
                    // Redis away or slow: limits still hold, counted in PostgreSQL meanwhile.
                    _ => {
                        tracing::warn!("Redis did not answer; counting this rate limit in PostgreSQL");
                        Self::count_in_postgres(pool, conn, key, window).await?
                    }
                }
            }
        };
        if count > i64::from(limit.max) { Ok(Err(Limited { retry_after: window.remaining() })) } else { Ok(Ok(())) }
    }
}

/// The fixed window `now` falls in, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub ends: u64,
    now_secs: u64,
}

impl Window {
    pub fn of(limit: RateLimit, now: OffsetDateTime) -> Self {
        let window = limit.window.as_secs().max(1);
        let now_secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let start = now_secs - now_secs % window;
        Window { start, ends: start + window, now_secs }
    }

    /// The window's start as a timestamp (the counter's key in PostgreSQL).
    pub fn start_time(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(i64::try_from(self.start).unwrap_or(i64::MAX))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// How long until the window ends: a limited caller's `Retry-After`.
    pub fn remaining(&self) -> Duration {
        Duration::from_secs(self.ends - self.now_secs)
    }
}
