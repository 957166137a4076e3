//! Onboarding: a pro fills in licence, insurance, area, services, hours and preferences, sends
//! the profile for review, and staff approve it. Bad input is explained and changes nothing;
//! certificates are sniffed, size-limited and shown only to their owner and staff.

use domain::Clock;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use reqwest::multipart::{Form, Part};
use testkit::{PRO_PASSWORD, TestApp, session_cookie};

type R = anyhow::Result<()>;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A form, its fields, and words the answer must contain.
type Case = (&'static str, Vec<(&'static str, &'static str)>, &'static str);

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned()
}

struct Pro {
    sid: String,
    csrf: String,
    id: uuid::Uuid,
}

async fn pro(app: &TestApp, email: &str, phone: &str) -> anyhow::Result<Pro> {
    let id = app.signup_pro(email, phone).await?;
    let sid = app.browser_login(email, PRO_PASSWORD).await?;
    let page = app.get("/pro/profile").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    Ok(Pro { csrf: csrf_in(&page), sid, id })
}

async fn post(app: &TestApp, p: &Pro, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<(StatusCode, String)> {
    let mut form: Vec<(&str, &str)> = vec![("csrf", p.csrf.as_str())];
    form.extend_from_slice(fields);
    let res = app.post(path).header(COOKIE, cookie(&p.sid)).form(&form).send().await?;
    let status = res.status();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = res.text().await?;
    Ok((status, if status == StatusCode::SEE_OTHER { location } else { body }))
}

async fn upload(app: &TestApp, p: &Pro, name: &str, bytes: Vec<u8>) -> anyhow::Result<(StatusCode, String)> {
    let form = Form::new().text("csrf", p.csrf.clone()).part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let res = app.post("/pro/profile/insurance").header(COOKIE, cookie(&p.sid)).multipart(form).send().await?;
    Ok((res.status(), res.text().await?))
}

async fn status_of(app: &TestApp, id: uuid::Uuid) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar("SELECT status::text FROM pros WHERE user_id = $1").bind(id).fetch_one(&app.pool).await?)
}

/// A staff browser session with its second factor in.
async fn staff(app: &TestApp) -> anyhow::Result<(String, String)> {
    let (id, password) = app.create_staff("olga@plumberleads.example").await?;
    let secret = app.enrol_staff(id).await?;
    let res = app
        .post("/login")
        .form(&[("email", "olga@plumberleads.example"), ("password", password.as_str())])
        .send()
        .await?;
    let sid = session_cookie(&res).unwrap_or_default();
    let page = app.get("/staff/mfa").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    let code = services::infra::totp::code_at(&secret, domain::Clock::now(&app.clock));
    let res = app
        .post("/staff/mfa")
        .header(COOKIE, cookie(&sid))
        .form(&[("csrf", csrf_in(&page)), ("code", code)])
        .send()
        .await?;
    anyhow::ensure!(res.status() == StatusCode::SEE_OTHER, "second factor refused");
    // The second factor rotates the session's secret: go on with the new cookie.
    let sid = session_cookie(&res).unwrap_or(sid);
    let home = app.get("/staff").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    Ok((sid, csrf_in(&home)))
}

