//! Accounts end to end over HTTP: sign-up, e-mail and phone confirmation, logins and their
//! throttling, tokens and sessions with their limits, password change and reset, one pro
//! reaching for another's data, staff restrictions, and the audit log's hash chain.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, HeaderMap};
use serde_json::{Value, json};
use testkit::{PRO_PASSWORD, TestApp, session_cookie};
use time::Duration;

type R = anyhow::Result<()>;

const EMAIL: &str = "jane@example.com";
const PHONE: &str = "+16125550123";

async fn json_of(res: reqwest::Response) -> anyhow::Result<(StatusCode, HeaderMap, Value)> {
    let status = res.status();
    let headers = res.headers().clone();
    Ok((status, headers, res.json().await.unwrap_or(Value::Null)))
}

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

async fn me(app: &TestApp, access: &str) -> anyhow::Result<(StatusCode, Value)> {
    let (s, _, b) = json_of(app.get("/api/v1/me").bearer_auth(access).send().await?).await?;
    Ok((s, b))
}

fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned()
}

async fn audit_intact(app: &TestApp) -> anyhow::Result<store::audit::Verdict> {
    let mut conn = app.pool.acquire().await?;
    Ok(store::audit::verify(&mut conn, &services::audit::keys(&app.state)).await?)
}

#[tokio::test]
async fn a_pro_signs_up_confirms_email_and_phone_and_is_who_the_api_says() -> R {
    let app = TestApp::spawn().await?;
    let res = app
        .post("/api/v1/auth/signup")
        .json(&json!({"business_name": " Acme  Plumbing ", "owner_name": "Jane Doe", "email": "Jane@Example.com",
                      "phone": "(612) 555-0123", "password": PRO_PASSWORD}))
        .send()
        .await?;
    let (status, headers, body) = json_of(res).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(headers["location"], "/api/v1/me");
    assert_eq!(body["email"], "Jane@example.com");
    assert_eq!(body["role"], "pro");
    assert_eq!(body["business"], json!({"name": "Acme Plumbing", "status": "onboarding"}));
    assert_eq!((body["email_verified"].as_bool(), body["phone_verified"].as_bool()), (Some(false), Some(false)));
    assert!(body.get("password_hash").is_none() && !body.to_string().contains("argon2"));

    // The address in any case logs in.
    let (access, _) = app.api_login("JANE@example.com", PRO_PASSWORD).await?;
    // E-mail link: works once.
    let token = app.emailed_token("Jane@example.com", "/verify-email").await?;
    let verify = |t: String| app.post("/api/v1/auth/email-verification").json(&json!({"token": t})).send();
    assert_eq!(verify(token.clone()).await?.status(), StatusCode::NO_CONTENT);
    let (status, _, problem) = json_of(verify(token.clone()).await?).await?;
    assert_eq!((status, problem["type"].as_str()), (StatusCode::BAD_REQUEST, Some("/problems/link-expired")));
    // The page's second tap, signed out: whose link it was is unknown, so nothing is said of the address.
    let page = app.get(&format!("/verify-email?token={token}")).send().await?;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let text = page.text().await?;
    assert!(text.contains("expired or was already used") && !text.contains("already confirmed"), "{text}");
    // Phone code: wrong, then right.
    let code = app.latest_code(PHONE).await?;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _, problem) = json_of(
        app.post("/api/v1/me/phone/verification").bearer_auth(&access).json(&json!({"code": wrong})).send().await?,
    )
    .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().unwrap_or_default().contains("4 more tries"), "{problem}");
    let res =
        app.post("/api/v1/me/phone/verification").bearer_auth(&access).json(&json!({"code": code})).send().await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, body) = me(&app, &access).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["email_verified"].as_bool(), body["phone_verified"].as_bool()), (Some(true), Some(true)));

    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM identity.audit_log ORDER BY seq").fetch_all(&app.pool).await?;
    assert_eq!(actions, ["signup", "login", "email_verified", "phone_verified"]);
    assert_eq!(audit_intact(&app).await?, store::audit::Verdict::Intact { rows: 4 });
    Ok(())
}

