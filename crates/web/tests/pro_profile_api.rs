//! The pro profile as JSON: the same onboarding as the portal's pages, for other clients. A section
//! sent replaces that section; a refusal names every field by its path and saves nothing.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn token(app: &TestApp, email: &str, phone: &str) -> anyhow::Result<(uuid::Uuid, String)> {
    let id = app.signup_pro(email, phone).await?;
    Ok((id, app.api_login(email, PRO_PASSWORD).await?.0))
}

async fn patch(app: &TestApp, token: &str, body: &Value) -> anyhow::Result<(StatusCode, Value)> {
    let res = app.request(reqwest::Method::PATCH, "/api/v1/pro/profile").bearer_auth(token).json(body).send().await?;
    Ok((res.status(), res.json().await?))
}

async fn get(app: &TestApp, token: &str) -> anyhow::Result<Value> {
    let res = app.get("/api/v1/pro/profile").bearer_auth(token).send().await?;
    anyhow::ensure!(res.status() == StatusCode::OK, "GET profile answered {}", res.status());
    Ok(res.json().await?)
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect()
}

fn open_items(profile: &Value) -> Vec<String> {
    profile["checklist"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["done"] == json!(false))
        .filter_map(|i| i["item"].as_str().map(str::to_owned))
        .collect()
}

fn whole() -> Value {
    json!({
        "business": {"name": "Ace Plumbing", "licence_number": "pl-12345", "licence_state": "mn"},
        "area": {"base_zip": "55401", "radius_miles": 10, "extra_zips": ["55111"]},
        "services": ["drain-cleaning", "burst-pipe"],
        "hours": {"time_zone": "America/Chicago", "emergency_24_7": true,
                  "weekly": [{"weekday": 0, "opens": "08:00", "closes": "17:00"},
                             {"weekday": 4, "opens": "09:30", "closes": "16:00"}]},
        "preferences": {"max_price_cents": 15000, "shared": true, "exclusive": true, "daily_cap": 10,
                        "weekly_budget_cents": 100000, "paused": false}
    })
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> anyhow::Result<(StatusCode, Value)> {
    let form = Form::new().part("file", Part::bytes(bytes).file_name("cert.pdf"));
    let res = app.post("/api/v1/pro/profile/insurance").bearer_auth(token).multipart(form).send().await?;
    Ok((res.status(), res.json().await?))
}

#[tokio::test]
async fn a_pro_fills_in_the_profile_by_the_api_and_sends_it_for_review() -> R {
    let app = TestApp::spawn().await?;
    let (id, token) = token(&app, "jane@example.com", "+16125550123").await?;

    let fresh = get(&app, &token).await?;
    assert_eq!(fresh["status"], "onboarding");
    assert_eq!(fresh["business"], json!({"name": "Acme Plumbing", "licence_number": null, "licence_state": null}));
    assert_eq!((&fresh["area"], &fresh["hours"], &fresh["preferences"]), (&Value::Null, &Value::Null, &Value::Null));
    assert_eq!(fresh["services"], json!([]));
    assert_eq!(
        open_items(&fresh),
        ["email_verified", "phone_verified", "business", "insurance", "area", "services", "hours", "preferences"]
    );

    // Sending for review too early names what is missing.
    let res = app.post("/api/v1/pro/profile/submit").bearer_auth(&token).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await?;
    assert_eq!(fields(&problem).len(), 8, "{problem}");

    let (status, saved) = patch(&app, &token, &whole()).await?;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["business"], json!({"name": "Ace Plumbing", "licence_number": "PL-12345", "licence_state": "MN"}));
    assert_eq!(saved["area"]["base_zip"], "55401");
    assert_eq!(saved["area"]["radius_miles"], 10);
    assert_eq!(saved["area"]["extra_zips"], json!(["55111"]));
    assert_eq!(saved["services"], json!(["burst-pipe", "drain-cleaning"]));
    assert_eq!(saved["hours"]["weekly"][1], json!({"weekday": 4, "opens": "09:30", "closes": "16:00"}));
    assert_eq!(saved["preferences"], whole()["preferences"]);
    assert_eq!(get(&app, &token).await?, saved, "GET answers what PATCH saved");
    // The radius became covered ZIPs, as the pages' own save does.
    let covered: i64 = sqlx::query_scalar("SELECT count(*) FROM pro_service_zips WHERE pro_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await?;
    assert!(covered > 5, "{covered} covered ZIPs");

    // A section sent replaces that section only; limits may go back to none.
    let prefs = json!({"preferences": {"shared": true, "exclusive": false}});
    let (status, saved) = patch(&app, &token, &prefs).await?;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["preferences"]["max_price_cents"], Value::Null);
    assert_eq!(saved["preferences"]["exclusive"], false);
    assert_eq!(saved["area"]["base_zip"], "55401", "other sections untouched");

    let (status, with_certificate) = upload(&app, &token, PDF.to_vec()).await?;
    assert_eq!(status, StatusCode::CREATED, "{with_certificate}");
    assert_eq!(open_items(&with_certificate), ["email_verified", "phone_verified"]);

    sqlx::query("UPDATE identity.users SET email_verified_at = now(), phone_verified_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await?;
    app.state.session_cache.bump(id).await;
    let res = app.post("/api/v1/pro/profile/submit").bearer_auth(&token).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let submitted: Value = res.json().await?;
    assert_eq!(submitted["status"], "pending_approval");
    assert!(open_items(&submitted).is_empty());
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM identity.audit_log WHERE subject_id = $1 AND action IN ('profile_changed', 'profile_submitted')",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!(audited, 5 + 1 + 1 + 1, "one entry per section, the preferences again, the certificate, the hand-off");

    // Approved, then a new licence number: back to review, as from the portal.
    services::pros::approval::approve_by_operator(&app.state, "jane@example.com").await?;
    assert_eq!(get(&app, &token).await?["status"], "active");
    let licence = json!({"business": {"name": "Ace Plumbing", "licence_number": "PL-99999", "licence_state": "MN"}});
    let (status, changed) = patch(&app, &token, &licence).await?;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["status"], "pending_approval");
    app.shutdown().await
}

