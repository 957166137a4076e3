//! What every handler can reach: the services' `Ctx` (every rule and what it needs) and what only
//! HTTP needs (assets, metrics, rendered pages). Cheap to clone: one reference count, however
//! much it holds (axum clones the state for every extractor and middleware on every request).
//! Derefs to `Ctx`, so a handler passes `&state` to a use case as it is.

use crate::ApiError;
use crate::assets::Assets;
use crate::encoded::Encoded;
use metrics_exporter_prometheus::PrometheusHandle;
use services::Ctx;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::RwLock;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub ctx: Ctx,
    pub metrics: PrometheusHandle,
    pub assets: Arc<Assets>,
    pages: RwLock<HashMap<&'static str, (Instant, Arc<Encoded>)>>,
}

impl std::ops::Deref for Shared {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl AppState {
    pub fn new(ctx: Ctx, metrics: PrometheusHandle) -> Self {
        Self(Arc::new(Shared { ctx, metrics, assets: Assets::shared(), pages: RwLock::default() }))
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