#[tokio::test]
async fn sign_up_refuses_bad_input_with_every_reason_and_taken_addresses() -> R {
    let app = TestApp::spawn().await?;
    let (status, _, p) = json_of(app.post("/api/v1/auth/signup").json(&json!({})).send().await?).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["business_name", "owner_name", "email", "phone", "password"]);

    let weak = json!({"business_name": "Acme", "owner_name": "Jane Doe", "email": EMAIL, "phone": PHONE, "password": "password1234"});
    let (_, _, p) = json_of(app.post("/api/v1/auth/signup").json(&weak).send().await?).await?;
    assert_eq!(p["errors"][0]["field"], "password");
    assert!(p["errors"][0]["message"].as_str().unwrap_or_default().contains("most common passwords"), "{p}");

    app.signup_pro(EMAIL, PHONE).await?;
    let again = json!({"business_name": "Other", "owner_name": "J D", "email": "JANE@EXAMPLE.COM", "phone": PHONE, "password": PRO_PASSWORD});
    let (status, _, p) = json_of(app.post("/api/v1/auth/signup").json(&again).send().await?).await?;
    assert_eq!((status, p["type"].as_str()), (StatusCode::CONFLICT, Some("/problems/email-taken")));

    // Hostile bodies: wrong type, malformed, too large.
    let res = app.post("/api/v1/auth/signup").header("content-type", "text/plain").body("{}").send().await?;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res =
        app.post("/api/v1/auth/signup").header("content-type", "application/json").body("{\"email\":").send().await?;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = app
        .post("/api/v1/auth/signup")
        .header("content-type", "application/json")
        .body(vec![b' '; 1 << 20])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM identity.users").fetch_one(&app.pool).await?;
    assert_eq!(users, 1);
    Ok(())
}

#[tokio::test]
async fn failed_logins_look_the_same_for_unknown_accounts_and_slow_down_exponentially() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    let login = |email: &'static str, pw: &'static str| {
        app.post("/api/v1/auth/login").json(&json!({"email": email, "password": pw})).send()
    };
    let (s1, _, wrong_pw) = json_of(login(EMAIL, "not the password at all").await?).await?;
    let (s2, _, no_user) = json_of(login("nobody@example.com", "not the password at all").await?).await?;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(wrong_pw, no_user, "the same answer whether or not the account exists");

    // 5 free failures per account (1 so far), then 1 s, 2 s, 4 s… between tries.
    for _ in 0..4 {
        assert_eq!(login(EMAIL, "wrong again, sorry").await?.status(), StatusCode::UNAUTHORIZED);
    }
    let (status, headers, _) = json_of(login(EMAIL, PRO_PASSWORD).await?).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert_eq!(headers["retry-after"], "1");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(login(EMAIL, "wrong again, sorry").await?.status(), StatusCode::UNAUTHORIZED);
    let (_, headers, _) = json_of(login(EMAIL, PRO_PASSWORD).await?).await?;
    assert_eq!(headers["retry-after"], "2", "the wait doubled");
    // An unknown address is throttled exactly the same way.
    for _ in 0..4 {
        login("nobody@example.com", "x").await?;
    }
    assert_eq!(login("nobody@example.com", "x").await?.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(Duration::seconds(2));
    assert_eq!(login(EMAIL, PRO_PASSWORD).await?.status(), StatusCode::OK);
    // A success clears the account's slate.
    assert_eq!(login(EMAIL, "wrong once more").await?.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn an_account_takes_at_most_its_hourly_number_of_failures() -> R {
    let app = TestApp::builder()
        .setting("PLUMBERLEADS_LOGIN_FREE_FAILURES", "1000")
        .setting("PLUMBERLEADS_LOGIN_IP_FREE_FAILURES", "1000")
        .setting("PLUMBERLEADS_LOGIN_MAX_FAILURES_PER_HOUR", "10")
        .spawn()
        .await?;
    app.signup_pro(EMAIL, PHONE).await?;
    for _ in 0..10 {
        let res = app.post("/api/v1/auth/login").json(&json!({"email": EMAIL, "password": "wrong"})).send().await?;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        app.clock.advance(Duration::minutes(1));
    }
    let res = app.post("/api/v1/auth/login").json(&json!({"email": EMAIL, "password": PRO_PASSWORD})).send().await?;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "3000", "until the oldest failure is an hour old");
    app.clock.advance(Duration::minutes(50));
    app.api_login(EMAIL, PRO_PASSWORD).await?;
    Ok(())
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_whole_session() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    let (access, refresh) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    let res = app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": refresh})).send().await?;
    let (status, _, pair) = json_of(res).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((pair["token_type"].as_str(), pair["expires_in"].as_u64()), (Some("Bearer"), Some(900)));
    let (access2, refresh2) =
        (pair["access_token"].as_str().unwrap_or_default(), pair["refresh_token"].as_str().unwrap_or_default());
    assert_ne!(refresh2, refresh);
    assert_eq!(me(&app, access2).await?.0, StatusCode::OK);
    // The spent token again: someone has a copy. The family ends, the thief's and the owner's.
    let res = app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": refresh})).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": refresh2})).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, access2).await?.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &access).await?.0, StatusCode::UNAUTHORIZED);
    for junk in ["", "nonsense", &"x".repeat(5000)] {
        let res = app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": junk})).send().await?;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    Ok(())
}

