//! A homeowner's rights, as the privacy page promises them: a copy of their data, its erasure
//! on request, and its removal 24 months after each request — the person goes, the facts (job,
//! ZIP, dates, sales, the ledger) stay.

use serde_json::Value;
use testkit::TestApp;
use testkit::market::ProSetup;

type R = anyhow::Result<()>;

async fn lead_row(app: &TestApp, id: uuid::Uuid) -> anyhow::Result<(String, String, Option<String>, String, String)> {
    Ok(sqlx::query_as("SELECT name, phone, email, description, category FROM leads WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await?)
}

#[tokio::test]
async fn a_homeowner_gets_a_copy_of_their_requests_and_can_have_them_erased_while_the_facts_remain() -> R {
    let app = TestApp::spawn().await?;
    let ctx = &app.state.ctx;
    let pro = app.active_pro(1, &ProSetup::default()).await?;
    app.bought_lead(&pro, "6125550180", "drain-cleaning", "55401").await?;
    let lead: uuid::Uuid = sqlx::query_scalar("SELECT lead_id FROM purchases").fetch_one(&app.pool).await?;
    let mut conn = app.pool.acquire().await?;
    store::lead_notes::keep(&mut conn, lead, "Need someone today please", domain::Clock::now(&app.clock)).await?;
    let other = app.verified_lead("6125550181", "burst-pipe", "emergency", "55401").await?;

    let copy = services::privacy::export_homeowner(ctx, "(612) 555-0180").await?;
    let requests = copy["requests"].as_array().cloned().unwrap_or_default();
    assert_eq!(requests.len(), 1, "only this phone's: {copy:#}");
    let r = &requests[0];
    assert_eq!((r["name"].as_str(), r["phone"].as_str()), (Some("Pat Lee"), Some("+16125550180")));
    assert_eq!(r["description"], "The kitchen sink drains slowly and now backs up");
    assert_eq!(r["plumbers"][0]["business_name"], "Pro 1 Plumbing");
    assert_eq!(r["notes"][0]["text"], "Need someone today please");
    let events: Vec<&str> =
        r["timeline"].as_array().into_iter().flatten().filter_map(|e| e["event"].as_str()).collect();
    assert!(events.contains(&"verified") && events.contains(&"purchased"), "{events:?}");
    assert!(r["consent_version"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(copy["retention"], "personal data is removed 24 months after each request");

    assert_eq!(services::privacy::erase_homeowner(ctx, "+1 612 555 0180").await?, 1);
    let (name, phone, email, description, category) = lead_row(&app, lead).await?;
    assert_eq!((name.as_str(), phone.as_str(), email, description.as_str()), ("Removed", "+10000000000", None, ""));
    assert_eq!(category, "drain-cleaning", "the facts stay");
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM lead_notes").fetch_one(&app.pool).await?;
    assert_eq!(notes, 0);
    let texts = app.texts_to("+16125550180").await?;
    assert!(texts.is_empty(), "the dev outbox forgets them too: {texts:?}");
    let sales: i64 =
        sqlx::query_scalar("SELECT count(*) FROM purchases WHERE lead_id = $1").bind(lead).fetch_one(&app.pool).await?;
    assert_eq!(sales, 1);
    assert!(services::market::wallet::check(ctx).await?.sound(), "the ledger still adds up");
    let last: String = sqlx::query_scalar("SELECT action FROM identity.audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(last, "homeowner_erased");
    // The plumber who bought it no longer sees the person.
    let bought: Value = app.get("/api/v1/pro/leads").bearer_auth(&pro.token).send().await?.json().await?;
    let listed = bought.to_string();
    assert!(listed.contains("Removed") && !listed.contains("Pat Lee") && !listed.contains("6125550180"), "{bought}");

    // Nothing left to copy or erase; the other homeowner is untouched.
    let copy = services::privacy::export_homeowner(ctx, "6125550180").await?;
    assert_eq!(copy["requests"], serde_json::json!([]));
    assert_eq!(services::privacy::erase_homeowner(ctx, "6125550180").await?, 0);
    assert_eq!(lead_row(&app, other).await?.0, "Pat Lee");
    // A number that is not one is refused, saying why.
    for bad in ["", "555", "not a phone", "+44 20 7946 0958"] {
        let e = services::privacy::erase_homeowner(ctx, bad).await.err();
        assert!(matches!(e, Some(services::ServiceError::Invalid(_))), "{bad:?}: {e:?}");
    }
    Ok(())
}

#[tokio::test]
async fn personal_data_goes_24_months_after_the_request_and_not_a_second_before() -> R {
    let app = TestApp::spawn().await?;
    let made = domain::Clock::now(&app.clock);
    let lead = app.verified_lead("6125550182", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let privacy = app.get("/privacy").send().await?.text().await?;
    assert!(privacy.contains("24 months after your request"), "the page says what the setting does");
    let retention = time::Duration::try_from(app.settings.intake.homeowner_retention)?;
    assert_eq!(retention.whole_days(), 730, "24 months (30.44 days each)");

    app.clock.set(made + retention - time::Duration::seconds(1));
    assert_eq!(services::privacy::remove_expired(&app.state.ctx).await?, 0);
    assert_eq!(lead_row(&app, lead).await?.0, "Pat Lee");

    // Just over: the hourly housekeeping removes it.
    app.clock.set(made + retention + time::Duration::seconds(1));
    let mut tx = app.pool.begin().await?;
    app.state.ctx.queue.enqueue(&mut tx, &services::jobs::Housekeeping {}).await?;
    tx.commit().await?;
    app.run_pending_jobs().await?;
    let (name, phone, ..) = lead_row(&app, lead).await?;
    assert_eq!((name.as_str(), phone.as_str()), ("Removed", "+10000000000"));
    let verified: i64 =
        sqlx::query_scalar("SELECT count(*) FROM leads WHERE verified_at IS NOT NULL").fetch_one(&app.pool).await?;
    assert_eq!(verified, 1, "it still counts");
    Ok(())
}

#[tokio::test]
async fn a_plumber_gets_a_copy_of_their_own_data_and_nobody_elses() -> R {
    let app = TestApp::spawn().await?;
    let ctx = &app.state.ctx;
    let pro = app.active_pro(1, &ProSetup::default()).await?;
    app.active_pro(2, &ProSetup::default()).await?;
    app.bought_lead(&pro, "6125550183", "drain-cleaning", "55401").await?;

    let copy = services::privacy::export_pro(ctx, " PRO1@Example.com ").await?;
    assert_eq!(copy["account"]["email"], "pro1@example.com");
    assert_eq!(copy["profile"]["business_name"], "Pro 1 Plumbing");
    assert_eq!(copy["hours"].as_array().map(Vec::len), Some(5), "Monday to Friday");
    assert_eq!(copy["purchases"][0]["category"], "drain-cleaning");
    let kinds: Vec<&str> = copy["wallet"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"top_up") && kinds.contains(&"purchase"), "{kinds:?}");
    assert!(copy["devices"].as_array().is_some_and(|d| !d.is_empty()));
    let actions: Vec<&str> =
        copy["audit"].as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"signup") && actions.contains(&"login"), "{actions:?}");
    let text = copy.to_string();
    for never in ["Pat Lee", "6125550183", "pro2@example.com", "$argon2", "secret_hash", "password_hash", "csrf"] {
        assert!(!text.contains(never), "the copy holds {never:?}");
    }
    let e = services::privacy::export_pro(ctx, "nobody@example.com").await.err();
    assert!(matches!(e, Some(services::ServiceError::NotFound)), "{e:?}");
    Ok(())
}
