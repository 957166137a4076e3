//! The API reference page in a real browser (headless Chromium): it draws every operation of the
//! document from our own assets alone, with no CSP violation. Screenshots land in
//! `target/screenshots/` for a person to look at.

use anyhow::ensure;
use std::path::PathBuf;
use std::time::Duration;
use testkit::TestApp;
use testkit::browser::{Browser, PHONE};

type R = anyhow::Result<()>;

fn screenshot_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots"))
}

fn operations() -> usize {
    let doc = serde_json::to_value(&web::openapi::document().doc).unwrap_or_default();
    doc["paths"]
        .as_object()
        .map(|paths| paths.values().map(|item| item.as_object().map_or(0, |ops| ops.len())).sum())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_docs_page_shows_every_operation_from_our_own_assets() -> R {
    let app = TestApp::spawn().await?;
    for (name, (width, height)) in [("desktop", (1366, 900)), ("phone", PHONE)] {
        let browser = Browser::start_with_viewport(width, height).await?;
        let result = look(&app, &browser, name).await;
        let closed = browser.close().await;
        result?;
        closed?;
    }
    app.shutdown().await
}

async fn look(app: &TestApp, browser: &Browser, size: &str) -> R {
    let expected = operations();
    ensure!(expected >= 19, "the document lists {expected} operations");
    browser.goto(&format!("{}/api/docs", app.url)).await?;
    // Swagger UI fetches the document and draws one block per operation.
    let drawn = format!("document.querySelectorAll('.opblock').length === {expected}");
    browser.wait_for_script(&drawn, Duration::from_secs(20)).await?;
    browser.screenshot_full_page(screenshot_dir().join(format!("api-docs-{size}.png"))).await?;

    // Everything the page loaded came from us: it works with the network cable pulled.
    let foreign = browser
        .eval(&format!(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith('{}'));",
            app.url
        ))
        .await?;
    ensure!(foreign.as_array().is_some_and(Vec::is_empty), "loaded from elsewhere: {foreign}");
    let errors = browser.console_errors().await?;
    ensure!(errors.is_empty(), "console errors (a CSP violation shows here): {errors:?}");
    let paths = browser.texts(".opblock-summary-path").await?;
    ensure!(paths.iter().any(|p| p.contains("/api/v1/leads")), "{paths:?}");
    Ok(())
}
