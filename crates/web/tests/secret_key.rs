//! Issue 10, item 1: no secret key is built into the binary. Unset (development), each database
//! gets a random key of its own, kept across restarts and shared by every node on it; after a
//! rotation the previous key still checks what it signed.

use reqwest::StatusCode;
use secrecy::SecretString;
use services::infra::signing::{SecretKeys, Signer};
use testkit::TestApp;
use time::Duration;

type R = anyhow::Result<()>;

fn lead() -> serde_json::Value {
    serde_json::json!({
        "name": "Pat Lee", "phone": "+16125550150", "zip": "55401", "category": "sump-pump",
        "urgency": "flexible", "description": "The sump pump hums but does not pump", "consent": true
    })
}

/// A homeowner's status link for `lead`, signed with `key`.
fn status_link(key: &str, lead: &str, app: &TestApp) -> String {
    let signer = Signer::new(SecretKeys::new(SecretString::from(key.to_owned())));
    let now = domain::Clock::now(&app.clock);
    format!("/r/{}", signer.sign("status", lead, now + Duration::days(1)))
}

#[tokio::test]
async fn a_link_signed_with_the_old_built_in_key_opens_nothing() -> R {
    let app = TestApp::spawn().await?;
    let res = app.post("/api/v1/leads").json(&lead()).send().await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<serde_json::Value>().await?["id"].as_str().unwrap_or_default().to_owned();
    // The key every install used to share when none was set (it was in the source).
    let forged = status_link("plumberleads-development-key-not-for-production-use", &id, &app);
    let page = app.get(&forged).send().await?.text().await?;
    assert!(!page.contains("sump pump hums"), "the lead's description is not shown");
    // The same link signed with the key this database generated opens it: the check is real.
    let kept: String =
        sqlx::query_scalar("SELECT value FROM app_secrets WHERE name = 'secret_key'").fetch_one(&app.pool).await?;
    assert_eq!(kept.len(), 64, "32 random bytes, hex");
    let real = status_link(&kept, &id, &app);
    assert!(app.get(&real).send().await?.text().await?.contains("sump pump hums"));
    Ok(())
}

#[tokio::test]
async fn nodes_on_one_database_share_its_generated_key_and_other_databases_do_not() -> R {
    let first = TestApp::spawn().await?;
    let database = first.settings.database.url.clone();
    let url = secrecy::ExposeSecret::expose_secret(&database).to_owned();
    let second = TestApp::builder().setting("DATABASE_URL", &url).spawn().await?;
    let other = TestApp::spawn().await?;
    let now = domain::Clock::now(&first.clock);
    let token = first.state.signer.sign("status", "lead-1", now + Duration::days(1));
    assert_eq!(second.state.signer.verify("status", &token, now).as_deref(), Some("lead-1"), "same database");
    assert_eq!(other.state.signer.verify("status", &token, now), None, "another database, another key");
    Ok(())
}

#[tokio::test]
async fn after_a_rotation_links_and_access_tokens_made_with_the_previous_key_still_work() -> R {
    let (old, new) = ("o".repeat(40), "n".repeat(40));
    // One deployment: the access token's issuer is the public URL, the same on every node.
    const PUBLIC: &str = "http://plumberleads.test";
    let before = TestApp::builder()
        .setting("PLUMBERLEADS_PUBLIC_URL", PUBLIC)
        .setting("PLUMBERLEADS_SECRET_KEY", &old)
        .spawn()
        .await?;
    before.signup_pro("rota@example.com", "+16125550151").await?;
    let (access, _) = before.api_login("rota@example.com", testkit::PRO_PASSWORD).await?;
    let url = secrecy::ExposeSecret::expose_secret(&before.settings.database.url).to_owned();
    let rotated = TestApp::builder()
        .setting("DATABASE_URL", &url)
        .setting("PLUMBERLEADS_PUBLIC_URL", PUBLIC)
        .setting("PLUMBERLEADS_SECRET_KEY", &new)
        .setting("PLUMBERLEADS_SECRET_KEY_PREVIOUS", &old)
        .spawn()
        .await?;
    assert_eq!(rotated.get("/api/v1/me").bearer_auth(&access).send().await?.status(), StatusCode::OK);
    let unrotated = TestApp::builder()
        .setting("DATABASE_URL", &url)
        .setting("PLUMBERLEADS_PUBLIC_URL", PUBLIC)
        .setting("PLUMBERLEADS_SECRET_KEY", &new)
        .spawn()
        .await?;
    assert_eq!(unrotated.get("/api/v1/me").bearer_auth(&access).send().await?.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}
