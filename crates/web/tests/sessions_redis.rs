//! With Redis configured, sessions are read from Redis; PostgreSQL stays the record. Changes
//! through the platform (logout, password, verification) show at once.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const REDIS: &str = "redis://127.0.0.1:6379";

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned()
}

async fn redis_keys(app: &TestApp, pattern: &str) -> anyhow::Result<Vec<String>> {
    let client = redis::Client::open(REDIS)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    Ok(redis::cmd("KEYS").arg(format!("{}:{pattern}", app.db.name)).query_async(&mut conn).await?)
}

#[tokio::test]
async fn sessions_are_served_from_redis_and_every_change_shows_at_once() -> R {
    let app = TestApp::builder().setting("REDIS_URL", REDIS).spawn().await?;
    app.signup_pro("jane@example.com", "+16125550123").await?;
    let sid = app.browser_login("jane@example.com", PRO_PASSWORD).await?;
    let other = app.browser_login("jane@example.com", PRO_PASSWORD).await?;
    let page = app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("Hello Jane Doe"));
    app.get("/pro").header(COOKIE, cookie(&other)).send().await?;
    let cached = redis_keys(&app, "session:*").await?;
    assert_eq!(cached.len(), 2, "{cached:?}");
    let values: Vec<String> = {
        let client = redis::Client::open(REDIS)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("MGET").arg(&cached).query_async(&mut conn).await?
    };
    assert!(values.iter().all(|v| v.contains("\"password_hash\":\"\"")), "no password hash in Redis");

    // An edit behind the platform's back is not seen while the copy is current: reads come from Redis.
    sqlx::query("UPDATE identity.users SET name = 'Edited Directly' WHERE email = 'jane@example.com'")
        .execute(&app.pool)
        .await?;
    let page = app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("Hello Jane Doe"), "served from the Redis copy");
    // A change through the platform shows at once.
    let code = app.latest_code("+16125550123").await?;
    let csrf = csrf_in(&page);
    let res = app
        .post("/pro/phone")
        .header(COOKIE, cookie(&sid))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(page.contains("Hello Edited Directly"), "the confirmation made the copy stale");

    // Password change: the other (cached) session ends at once.
    let csrf = csrf_in(&page);
    let res = app
        .post("/pro/password")
        .header(COOKIE, cookie(&sid))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PRO_PASSWORD),
            ("password", "saxophone lantern quarry 9"),
        ])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&other)).send().await?.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::OK);

    // Logout: at once.
    let res = app.post("/logout").header(COOKIE, cookie(&sid)).form(&[("csrf", csrf.as_str())]).send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::SEE_OTHER);

    // API tokens too.
    let (access, _) = app.api_login("jane@example.com", "saxophone lantern quarry 9").await?;
    assert_eq!(app.get("/api/v1/me").bearer_auth(&access).send().await?.status(), StatusCode::OK);
    assert_eq!(app.get("/api/v1/me").bearer_auth(&access).send().await?.status(), StatusCode::OK);
    assert_eq!(app.post("/api/v1/auth/logout").bearer_auth(&access).send().await?.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me").bearer_auth(&access).send().await?.status(), StatusCode::UNAUTHORIZED);
    // The idle limit holds on the Redis path as well.
    let (access, _) = app.api_login("jane@example.com", "saxophone lantern quarry 9").await?;
    app.get("/api/v1/me").bearer_auth(&access).send().await?;
    app.clock.advance(time::Duration::minutes(31));
    assert_eq!(app.get("/api/v1/me").bearer_auth(&access).send().await?.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn with_redis_away_limits_and_sessions_fall_back_to_postgresql() -> R {
    // Nothing listens on port 1.
    let app = TestApp::builder()
        .setting("REDIS_URL", "redis://127.0.0.1:1")
        .setting("PLUMBERLEADS_RATE_LEADS_PER_IP", "2/1h")
        .spawn()
        .await?;
    let signup = |email: &'static str, phone: &'static str| {
        app.post("/api/v1/auth/signup")
            .json(&serde_json::json!({"business_name": "Acme", "owner_name": "Jane Doe", "email": email, "phone": phone, "password": PRO_PASSWORD}))
            .send()
    };
    assert_eq!(signup("jane@example.com", "+16125550123").await?.status(), StatusCode::CREATED);
    assert_eq!(signup("bob@example.com", "+16125550124").await?.status(), StatusCode::CREATED);
    let res = signup("eve@example.com", "+16125550125").await?;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the per-address limit still holds, counted in PostgreSQL");
    let sid = app.browser_login("jane@example.com", PRO_PASSWORD).await?;
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::OK);
    let csrf = csrf_in(&app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.text().await?);
    app.post("/logout").header(COOKIE, cookie(&sid)).form(&[("csrf", csrf.as_str())]).send().await?;
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::SEE_OTHER);
    Ok(())
}
