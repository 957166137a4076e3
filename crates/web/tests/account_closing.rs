//! A plumber closing their own account (the terms: "close at any time; money left in your wallet
//! is refunded to your card"): what the page asks, what closing ends, where the money goes, and
//! that a claim racing the closing is either paid before it or refused after it.

use futures::future::join;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use services::ServiceError;
use testkit::market::{Pro, ProSetup};
use testkit::{PRO_PASSWORD, TestApp, csrf_in};
use uuid::Uuid;

type R = anyhow::Result<()>;

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

async fn ledger_sound(app: &TestApp) -> R {
    let check = services::market::wallet::check(&app.state.ctx).await?;
    anyhow::ensure!(check.sound(), "ledger not sound: {check:?}");
    Ok(())
}

async fn balance(app: &TestApp, pro: &Pro) -> anyhow::Result<i64> {
    Ok(store::ledger::balance(&mut *app.pool.acquire().await?, pro.id).await?)
}

/// Each refund as (what its top-up paid, what went back), newest top-up first.
async fn refunds(app: &TestApp, pro: &Pro) -> anyhow::Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT t.amount_cents, r.amount_cents FROM card_refunds r JOIN wallet_top_ups t ON t.id = r.top_up_id
         WHERE r.pro_id = $1 ORDER BY t.completed_at DESC, r.id",
    )
    .bind(pro.id)
    .fetch_all(&app.pool)
    .await?)
}

async fn offer_for(app: &TestApp, pro: &Pro, lead: Uuid) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar("SELECT id FROM offers WHERE pro_id = $1 AND lead_id = $2")
        .bind(pro.id)
        .bind(lead)
        .fetch_one(&app.pool)
        .await?)
}

fn close_form<'a>(csrf: &'a str, password: &'a str, understood: bool) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", csrf), ("password", password)];
    if understood {
        form.push(("understood", "yes"));
    }
    form
}

#[tokio::test]
async fn closing_sends_the_wallet_back_to_the_cards_that_paid_it_and_signs_out_everywhere() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?; // one $500.00 top-up
    app.clock.advance(time::Duration::minutes(1));
    services::market::wallet::top_up(&app.state, pro.id, 2_500, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    app.bought_lead(&pro, "6125550160", "drain-cleaning", "55401").await?; // −$25.00
    let waiting = app.verified_lead("6125550161", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let waiting_offer = offer_for(&app, &pro, waiting).await?;
    let sid = app.browser_login(&pro.email, PRO_PASSWORD).await?;
    let other_device = app.browser_login(&pro.email, PRO_PASSWORD).await?;
    let get = |path: &'static str, sid: String| app.get(path).header(COOKIE, cookie(&sid)).send();

    let account = get("/pro/account", sid.clone()).await?.text().await?;
    assert!(account.contains("href=\"/pro/account/close\""), "the account page leads to it");
    let page = get("/pro/account/close", sid.clone()).await?.text().await?;
    assert!(page.contains("<strong>$500.00</strong>"), "says what goes back to the card: {page}");
    let csrf = csrf_in(&page);
    let post = |form: Vec<(&str, &str)>| app.post("/pro/account/close").header(COOKIE, cookie(&sid)).form(&form).send();

    // Mistakes first: nothing closes, and the tick stays ticked.
    let res = post(close_form(&csrf, PRO_PASSWORD, false)).await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await?.contains("Tick the box"));
    let res = post(close_form(&csrf, "not my password at all", true)).await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await?;
    assert!(body.contains("current password."), "{body}");
    assert!(body.contains("value=\"yes\" checked"), "the tick is kept");
    let res = post(close_form("forged", PRO_PASSWORD, true)).await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a cross-site form closes nothing");
    assert_eq!(balance(&app, &pro).await?, 50_000);
    assert_eq!(get("/pro/account", other_device.clone()).await?.status(), StatusCode::OK, "still open");

    let res = post(close_form(&csrf, PRO_PASSWORD, true)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let removed = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("__Host-pl_session=") && v.contains("Max-Age=0"));
    assert!(removed, "this browser's cookie goes");
    let body = res.text().await?;
    assert!(body.contains("Your account is closed") && body.contains("$500.00"), "{body}");

    // Every session ends: the other device, the app's token; signing in says why it can't.
    assert_ne!(get("/pro/account", other_device).await?.status(), StatusCode::OK);
    let res = app.get("/api/v1/pro/wallet").bearer_auth(&pro.token).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.post("/login").form(&[("email", pro.email.as_str()), ("password", PRO_PASSWORD)]).send().await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await?.contains("This account was closed"));
    let res =
        app.post("/api/v1/auth/login").json(&json!({"email": pro.email, "password": PRO_PASSWORD})).send().await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        app.post("/login").form(&[("email", pro.email.as_str()), ("password", "a wrong guess here")]).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a wrong password is not told the account was closed");

    // The money: the newest top-up first, all of it; the rest from the one before.
    assert_eq!(balance(&app, &pro).await?, 0);
    assert_eq!(refunds(&app, &pro).await?, vec![(2_500, 2_500), (50_000, 47_500)]);
    ledger_sound(&app).await?;
    // An offer still live is not bought with what went back (refused as closed, not for money).
    let late = services::market::claim::claim(&app.state, pro.id, waiting_offer).await;
    assert!(matches!(late, Err(ServiceError::SessionEnded)), "{late:?}");
    // The provider gets each refund once, however often the job runs.
    app.run_pending_jobs().await?;
    app.run_pending_jobs().await?;
    let sent: (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM card_refunds WHERE pro_id = $1",
    )
    .bind(pro.id)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!(sent, (2, 2));
    let at_provider: i64 =
        sqlx::query_scalar("SELECT sum(amount_cents)::bigint FROM sandbox_refunds").fetch_one(&app.pool).await?;
    assert_eq!(at_provider, 50_000);
    // Its live offer went back to the lead at once, not at its expiry.
    let (status, reason): (String, Option<String>) =
        sqlx::query_as("SELECT status::text, decline_reason FROM offers WHERE id = $1")
            .bind(waiting_offer)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!((status.as_str(), reason.as_deref()), ("declined", Some(services::market::decline::CLOSED_ACCOUNT)));
    let (subject, text) = app.latest_email_to(&pro.email).await?;
    assert_eq!(subject, "Your PlumberLeads account is closed");
    assert!(text.contains("$500.00"), "{text}");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM identity.audit_log WHERE action = 'account_closed' AND subject_id = $1",
    )
    .bind(pro.id)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!(audited, 1);

    // No more leads, and no reset link to reopen it by.
    let lead = app.verified_lead("6125550162", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    assert!(offer_for(&app, &pro, lead).await.is_err(), "a closed account is offered nothing");
    let res = app.post("/forgot-password").form(&[("email", pro.email.as_str())]).send().await?;
    assert!(res.status().is_success() || res.status().is_redirection());
    app.run_pending_jobs().await?;
    assert_eq!(app.latest_email_to(&pro.email).await?.0, "Your PlumberLeads account is closed");
    app.shutdown().await
}

