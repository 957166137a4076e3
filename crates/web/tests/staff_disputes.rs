//! Staff decide the disputes our own data could not: credit (the price goes back to the wallet) or
//! deny (with a reason the pro reads). Audited, told to the pro, never decided twice.

use futures::future::join_all;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use services::market::disputes::{self, Decision};
use services::{Conflict, ServiceError};
use testkit::market::{Pro, ProSetup};
use testkit::{TestApp, csrf_in};
use uuid::Uuid;

type R = anyhow::Result<()>;

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

async fn balance(app: &TestApp, pro: &Pro) -> anyhow::Result<i64> {
    let body: Value = app.get("/api/v1/pro/wallet").bearer_auth(&pro.token).send().await?.json().await?;
    Ok(body["balance_cents"].as_i64().unwrap_or(-1))
}

/// A bought lead disputed with a reason our data cannot prove: open, waiting for staff.
async fn open_dispute(app: &TestApp, pro: &Pro, phone: &str) -> anyhow::Result<Uuid> {
    let purchase = app.bought_lead(pro, phone, "drain-cleaning", "55401").await?;
    let body = json!({"reason": "wrong_number", "note": "Nobody by that name <b>here</b>"});
    let res =
        app.post(&format!("/api/v1/pro/leads/{purchase}/disputes")).bearer_auth(&pro.token).json(&body).send().await?;
    let dispute: Value = res.json().await?;
    anyhow::ensure!(dispute["status"] == "open", "{dispute}");
    Ok(dispute["id"].as_str().unwrap_or_default().parse()?)
}

async fn lead_dispute(app: &TestApp, pro: &Pro) -> anyhow::Result<Value> {
    let leads: Value = app.get("/api/v1/pro/leads").bearer_auth(&pro.token).send().await?.json().await?;
    Ok(leads["items"][0].clone())
}

