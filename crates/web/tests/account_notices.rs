//! Issue 10, item 14 (ASVS 2.2.3): the owner hears, by e-mail, when their password changes or is
//! reset, and when a device not seen before signs in — and only then.

use reqwest::StatusCode;
use serde_json::json;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const OWNER: &str = "owner@example.com";
const NEW_PASSWORD: &str = "brass fitting lantern 93";

/// Subjects of every e-mail sent to the owner so far, oldest first.
async fn subjects(app: &TestApp) -> anyhow::Result<Vec<String>> {
    app.run_pending_jobs().await?;
    Ok(sqlx::query_scalar("SELECT subject FROM dev_mailbox WHERE to_address = $1 ORDER BY id")
        .bind(OWNER)
        .fetch_all(&app.pool)
        .await?)
}

fn count(all: &[String], subject: &str) -> usize {
    all.iter().filter(|s| s.as_str() == subject).count()
}

const NEW_SIGN_IN: &str = "New sign-in to your PlumberLeads account";

async fn login_from(app: &TestApp, user_agent: &str) -> anyhow::Result<String> {
    let res = app
        .post("/api/v1/auth/login")
        .header("user-agent", user_agent)
        .json(&json!({"email": OWNER, "password": PRO_PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == StatusCode::OK, "login: {}", res.status());
    Ok(res.json::<serde_json::Value>().await?["access_token"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_device_not_seen_before_is_told_to_the_owner_once_and_a_known_one_is_not() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(OWNER, "+16125550160").await?;
    login_from(&app, "PlumberApp/1.0 (iPhone)").await?;
    assert_eq!(count(&subjects(&app).await?, NEW_SIGN_IN), 0, "the very first sign-in is not news");
    login_from(&app, "PlumberApp/1.0 (iPhone)").await?;
    assert_eq!(count(&subjects(&app).await?, NEW_SIGN_IN), 0, "the same device again");
    login_from(&app, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0").await?;
    assert_eq!(count(&subjects(&app).await?, NEW_SIGN_IN), 1, "a device not seen before");
    let (_, body) = app.latest_email_to(OWNER).await?;
    assert!(
        body.contains("Firefox/140.0") && body.contains("127.0.0.1") && body.contains("/forgot-password"),
        "{body}"
    );
    login_from(&app, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0").await?;
    assert_eq!(count(&subjects(&app).await?, NEW_SIGN_IN), 1, "now known");
    Ok(())
}

#[tokio::test]
async fn a_changed_or_reset_password_is_told_to_the_owner() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(OWNER, "+16125550161").await?;
    let access = login_from(&app, "PlumberApp/1.0").await?;
    let wrong = app
        .post("/api/v1/me/password")
        .bearer_auth(&access)
        .json(&json!({"current_password": "not it at all", "password": NEW_PASSWORD}))
        .send()
        .await?;
    assert!(wrong.status().is_client_error());
    assert_eq!(count(&subjects(&app).await?, "Your PlumberLeads password was changed"), 0, "nothing changed");
    let changed = app
        .post("/api/v1/me/password")
        .bearer_auth(&access)
        .json(&json!({"current_password": PRO_PASSWORD, "password": NEW_PASSWORD}))
        .send()
        .await?;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&subjects(&app).await?, "Your PlumberLeads password was changed"), 1);

    let asked = app.post("/api/v1/auth/password-reset").json(&json!({"email": OWNER})).send().await?;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let token = app.emailed_token(OWNER, "/reset-password").await?;
    let reset = app
        .post("/api/v1/auth/password-reset/confirm")
        .json(&json!({"token": token, "password": "copper kettle meadow 41"}))
        .send()
        .await?;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let all = subjects(&app).await?;
    assert_eq!(count(&all, "Your PlumberLeads password was reset"), 1, "{all:?}");
    Ok(())
}