#[tokio::test]
async fn refusals_name_each_field_by_its_path_and_save_nothing() -> R {
    let app = TestApp::spawn().await?;
    let (_, token) = token(&app, "jane@example.com", "+16125550123").await?;
    let (status, _) = patch(&app, &token, &whole()).await?;
    assert_eq!(status, StatusCode::OK);
    let before = get(&app, &token).await?;

    // Every section wrong in its own way, beside a valid business section that must not be kept.
    let bad = json!({
        "business": {"name": "New Name Plumbing", "licence_number": "PL-1", "licence_state": "MN"},
        "area": {"base_zip": "554", "radius_miles": 0, "extra_zips": ["abc"]},
        "services": [],
        "hours": {"time_zone": "Europe/Paris", "weekly": [{"weekday": 0, "opens": "17:00", "closes": "08:00"}]},
        "preferences": {"max_price_cents": 0, "shared": false, "exclusive": false, "daily_cap": 1001}
    });
    let (status, problem) = patch(&app, &token, &bad).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["type"], "/problems/validation-error");
    let named = fields(&problem);
    for path in [
        "area.base_zip",
        "area.radius_miles",
        "area.extra_zips",
        "hours.weekly",
        "hours.time_zone",
        "preferences.max_price_cents",
        "preferences.daily_cap",
        "preferences.shared",
    ] {
        assert!(named.iter().any(|f| f == path), "{path} not named in {named:?}");
    }
    assert_eq!(get(&app, &token).await?, before, "nothing saved");

    // ZIPs of the right form that do not exist, and a category we don't have, are found by the
    // service against the reference data: still nothing saved, even the valid sections.
    let unknown = json!({
        "business": {"name": "New Name Plumbing", "licence_number": "PL-1", "licence_state": "MN"},
        "area": {"base_zip": "00000", "radius_miles": 10},
        "services": ["roof-repair"]
    });
    let (status, problem) = patch(&app, &token, &unknown).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["area.base_zip", "services"]);
    assert_eq!(get(&app, &token).await?, before, "nothing saved");

    // A weekday twice, or one that does not exist.
    for weekly in [
        json!([{"weekday": 2, "opens": "08:00", "closes": "12:00"}, {"weekday": 2, "opens": "13:00", "closes": "17:00"}]),
        json!([{"weekday": 7, "opens": "08:00", "closes": "12:00"}]),
    ] {
        let body = json!({"hours": {"time_zone": "America/Chicago", "weekly": weekly}});
        let (status, problem) = patch(&app, &token, &body).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["hours.weekly"]);
    }

    // Wrong types and unknown names: 422 naming the path, never a silent no-op.
    for (body, path) in [
        (json!({"area": {"base_zip": "55401", "radius_miles": "ten"}}), "area.radius_miles"),
        (json!({"area": {"base_zip": "55401", "radius_miles": -1}}), "area.radius_miles"),
        (json!({"preferences": {"shared": "yes", "exclusive": true}}), "preferences.shared"),
        (
            json!({"preferences": {"shared": true, "exclusive": true, "max_price_cents": 1.5}}),
            "preferences.max_price_cents",
        ),
        (
            json!({"hours": {"time_zone": "America/Chicago", "weekly": [{"weekday": 0, "opens": 8}]}}),
            "hours.weekly[0].opens",
        ),
        (json!({"services": "drain-cleaning"}), "services"),
    ] {
        let (status, problem) = patch(&app, &token, &body).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(fields(&problem), [path], "{body}");
    }
    for body in [json!({"areas": {}}), json!({"area": {"base_zip": "55401", "radius_miles": 5, "zip": "1"}})] {
        let (status, problem) = patch(&app, &token, &body).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
    }
    // Hostile text: refused by the domain's rules, not stored.
    let script =
        json!({"business": {"name": "<script>alert(1)</script>", "licence_number": "<b>", "licence_state": "MN"}});
    let (status, problem) = patch(&app, &token, &script).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(fields(&problem).contains(&"business.licence_number".to_owned()), "{problem}");
    assert_eq!(get(&app, &token).await?, before, "nothing saved");

    // Not JSON, malformed JSON, too large, no token, not a pro.
    let res = app
        .request(reqwest::Method::PATCH, "/api/v1/pro/profile")
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = app
        .request(reqwest::Method::PATCH, "/api/v1/pro/profile")
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"area\": ")
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let huge = json!({"area": {"base_zip": "55401", "radius_miles": 5, "extra_zips": vec!["55111"; 200_000]}});
    let res = app.request(reqwest::Method::PATCH, "/api/v1/pro/profile").bearer_auth(&token).json(&huge).send().await?;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let many = json!({"area": {"base_zip": "55401", "radius_miles": 5, "extra_zips": vec!["55111"; 201]}});
    let (status, problem) = patch(&app, &token, &many).await?;
    assert_eq!((status, fields(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["area.extra_zips".to_owned()]));
    let res = app.request(reqwest::Method::PATCH, "/api/v1/pro/profile").json(&whole()).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/pro/profile").send().await?.status(), StatusCode::UNAUTHORIZED);
    let (_, partner_key) = app.create_partner("Partner").await?;
    assert_eq!(
        app.get("/api/v1/pro/profile").bearer_auth(&partner_key).send().await?.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get(&app, &token).await?, before, "nothing saved");
    app.shutdown().await
}

