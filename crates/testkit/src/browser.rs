//! A real headless Chromium for tests that need a browser (htmx, focus, layout on a phone),
//! driven over WebDriver by a ChromeDriver this harness starts and stops itself. Loopback only,
//! a fresh profile each time, and every wait is bounded: nothing here sleeps for a fixed time.
//!
//! ```ignore
//! let app = TestApp::spawn().await?;
//! let browser = Browser::start().await?;
//! let result = async {
//!     browser.goto(&format!("{}/request", app.url)).await?;
//!     browser.fill("#f-zip", "55401").await?;
//!     browser.wait_for_text("#zip-place", "Minneapolis, MN", Browser::WAIT).await?;
//!     anyhow::Ok(())
//! }
//! .await;
//! browser.close().await?;
//! result?;
//! ```
//!
//! Needs Debian's `chromium` and `chromium-driver` (`chromium` and `chromedriver` on `PATH`);
//! without them `Browser::start` fails and says what to install.

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use thirtyfour::cdp::domains::page::CaptureScreenshot;
use thirtyfour::error::{WebDriverError, WebDriverResult};
use thirtyfour::session::http::{Body, HttpClient};
use thirtyfour::{BrowserLogEntry, By, ChromiumLikeCapabilities, DesiredCapabilities, LoggingPrefsLogLevel};
use thirtyfour::{WebDriver, WebElement};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// A phone's viewport in CSS pixels (iPhone 12 to 15).
pub const PHONE: (u32, u32) = (390, 844);

/// Device pixels per CSS pixel. Phones have 2 or 3; 2 keeps screenshots a manageable size.
const PIXEL_RATIO: f64 = 2.0;
/// How long starting ChromeDriver, or opening a session in Chromium, may take.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one WebDriver command may take (a page load included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Time between two looks at the page while waiting for something.
const POLL_EVERY: Duration = Duration::from_millis(50);

const INSTALL_HINT: &str = "apt-get install chromium chromium-driver";

/// Chromium flags: headless, no network beyond what the test asks for, nothing from a
/// previous run. The profile directory and the window size are added per browser.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    // No smooth scrolling or animations: ChromeDriver clicks where an element will be once a
    // smooth scroll ends, not where it is, and screenshots should not catch a page mid-motion.
    "--force-prefers-reduced-motion",
    // Test servers are on 127.0.0.1: never send them through a proxy from the environment.
    "--no-proxy-server",
];

pub struct Browser {
    // Fields drop in this order: the session (which quits Chromium) before ChromeDriver, and
    // the profile directory last.
    driver: WebDriver,
    chromedriver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// A sensible bound for waiting on something the page does by itself (an htmx swap, a
    /// navigation after a click).
    pub const WAIT: Duration = Duration::from_secs(5);

