//! Two plumbers' inboxes open in real browsers (a phone and a desktop): a homeowner's request is
//! verified, both see the offer arrive without reloading; one buys it with one tap and sees the
//! homeowner's number; the other sees the buyer count move. Screenshots in `target/screenshots/`.

use anyhow::ensure;
use std::path::PathBuf;
use testkit::browser::Browser;
use testkit::market::ProSetup;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

fn shots() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots"))
}

async fn open_inbox(app: &TestApp, b: &Browser, email: &str) -> R {
    b.goto(&format!("{}/login", app.url)).await?;
    b.fill("#f-email", email).await?;
    b.fill("#f-password", PRO_PASSWORD).await?;
    b.click("main button[type=submit]").await?;
    b.wait_for_url("/pro", Browser::WAIT).await?;
    // An approved plumber's home is the inbox.
    b.wait_for_url("/pro/offers", Browser::WAIT).await?;
    b.wait_for_text("#no-offers", "No offers right now", Browser::WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_inboxes_see_an_offer_arrive_one_buys_it_the_other_sees_the_count_move() -> R {
    let app = TestApp::spawn().await?;
    let phone = Browser::start().await?;
    let desk = Browser::start_with_viewport(1366, 900).await?;
    let result = inboxes(&app, &phone, &desk).await;
    let closed = (phone.close().await, desk.close().await);
    result?;
    closed.0?;
    closed.1?;
    app.shutdown().await
}

async fn inboxes(app: &TestApp, phone: &Browser, desk: &Browser) -> R {
    let wait = Browser::WAIT;
    let a = app.active_pro(0, &ProSetup::default()).await?;
    let b = app.active_pro(1, &ProSetup::default()).await?;
    open_inbox(app, phone, &a.email).await?;
    open_inbox(app, desk, &b.email).await?;
    ensure!(phone.text("#balance").await? == "$500.00");

    // The homeowner's request arrives in both inboxes without a reload.
    app.verified_lead("6125550180", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    phone.wait_for_text(".offer__price", "$25.00", wait).await?;
    desk.wait_for_text(".offer__price", "$25.00", wait).await?;
    desk.wait_for_text(".offer__buyers", "0 of 3 taken", wait).await?;
    let left = phone.wait_for_text(".offer__time", "left", wait).await?;
    ensure!(left.starts_with("14:") || left.starts_with("15:"), "counting down from 15 minutes: {left}");
    ensure!(!phone.text("#inbox-live").await?.contains("555-0180"), "no contact before buying");
    phone.screenshot(shots().join("inbox-offer-phone.png")).await?;
    desk.screenshot(shots().join("inbox-offer-desktop.png")).await?;

    // One tap buys it: the homeowner's number is there to call.
    phone.click(".offer form[action$='/claim'] button").await?;
    phone.wait_for_url("done=claimed", wait).await?;
    phone.wait_for_text(".lead__contact", "(612) 555-0180", wait).await?;
    phone.wait_for_text("#balance", "$475.00", wait).await?;
    ensure!(phone.attr(".lead__contact a", "href").await?.as_deref() == Some("tel:+16125550180"));
    phone.screenshot(shots().join("inbox-bought-phone.png")).await?;

    // Topping up: a mistake is kept and explained; then the money is there at once (sandbox).
    phone.fill("#f-amount", "lots").await?;
    phone.click(".top-up button").await?;
    phone.wait_for_text("#e-amount", "between $25.00 and $5,000.00", wait).await?;
    ensure!(phone.value("#f-amount").await? == "lots", "what was typed is kept");
    phone.screenshot_full_page(shots().join("inbox-top-up-refused-phone.png")).await?;
    phone.fill("#f-amount", "50").await?;
    phone.click(".top-up button").await?;
    phone.wait_for_url("done=topped_up", wait).await?;
    phone.wait_for_text("#balance", "$525.00", wait).await?;

    // The other plumber sees the count move, still without a reload.
    desk.wait_for_text(".offer__buyers", "1 of 3 taken", wait).await?;
    desk.screenshot(shots().join("inbox-taken-desktop.png")).await?;

    // The statement: the lead bought and the money added, newest first.
    phone.click("a[href='/pro/wallet']").await?;
    phone.wait_for_text("#balance", "$525.00", wait).await?;
    let lines = phone.texts(".statement tbody tr").await?;
    ensure!(lines.len() == 3 && lines[1].contains("Lead bought") && lines[1].contains("-$25.00"), "{lines:?}");
    ensure!(phone.horizontal_overflow().await? == 0, "the statement fits the phone");
    phone.screenshot(shots().join("wallet-statement-phone.png")).await?;
    Ok(())
}