#[tokio::test]
async fn certificates_by_the_api_are_sniffed_and_size_limited() -> R {
    let app = TestApp::builder()
        .setting("PLUMBERLEADS_UPLOAD_MAX_BYTES", "20000")
        .setting("PLUMBERLEADS_BODY_LIMIT_BYTES", "4096")
        .spawn()
        .await?;
    let (_, token) = token(&app, "jane@example.com", "+16125550123").await?;
    let (status, problem) = upload(&app, &token, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec()).await?;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
    let mut big = PDF.to_vec();
    big.resize(30_000, b' ');
    let (status, _) = upload(&app, &token, big).await?;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Bigger than the JSON body limit but within the upload limit: taken.
    let mut fits = PDF.to_vec();
    fits.resize(19_000, b' ');
    let (status, profile) = upload(&app, &token, fits).await?;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    assert!(!open_items(&profile).contains(&"insurance".to_owned()));
    let res = app
        .post("/api/v1/pro/profile/insurance")
        .bearer_auth(&token)
        .multipart(Form::new().text("other", "x"))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await?;
    assert_eq!(fields(&problem), ["file"]);
    let form = Form::new().part("file", Part::bytes(PDF.to_vec()));
    assert_eq!(
        app.post("/api/v1/pro/profile/insurance").multipart(form).send().await?.status(),
        StatusCode::UNAUTHORIZED
    );
    app.shutdown().await
}

#[tokio::test]
async fn how_offers_reach_a_pro_is_read_and_set_by_the_api_as_in_the_portal() -> R {
    let app = TestApp::spawn().await?;
    let (id, token) = token(&app, "nell@example.com", "+16125550188").await?;
    let before = get(&app, &token).await?;
    assert_eq!(
        before["notifications"],
        json!({"sms": true, "email": true, "quiet_from": null, "quiet_until": null}),
        "texts and e-mails on, no quiet hours, before anything is set"
    );

    let quiet = json!({"notifications": {"sms": true, "email": false, "quiet_from": "21:30", "quiet_until": "07:00"}});
    let (status, body) = patch(&app, &token, &quiet).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["notifications"], quiet["notifications"]);
    let saved: (bool, bool, Option<String>) =
        sqlx::query_as("SELECT offer_sms, offer_email, quiet_from::text FROM pros WHERE user_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!(saved, (true, false, Some("21:30:00".into())), "the portal's own columns");

    // Half-given or equal quiet hours, a time that is not one, a field we do not know: refused by
    // path, and nothing changes.
    for (bad, field) in [
        (json!({"sms": true, "email": true, "quiet_from": "22:00"}), Some("notifications.quiet_from")),
        (
            json!({"sms": true, "email": true, "quiet_from": "22:00", "quiet_until": "22:00"}),
            Some("notifications.quiet_from"),
        ),
        (
            json!({"sms": true, "email": true, "quiet_from": "25:00", "quiet_until": "07:00"}),
            Some("notifications.quiet_from"),
        ),
        (json!({"sms": true, "email": true, "loud": true}), None),
        (json!({"email": true}), None),
    ] {
        let (status, problem) = patch(&app, &token, &json!({ "notifications": bad })).await?;
        assert!(status.is_client_error(), "{bad}: {status} {problem}");
        if let Some(field) = field {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(fields(&problem), [field], "{bad}");
        }
    }
    assert_eq!(get(&app, &token).await?["notifications"], quiet["notifications"]);

    // Quiet hours cleared by sending neither.
    let (status, body) = patch(&app, &token, &json!({"notifications": {"sms": false, "email": true}})).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["notifications"], json!({"sms": false, "email": true, "quiet_from": null, "quiet_until": null}));
    app.shutdown().await
}
