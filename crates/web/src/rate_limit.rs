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
    Postgres { pool: PgPool, clock: Arc<dyn Clock> },
    Redis { client: redis::Client, conn: Arc<OnceCell<ConnectionManager>>, clock: Arc<dyn Clock>, namespace: String },
}

/// Over the limit: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl RateLimiter {
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
            },
            None => RateLimiter::Postgres { pool, clock },
        })
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
        let now = self.clock().now();
        let window = limit.window.as_secs().max(1);
        let now_secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let start = now_secs - now_secs % window;
        let count: i64 = match self {
            RateLimiter::Postgres { pool, .. } => {
                let start = OffsetDateTime::from_unix_timestamp(i64::try_from(start)?)?;
                match conn {
                    Some(conn) => i64::from(store::rate_limit::hit(conn, key, start).await?),
                    None => i64::from(store::rate_limit::hit(&mut *pool.acquire().await?, key, start).await?),
                }
            }
            RateLimiter::Redis { client, conn, namespace, .. } => {
                // One connection per node, re-established by the manager after a failure.
                let mut conn = conn.get_or_try_init(|| client.get_connection_manager()).await?.clone();
                let k = format!("{namespace}:rl:{key}:{start}");
                // INCR and EXPIRE together; the key vanishes with its window.
                let (count,): (i64,) = redis::pipe()
                    .atomic()
                    .incr(&k, 1)
                    .expire(&k, i64::try_from(window)?)
                    .ignore()
                    .query_async(&mut conn)
                    .await?;
                count
            }
        };
        if count > i64::from(limit.max) {
            Ok(Err(Limited { retry_after: Duration::from_secs(start + window - now_secs) }))
        } else {
            Ok(Ok(()))
        }
    }
}
