//! Sessions in Redis, when it is configured: every request reads its session (and account)
//! from Redis instead of PostgreSQL. PostgreSQL keeps the durable record — the seed's Redis
//! evicts keys under memory pressure (`volatile-lru`), and refresh-token reuse detection needs
//! the family on disk — so a miss, an eviction or a Redis outage only means a read from
//! PostgreSQL. A copy is trusted only while its account's generation number is unchanged;
//! every change to an account or its sessions bumps that number, so a logout or a password
//! change takes effect at once on every node.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::accounts::User;
use store::sessions::Session;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// A copy lives this long at most, whatever happens, bounding staleness if a bump is lost.
const TTL_SECONDS: u64 = 60;
/// Redis answers in well under a millisecond; one that takes longer is treated as absent.
const REDIS_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Clone, Default)]
pub struct SessionCache {
    redis: Option<Redis>,
}

#[derive(Clone)]
struct Redis {
    client: redis::Client,
    conn: Arc<OnceCell<ConnectionManager>>,
    namespace: String,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.redis.is_some() { "SessionCache(redis)" } else { "SessionCache(off)" })
    }
}

#[derive(Serialize, Deserialize)]
struct Cached {
    session: Session,
    user: User,
    generation: i64,
}

impl SessionCache {
    pub fn from_settings(settings: &settings::Settings) -> Self {
        use secrecy::ExposeSecret;
        let redis = settings
            .redis_url
            .as_ref()
            .and_then(|url| redis::Client::open(url.expose_secret()).ok())
            .map(|client| Redis { client, conn: Arc::default(), namespace: settings.redis_namespace.clone() });
        Self { redis }
    }

    pub fn enabled(&self) -> bool {
        self.redis.is_some()
    }

    /// The cached session behind `key` (a secret's hash, or a session id), if still current.
    /// With the generation it was stamped with, to keep it under when it is refreshed.
    pub async fn get(&self, key: &str) -> Option<(Session, User, i64)> {
        let r = self.redis.as_ref()?;
        let lookup = async {
            let mut conn = r.conn().await?;
            let raw: Option<String> = conn.get(r.key(key)).await.ok()?;
            let cached: Cached = serde_json::from_str(&raw?).ok()?;
            let generation: Option<i64> = conn.get(r.generation(cached.user.id)).await.ok()?;
            (generation.unwrap_or(0) == cached.generation).then_some((cached.session, cached.user, cached.generation))
        };
        tokio::time::timeout(REDIS_WAIT, lookup).await.ok().flatten()
    }

    /// Keeps a copy, stamped with the account's generation as read *before* the database read,
    /// so a change that lands in between makes the copy stale rather than wrong.
    pub async fn put(&self, key: &str, generation: i64, session: &Session, user: &User) {
        let Some(r) = &self.redis else { return };
        // The password hash never goes to Redis.
        let user = User { password_hash: String::new(), ..user.clone() };
        let Ok(json) = serde_json::to_string(&Cached { session: session.clone(), user, generation }) else { return };
        let write = async {
            let mut conn = r.conn().await?;
            conn.set_ex::<_, _, ()>(r.key(key), json, TTL_SECONDS).await.ok()
        };
        if tokio::time::timeout(REDIS_WAIT, write).await.ok().flatten().is_none() {
            tracing::warn!("could not keep a session in Redis; PostgreSQL serves it");
        }
    }

    /// The account's generation now (0 if never bumped, or without Redis).
    /// None when Redis does not answer (then nothing is cached).
    pub async fn generation(&self, user_id: Uuid) -> Option<i64> {
        let r = self.redis.as_ref()?;
        let read = async {
            let mut conn = r.conn().await?;
            conn.get::<_, Option<i64>>(r.generation(user_id)).await.ok().map(|g| g.unwrap_or(0))
        };
        tokio::time::timeout(REDIS_WAIT, read).await.ok().flatten()
    }

    /// Every cached session of the account is stale from now on. Called after each change to
    /// an account or its sessions commits.
    pub async fn bump(&self, user_id: Uuid) {
        let Some(r) = &self.redis else { return };
        let write = async {
            let mut conn = r.conn().await?;
            conn.incr::<_, _, i64>(r.generation(user_id), 1).await.ok()
        };
        if tokio::time::timeout(REDIS_WAIT, write).await.ok().flatten().is_none() {
            tracing::warn!(%user_id, "could not mark cached sessions stale; they expire within a minute");
        }
    }
}

impl Redis {
    async fn conn(&self) -> Option<ConnectionManager> {
        match self.conn.get_or_try_init(|| self.client.get_connection_manager()).await {
            Ok(c) => Some(c.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "Redis unreachable; sessions are read from PostgreSQL");
                None
            }
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:session:{key}", self.namespace)
    }

    fn generation(&self, user_id: Uuid) -> String {
        format!("{}:session-gen:{user_id}", self.namespace)
    }
}