#[tokio::test]
async fn sessions_end_after_30_idle_minutes_or_12_hours_and_at_logout() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    // Idle: each limit pinned on both sides. A second under 30 quiet minutes is fine, and use
    // resets the count; a second over ends it.
    let refresh_with = |token: String| app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": token})).send();
    let (_, refresh) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    app.clock.advance(Duration::minutes(30) - Duration::seconds(1));
    let (status, _, pair) = json_of(refresh_with(refresh).await?).await?;
    assert_eq!(status, StatusCode::OK, "29:59 idle: {pair}");
    app.clock.advance(Duration::minutes(30) - Duration::seconds(1));
    let (status, _, pair) =
        json_of(refresh_with(pair["refresh_token"].as_str().unwrap_or_default().into()).await?).await?;
    assert_eq!(status, StatusCode::OK, "29:59 after the last use, an hour after login: {pair}");
    app.clock.advance(Duration::minutes(30) + Duration::seconds(1));
    let res = refresh_with(pair["refresh_token"].as_str().unwrap_or_default().into()).await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "30:01 idle");

    // Absolute: kept busy, it still works a second before 12 hours after login and not a second after.
    let (_, mut refresh) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    let mut access = String::new();
    for step in 0..(12 * 60 / 20) {
        app.clock.advance(if step == 12 * 60 / 20 - 1 {
            Duration::minutes(20) - Duration::seconds(1)
        } else {
            Duration::minutes(20)
        });
        let (status, _, pair) = json_of(refresh_with(refresh).await?).await?;
        assert_eq!(status, StatusCode::OK, "step {step}: {pair}");
        refresh = pair["refresh_token"].as_str().unwrap_or_default().to_owned();
        access = pair["access_token"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(me(&app, &access).await?.0, StatusCode::OK, "11:59:59 after login");
    app.clock.advance(Duration::seconds(2));
    assert_eq!(refresh_with(refresh).await?.status(), StatusCode::UNAUTHORIZED, "12:00:01 after login");
    assert_eq!(me(&app, &access).await?.0, StatusCode::UNAUTHORIZED, "its access token ends with it");

    // Logout ends the access token at once, well before it expires.
    let (access, _) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    assert_eq!(app.post("/api/v1/auth/logout").bearer_auth(&access).send().await?.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &access).await?.0, StatusCode::UNAUTHORIZED);
    // An access token expires by itself after 15 minutes: 14:59 still opens, 15:01 does not.
    let (access, _) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    assert_eq!(me(&app, &access).await?.0, StatusCode::OK, "14:59");
    app.clock.advance(Duration::seconds(2));
    let res = app.get("/api/v1/me").bearer_auth(&access).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    Ok(())
}