#[tokio::test]
async fn staff_credit_or_deny_open_disputes_in_the_back_office() -> R {
    let app = TestApp::spawn().await?;
    let a = app.active_pro(0, &ProSetup::default()).await?;
    let b = app.active_pro(1, &ProSetup { zip: "60601", ..ProSetup::default() }).await?;
    let first = open_dispute(&app, &a, "6125550170").await?;
    let second = {
        let purchase = app.bought_lead(&b, "3125550171", "drain-cleaning", "60601").await?;
        let res = app
            .post(&format!("/api/v1/pro/leads/{purchase}/disputes"))
            .bearer_auth(&b.token)
            .json(&json!({"reason": "not_a_real_request"}))
            .send()
            .await?;
        res.json::<Value>().await?["id"].as_str().unwrap_or_default().parse::<Uuid>()?
    };
    assert_eq!(balance(&app, &a).await?, 47_500);

    // A pro cannot reach the page or decide.
    let pro_sid = app.browser_login(&a.email, testkit::PRO_PASSWORD).await?;
    let res = app.get("/staff/disputes").header(COOKIE, cookie(&pro_sid)).send().await?;
    assert_ne!(res.status(), StatusCode::OK);

    let sid = app.staff_session("ops@plumberleads.example").await?;
    let page = app.get("/staff/disputes").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("Pro 0 Plumbing") && page.contains("Pro 1 Plumbing"), "both open disputes listed");
    assert!(page.contains("wrong_number") && page.contains("Nobody by that name &#60;b&#62;here"), "escaped: {page}");
    assert!(page.contains("no earlier request from this phone"));
    let csrf = csrf_in(&page);
    let decide = |id: Uuid, fields: Vec<(&'static str, &'static str)>| {
        let (app, sid, csrf) = (&app, sid.clone(), csrf.clone());
        async move {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields);
            let res =
                app.post(&format!("/staff/disputes/{id}")).header(COOKIE, cookie(&sid)).form(&form).send().await?;
            let status = res.status();
            let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            anyhow::Ok((status, if status == StatusCode::SEE_OTHER { location } else { res.text().await? }))
        }
    };

    // Denying needs a reason: refused, the typed text kept, nothing decided.
    let (status, body) = decide(second, vec![("decision", "deny"), ("note", "   ")]).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Say why"), "{body}");
    let (status, body) = decide(second, vec![("decision", "maybe"), ("note", "kept words")]).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains(">kept words</textarea>"), "what was typed is kept");
    assert_eq!(lead_dispute(&app, &b).await?["dispute"]["status"], "open");

    // Credit: the price goes back, the pro's feed and inbox hear of it, and it is audited.
    assert_eq!(
        decide(first, vec![("decision", "credit")]).await?,
        (StatusCode::SEE_OTHER, "/staff/disputes?done=credited".into())
    );
    assert_eq!(balance(&app, &a).await?, 50_000);
    let item = lead_dispute(&app, &a).await?;
    assert_eq!((item["status"].clone(), item["dispute"]["status"].clone()), (json!("credited"), json!("credited")));
    assert_eq!(item["dispute"]["credit_cents"], 2500);
    // A second tap changes nothing.
    assert_eq!(
        decide(first, vec![("decision", "credit")]).await?,
        (StatusCode::SEE_OTHER, "/staff/disputes?done=already".into())
    );
    assert_eq!(balance(&app, &a).await?, 50_000);

    // Deny, with a reason the pro reads.
    let (status, _) =
        decide(second, vec![("decision", "deny"), ("note", "The homeowner confirmed the job by phone.")]).await?;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let item = lead_dispute(&app, &b).await?;
    assert_eq!((item["status"].clone(), item["dispute"]["status"].clone()), (json!("denied"), json!("denied")));
    assert_eq!(balance(&app, &b).await?, 47_500);
    let mails: Vec<String> = sqlx::query_scalar(
        "SELECT payload->>'text_body' FROM jobs WHERE kind = 'send_email' AND payload->>'to' IN ($1, $2) \
         AND payload->>'subject' = 'Your dispute is decided' ORDER BY id",
    )
    .bind(&a.email)
    .bind(&b.email)
    .fetch_all(&app.pool)
    .await?;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[0].contains("$25.00 is back in your wallet") && mails[1].contains("confirmed the job by phone"));
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM identity.audit_log WHERE action IN ('dispute_credited', 'dispute_denied') ORDER BY seq",
    )
    .fetch_all(&app.pool)
    .await?;
    assert_eq!(audited, ["dispute_credited", "dispute_denied"]);
    let page = app.get("/staff/disputes").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("No disputes are waiting"));
    let (status, _) = decide(Uuid::now_v7(), vec![("decision", "credit")]).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(disputes_check(&app).await?);
    app.shutdown().await
}

async fn disputes_check(app: &TestApp) -> anyhow::Result<bool> {
    let check = services::market::wallet::check(&app.state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(check.sound())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_decisions_at_once_credit_once() -> R {
    let app = TestApp::spawn().await?;
    let a = app.active_pro(0, &ProSetup::default()).await?;
    let id = open_dispute(&app, &a, "6125550172").await?;
    let staff = app.create_staff("ops@plumberleads.example").await?.0;
    let tries = (0..8).map(|_| {
        let state = app.state.clone();
        tokio::spawn(async move { disputes::decide(&state, staff, id, Decision::Credit, "", "127.0.0.1").await })
    });
    let answers: Vec<Result<(), ServiceError>> =
        join_all(tries).await.into_iter().map(|r| r.unwrap_or_else(|e| Err(anyhow::anyhow!(e).into()))).collect();
    let won = answers.iter().filter(|a| a.is_ok()).count();
    let already = answers.iter().filter(|a| matches!(a, Err(ServiceError::Conflict(Conflict::AlreadyDecided)))).count();
    assert_eq!((won, already), (1, 7), "{answers:?}");
    assert_eq!(balance(&app, &a).await?, 50_000, "credited once");
    assert!(disputes_check(&app).await?);
    app.shutdown().await
}
