//! The wallet statement page: every movement, newest first, signed from the pro's side with the
//! balance after it, fifty to a page; only its owner sees it.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use testkit::market::ProSetup;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

fn rows(html: &str) -> usize {
    html.split("<tbody>").nth(1).and_then(|b| b.split("</tbody>").next()).map_or(0, |b| b.matches("<tr>").count())
}

#[tokio::test]
async fn the_statement_lists_every_movement_a_page_at_a_time() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    let other = app.active_pro(1, &ProSetup { zip: "60601", ..ProSetup::default() }).await?;
    app.bought_lead(&pro, "6125550160", "drain-cleaning", "55401").await?;
    let sid = app.browser_login(&pro.email, PRO_PASSWORD).await?;
    let page = app.get("/pro/wallet").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("<strong id=\"balance\">$475.00</strong>"), "{page}");
    assert_eq!(rows(&page), 2);
    let bought = page.find("Lead bought").unwrap_or(usize::MAX);
    let added = page.find("Money added").unwrap_or(0);
    assert!(bought < added, "newest first");
    assert!(page.contains("-$25.00") && page.contains("+$500.00"), "signed from the pro's side");
    assert!(!page.contains("Older entries"));

    // Sixty more top-ups: fifty on the first page, the rest behind "Older entries".
    for _ in 0..60 {
        services::market::wallet::top_up(&app.state, pro.id, 2_500, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let page = app.get("/pro/wallet").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("<strong id=\"balance\">$1,975.00</strong>"), "balance after 60 × $25");
    assert_eq!(rows(&page), 50);
    let older = page
        .split("href=\"/pro/wallet?before=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no older link"))?
        .to_owned();
    let page =
        app.get(&format!("/pro/wallet?before={older}")).header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert_eq!(rows(&page), 12, "the other 10 top-ups, the purchase and the first top-up");
    assert!(!page.contains("Older entries"));

    // A made-up cursor is refused, not a crash; strangers and other pros see nothing of it.
    let res = app.get("/pro/wallet?before=abc").header(COOKIE, cookie(&sid)).send().await?;
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = app.get("/pro/wallet").send().await?;
    assert_ne!(res.status(), StatusCode::OK);
    let other_sid = app.browser_login(&other.email, PRO_PASSWORD).await?;
    let theirs = app.get("/pro/wallet").header(COOKIE, cookie(&other_sid)).send().await?.text().await?;
    assert_eq!(rows(&theirs), 1, "only their own top-up");
    assert!(theirs.contains("$500.00") && !theirs.contains("Lead bought"));
    app.shutdown().await
}
