//! Staff change prices in the back office: audited, applied to new offers only, bad input kept
//! and explained.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::Value;
use testkit::market::ProSetup;
use testkit::{TestApp, csrf_in};

type R = anyhow::Result<()>;

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

/// A signed-in staff member's session cookie, second factor given.
async fn staff(app: &TestApp) -> anyhow::Result<String> {
    app.staff_session("ops@plumberleads.example").await
}

#[tokio::test]
async fn staff_change_prices_for_new_offers_only_and_the_change_is_audited() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    let before = app.verified_lead("6125550195", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let sid = staff(&app).await?;
    let page = app.get("/staff/prices").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("value=\"25.00\"") && page.contains("value=\"1.5\""), "the current prices");
    let csrf = csrf_in(&page);
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    let categories: Value = app.get("/api/v1/categories").send().await?.json().await?;
    for c in categories["categories"].as_array().into_iter().flatten() {
        let slug = c["slug"].as_str().unwrap_or_default();
        let base = if slug == "drain-cleaning" {
            "30".to_owned()
        } else {
            format!("{:.2}", c["base_price_cents"].as_f64().unwrap_or(0.0) / 100.0)
        };
        let max = if slug == "drain-cleaning" { "2".to_owned() } else { c["max_buyers"].to_string() };
        form.push((format!("base_{slug}"), base));
        form.push((format!("max_{slug}"), max));
    }
    for (k, v) in [("emergency", "1.5"), ("within_48h", "1.1"), ("flexible", "0.8"), ("exclusive", "2.5")] {
        form.push((k.into(), v.into()));
    }
    // A mistake first: kept as typed and explained; nothing changes.
    let mut wrong = form.clone();
    wrong.retain(|(k, _)| k != "emergency");
    wrong.push(("emergency".into(), "fast".into()));
    let res = app.post("/staff/prices").header(COOKIE, cookie(&sid)).form(&wrong).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await?;
    assert!(
        body.contains("Emergency: a multiplier is") && body.contains("value=\"fast\"") && body.contains("value=\"30\""),
        "{body}"
    );

    let res = app.post("/staff/prices").header(COOKIE, cookie(&sid)).form(&form).send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let categories: Value = app.get("/api/v1/categories").send().await?.json().await?;
    let drain = categories["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["slug"] == "drain-cleaning")
        .cloned()
        .unwrap_or_default();
    assert_eq!((drain["base_price_cents"].clone(), drain["max_buyers"].clone()), (Value::from(3000), Value::from(2)));
    assert_eq!(categories["multipliers"]["within_48h_bps"], 11_000);
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT detail::text FROM identity.audit_log WHERE action = 'prices_changed'")
            .fetch_all(&app.pool)
            .await?;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].contains("drain-cleaning") && audited[0].contains("[2500,3000]"), "{}", audited[0]);

    // The offer made before keeps its price; a new one costs $30.00 × 1.1.
    let after = app.verified_lead("6125550196", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let price = |lead: uuid::Uuid| {
        sqlx::query_scalar::<_, i64>("SELECT price_cents FROM offers WHERE lead_id = $1")
            .bind(lead)
            .fetch_one(&app.pool)
    };
    assert_eq!(price(before).await?, 2_500);
    assert_eq!(price(after).await?, 3_300);
    // Plumbers cannot reach the page.
    let pro_sid = app.browser_login(&pro.email, testkit::PRO_PASSWORD).await?;
    let res = app.get("/staff/prices").header(COOKIE, cookie(&pro_sid)).send().await?;
    assert_ne!(res.status(), StatusCode::OK);
    Ok(())
}