async fn verify_contacts(app: &TestApp, id: uuid::Uuid) -> R {
    sqlx::query("UPDATE identity.users SET email_verified_at = now(), phone_verified_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await?;
    // Edited behind the platform's back: say so, as every change through the platform does.
    app.state.session_cache.bump(id).await;
    Ok(())
}

#[tokio::test]
async fn a_pro_completes_the_profile_sends_it_and_staff_approve_it() -> R {
    let app = TestApp::spawn().await?;
    let p = pro(&app, "jane@example.com", "+16125550123").await?;
    verify_contacts(&app, p.id).await?;

    // Not ready: sending it does nothing.
    assert_eq!(post(&app, &p, "/pro/submit", &[]).await?, (StatusCode::SEE_OTHER, "/pro?done=not_ready".into()));
    assert_eq!(status_of(&app, p.id).await?, "onboarding");

    let ok = |path: &str| (StatusCode::SEE_OTHER, format!("/pro/profile?done={path}#{path}"));
    assert_eq!(
        post(
            &app,
            &p,
            "/pro/profile/business",
            &[("business_name", "Acme Plumbing LLC"), ("licence_number", "pl-778812"), ("licence_state", "MN")]
        )
        .await?,
        ok("business")
    );
    assert_eq!(upload(&app, &p, "certificate.pdf", PDF.to_vec()).await?.0, StatusCode::SEE_OTHER);
    assert_eq!(
        post(&app, &p, "/pro/profile/area", &[("base_zip", "55401"), ("radius_miles", "10"), ("extra_zips", "55901")])
            .await?,
        ok("area")
    );
    assert_eq!(
        post(&app, &p, "/pro/profile/services", &[("category", "burst-pipe"), ("category", "drain-cleaning")]).await?,
        ok("services")
    );
    let hours = [
        ("open_0", "on"),
        ("opens_0", "08:00"),
        ("closes_0", "17:00"),
        ("open_5", "on"),
        ("opens_5", "09:00"),
        ("closes_5", "12:30"),
        ("time_zone", "America/Chicago"),
        ("emergency_24_7", "on"),
    ];
    assert_eq!(post(&app, &p, "/pro/profile/hours", &hours).await?, ok("hours"));
    assert_eq!(
        post(
            &app,
            &p,
            "/pro/profile/preferences",
            &[("max_price", "$80"), ("shared", "on"), ("daily_cap", "5"), ("weekly_budget", "1,000")]
        )
        .await?,
        ok("preferences")
    );

    let page = app.get("/pro/profile").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(
        page.contains("PL-778812") && page.contains("Minneapolis, MN") && page.contains("Saint Paul, MN"),
        "area shown as towns"
    );
    assert!(page.contains("80.00") && page.contains("1000.00"));
    let (zips, hand): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE hand_picked) FROM pro_service_zips WHERE pro_id = $1")
            .bind(p.id)
            .fetch_one(&app.pool)
            .await?;
    assert!(zips > 20 && hand == 1, "{zips} ZIPs, {hand} by hand");

    let home = app.get("/pro").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert_eq!(home.matches("checklist__item--done").count(), 8);
    assert!(home.contains("Send for review"));
    assert_eq!(post(&app, &p, "/pro/submit", &[]).await?, (StatusCode::SEE_OTHER, "/pro?done=submitted".into()));
    assert_eq!(status_of(&app, p.id).await?, "pending_approval");

    let (staff_sid, staff_csrf) = staff(&app).await?;
    let home = app.get("/staff").header(COOKIE, cookie(&staff_sid)).send().await?.text().await?;
    assert!(home.contains("Review Acme Plumbing LLC") && home.contains("MN PL-778812"));
    let cert = app.get(&format!("/staff/pros/{}/insurance", p.id)).header(COOKIE, cookie(&staff_sid)).send().await?;
    assert_eq!(cert.headers()["content-type"], "application/pdf");
    assert_eq!(cert.bytes().await?.as_ref(), PDF);
    // The pro cannot approve themselves, nor reach the staff area.
    let res = app
        .post(&format!("/staff/pros/{}/approve", p.id))
        .header(COOKIE, cookie(&p.sid))
        .form(&[("csrf", p.csrf.as_str())])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post(&format!("/staff/pros/{}/approve", p.id))
        .header(COOKIE, cookie(&staff_sid))
        .form(&[("csrf", staff_csrf.as_str()), ("checked", "yes")])
        .send()
        .await?;
    assert_eq!(res.headers()["location"], "/staff?done=approved");
    assert_eq!(status_of(&app, p.id).await?, "active");
    // Once approved, home is the working view.
    let home = app.get("/pro").header(COOKIE, cookie(&p.sid)).send().await?;
    assert_eq!(home.headers()["location"], "/pro/offers");
    let inbox = app.get("/pro/offers").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(inbox.contains("New leads for you") && inbox.contains("$0.00"), "{inbox}");
    let checklist = app.get("/pro?done=approved").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(checklist.contains("You can receive leads"));
    let approved: i64 =
        sqlx::query_scalar("SELECT count(*) FROM identity.audit_log WHERE action = 'pro_approved' AND subject_id = $1")
            .bind(p.id)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!(approved, 1);
    Ok(())
}

