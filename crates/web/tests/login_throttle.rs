//! The sign-in throttle against the ways around it: many guesses at once, another spelling of
//! the address, staff sign-in from outside the allow-list, and the current-password check.

use reqwest::StatusCode;
use serde_json::json;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const PHONE: &str = "+16125550123";

async fn login_status(app: &TestApp, email: &str, password: &str) -> anyhow::Result<StatusCode> {
    Ok(app.post("/api/v1/auth/login").json(&json!({"email": email, "password": password})).send().await?.status())
}

// Many threads, so the guesses really overlap (each waits on Argon2 in the blocking pool).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_wrong_passwords_at_once_get_only_the_free_tries() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro("jane@example.com", PHONE).await?;
    let guesses = (0..30).map(|i| {
        let app = &app;
        async move { login_status(app, "jane@example.com", &format!("guess number {i}")).await }
    });
    let answers = futures::future::try_join_all(guesses).await?;
    let checked = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let waited = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, waited), (5, 25), "5 free failures, each counted before it is checked: {answers:?}");
    Ok(())
}

#[tokio::test]
async fn another_spelling_of_the_address_shares_the_accounts_throttle() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro("iris.bird@example.com", PHONE).await?;
    for _ in 0..5 {
        assert_eq!(login_status(&app, "iris.bird@example.com", "wrong").await?, StatusCode::UNAUTHORIZED);
    }
    // PostgreSQL's lower() finds the account for `İris…`; Rust's lowercase of it is another string.
    for spelling in ["İris.bird@example.com", "IRIS.BIRD@example.com", " iris.bird@EXAMPLE.com "] {
        assert_eq!(login_status(&app, spelling, PRO_PASSWORD).await?, StatusCode::TOO_MANY_REQUESTS, "{spelling}");
    }
    Ok(())
}

#[tokio::test]
async fn staff_outside_the_allow_list_are_refused_before_the_password_and_each_try_counts() -> R {
    let app = TestApp::builder().setting("PLUMBERLEADS_STAFF_ALLOW", "10.0.0.0/8").spawn().await?;
    let id = app.signup_pro("ops@plumberleads.example", PHONE).await?;
    sqlx::query("UPDATE identity.users SET role = 'staff' WHERE id = $1").bind(id).execute(&app.pool).await?;
    let app = &app;
    let answer = |password: &'static str| async move {
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "ops@plumberleads.example", "password": password}))
            .send()
            .await?;
        anyhow::Ok((res.status(), res.text().await?))
    };
    let right = answer(PRO_PASSWORD).await?;
    let wrong = answer("not it").await?;
    assert_eq!(right.0, StatusCode::FORBIDDEN);
    assert_eq!(right, wrong, "a right password is not told from a wrong one");
    for _ in 0..3 {
        assert_eq!(answer("not it").await?.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(answer(PRO_PASSWORD).await?.0, StatusCode::TOO_MANY_REQUESTS, "the sixth try waits");
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM identity.audit_log WHERE action = 'login_refused_ip' AND actor_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!(refused, 5);
    Ok(())
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_and_audited() -> R {
    let app = TestApp::spawn().await?;
    let id = app.signup_pro("jane@example.com", PHONE).await?;
    let (access, _) = app.api_login("jane@example.com", PRO_PASSWORD).await?;
    let change = |current: &'static str| {
        let body = json!({"current_password": current, "password": "saxophone lantern quarry 9"});
        app.post("/api/v1/me/password").bearer_auth(&access).json(&body).send()
    };
    for _ in 0..4 {
        assert_eq!(change("wrong current").await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The right current password with a new one that is too weak: refused, but the slate is clean.
    let weak = json!({"current_password": PRO_PASSWORD, "password": "password"});
    let res = app.post("/api/v1/me/password").bearer_auth(&access).json(&weak).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json::<serde_json::Value>().await?["errors"][0]["field"], "password");
    for _ in 0..5 {
        assert_eq!(change("wrong current").await?.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(change(PRO_PASSWORD).await?.status(), StatusCode::TOO_MANY_REQUESTS, "even the right one waits");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM identity.audit_log WHERE action = 'reauth_failed' AND actor_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!(audited, 9);
    Ok(())
}

/// Found by the API fuzzer: a NUL in the typed address reached PostgreSQL (which cannot compare
/// it) and was answered 500. An address with a control character is no account's: a wrong login,
/// counted like any other; a reset request for it is the usual 202.
#[tokio::test]
async fn a_nul_or_control_character_in_the_address_is_a_wrong_login_not_a_500() -> R {
    let app = TestApp::spawn().await?;
    app.signup_pro("nul@example.com", PHONE).await?;
    for address in ["nul\u{0}@example.com", "nul@example.com\u{0}", "\u{7}nul@example.com"] {
        assert_eq!(login_status(&app, address, PRO_PASSWORD).await?, StatusCode::UNAUTHORIZED, "{address:?}");
        let reset = app.post("/api/v1/auth/password-reset").json(&json!({"email": address})).send().await?;
        assert_eq!(reset.status(), StatusCode::ACCEPTED, "{address:?}");
    }
    assert_eq!(login_status(&app, "nul@example.com", PRO_PASSWORD).await?, StatusCode::OK);
    Ok(())
}

/// Issue 10, item 8: a forwarded-for entry that is not a bare address fell back to the proxy's
/// own address — loopback by default, and on the staff allow-list — so the staff sign-in opened.
/// Ports and brackets are read as the address they carry; anything else is an unknown client.
#[tokio::test]
async fn a_forwarded_for_entry_that_is_not_an_address_never_passes_the_staff_allow_list() -> R {
    let app = TestApp::spawn().await?;
    let id = app.signup_pro("desk@plumberleads.example", PHONE).await?;
    sqlx::query("UPDATE identity.users SET role = 'staff' WHERE id = $1").bind(id).execute(&app.pool).await?;
    let problem_type = |forwarded_for: &'static str| {
        let req = app
            .post("/api/v1/auth/login")
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": "desk@plumberleads.example", "password": PRO_PASSWORD}));
        async move {
            let res = req.send().await?;
            let status = res.status();
            let body: serde_json::Value = res.json().await?;
            anyhow::Ok((status, body["type"].as_str().unwrap_or_default().to_owned()))
        }
    };
    // On the allow-list (loopback, written with a port): past it, to the second factor.
    let allowed = (StatusCode::FORBIDDEN, "/problems/second-factor-required".to_owned());
    assert_eq!(problem_type("127.0.0.1:4711").await?, allowed);
    // Not an address, or an address off the list however written: refused before the password.
    let refused = (StatusCode::FORBIDDEN, "about:blank".to_owned());
    // (Four tries in all: a fifth failure on the account would be throttled instead.)
    for entry in ["unknown", "203.0.113.9:443", "[2001:db8::7]:443"] {
        assert_eq!(problem_type(entry).await?, refused, "{entry}");
    }
    Ok(())
}
