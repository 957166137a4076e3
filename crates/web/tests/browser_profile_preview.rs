//! A plumber edits where they work, what they do and their price limit in a real browser (phone
//! size): the preview beside the form follows the form as it is, before anything is saved — each
//! chosen service's price and last month's requests near them. Screenshots in
//! `target/screenshots/`.

use anyhow::ensure;
use std::path::PathBuf;
use testkit::browser::Browser;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

fn shots() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_preview_follows_the_form_as_the_pro_edits_it() -> R {
    let app = TestApp::spawn().await?;
    let b = Browser::start().await?;
    let result = edit(&app, &b).await;
    let closed = b.close().await;
    result?;
    closed?;
    app.shutdown().await
}

async fn edit(app: &TestApp, b: &Browser) -> R {
    let wait = Browser::WAIT;
    app.signup_pro("jane@example.com", "+16125550123").await?;
    for (i, urgency) in ["flexible", "flexible", "emergency"].into_iter().enumerate() {
        app.verified_lead(&format!("61255502{i:02}"), "drain-cleaning", urgency, "55401").await?;
    }
    b.goto(&format!("{}/login", app.url)).await?;
    b.fill("#f-email", "jane@example.com").await?;
    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("main button[type=submit]").await?;
    b.wait_for_url("/pro", wait).await?;
    b.goto(&format!("{}/pro/profile", app.url)).await?;
    b.wait_for_text("#preview", "Give your base ZIP code", wait).await?;

    // Nothing saved yet: the preview reads the form.
    b.fill("#f-base_zip", "55401").await?;
    // (A text field's change comes as the person leaves it: Tab.)
    b.fill("#f-radius_miles", "10\u{E004}").await?;
    b.wait_for_text("#preview", "Tick the jobs you do", wait).await?;
    b.click("input[name=category][value=drain-cleaning]").await?;
    let panel = b.wait_for_text("#preview", "Drain cleaning", wait).await?;
    ensure!(panel.contains("$20.00") && panel.contains("$37.50"), "the prices: {panel}");
    b.wait_for_text("#preview strong", "3", wait).await?;

    // A price limit below the emergency price: that request is left out, and it says so.
    b.fill("#f-max_price", "30").await?;
    b.wait_for_text("#preview", "+1 above your price limit", wait).await?;
    ensure!(b.text("#preview strong").await? == "2");
    ensure!(b.horizontal_overflow().await? == 0, "nothing wider than the phone");
    b.scroll_into_view(&b.find("#preview").await?).await?;
    b.screenshot(shots().join("profile-preview-phone.png")).await?;
    ensure!(b.console_errors().await?.is_empty(), "no script errors");
    Ok(())
}
