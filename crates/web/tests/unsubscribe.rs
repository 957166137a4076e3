//! The one-click unsubscribe in every new-lead e-mail (RFC 8058): the link's page asks before it
//! acts, a mail client's POST acts at once without a session, a second click changes nothing, and
//! a link that was cut, forged or is too old does nothing but say so.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use testkit::TestApp;
use testkit::market::{Pro, ProSetup};

type R = anyhow::Result<()>;

async fn newest_email(app: &TestApp, pro: &Pro) -> anyhow::Result<store::dev_outbox::StoredEmail> {
    let mut conn = app.pool.acquire().await?;
    store::dev_outbox::recent_emails(&mut conn, Some(&pro.email), 1)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no e-mail to {}", pro.email))
}

async fn offer_email_on(app: &TestApp, pro: &Pro) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar("SELECT offer_email FROM pros WHERE user_id = $1").bind(pro.id).fetch_one(&app.pool).await?)
}

async fn audited(app: &TestApp, pro: &Pro) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM identity.audit_log WHERE action = 'profile_changed' AND subject_id = $1
           AND detail LIKE '%unsubscribe link%'",
    )
    .bind(pro.id)
    .fetch_one(&app.pool)
    .await?)
}

fn one_click(app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    // What a mail client sends (RFC 8058 §3.2): no cookies, no Origin, just this body.
    app.post(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body("List-Unsubscribe=One-Click")
}

#[tokio::test]
async fn one_click_stops_new_lead_emails_and_nothing_else() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    app.verified_lead("6125550301", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let mail = newest_email(&app, &pro).await?;
    assert!(mail.subject.starts_with("New lead:"), "{}", mail.subject);
    let link = mail.list_unsubscribe.clone().ok_or_else(|| anyhow::anyhow!("no List-Unsubscribe"))?;
    assert!(mail.text_body.contains(&link), "the link is in the text too: {}", mail.text_body);
    let path = link.trim_start_matches(&app.url).to_owned();
    assert!(path.starts_with("/unsubscribe/"), "{link}");

    // Opening the link (as a mail scanner would) changes nothing.
    let page = app.get(&path).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await?;
    assert!(page.contains("Stop these e-mails") && page.contains(&pro.email), "{page}");
    assert!(offer_email_on(&app, &pro).await?);

    let res = one_click(&app, &path).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await?.contains("no more e-mails about new leads"));
    assert!(!offer_email_on(&app, &pro).await?);
    assert_eq!(audited(&app, &pro).await?, 1);
    // A second click: the same answer, nothing more recorded; the page says they are off.
    assert_eq!(one_click(&app, &path).send().await?.status(), StatusCode::OK);
    assert_eq!(audited(&app, &pro).await?, 1);
    assert!(app.get(&path).send().await?.text().await?.contains("already off"));

    // The next lead: a text, no e-mail; a receipt still comes.
    let texts = app.texts_to("+16125551000").await?.len();
    app.verified_lead("6125550302", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    assert_eq!(newest_email(&app, &pro).await?.id, mail.id, "no new-lead e-mail after unsubscribing");
    assert_eq!(app.texts_to("+16125551000").await?.len(), texts + 1, "texts go on");
    services::market::wallet::top_up(&app.state, pro.id, 2_500, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    app.run_pending_jobs().await?;
    let receipt = newest_email(&app, &pro).await?;
    assert!(receipt.subject.starts_with("Receipt"), "{}", receipt.subject);
    assert_eq!(receipt.list_unsubscribe, None, "a receipt is not optional");
    app.shutdown().await
}

#[tokio::test]
async fn a_cut_forged_or_outdated_link_changes_nothing() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(0, &ProSetup::default()).await?;
    let link = services::market::unsubscribe::link(&app.state, pro.id, domain::Clock::now(&app.clock));
    let path = link.trim_start_matches(&app.url).to_owned();
    let cut = &path[..path.len() - 6];
    let forged = format!("{}{}", &path[..path.len() - 1], if path.ends_with('A') { 'B' } else { 'A' });
    let huge = format!("/unsubscribe/{}", "A".repeat(20_000));
    for bad in [cut, forged.as_str(), "/unsubscribe/%00%ff", huge.as_str()] {
        let res = one_click(&app, bad).send().await?;
        assert!(res.status().is_client_error(), "{bad:.40}: {}", res.status());
        let res = app.get(bad).send().await?;
        assert!(res.status().is_client_error(), "{bad:.40}: {}", res.status());
    }
    assert!(offer_email_on(&app, &pro).await?);

    // Good for 400 days, pinned on both sides.
    app.clock.advance(time::Duration::days(400) - time::Duration::seconds(1));
    assert_eq!(app.get(&path).send().await?.status(), StatusCode::OK);
    app.clock.advance(time::Duration::seconds(2));
    assert_eq!(one_click(&app, &path).send().await?.status(), StatusCode::NOT_FOUND);
    assert!(offer_email_on(&app, &pro).await?);
    app.shutdown().await
}
