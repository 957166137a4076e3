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

#[tokio::test]
async fn a_months_statement_runs_from_local_midnight_to_local_midnight_with_a_csv() -> R {
    let app = TestApp::spawn().await?;
    // America/Chicago is UTC−6 in November and December.
    app.clock.set(time::macros::datetime!(2026-11-15 12:00 UTC));
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    let top_up = |cents: i64| services::market::wallet::top_up(&app.state, pro.id, cents, None);
    app.clock.set(time::macros::datetime!(2026-12-01 05:59:59 UTC));
    top_up(2_500).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    app.clock.set(time::macros::datetime!(2026-12-01 06:00:00 UTC));
    top_up(3_000).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let sid = app.browser_login(&pro.email, PRO_PASSWORD).await?;
    let get = |path: String| {
        let (app, sid) = (&app, sid.clone());
        async move { anyhow::Ok(app.get(&path).header(COOKIE, cookie(&sid)).send().await?) }
    };

    let wallet = get("/pro/wallet".into()).await?.text().await?;
    assert!(wallet.contains("href=\"/pro/wallet/statements/2026-11\"") && wallet.contains("December 2026"));
    let november = get("/pro/wallet/statements/2026-11".into()).await?.text().await?;
    assert!(november.contains("Wallet statement, November 2026") && november.contains("America/Chicago"));
    assert!(november.contains("<strong id=\"opening\">$0.00</strong>"), "{november}");
    assert_eq!(rows(&november), 2, "the first $500.00 and the $25.00 one second before local midnight");
    assert!(november.contains("2026-11-30 23:59") && november.contains("<strong id=\"closing\">$525.00</strong>"));
    let december = get("/pro/wallet/statements/2026-12".into()).await?.text().await?;
    assert!(december.contains("<strong id=\"opening\">$525.00</strong>"), "{december}");
    assert_eq!(rows(&december), 1);
    assert!(december.contains("2026-12-01 00:00") && december.contains("<strong id=\"closing\">$555.00</strong>"));

    let res = get("/pro/wallet/statements/2026-11.csv".into()).await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str()?.contains("plumberleads-wallet-2026-11.csv"));
    let csv = res.text().await?;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert_eq!(lines[0], "time (America/Chicago),kind,amount_cents,balance_after_cents,reference");
    assert_eq!(lines[1], ",opening_balance,,0,");
    assert!(lines[3].starts_with("2026-11-30 23:59:59,top_up,2500,52500,"), "{csv}");
    assert_eq!(lines[4], ",closing_balance,,52500,");

    for bad in ["2026-13", "2026-1", "26-11", "2026-11.pdf", "abcd-ef", "2026-11-01"] {
        let res = get(format!("/pro/wallet/statements/{bad}")).await?;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    let empty = get("/pro/wallet/statements/2025-01".into()).await?.text().await?;
    assert!(empty.contains("No movements this month") && empty.contains("$0.00"));
    assert_ne!(app.get("/pro/wallet/statements/2026-11").send().await?.status(), StatusCode::OK);
    app.shutdown().await
}
