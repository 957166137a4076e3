//! Times in the reader's time zone (issue 12, item 13; STYLE.md): the pages say each moment in
//! UTC, zone named, and the reader's browser says it in their own zone.

use anyhow::ensure;
use testkit::browser::Browser;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

#[tokio::test]
async fn a_pros_devices_and_the_staff_audit_show_times_in_the_readers_own_zone() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro("pat@example.com", "+16125550177").await?;
    let staff = app.staff_session("olga@plumberleads.example").await?;
    // Without scripts the page says UTC.
    let audit = app
        .get("/staff")
        .header(reqwest::header::COOKIE, format!("__Host-pl_session={staff}"))
        .send()
        .await?
        .text()
        .await?;
    ensure!(audit.contains(" UTC</time>") && audit.contains("<th scope=\"col\">Who</th>"), "{audit}");
    ensure!(
        audit.contains("Olga Ops (olga@plumberleads.example)") && audit.contains("Gave the second factor"),
        "who and what, in words"
    );
    ensure!(!audit.contains("pending_approval") && !audit.contains(">onboarding<"), "no raw codes");

    let b = Browser::start().await?;
    let result = async {
        b.set_time_zone("America/Chicago").await?;
        b.goto(&format!("{}/login", app.url)).await?;
        b.fill("#f-email", "pat@example.com").await?;
        b.fill("#f-password", PRO_PASSWORD).await?;
        b.click("main button[type=submit]").await?;
        b.wait_for_url("/pro", Browser::WAIT).await?;
        b.goto(&format!("{}/pro/account", app.url)).await?;
        let times = b.texts(".session-list time").await?;
        ensure!(!times.is_empty(), "the devices list shows times");
        ensure!(times.iter().all(|t| t.contains("CST") && !t.contains("UTC")), "Chicago time: {times:?}");
        b.set_time_zone("Europe/Berlin").await?;
        b.goto(&format!("{}/pro/account", app.url)).await?;
        let times = b.texts(".session-list time").await?;
        ensure!(times.iter().all(|t| t.contains("GMT+1") || t.contains("CET")), "Berlin time: {times:?}");
        Ok(())
    }
    .await;
    let closed = b.close().await;
    result?;
    closed?;
    app.shutdown().await
}