    /// Headless Chromium emulating a phone's screen ([`PHONE`]).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_viewport(PHONE.0, PHONE.1).await
    }

    /// Headless Chromium emulating a touch screen of `width` x `height` CSS pixels.
    pub async fn start_with_viewport(width: u32, height: u32) -> anyhow::Result<Self> {
        let chromium = find_program("chromium")?;
        let chromedriver_bin = find_program("chromedriver")?;
        let profile = tempfile::Builder::new().prefix("testkit-chromium-").tempdir()?;
        let log_path = profile.path().join("chromedriver.log");

        // With `--port=0` ChromeDriver takes a free port on one address family and then the
        // same number on the other, which another process may hold ("IPv4 port not
        // available"): a new attempt takes a new port.
        let mut attempt = 0;
        let (mut chromedriver, port) = loop {
            attempt += 1;
            let mut chromedriver = Command::new(&chromedriver_bin)
                .arg("--port=0")
                .arg(format!("--log-path={}", log_path.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("could not run {}; try `{INSTALL_HINT}`", chromedriver_bin.display()))?;
            match tokio::time::timeout(START_TIMEOUT, announced_port(&mut chromedriver)).await {
                Ok(Ok(port)) => break (chromedriver, port),
                Ok(Err(e)) if attempt < 3 && format!("{e:#}").contains("port not available") => continue,
                Ok(Err(e)) => return Err(e.context(driver_log(&log_path))),
                Err(_) => {
                    bail!("ChromeDriver did not say its port within {START_TIMEOUT:?}\n{}", driver_log(&log_path))
                }
            }
        };
        let server = format!("http://127.0.0.1:{port}");
        let client = LoopbackClient::build()?;
        wait_until_ready(&client.0, &server, &mut chromedriver).await.with_context(|| driver_log(&log_path))?;

        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium.display().to_string())?;
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().join("profile").display()))?;
        caps.add_arg(&format!("--window-size={width},{height}"))?;
        // A desktop window can't be narrower than 500 px and loses height to its toolbar, so
        // the window size alone doesn't give a phone's viewport: emulate the device's screen.
        caps.add_experimental_option(
            "mobileEmulation",
            serde_json::json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": PIXEL_RATIO, "mobile": true, "touch": true }
            }),
        )?;
        // Console messages and uncaught errors, for `console_errors`.
        caps.set_browser_log_level(LoggingPrefsLogLevel::All)?;

        let session = WebDriver::builder(&server, caps).client(client).request_timeout(COMMAND_TIMEOUT).connect();
        let driver = match tokio::time::timeout(START_TIMEOUT, session).await {
            Ok(Ok(driver)) => driver,
            Ok(Err(e)) => {
                return Err(anyhow!(e).context(format!(
                    "Chromium ({}) did not start a session\n{}",
                    chromium.display(),
                    driver_log(&log_path)
                )));
            }
            Err(_) => bail!("Chromium did not start within {START_TIMEOUT:?}\n{}", driver_log(&log_path)),
        };
        Ok(Self { driver, chromedriver, profile })
    }

    /// The WebDriver session, for anything the helpers here don't cover.
    pub fn driver(&self) -> &WebDriver {
        &self.driver
    }

    /// Where this browser's profile and ChromeDriver's log live (removed on close).
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.driver.goto(url).await.with_context(|| format!("opening {url}"))
    }

    pub async fn current_url(&self) -> anyhow::Result<String> {
        Ok(self.driver.current_url().await?.to_string())
    }

    /// The page's `<title>`.
    pub async fn title(&self) -> anyhow::Result<String> {
        Ok(self.driver.title().await?)
    }

    /// The first element matching `css`, waiting up to [`Browser::WAIT`] for it to appear.
    pub async fn find(&self, css: &str) -> anyhow::Result<WebElement> {
        self.poll(&format!("an element matching `{css}`"), Self::WAIT, || async move {
            Ok(self.driver.find_all(By::Css(css)).await?.into_iter().next())
        })
        .await
    }

    /// Scrolls `element` to the middle of the screen at once (whatever the page's CSS says
    /// about smooth scrolling), out from under any sticky header or footer.
    pub async fn scroll_into_view(&self, element: &WebElement) -> anyhow::Result<()> {
        let script = "arguments[0].scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});";
        self.driver.execute(script, vec![element.to_json()?]).await?;
        Ok(())
    }

    /// Clears the field matching `css` and types `text` into it, key by key.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let field = self.find(css).await?;
        self.scroll_into_view(&field).await?;
        field.clear().await.with_context(|| format!("clearing `{css}`"))?;
        field.send_keys(text).await.with_context(|| format!("typing into `{css}`"))?;
        Ok(())
    }

    /// Clicks the element matching `css` (as a person would: it must be visible and on top).
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        self.scroll_into_view(&element).await?;
        element.click().await.with_context(|| format!("clicking `{css}`"))
    }

    /// Clicks the first element matching `css` whose visible text contains `needle`
    /// (e.g. `click_text("a", "Start my request")`).
    pub async fn click_text(&self, css: &str, needle: &str) -> anyhow::Result<()> {
        let what = format!("a `{css}` showing {needle:?}");
        let element = self
            .poll(&what, Self::WAIT, || async move {
                for element in self.driver.find_all(By::Css(css)).await? {
                    if element.text().await?.contains(needle) {
                        return Ok(Some(element));
                    }
                }
                Ok(None)
            })
            .await?;
        self.scroll_into_view(&element).await?;
        element.click().await.with_context(|| format!("clicking {what}"))
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// The current value of the form field matching `css`.
    pub async fn value(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.value().await?.unwrap_or_default())
    }

    /// An attribute of the first element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self.find(css).await?.attr(name).await?)
    }

    /// Whether a checkbox or radio button matching `css` is checked.
    pub async fn is_selected(&self, css: &str) -> anyhow::Result<bool> {
        Ok(self.find(css).await?.is_selected().await?)
    }

    /// Waits up to `timeout` for an element matching `css` to show text containing `needle`;
    /// returns that element's whole text.
    pub async fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        let found = self
            .poll(&format!("`{css}` to show {needle:?}"), timeout, || async move {
                for element in self.driver.find_all(By::Css(css)).await? {
                    let text = element.text().await?;
                    if text.contains(needle) {
                        return Ok(Some(text));
                    }
                }
                Ok(None)
            })
            .await;
        match found {
            Ok(text) => Ok(text),
            Err(e) => {
                let seen = self.texts(css).await.unwrap_or_default();
                Err(anyhow!("{e}; it shows {seen:?}"))
            }
        }
    }

    /// Waits up to `timeout` for the address bar to contain `needle`; returns the URL.
    pub async fn wait_for_url(&self, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        self.poll(&format!("the URL to contain {needle:?}"), timeout, || async move {
            let url = self.driver.current_url().await?.to_string();
            Ok(url.contains(needle).then_some(url))
        })
        .await
    }

    /// Waits up to `timeout` for the JavaScript expression `condition` to be truthy in the page
    /// (e.g. a counter an `htmx:afterRequest` listener bumps).
    pub async fn wait_for_script(&self, condition: &str, timeout: Duration) -> anyhow::Result<()> {
        let script = format!("return !!({condition});");
        self.poll(&format!("`{condition}`"), timeout, || {
            let script = script.clone();
            async move { Ok(self.driver.execute(script, Vec::new()).await?.json().as_bool().filter(|&ok| ok)) }
        })
        .await
        .map(|_| ())
    }

    /// The visible text of every element matching `css`.
    pub async fn texts(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for element in self.driver.find_all(By::Css(css)).await? {
            texts.push(element.text().await?);
        }
        Ok(texts)
    }

    /// Runs `script` in the page and returns what it returns, as JSON.
    pub async fn eval(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.driver.execute(script, Vec::new()).await?.json().clone())
    }

    /// The viewport's size in CSS pixels (`innerWidth`, `innerHeight`).
    pub async fn viewport(&self) -> anyhow::Result<(u64, u64)> {
        let size = self.eval("return [window.innerWidth, window.innerHeight];").await?;
        match (size.get(0).and_then(|v| v.as_u64()), size.get(1).and_then(|v| v.as_u64())) {
            (Some(w), Some(h)) => Ok((w, h)),
            _ => bail!("unexpected viewport size {size}"),
        }
    }

    /// How far the page is wider than the viewport, in CSS pixels (0 when nothing sticks out
    /// sideways, which is what a phone layout needs).
    pub async fn horizontal_overflow(&self) -> anyhow::Result<i64> {
        let v = self.eval("return document.documentElement.scrollWidth - window.innerWidth;").await?;
        v.as_i64().ok_or_else(|| anyhow!("unexpected overflow {v}"))
    }

    /// Makes the page's clock read in `zone` (an IANA name), as a reader's device there would.
    pub async fn set_time_zone(&self, zone: &str) -> anyhow::Result<()> {
        let zone = thirtyfour::cdp::domains::emulation::SetTimezoneOverride { timezone_id: zone.to_owned() };
        self.driver.cdp().send(zone).await?;
        Ok(())
    }

    /// What axe-core finds on the page as it is now that stops or seriously hinders someone (its
    /// "critical" and "serious" impacts): one line per rule and element. The checker is the
    /// version pinned in `tools/a11y` (installed by `scripts/services-up --browser`), run by
    /// WebDriver, which the site's CSP does not govern.
    pub async fn accessibility_violations(&self) -> anyhow::Result<Vec<String>> {
        self.driver.execute(axe_source()?, Vec::new()).await?;
        let run = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] }).then(
              (r) => done(r.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) at ${n.target.join(" ")}: ${v.help}`))),
              (e) => done(["axe-core failed: " + e]));"#;
        let found = self.driver.execute_async(run, Vec::new()).await?.json().clone();
        serde_json::from_value(found.clone()).map_err(|_| anyhow!("unexpected axe-core answer {found}"))
    }

    /// Console errors (uncaught exceptions, failed loads, CSP violations) since the last call.
    pub async fn console_errors(&self) -> anyhow::Result<Vec<BrowserLogEntry>> {
        Ok(self.driver.browser_log().await?.into_iter().filter(|e| e.level == "SEVERE").collect())
    }

    /// Saves what the viewport shows as a PNG, creating the directory if needed.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> anyhow::Result<PathBuf> {
        let png = self.driver.screenshot_as_png().await?;
        write_png(path.as_ref(), &png).await
    }

    /// Saves the whole page, top to bottom at the viewport's width, as a PNG.
    pub async fn screenshot_full_page(&self, path: impl AsRef<Path>) -> anyhow::Result<PathBuf> {
        let shot = CaptureScreenshot { capture_beyond_viewport: Some(true), ..CaptureScreenshot::default() };
        let data = self.driver.cdp().send(shot).await?.data;
        let png = base64::engine::general_purpose::STANDARD.decode(data).context("screenshot data")?;
        write_png(path.as_ref(), &png).await
    }

    /// Ends the session (Chromium exits), stops ChromeDriver and removes the profile.
    pub async fn close(self) -> anyhow::Result<()> {
        let Browser { driver, mut chromedriver, profile } = self;
        let quit = tokio::time::timeout(COMMAND_TIMEOUT, driver.quit()).await;
        // Stop ChromeDriver whatever happened to the session.
        let killed = chromedriver.kill().await;
        drop(profile);
        match quit {
            Ok(result) => result.context("closing the browser session")?,
            Err(_) => bail!("the browser session did not close within {COMMAND_TIMEOUT:?}"),
        }
        killed.context("stopping ChromeDriver")?;
        Ok(())
    }

    /// Calls `check` until it returns something, for at most `timeout`.
    async fn poll<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = WebDriverResult<Option<T>>>,
    {
        let deadline = Instant::now() + timeout;
        let mut last_error = None;
        loop {
            match tokio::time::timeout_at(deadline, check()).await {
                Ok(Ok(Some(found))) => return Ok(found),
                Ok(Ok(None)) => {}
                // A page in the middle of navigating can lose its elements; look again.
                Ok(Err(e)) => last_error = Some(e),
                Err(_) => {}
            }
            if Instant::now() + POLL_EVERY >= deadline {
                let url = self.driver.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                let mut message = format!("waited {timeout:?} for {what} on {url}");
                if let Some(e) = last_error {
                    message.push_str(&format!(" (last error: {e})"));
                }
                bail!(message);
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// `name` on `PATH`, or an error saying what to install.
fn find_program(name: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()))
        .ok_or_else(|| {
            anyhow!(
                "browser tests need `{name}` on PATH, and it is not there: install Chromium and \
                 ChromeDriver with `{INSTALL_HINT}`"
            )
        })
}

/// Reads ChromeDriver's stdout until it says which port it took, then keeps draining it.
async fn announced_port(chromedriver: &mut Child) -> anyhow::Result<u16> {
    let stdout = chromedriver.stdout.take().ok_or_else(|| anyhow!("ChromeDriver's stdout is not piped"))?;
    let mut lines = BufReader::new(stdout).lines();
    let mut said = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let port = line
            .strip_prefix("ChromeDriver was started successfully on port ")
            .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
        if let Some(port) = port {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(port);
        }
        said.push(line);
    }
    bail!("ChromeDriver exited without starting: {said:?}")
}

/// Polls ChromeDriver's `/status` until it reports ready.
async fn wait_until_ready(client: &reqwest::Client, server: &str, chromedriver: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut last = String::from("no answer");
    loop {
        if let Some(status) = chromedriver.try_wait()? {
            bail!("ChromeDriver exited ({status}) before it was ready");
        }
        let answer = tokio::time::timeout_at(deadline, async {
            let res = client.get(format!("{server}/status")).send().await?;
            res.json::<serde_json::Value>().await
        })
        .await;
        match answer {
            Ok(Ok(status)) if status.pointer("/value/ready").and_then(serde_json::Value::as_bool) == Some(true) => {
                return Ok(());
            }
            Ok(Ok(status)) => last = status.to_string(),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => {}
        }
        if Instant::now() + POLL_EVERY >= deadline {
            bail!("ChromeDriver at {server} was not ready within {START_TIMEOUT:?}: {last}");
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The end of ChromeDriver's log, to explain a failure to start.
fn driver_log(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(log) => {
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines.get(lines.len().saturating_sub(40)..).unwrap_or_default();
            format!("ChromeDriver log ({}), last lines:\n{}", path.display(), tail.join("\n"))
        }
        Err(_) => format!("no ChromeDriver log at {}", path.display()),
    }
}

/// axe-core's browser build, read once.
fn axe_source() -> anyhow::Result<&'static str> {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(js) = AXE.get() {
        return Ok(js);
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/a11y/node_modules/axe-core/axe.min.js");
    let js = std::fs::read_to_string(path)
        .with_context(|| format!("reading {path}: run `scripts/services-up --browser` (npm ci --prefix tools/a11y)"))?;
    Ok(AXE.get_or_init(|| js))
}

async fn write_png(path: &Path, png: &[u8]) -> anyhow::Result<PathBuf> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.with_context(|| format!("creating {}", dir.display()))?;
    }
    tokio::fs::write(path, png).await.with_context(|| format!("writing {}", path.display()))?;
    Ok(path.to_owned())
}

/// WebDriver over the workspace's reqwest, never through a proxy (ChromeDriver is on loopback).
struct LoopbackClient(reqwest::Client);

impl LoopbackClient {
    fn build() -> anyhow::Result<Self> {
        Ok(Self(reqwest::Client::builder().no_proxy().timeout(COMMAND_TIMEOUT).build()?))
    }
}

#[async_trait::async_trait]
impl HttpClient for LoopbackClient {
    async fn send(&self, request: http::Request<Body<'_>>) -> WebDriverResult<http::Response<bytes::Bytes>> {
        let (parts, body) = request.into_parts();
        let mut req = self.0.request(parts.method, parts.uri.to_string()).headers(parts.headers);
        if let Body::Json(json) = body {
            req = req.json(json);
        }
        let res = req.send().await.map_err(|e| WebDriverError::RequestFailed(e.to_string()))?;
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.bytes().await.map_err(|e| WebDriverError::HttpError(e.to_string()))?;
        let mut response = http::Response::new(bytes);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// A client for a last-resort clean-up from `Drop`, on a runtime of its own: it must not
    /// share this one's connection pool.
    async fn new(&self) -> Arc<dyn HttpClient> {
        match Self::build() {
            Ok(client) => Arc::new(client),
            Err(_) => Arc::new(Self(reqwest::Client::new())),
        }
    }
}
