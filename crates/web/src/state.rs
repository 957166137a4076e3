//! What every handler can reach. Cheap to clone: one reference count, however much it holds
//! (axum clones the state for every extractor and middleware on every request).

use crate::ApiError;
use crate::assets::Assets;
use crate::encoded::Encoded;
use crate::rate_limit::RateLimiter;
use crate::signing::Signer;
use domain::Clock;
use integrations::Providers;
use metrics_exporter_prometheus::PrometheusHandle;
use settings::Settings;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::categories::Category;
use store::zips::ZipInfo;
use tokio::sync::{Mutex, RwLock};

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub queue: jobs::Queue,
    pub providers: Providers,
    pub redis: Option<RedisCheck>,
    pub metrics: PrometheusHandle,
    pub assets: Arc<Assets>,
    pub signer: Signer,
    /// Signs and checks API access tokens.
    pub tokens: crate::auth::tokens::TokenKeys,
    /// Sessions read from Redis when it is configured.
    pub session_cache: crate::auth::cache::SessionCache,
    pub rate_limiter: RateLimiter,
    /// New leads, written in groups.
    pub lead_writer: store::lead_writer::LeadWriter,
    categories: RwLock<Option<Cached<Vec<Category>>>>,
    pages: RwLock<HashMap<&'static str, Cached<Encoded>>>,
    zips: tokio::sync::OnceCell<HashMap<String, ZipInfo>>,
}

/// A value and when it was made.
type Cached<T> = (Instant, Arc<T>);

impl AppState {
    pub fn new(
        pool: PgPool,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        queue: jobs::Queue,
        providers: Providers,
        metrics: PrometheusHandle,
    ) -> Self {
        let redis = settings.redis_url.as_ref().and_then(|url| RedisCheck::new(url).ok());
        let signer = Signer::new(settings.secret_key.clone());
        let tokens = crate::auth::tokens::TokenKeys::from_settings(&settings);
        let session_cache = crate::auth::cache::SessionCache::from_settings(&settings);
        // A Redis URL that does not parse was refused by settings already; fall back regardless.
        let rate_limiter = RateLimiter::from_settings(&settings, pool.clone(), clock.clone())
            .unwrap_or_else(|_| RateLimiter::Postgres { pool: pool.clone(), clock: clock.clone() });
        Self(Arc::new(Shared {
            lead_writer: store::lead_writer::LeadWriter::new(pool.clone()),
            pool,
            settings,
            clock,
            queue,
            providers,
            redis,
            metrics,
            assets: Assets::shared(),
            signer,
            tokens,
            session_cache,
            rate_limiter,
            categories: RwLock::default(),
            pages: RwLock::default(),
            zips: tokio::sync::OnceCell::new(),
        }))
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
}

impl AppState {
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

    /// A page that is the same for every visitor, rendered and compressed once per cache period.
    pub async fn cached_page<F, Fut>(&self, name: &'static str, render: F) -> Result<Arc<Encoded>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, ApiError>>,
    {
        let ttl = self.settings.http.page_cache_ttl;
        if let Some((at, page)) = self.pages.read().await.get(name)
            && at.elapsed() < ttl
        {
            return Ok(page.clone());
        }
        let html = render().await?;
        let page = Arc::new(
            tokio::task::spawn_blocking(move || Encoded::new(html)).await.map_err(|e| ApiError::Internal(e.into()))?,
        );
        self.pages.write().await.insert(name, (Instant::now(), page.clone()));
        Ok(page)
    }
}

/// Redis as the health check sees it: a client, and a connection made on first use and remade
/// after a failure, so a Redis that was down at start-up is picked up when it comes back.
#[derive(Clone)]
pub struct RedisCheck {
    client: redis::Client,
    conn: Arc<Mutex<Option<redis::aio::MultiplexedConnection>>>,
}

impl RedisCheck {
    pub fn new(url: &secrecy::SecretString) -> Result<Self, redis::RedisError> {
        use secrecy::ExposeSecret;
        Ok(Self { client: redis::Client::open(url.expose_secret())?, conn: Arc::default() })
    }

    pub async fn ping(&self) -> Result<(), String> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(self.client.get_multiplexed_async_connection().await.map_err(|_| "unreachable".to_owned())?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err("unreachable".into());
        };
        match redis::cmd("PING").query_async::<String>(conn).await {
            Ok(_) => Ok(()),
            Err(_) => {
                *slot = None;
                Err("not answering".into())
            }
        }
    }
}