#[tokio::test]
async fn one_pro_cannot_see_or_end_another_pros_sessions() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    app.signup_pro("bob@example.com", "+16125550124").await?;
    let (jane, _) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    let (bob, _) = app.api_login("bob@example.com", PRO_PASSWORD).await?;
    let (_, _, list) = json_of(app.get("/api/v1/me/sessions").bearer_auth(&jane).send().await?).await?;
    let janes: Vec<String> =
        list["data"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_str().map(str::to_owned)).collect();
    assert_eq!(janes.len(), 1);
    assert_eq!(list["data"][0]["current"], true);
    let res = app
        .request(reqwest::Method::DELETE, &format!("/api/v1/me/sessions/{}", janes[0]))
        .bearer_auth(&bob)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(me(&app, &jane).await?.0, StatusCode::OK);
    let (_, _, bobs) = json_of(app.get("/api/v1/me/sessions").bearer_auth(&bob).send().await?).await?;
    assert!(!bobs.to_string().contains(&janes[0]));
    // Without a token, or with a forged one: 401.
    assert_eq!(app.get("/api/v1/me/sessions").send().await?.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").await?.0, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_reset_links_work_once_without_telling_who_exists() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    let (a, _) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    let (b, _) = app.api_login(EMAIL, PRO_PASSWORD).await?;
    let change = |cur: &'static str, new: &'static str| {
        app.post("/api/v1/me/password").bearer_auth(&a).json(&json!({"current_password": cur, "password": new})).send()
    };
    let (status, _, p) = json_of(change("wrong current", "saxophone lantern quarry 9").await?).await?;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"))
    );
    assert_eq!(change(PRO_PASSWORD, "saxophone lantern quarry 9").await?.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &a).await?.0, StatusCode::OK, "this session stays");
    assert_eq!(me(&app, &b).await?.0, StatusCode::UNAUTHORIZED, "the others end");

    // Reset: the same 202 for an unknown address, and no e-mail to it.
    let ask = |email: &'static str| app.post("/api/v1/auth/password-reset").json(&json!({"email": email})).send();
    assert_eq!(ask("nobody@example.com").await?.status(), StatusCode::ACCEPTED);
    assert_eq!(ask(EMAIL).await?.status(), StatusCode::ACCEPTED);
    assert!(app.latest_email_to("nobody@example.com").await.is_err());
    let token = app.emailed_token(EMAIL, "/reset-password").await?;
    let confirm = |pw: &'static str| {
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": pw})).send()
    };
    assert_eq!(confirm("short").await?.status(), StatusCode::UNPROCESSABLE_ENTITY, "a refused password keeps the link");
    assert_eq!(confirm("marble cactus harbour 77").await?.status(), StatusCode::NO_CONTENT);
    assert_eq!(confirm("another quite good one 88").await?.status(), StatusCode::BAD_REQUEST, "used once");
    assert_eq!(me(&app, &a).await?.0, StatusCode::UNAUTHORIZED, "a reset ends every session");
    app.api_login(EMAIL, "marble cactus harbour 77").await?;
    // Expired links do not work.
    ask(EMAIL).await?;
    let token = app.emailed_token(EMAIL, "/reset-password").await?;
    app.clock.advance(Duration::hours(1));
    let res = app
        .post("/api/v1/auth/password-reset/confirm")
        .json(&json!({"token": token, "password": "marble cactus harbour 99"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(audit_intact(&app).await?, store::audit::Verdict::Intact { .. }));
    Ok(())
}

#[tokio::test]
async fn browser_sessions_use_a_host_cookie_a_fresh_id_at_login_and_csrf_tokens() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    // Not logged in: to the login page, and back after.
    let res = app.get("/pro/account").send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=/pro/account");

    // A planted cookie (session fixation) is ignored and replaced.
    let planted = "A".repeat(43);
    let res = app
        .post("/login")
        .header(COOKIE, cookie(&planted))
        .form(&[("email", EMAIL), ("password", PRO_PASSWORD), ("next", "https://evil.example/")])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/pro", "never off-site");
    let set = res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("\n");
    for attr in ["__Host-pl_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let sid = session_cookie(&res).unwrap_or_default();
    assert_ne!(sid, planted);
    assert_eq!(sid.len(), 43);

    let page = app.get("/pro").header(COOKIE, cookie(&sid)).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await?;
    assert!(html.contains("Acme Plumbing") && html.contains("Confirm your e-mail"));
    let csrf = csrf_in(&html);
    assert_eq!(csrf.len(), 43);

    // Another site's form, or a missing or wrong token: refused, nothing ended.
    let res = app
        .post("/logout")
        .header(COOKIE, cookie(&sid))
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post("/logout")
        .header(COOKIE, cookie(&sid))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.post("/logout").header(COOKIE, cookie(&sid)).form(&[("csrf", "wrong")]).send().await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post("/pro/password")
        .header(COOKIE, cookie(&sid))
        .form(&[("current_password", PRO_PASSWORD), ("password", "x y z w v u t s r q")])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token at all");
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::OK);

    // Idle for 31 minutes: logged out.
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::SEE_OTHER);

    // Logout with the token ends the session server-side, whatever the browser keeps.
    let sid = app.browser_login(EMAIL, PRO_PASSWORD).await?;
    let csrf = csrf_in(&app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.text().await?);
    let res = app
        .post("/logout")
        .header(COOKIE, cookie(&sid))
        .header("origin", app.url.as_str())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(session_cookie(&res).as_deref(), Some(""), "the cookie is removed");
    assert_eq!(app.get("/pro").header(COOKIE, cookie(&sid)).send().await?.status(), StatusCode::SEE_OTHER);
    Ok(())
}

