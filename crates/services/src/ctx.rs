//! What every use case can reach, built once per process (`app` builds it; `serve`, `worker`, the
//! CLI and the tests share it). Cheap to clone: one reference count.

use crate::infra::rate_limit::RateLimiter;
use crate::infra::redis_check::RedisCheck;
use crate::infra::session_cache::SessionCache;
use crate::infra::signing::{SecretKeys, Signer};
use crate::infra::tokens::TokenKeys;
use domain::Clock;
use integrations::Providers;
use settings::Settings;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::categories::Category;
use store::lead_writer::LeadWriter;
use store::zips::ZipInfo;
use tokio::sync::{OnceCell, RwLock};

#[derive(Clone)]
pub struct Ctx(Arc<Parts>);

impl std::ops::Deref for Ctx {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ctx(..)")
    }
}

pub struct Parts {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub queue: jobs::Queue,
    pub providers: Providers,
    /// Redis as the health check sees it, when configured.
    pub redis: Option<RedisCheck>,
    /// Signs links and forms; hashes one-time codes.
    pub signer: Signer,
    /// Signs and checks API access tokens.
    pub tokens: TokenKeys,
    /// Sessions read from Redis when it is configured.
    pub session_cache: SessionCache,
    pub rate_limiter: RateLimiter,
    /// New leads, written in groups.
    pub lead_writer: LeadWriter,
    /// Tells every node's open `/pro/stream`s that something changed for these pros.
    pub feed: crate::market::feed::Feed,
    /// Every pro's matching facts, made current from the database before each look.
    pub roster: crate::market::roster::Roster,
    categories: RwLock<Option<(Instant, Arc<Vec<Category>>)>>,
    zips: OnceCell<HashMap<String, ZipInfo>>,
}

impl Ctx {
    pub fn new(
        pool: PgPool,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        queue: jobs::Queue,
        providers: Providers,
        secrets: SecretKeys,
    ) -> Self {
        let redis = settings.redis_url.as_ref().and_then(|url| RedisCheck::new(url).ok());
        // A Redis URL that does not parse was refused by settings already; fall back regardless.
        let rate_limiter = RateLimiter::from_settings(&settings, pool.clone(), clock.clone())
            .unwrap_or_else(|_| RateLimiter::Postgres { pool: pool.clone(), clock: clock.clone() });
        Self(Arc::new(Parts {
            lead_writer: LeadWriter::new(pool.clone()),
            tokens: TokenKeys::from_settings(&settings, &secrets),
            signer: Signer::new(secrets),
            session_cache: SessionCache::from_settings(&settings),
            rate_limiter,
            redis,
            pool,
            settings,
            clock,
            queue,
            providers,
            feed: crate::market::feed::Feed::default(),
            roster: crate::market::roster::Roster::default(),
            categories: RwLock::default(),
            zips: OnceCell::new(),
        }))
    }

    /// Drops this node's cached categories (after staff changed them here; other nodes see the
    /// change when their cache expires, `PLUMBERLEADS_PAGE_CACHE_TTL`).
    pub async fn forget_categories(&self) {
        *self.categories.write().await = None;
    }

    /// Active categories, cached for a short while: every page shows them, staff rarely edit them.
    pub async fn categories(&self) -> Result<Arc<Vec<Category>>, sqlx::Error> {
        let ttl: Duration = self.settings.http.page_cache_ttl;
        if let Some((at, list)) = self.categories.read().await.as_ref()
            && at.elapsed() < ttl
        {
            return Ok(list.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let list = Arc::new(store::categories::list_active(&mut conn).await?);
        *self.categories.write().await = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// A ZIP from the reference data, which every node keeps in memory after its first use
    /// (42,000 rows that change only with a new dataset; looking them up per request was the
    /// largest share of an intake request's database time).
    pub async fn zip(&self, zip: &domain::Zip) -> Result<Option<ZipInfo>, sqlx::Error> {
        let all = self
            .zips
            .get_or_try_init(|| async {
                let mut conn = self.pool.acquire().await?;
                let all = store::zips::all(&mut conn).await?;
                Ok::<_, sqlx::Error>(all.into_iter().map(|z| (z.zip.clone(), z)).collect())
            })
            .await?;
        Ok(all.get(zip.as_str()).cloned())
    }

    /// A link on the public site: `path` (with its query) under the configured public URL.
    pub fn public_link(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.settings.http.public_url.as_str().trim_end_matches('/'))
    }
}