#[tokio::test]
async fn a_credit_decided_after_the_closing_goes_on_to_the_card() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    let purchase = app.bought_lead(&pro, "6125550163", "drain-cleaning", "55401").await?;
    let res = app
        .post(&format!("/api/v1/pro/leads/{purchase}/disputes"))
        .bearer_auth(&pro.token)
        .json(&json!({"reason": "other", "note": "Nobody answers at this number"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let dispute: Uuid = res.json::<Value>().await?["id"].as_str().unwrap_or_default().parse()?;
    let refunded = services::accounts::close_account(&app.state, pro.id, PRO_PASSWORD, true, "127.0.0.1").await?;
    assert_eq!(refunded.0, 47_500);
    let (staff, _) = app.create_staff("reviewer@plumberleads.localhost").await?;
    services::market::disputes::decide(
        &app.state,
        staff,
        dispute,
        services::market::disputes::Decision::Credit,
        "",
        "127.0.0.1",
    )
    .await?;
    assert_eq!(balance(&app, &pro).await?, 0, "a closed wallet keeps nothing");
    assert_eq!(refunds(&app, &pro).await?, vec![(50_000, 47_500), (50_000, 2_500)]);
    ledger_sound(&app).await?;
    // Closing twice is not a second refund.
    let again = services::accounts::close_account(&app.state, pro.id, PRO_PASSWORD, true, "127.0.0.1").await;
    assert!(matches!(again, Err(ServiceError::SessionEnded)), "{again:?}");
    app.shutdown().await
}

/// A pro keeps tapping "claim" on one device while closing the account on another. Each claim
/// lands before the closing (paid from the wallet, the rest goes back to the card) or after it
/// (refused): never bought with money already refunded, never a cent lost or made.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_racing_the_closing_are_paid_before_it_or_refused_after_it() -> R {
    let app = TestApp::spawn().await?;
    let mut before_closing = Vec::new();
    for round in 0..4u32 {
        let pro = app.active_pro(round, &ProSetup::default()).await?;
        let mut offers = Vec::new();
        for n in 0..8u32 {
            let phone = format!("6125552{round}{n:02}");
            let lead = app.verified_lead(&phone, "drain-cleaning", "within_48h", "55401").await?;
            app.run_pending_jobs().await?;
            offers.push(offer_for(&app, &pro, lead).await?);
        }
        let claims = async {
            let mut bought = 0;
            for offer in &offers {
                let res = app.post(&format!("/api/v1/pro/offers/{offer}/claim")).bearer_auth(&pro.token).send().await?;
                match res.status() {
                    StatusCode::OK => bought += 1,
                    StatusCode::UNAUTHORIZED => {}
                    other => anyhow::bail!("claim answered {other}: {}", res.text().await?),
                }
            }
            anyhow::Ok(bought)
        };
        let close = services::accounts::close_account(&app.state, pro.id, PRO_PASSWORD, true, "127.0.0.1");
        let (bought, refunded) = join(claims, close).await;
        let (bought, refunded) = (bought?, refunded?.0);
        let paid: i64 =
            sqlx::query_scalar("SELECT coalesce(sum(price_cents), 0)::bigint FROM purchases WHERE pro_id = $1")
                .bind(pro.id)
                .fetch_one(&app.pool)
                .await?;
        assert_eq!(paid, bought * 2_500, "every claim answered OK was paid, and no other");
        assert_eq!(paid + refunded, 50_000, "what was not spent went back");
        assert_eq!(balance(&app, &pro).await?, 0);
        ledger_sound(&app).await?;
        before_closing.push(bought);
    }
    eprintln!("claims paid before the closing, per round (of 8): {before_closing:?}");
    app.shutdown().await
}