#[tokio::test]
async fn login_never_redirects_off_site_through_characters_browsers_drop() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    // Browsers drop the tab and read `/\t/evil.example/x` as `//evil.example/x`: another host.
    for next in ["/\t/evil.example/x", "/\n/evil.example", "/\\evil.example", "//evil.example"] {
        let res =
            app.post("/login").form(&[("email", EMAIL), ("password", PRO_PASSWORD), ("next", next)]).send().await?;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/pro", "{next:?}");
    }
    // Signed in, the login page sends the visitor straight on: still only within this site.
    let sid = app.browser_login(EMAIL, PRO_PASSWORD).await?;
    for (query, to) in [
        ("next=/%09/evil.example/x", "/pro"),
        ("next=%2F%0A%2Fevil.example", "/pro"),
        ("next=/pro/account", "/pro/account"),
    ] {
        let res = app.get(&format!("/login?{query}")).header(COOKIE, cookie(&sid)).send().await?;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{query}");
        assert_eq!(res.headers()["location"], to, "{query}");
    }
    Ok(())
}

#[tokio::test]
async fn the_login_form_keeps_the_address_escaped_and_says_what_to_do() -> R {
    let app = TestApp::spawn().await?;
    let res =
        app.post("/login").form(&[("email", "<script>alert(1)</script>@x.com"), ("password", "nope")]).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await?;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;@x.com") || html.contains("&lt;script&gt;"),
        "escaped"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("match an account"));
    Ok(())
}

#[tokio::test]
async fn staff_cannot_sign_in_without_a_second_factor_or_from_outside_the_allow_list() -> R {
    for (allow, expected) in [("127.0.0.0/8", "/problems/second-factor-required"), ("10.0.0.0/8", "about:blank")] {
        let app = TestApp::builder().setting("PLUMBERLEADS_STAFF_ALLOW", allow).spawn().await?;
        let id = app.signup_pro("ops@plumberleads.example", PHONE).await?;
        sqlx::query("UPDATE identity.users SET role = 'staff' WHERE id = $1").bind(id).execute(&app.pool).await?;
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "ops@plumberleads.example", "password": PRO_PASSWORD}))
            .send()
            .await?;
        let (status, _, p) = json_of(res).await?;
        assert_eq!((status, p["type"].as_str()), (StatusCode::FORBIDDEN, Some(expected)), "{allow}: {p}");
        let open: i64 =
            sqlx::query_scalar("SELECT count(*) FROM identity.sessions WHERE user_id = $1 AND kind = 'api'")
                .bind(id)
                .fetch_one(&app.pool)
                .await?;
        assert_eq!(open, 0, "no staff session without both");
    }
    Ok(())
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_a_changed_or_removed_row_breaks_its_chain() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro(EMAIL, PHONE).await?;
    for _ in 0..3 {
        app.api_login(EMAIL, PRO_PASSWORD).await?;
    }
    assert_eq!(audit_intact(&app).await?, store::audit::Verdict::Intact { rows: 4 });
    let update = sqlx::query("UPDATE identity.audit_log SET action = 'nothing' WHERE seq = 2").execute(&app.pool).await;
    assert!(update.is_err(), "the table refuses updates");
    // Someone with the schema owner's rights (never the app's) goes around the trigger.
    let owner = app.owner_pool().await?;
    sqlx::query("ALTER TABLE identity.audit_log DISABLE TRIGGER audit_log_append_only").execute(&owner).await?;
    sqlx::query("UPDATE identity.audit_log SET ip = '203.0.113.9' WHERE seq = 3").execute(&owner).await?;
    assert!(matches!(audit_intact(&app).await?, store::audit::Verdict::Broken { seq: 3, .. }));
    sqlx::query("DELETE FROM identity.audit_log WHERE seq = 3").execute(&owner).await?;
    assert!(matches!(audit_intact(&app).await?, store::audit::Verdict::Broken { seq: 3, .. }));
    Ok(())
}
