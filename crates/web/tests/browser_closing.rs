//! A plumber closes their account in a real browser (headless Chromium, phone and desktop size):
//! finds it from the account page, presses the button too early, then with a wrong password —
//! each time told why beside the field, with the tick kept — and finally closes it and is told
//! where the money goes. Screenshots land in `target/screenshots/`.

use std::path::PathBuf;
use testkit::browser::{Browser, PHONE};
use testkit::market::ProSetup;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

fn shot(size: &str, name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots")).join(format!("{name}-{size}.png"))
}

#[tokio::test]
async fn a_plumber_on_a_phone_closes_their_account() -> R {
    walk(PHONE, "phone").await
}

#[tokio::test]
async fn a_plumber_at_a_desktop_closes_their_account() -> R {
    walk((1366, 900), "desktop").await
}

async fn walk((width, height): (u32, u32), size: &str) -> R {
    let app = TestApp::spawn().await?;
    let b = Browser::start_with_viewport(width, height).await?;
    let result = close(&app, &b, size).await;
    let closed = b.close().await;
    result?;
    closed?;
    app.shutdown().await
}

async fn close(app: &TestApp, b: &Browser, size: &str) -> R {
    let pro = app.active_pro(0, &ProSetup { balance_cents: 12_345, ..ProSetup::default() }).await?;
    b.goto(&format!("{}/login", app.url)).await?;
    b.fill("#f-email", &pro.email).await?;
    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("main button[type=submit]").await?;
    b.wait_for_script("!location.pathname.startsWith('/login')", Browser::WAIT).await?;
    b.goto(&format!("{}/pro/account", app.url)).await?;
    b.click_text("main a", "Close your account").await?;
    b.wait_for_url("/pro/account/close", Browser::WAIT).await?;
    b.wait_for_text("main", "$123.45", Browser::WAIT).await?;
    b.screenshot_full_page(shot(size, "close-account")).await?;

    // Too early: no tick, no password.
    b.click_text("main button", "Close my account").await?;
    b.wait_for_text("#e-understood", "Tick the box", Browser::WAIT).await?;
    // Ticked, but the wrong password: the tick stays.
    b.click("#f-understood").await?;
    b.fill("#f-password", "not the right one").await?;
    b.click_text("main button", "Close my account").await?;
    b.wait_for_text("#e-password", "current password", Browser::WAIT).await?;
    anyhow::ensure!(b.is_selected("#f-understood").await?, "the tick was lost after a wrong password");
    b.screenshot_full_page(shot(size, "close-account-error")).await?;
    anyhow::ensure!(b.horizontal_overflow().await? <= 0, "the page scrolls sideways");

    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click_text("main button", "Close my account").await?;
    let done = b.wait_for_text("main", "Your account is closed", Browser::WAIT).await?;
    anyhow::ensure!(done.contains("$123.45"), "says what goes back to the card: {done}");
    b.screenshot(shot(size, "account-closed")).await?;
    // Signed out: the portal sends them to log in, and logging in says why it can't.
    b.goto(&format!("{}/pro/account", app.url)).await?;
    b.wait_for_url("/login", Browser::WAIT).await?;
    b.fill("#f-email", &pro.email).await?;
    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("main button[type=submit]").await?;
    b.wait_for_text("main", "This account was closed", Browser::WAIT).await?;
    Ok(())
}