#[tokio::test]
async fn bad_profile_input_is_explained_and_changes_nothing() -> R {
    let app = TestApp::spawn().await?;
    let p = pro(&app, "jane@example.com", "+16125550123").await?;
    let cases: [Case; 7] = [
        (
            "/pro/profile/business",
            vec![("business_name", "Acme"), ("licence_number", ""), ("licence_state", "ZZ")],
            "Please give your plumbing licence number",
        ),
        ("/pro/profile/area", vec![("base_zip", "00000"), ("radius_miles", "10")], "We couldn&#39;t find ZIP 00000"),
        ("/pro/profile/area", vec![("base_zip", "55401"), ("radius_miles", "500")], "1 to 100 miles"),
        ("/pro/profile/services", vec![("category", "not-a-category")], "at least one kind of job"),
        (
            "/pro/profile/hours",
            vec![("open_1", "on"), ("opens_1", "18:00"), ("closes_1", "09:00"), ("time_zone", "America/Chicago")],
            "Tuesday you close before you open",
        ),
        ("/pro/profile/hours", vec![("time_zone", "Mars/Olympus"), ("emergency_24_7", "on")], "choose your time zone"),
        (
            "/pro/profile/preferences",
            vec![("max_price", "lots"), ("daily_cap", "0")],
            "Choose shared leads, exclusive leads, or both",
        ),
    ];
    for (path, fields, says) in cases {
        let (status, body) = post(&app, &p, path, &fields).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {fields:?}");
        assert!(body.contains(says), "{path}: {says:?} not in the page");
        // Each link in the error summary leads to a control on the page (issue 12, item 5).
        let targets: Vec<&str> = body
            .split("href=\"#")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|t| t.starts_with("f-"))
            .collect();
        assert!(!targets.is_empty(), "{path}: the summary links the fields");
        for target in targets {
            assert!(
                body.contains(&format!("id=\"{target}\"")),
                "{path}: the summary links #{target}, which is not on the page"
            );
        }
    }
    let profile: (Option<String>, Option<String>, bool, bool) =
        sqlx::query_as("SELECT licence_number, base_zip, hours_set, preferences_set FROM pros WHERE user_id = $1")
            .bind(p.id)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!(profile, (None, None, false, false));
    // HTML in a field is kept as text and shown escaped.
    post(
        &app,
        &p,
        "/pro/profile/business",
        &[("business_name", "<b>Bold</b> & Sons"), ("licence_number", "X1"), ("licence_state", "MN")],
    )
    .await?;
    let page = app.get("/pro/profile").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(page.contains("&#60;b&#62;Bold&#60;/b&#62; &#38; Sons") && !page.contains("<b>Bold"));
    // Without the CSRF token, or from another site: refused.
    let res = app
        .post("/pro/profile/services")
        .header(COOKIE, cookie(&p.sid))
        .form(&[("category", "burst-pipe")])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post("/pro/profile/services")
        .header(COOKIE, cookie(&p.sid))
        .header("origin", "https://evil.example")
        .form(&[("csrf", p.csrf.as_str()), ("category", "burst-pipe")])
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Not logged in: to the login page.
    assert_eq!(
        app.post("/pro/profile/services").form(&[("category", "burst-pipe")]).send().await?.status(),
        StatusCode::SEE_OTHER
    );
    Ok(())
}

