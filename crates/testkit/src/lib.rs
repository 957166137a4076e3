//! Test kit: the real application on a fresh database, a clock that only moves when told, and a
//! job queue the test drains itself. Nothing here sleeps to wait for time.
//!
//! ```ignore
//! let app = TestApp::spawn().await?;
//! let res = app.get("/health").send().await?;
//! app.clock.advance(time::Duration::minutes(31));
//! app.run_pending_jobs().await?;
//! ```

pub mod browser;
pub mod db;

use anyhow::Context;
use axum::Router;
use domain::ManualClock;
use jobs::Worker;
use jobs::handlers::JobContext;
use settings::Settings;
use sqlx::PgPool;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use web::AppState;

pub use db::TestDatabase;

pub struct TestApp {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub clock: ManualClock,
    pub settings: Arc<Settings>,
    pub state: AppState,
    pub worker: Worker<JobContext>,
    shutdown: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _storage: tempfile::TempDir,
    // Last: dropped after the pool's users.
    pub db: TestDatabase,
}

#[derive(Default)]
pub struct TestAppBuilder {
    vars: HashMap<String, String>,
    routes: Option<Router<AppState>>,
}

impl TestAppBuilder {
    /// Overrides one setting, by its environment name.
    #[must_use]
    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.vars.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Extra routes served under the same middleware (probes for testing the HTTP machinery).
    #[must_use]
    pub fn routes(mut self, routes: Router<AppState>) -> Self {
        self.routes = Some(routes);
        self
    }

    pub async fn spawn(self) -> anyhow::Result<TestApp> {
        let db = TestDatabase::create().await?;
        let storage = tempfile::tempdir()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");

        let mut vars: HashMap<String, String> = [
            ("DATABASE_URL", db.url.as_str()),
            ("PLUMBERLEADS_BIND", &addr.to_string()),
            ("PLUMBERLEADS_PUBLIC_URL", &url),
            ("PLUMBERLEADS_STORAGE_DIR", &storage.path().display().to_string()),
            // Many tests run at once: keep each one's pool small.
            ("PLUMBERLEADS_DB_MIN_CONNECTIONS", "0"),
            ("PLUMBERLEADS_DB_MAX_CONNECTIONS", "8"),
            // Tests may share one Redis: each app keeps to its own keys.
            ("PLUMBERLEADS_REDIS_NAMESPACE", db.name.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        vars.extend(self.vars);
        let settings = Arc::new(Settings::from_map(&vars).context("test settings")?);

        let pool = store::connect(&settings.database).await?;
        let clock = ManualClock::starting_now();
        let app = app::App::new(settings.clone(), pool.clone(), Arc::new(clock.clone()))?;
        let state = app.state.clone();
        let worker = app.worker.clone();
        let shutdown = CancellationToken::new();
        // Jobs are drained by the test (`run_pending_jobs`), not by a background worker.
        let server = tokio::spawn(app.run(Some(listener), false, self.routes.unwrap_or_default(), shutdown.clone()));
        let client = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(TestApp {
            url,
            addr,
            client,
            pool,
            clock,
            settings,
            state,
            worker,
            shutdown,
            server: Some(server),
            _storage: storage,
            db,
        })
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub async fn spawn() -> anyhow::Result<Self> {
        Self::builder().spawn().await
    }

    /// Runs every job due at the clock's current time; returns how many ran.
    pub async fn run_pending_jobs(&self) -> anyhow::Result<usize> {
        Ok(self.worker.run_pending().await?)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.url))
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// Texts the dev SMS provider kept for `number` (E.164), newest first. Run jobs first.
    pub async fn texts_to(&self, number: &str) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::dev_outbox::recent_sms(&mut conn, Some(number), 100).await?.into_iter().map(|m| m.body).collect())
    }

    /// Sends queued messages and returns the newest one-time code texted to `number`.
    pub async fn latest_code(&self, number: &str) -> anyhow::Result<String> {
        self.run_pending_jobs().await?;
        let texts = self.texts_to(number).await?;
        texts
            .iter()
            .find_map(|t| t.split("code is ").nth(1).map(|rest| rest.chars().take(6).collect::<String>()))
            .ok_or_else(|| anyhow::anyhow!("no code texted to {number}: {texts:?}"))
    }

    /// A partner with a working API key: (partner id, key).
    pub async fn create_partner(&self, name: &str) -> anyhow::Result<(uuid::Uuid, String)> {
        let (prefix, _, full, hash) = web::partners::new_key();
        let id = uuid::Uuid::now_v7();
        let mut conn = self.pool.acquire().await?;
        store::partners::create(&mut conn, id, name, &prefix, &hash, domain::Clock::now(&self.clock)).await?;
        Ok((id, full))
    }

    /// Starts a graceful shutdown without waiting for it.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Shuts down gracefully and waits for the server to finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
