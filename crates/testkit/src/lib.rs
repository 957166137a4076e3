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
pub mod market;
pub mod qr;

use anyhow::Context;
use axum::Router;
use domain::ManualClock;
use jobs::Worker;
use services::Ctx;
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
    pub worker: Worker<Ctx>,
    /// The settings this node was started with, less its own address: what another node copies.
    node_vars: HashMap<String, String>,
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
        // `TEST_REDIS_URL` runs a whole suite with Redis configured (sessions, rate limits).
        if let Ok(url) = std::env::var("TEST_REDIS_URL") {
            vars.insert("REDIS_URL".to_owned(), url);
        }
        vars.extend(self.vars);
        let settings = Arc::new(Settings::from_map(&vars).context("test settings")?);
        vars.remove("PLUMBERLEADS_BIND");

        let pool = store::connect(&settings.database).await?;
        let clock = ManualClock::starting_now();
        let app = app::App::new(settings.clone(), pool.clone(), Arc::new(clock.clone())).await?;
        let state = app.state.clone();
        let worker = app.worker.clone();
        let shutdown = CancellationToken::new();
        // Jobs are drained by the test (`run_pending_jobs`), not by a background worker.
        let server = tokio::spawn(app.run(
            Some((listener, app::Surface::Site(self.routes.unwrap_or_default()))),
            false,
            shutdown.clone(),
        ));
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
            node_vars: vars,
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

    /// A second app instance as a deployment runs them: its own process state, pool, limiter and
    /// session cache, on this one's database and Redis (same namespace), behind the same public
    /// address. Its clock is its own (`other.clock`); it makes a test database it never uses.
    pub async fn another_node(&self) -> anyhow::Result<TestApp> {
        let mut builder = TestApp::builder();
        builder.vars = self.node_vars.clone();
        builder.spawn().await
    }

    /// Runs every job due at the clock's current time; returns how many ran.
    /// A connection as the schema's owner, for what the app's role may not do (tampering, DDL).
    pub async fn owner_pool(&self) -> anyhow::Result<PgPool> {
        Ok(PgPool::connect(&self.db.owner_url).await?)
    }

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

    /// Sends queued messages and returns the newest e-mail to `address`: (subject, text).
    pub async fn latest_email_to(&self, address: &str) -> anyhow::Result<(String, String)> {
        self.run_pending_jobs().await?;
        let mut conn = self.pool.acquire().await?;
        let mails = store::dev_outbox::recent_emails(&mut conn, Some(address), 1).await?;
        mails
            .into_iter()
            .next()
            .map(|m| (m.subject, m.text_body))
            .ok_or_else(|| anyhow::anyhow!("no e-mail to {address}"))
    }

    /// The `?token=` of the newest link to `path` e-mailed to `address`.
    pub async fn emailed_token(&self, address: &str, path: &str) -> anyhow::Result<String> {
        let (_, body) = self.latest_email_to(address).await?;
        let marker = format!("{path}?token=");
        body.split_whitespace()
            .find_map(|w| w.split_once(&marker).map(|(_, t)| t.to_owned()))
            .ok_or_else(|| anyhow::anyhow!("no {path} link in {body:?}"))
    }

    /// A new pro account by the API: its id. Password: [`PRO_PASSWORD`].
    pub async fn signup_pro(&self, email: &str, phone: &str) -> anyhow::Result<uuid::Uuid> {
        let res = self
            .post("/api/v1/auth/signup")
            .json(&serde_json::json!({
                "business_name": "Acme Plumbing", "owner_name": "Jane Doe", "email": email,
                "phone": phone, "password": PRO_PASSWORD
            }))
            .send()
            .await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::CREATED, "sign-up answered {}", res.status());
        let body: serde_json::Value = res.json().await?;
        Ok(body["id"].as_str().unwrap_or_default().parse()?)
    }

    /// Logs in by the API: (access token, refresh token).
    pub async fn api_login(&self, email: &str, password: &str) -> anyhow::Result<(String, String)> {
        let res = self
            .post("/api/v1/auth/login")
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::OK, "login answered {}", res.status());
        let body: serde_json::Value = res.json().await?;
        Ok((
            body["access_token"].as_str().unwrap_or_default().to_owned(),
            body["refresh_token"].as_str().unwrap_or_default().to_owned(),
        ))
    }

    /// Logs a browser in by the login form: the session cookie's value.
    pub async fn browser_login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let res =
            self.post("/login").form(&[("email", email), ("password", password), ("next", "/pro")]).send().await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::SEE_OTHER, "login form answered {}", res.status());
        session_cookie(&res).ok_or_else(|| anyhow::anyhow!("no session cookie set"))
    }

    /// A staff account (second factor not yet set up): (id, first password).
    pub async fn create_staff(&self, email: &str) -> anyhow::Result<(uuid::Uuid, String)> {
        services::accounts::create_staff(&self.state, None, email, "Olga Ops", domain::account::Role::Staff)
            .await
            .map_err(|e| anyhow::anyhow!("creating staff: {e}"))
    }

    /// Gives a staff account a live TOTP secret directly (as if enrolled); returns it.
    pub async fn enrol_staff(&self, id: uuid::Uuid) -> anyhow::Result<Vec<u8>> {
        let secret = services::infra::totp::new_secret();
        let mut conn = self.pool.acquire().await?;
        services::accounts::keep_pending_secret(&mut conn, &self.state, id, &secret)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        store::mfa::enable(&mut conn, id, domain::Clock::now(&self.clock)).await?;
        Ok(secret)
    }

    /// A staff member signed in by the login form with the second factor given: the browser
    /// session cookie's value.
    pub async fn staff_session(&self, email: &str) -> anyhow::Result<String> {
        let (id, password) = self.create_staff(email).await?;
        let secret = self.enrol_staff(id).await?;
        let res = self.post("/login").form(&[("email", email), ("password", password.as_str())]).send().await?;
        let sid = session_cookie(&res).unwrap_or_default();
        let cookie = format!("__Host-pl_session={sid}");
        let page = self.get("/staff/mfa").header(reqwest::header::COOKIE, &cookie).send().await?.text().await?;
        let code = services::infra::totp::code_at(&secret, domain::Clock::now(&self.clock));
        let res = self
            .post("/staff/mfa")
            .header(reqwest::header::COOKIE, &cookie)
            .form(&[("csrf", csrf_in(&page).as_str()), ("code", code.as_str())])
            .send()
            .await?;
        anyhow::ensure!(res.status() == reqwest::StatusCode::SEE_OTHER, "second factor refused");
        Ok(session_cookie(&res).unwrap_or(sid))
    }

    /// A partner with a working API key: (partner id, key).
    pub async fn create_partner(&self, name: &str) -> anyhow::Result<(uuid::Uuid, String)> {
        let (prefix, _, full, hash) = services::infra::partner_keys::new_key();
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

/// The password [`TestApp::signup_pro`] gives its accounts.
pub const PRO_PASSWORD: &str = "tangerine voltage marmot 42";

/// The CSRF token of the first form in a page.
pub fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned()
}

/// The value of the session cookie a response sets (empty when it is being removed).
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers().get_all(reqwest::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.strip_prefix("__Host-pl_session=").map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
