//! A plumber in a real browser (headless Chromium, phone-sized): signs up, sees a mistake
//! explained, confirms the e-mail from the dev mailbox and the mobile from the dev SMS outbox,
//! logs out and back in. Screenshots land in `target/screenshots/`.

use anyhow::ensure;
use std::path::PathBuf;
use testkit::browser::Browser;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const EMAIL: &str = "pat@plumbing.example";
const MOBILE: &str = "+16125550177";

fn shots() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots"))
}

#[tokio::test]
async fn a_plumber_signs_up_confirms_email_and_phone_logs_out_and_in() -> R {
    let app = TestApp::spawn().await?;
    let browser = Browser::start().await?;
    let result = plumber(&app, &browser).await;
    let closed = browser.close().await;
    result?;
    closed?;
    app.shutdown().await
}

async fn plumber(app: &TestApp, b: &Browser) -> R {
    let wait = Browser::WAIT;
    b.goto(&format!("{}/signup", app.url)).await?;
    b.fill("#f-business_name", "Pat's Plumbing").await?;
    b.fill("#f-owner_name", "Pat Lee").await?;
    b.fill("#f-email", EMAIL).await?;
    b.fill("#f-phone", "612 555 0177").await?;
    b.fill("#f-password", "password1234").await?;
    b.click("button[type=submit]").await?;
    let said = b.wait_for_text("#e-password", "most common passwords", wait).await?;
    ensure!(said.contains("Try a few unrelated words together"), "{said}");
    ensure!(b.value("#f-email").await? == EMAIL, "the rest of the form is kept");
    ensure!(b.value("#f-password").await?.is_empty(), "a password is never sent back");
    b.screenshot(shots().join("signup-error.png")).await?;

    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("button[type=submit]").await?;
    b.wait_for_url("/pro", wait).await?;
    b.wait_for_text("h1", "Pat's Plumbing", wait).await?;
    b.screenshot(shots().join("pro-checklist.png")).await?;

    // The e-mail link, as the pro would open it from their mailbox.
    let token = app.emailed_token(EMAIL, "/verify-email").await?;
    b.goto(&format!("{}/verify-email?token={token}", app.url)).await?;
    b.wait_for_text("h1", "Your e-mail is confirmed", wait).await?;
    b.click("a.button").await?;
    b.wait_for_url("/pro", wait).await?;

    // The SMS code.
    let code = app.latest_code(MOBILE).await?;
    b.fill("#f-code", &code).await?;
    b.click_text("button", "Confirm").await?;
    b.wait_for_text(".notice", "Your mobile number is confirmed", wait).await?;
    let done = b.texts(".checklist__item--done").await?;
    ensure!(done.len() == 2, "e-mail and mobile done: {done:?}");

    b.click_text("button", "Log out").await?;
    b.wait_for_text(".notice", "You're logged out", wait).await?;
    b.goto(&format!("{}/pro/account", app.url)).await?;
    b.wait_for_url("/login", wait).await?;
    b.fill("#f-email", EMAIL).await?;
    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("button[type=submit]").await?;
    b.wait_for_url("/pro/account", wait).await?;
    b.wait_for_text("h1", "Password and devices", wait).await?;
    b.screenshot(shots().join("pro-account.png")).await?;
    ensure!(b.horizontal_overflow().await? <= 0, "fits the phone");
    Ok(())
}