#[tokio::test]
async fn certificates_are_sniffed_limited_and_shown_only_to_their_owner_and_staff() -> R {
    let app = TestApp::builder().setting("PLUMBERLEADS_UPLOAD_MAX_BYTES", "20000").spawn().await?;
    let jane = pro(&app, "jane@example.com", "+16125550123").await?;
    let bob = pro(&app, "bob@example.com", "+16125550124").await?;
    // A program named like a PDF, and HTML named like a PNG: refused by their bytes.
    let (status, body) = upload(&app, &jane, "cert.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec()).await?;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body.contains("isn&#39;t a PDF, JPEG or PNG"));
    assert_eq!(
        upload(&app, &jane, "cert.png", b"<html><script>alert(1)</script></html>".to_vec()).await?.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(upload(&app, &jane, "empty.pdf", Vec::new()).await?.0, StatusCode::UNPROCESSABLE_ENTITY);
    let mut big = PDF.to_vec();
    big.resize(30_000, b' ');
    assert_eq!(upload(&app, &jane, "big.pdf", big).await?.0, StatusCode::PAYLOAD_TOO_LARGE);
    let stored: Option<String> = sqlx::query_scalar("SELECT insurance_key FROM pros WHERE user_id = $1")
        .bind(jane.id)
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(stored, None);

    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00".to_vec();
    assert_eq!(upload(&app, &jane, "photo-of-cert.jpg", png.clone()).await?.0, StatusCode::SEE_OTHER);
    let own = app.get("/pro/profile/insurance").header(COOKIE, cookie(&jane.sid)).send().await?;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.headers()["content-type"], "image/png", "the sniffed type, not the name's");
    assert_eq!(own.headers()["x-content-type-options"], "nosniff");
    assert_eq!(own.bytes().await?.to_vec(), png);
    // Bob sees only his own (none); he cannot reach Jane's through the staff route.
    assert_eq!(
        app.get("/pro/profile/insurance").header(COOKIE, cookie(&bob.sid)).send().await?.status(),
        StatusCode::NOT_FOUND
    );
    let res = app.get(&format!("/staff/pros/{}/insurance", jane.id)).header(COOKIE, cookie(&bob.sid)).send().await?;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/staff/pros/{}/insurance", jane.id)).send().await?.status(), StatusCode::SEE_OTHER);
    // Replacing it removes the old file.
    assert_eq!(upload(&app, &jane, "cert.pdf", PDF.to_vec()).await?.0, StatusCode::SEE_OTHER);
    let files = walk(&app.settings.providers.storage_dir.join("insurance"));
    assert_eq!(files, 1, "the replaced certificate is gone");
    Ok(())
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_profile_form_without_this_sessions_token_or_from_another_site_is_refused_and_changes_nothing() -> R {
    let app = TestApp::spawn().await?;
    let p = pro(&app, "ada@example.com", "+16125550123").await?;
    let fields = [("business_name", "Ada Plumbing"), ("licence_number", "PL-1"), ("licence_state", "MN")];
    let no_token = Pro { csrf: String::new(), sid: p.sid.clone(), id: p.id };
    assert_eq!(post(&app, &no_token, "/pro/profile/business", &fields).await?.0, StatusCode::FORBIDDEN);
    let other_token = Pro { csrf: "x".repeat(43), sid: p.sid.clone(), id: p.id };
    assert_eq!(post(&app, &other_token, "/pro/profile/business", &fields).await?.0, StatusCode::FORBIDDEN);
    let mut form: Vec<(&str, &str)> = vec![("csrf", p.csrf.as_str())];
    form.extend_from_slice(&fields);
    let cross_site = app
        .post("/pro/profile/business")
        .header(COOKIE, cookie(&p.sid))
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await?;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let licence: Option<String> = sqlx::query_scalar("SELECT licence_number FROM pros WHERE user_id = $1")
        .bind(p.id)
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(licence, None, "nothing was saved");
    assert_eq!(post(&app, &p, "/pro/profile/business", &fields).await?.0, StatusCode::SEE_OTHER, "the real form works");
    Ok(())
}

/// Issue 10, item 11: an approved pro who changes what staff vetted — the licence, the insurance
/// certificate — goes back to review (and gets no leads until approved again); other changes are
/// theirs to make.
#[tokio::test]
async fn changing_the_licence_or_insurance_after_approval_goes_back_to_review() -> R {
    let app = TestApp::spawn().await?;
    let p = pro(&app, "lena@example.com", "+16125550170").await?;
    let business = |name: &'static str, licence: &'static str| {
        [("business_name", name), ("licence_number", licence), ("licence_state", "MN")]
    };
    assert_eq!(
        post(&app, &p, "/pro/profile/business", &business("Lena Pipes", "PL-1001")).await?.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(upload(&app, &p, "certificate.pdf", PDF.to_vec()).await?.0, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, p.id).await?, "onboarding", "before approval nothing moves");
    let approve = || {
        sqlx::query("UPDATE pros SET status = 'active', approved_at = now() WHERE user_id = $1")
            .bind(p.id)
            .execute(&app.pool)
    };
    approve().await?;

    // Theirs to change: the name, the area.
    post(&app, &p, "/pro/profile/business", &business("Lena Pipes & Sons", "PL-1001")).await?;
    post(&app, &p, "/pro/profile/area", &[("base_zip", "55401"), ("radius_miles", "15")]).await?;
    assert_eq!(status_of(&app, p.id).await?, "active");

    post(&app, &p, "/pro/profile/business", &business("Lena Pipes & Sons", "PL-2002")).await?;
    assert_eq!(status_of(&app, p.id).await?, "pending_approval", "a new licence is checked again");
    let audit: serde_json::Value = sqlx::query_scalar(
        "SELECT detail::jsonb FROM identity.audit_log WHERE subject_id = $1 AND action = 'profile_changed' ORDER BY seq DESC LIMIT 1",
    )
    .bind(p.id)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!(audit["back_to_review"], true, "{audit}");

    approve().await?;
    assert_eq!(upload(&app, &p, "renewed.pdf", PDF.to_vec()).await?.0, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, p.id).await?, "pending_approval", "a new certificate is checked again");
    Ok(())
}

#[tokio::test]
async fn the_profile_previews_prices_and_last_months_requests_for_the_settings_being_edited() -> R {
    let app = TestApp::spawn().await?;
    let p = pro(&app, "jane@example.com", "+16125550123").await?;
    // Requests near 55401: two flexible and one emergency drain cleaning, one burst pipe; one far
    // away (New York); and two at the edge of the 30 days, one just inside and one just outside.
    let mut leads = Vec::new();
    for (i, (category, urgency, zip)) in [
        ("drain-cleaning", "flexible", "55401"),
        ("drain-cleaning", "flexible", "55402"),
        ("drain-cleaning", "emergency", "55401"),
        ("burst-pipe", "within_48h", "55401"),
        ("drain-cleaning", "flexible", "10001"),
        ("drain-cleaning", "flexible", "55401"),
        ("drain-cleaning", "flexible", "55401"),
    ]
    .into_iter()
    .enumerate()
    {
        leads.push(app.verified_lead(&format!("61255502{i:02}"), category, urgency, zip).await?);
    }
    let now = app.clock.now();
    for (lead, age) in [
        (leads[5], time::Duration::days(30) - time::Duration::seconds(1)),
        (leads[6], time::Duration::days(30) + time::Duration::seconds(1)),
    ] {
        sqlx::query("UPDATE leads SET created_at = $2, verified_at = $2 WHERE id = $1")
            .bind(lead)
            .bind(now - age)
            .execute(&app.pool)
            .await?;
    }
    let preview = |query: &'static str| {
        let app = &app;
        let sid = p.sid.clone();
        async move {
            let res = app.get(&format!("/pro/profile/preview?{query}")).header(COOKIE, cookie(&sid)).send().await?;
            anyhow::ensure!(res.status() == StatusCode::OK, "preview answered {}", res.status());
            Ok::<_, anyhow::Error>(res.text().await?)
        }
    };
    let counts = |html: &str| -> Vec<String> {
        html.split("<strong>").skip(1).filter_map(|r| r.split("</strong>").next()).map(str::to_owned).collect()
    };

    // Drain cleaning $25 base: flexible $20.00, within 48 h $25.00, emergency $37.50.
    let html =
        preview("base_zip=55401&radius_miles=10&extra_zips=&category=drain-cleaning&category=burst-pipe").await?;
    assert!(html.contains("Drain cleaning") && html.contains("$20.00") && html.contains("$37.50"), "{html}");
    assert_eq!(counts(&html), ["1", "4"], "burst pipe: 1; drain cleaning: 3 recent + 1 just inside 30 days");
    // A price limit leaves out the emergency, and says so.
    let html = preview("base_zip=55401&radius_miles=10&category=drain-cleaning&max_price=30").await?;
    assert_eq!(counts(&html), ["3"]);
    assert!(html.contains("+1 above your price limit"), "{html}");
    // New York, by hand, brings its request in.
    let html = preview("base_zip=55401&radius_miles=10&extra_zips=10001&category=drain-cleaning").await?;
    assert_eq!(counts(&html), ["5"]);
    // Half-filled settings explain what to give; hostile input is text, never markup.
    let html = preview("base_zip=554&radius_miles=10&category=drain-cleaning").await?;
    assert!(html.contains("Give your base ZIP code") && counts(&html).is_empty(), "{html}");
    let html = preview("base_zip=55401&radius_miles=10").await?;
    assert!(html.contains("Tick the jobs you do"), "{html}");
    let html = preview("base_zip=55401&radius_miles=10&category=%3Cscript%3E&max_price=%3Cb%3E").await?;
    assert!(!html.contains("<script>") && counts(&html).is_empty(), "{html}");
    // Only its pro sees it.
    assert_ne!(app.get("/pro/profile/preview?base_zip=55401&radius_miles=10").send().await?.status(), StatusCode::OK);

    // The profile page shows the same panel for the saved settings.
    post(&app, &p, "/pro/profile/area", &[("base_zip", "55401"), ("radius_miles", "10")]).await?;
    post(&app, &p, "/pro/profile/services", &[("category", "drain-cleaning")]).await?;
    let page = app.get("/pro/profile").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(page.contains("What your settings bring") && counts(&page) == ["4"], "{page}");
    app.shutdown().await
}

#[tokio::test]
async fn a_pro_chooses_how_offers_reach_them_and_quiet_hours_for_texts() -> R {
    let app = TestApp::spawn().await?;
    let p = pro(&app, "jane@example.com", "+16125550123").await?;
    let channels = |app: &TestApp, id: uuid::Uuid| {
        let pool = app.pool.clone();
        async move {
            let row: (bool, bool, Option<String>, Option<String>) = sqlx::query_as(
                "SELECT offer_sms, offer_email, quiet_from::text, quiet_until::text FROM pros WHERE user_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await?;
            anyhow::Ok(row)
        }
    };
    assert_eq!(channels(&app, p.id).await?, (true, true, None, None), "both channels, no quiet hours, at first");
    let page = app.get("/pro/profile").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(page.contains("name=\"offer_sms\" checked") && page.contains("How we tell you about offers"));

    // Half-filled quiet hours: explained beside the field, nothing changed.
    let (status, body) =
        post(&app, &p, "/pro/profile/notifications", &[("offer_email", "on"), ("quiet_from", "21:00")]).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Give both times for quiet hours"), "{body}");
    assert_eq!(channels(&app, p.id).await?, (true, true, None, None));

    // E-mail only, with quiet hours past midnight.
    let fields = [("offer_email", "on"), ("quiet_from", "21:00"), ("quiet_until", "07:00")];
    assert_eq!(
        post(&app, &p, "/pro/profile/notifications", &fields).await?,
        (StatusCode::SEE_OTHER, "/pro/profile?done=notifications#notifications".into())
    );
    assert_eq!(channels(&app, p.id).await?, (false, true, Some("21:00:00".into()), Some("07:00:00".into())));
    let page = app.get("/pro/profile?done=notifications").header(COOKIE, cookie(&p.sid)).send().await?.text().await?;
    assert!(
        page.contains("Notifications saved.")
            && page.contains("value=\"21:00\"")
            && !page.contains("name=\"offer_sms\" checked")
    );
    // And none at all: back to no quiet hours.
    post(&app, &p, "/pro/profile/notifications", &[("offer_sms", "on")]).await?;
    assert_eq!(channels(&app, p.id).await?, (true, false, None, None));
    app.shutdown().await
}
