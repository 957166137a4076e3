//! The request form without a browser: spam defences, errors kept with the input, the verify
//! and confirmation pages, the status link, and the funnel.

use reqwest::StatusCode;
use testkit::TestApp;

type R = anyhow::Result<()>;

fn attr_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    html.split(marker).nth(1)?.split('"').next()
}

async fn open_form(app: &TestApp, query: &str) -> anyhow::Result<String> {
    let html = app.get(&format!("/request{query}")).send().await?.text().await?;
    attr_after(&html, "name=\"form_token\" value=\"")
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no token in {html}"))
}

fn fields<'a>(token: &'a str, phone: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("form_token", token),
        ("category", "water-heater-repair"),
        ("urgency", "within_48h"),
        ("zip", "55401"),
        ("description", "No hot water since this morning <b>help</b>"),
        ("name", "Sam O'Neil"),
        ("phone", phone),
        ("email", ""),
        ("contact_preference", "sms"),
        ("consent", "yes"),
        ("website", ""),
        ("utm_source", "flyer"),
    ]
}

async fn funnel_steps(app: &TestApp) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT step FROM analytics.funnel_events ORDER BY id").fetch_all(&app.pool).await?)
}

#[tokio::test]
async fn a_homeowner_submits_verifies_and_reaches_their_status_page() -> R {
    let app = TestApp::spawn().await?;
    let token = open_form(&app, "?category=water-heater-repair&utm_source=flyer").await?;
    app.clock.advance(time::Duration::seconds(20));

    // A mistake: the page comes back with the error by the field and everything else kept.
    let res = app.post("/request").form(&fields(&token, "12345")).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await?;
    assert!(html.contains("id=\"error-summary\""));
    assert!(
        html.contains("That doesn&#39;t look like a US phone number")
            || html.contains("That doesn&#x27;t look like a US phone number"),
        "{html}"
    );
    assert!(
        html.contains("value=\"Sam O&#39;Neil\"") || html.contains("value=\"Sam O&#x27;Neil\""),
        "name kept, escaped"
    );
    assert!(html.contains("No hot water since this morning &#60;b&#62;help"), "description kept, escaped");
    assert!(!html.contains("<b>help"), "never rendered as markup");
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"h-phone e-phone\""));
    assert!(html.contains("📍 Minneapolis, MN"), "the town is shown for the ZIP");

    let res = app.post("/request").form(&fields(&token, "612-555-0199")).send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let verify = res.headers()["location"].to_str()?.to_owned();
    assert!(verify.starts_with("/request/verify?t="), "{verify}");
    let page = app.get(&verify).send().await?;
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await?;
    assert!(page.contains("(•••) •••-0199"), "masked phone");
    let t = attr_after(&page, "name=\"t\" value=\"").unwrap_or_default().to_owned();

    let res = app.post("/request/verify").form(&[("t", t.as_str()), ("code", "abc")]).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await?.contains("That code didn"));

    let code = app.latest_code("+16125550199").await?;
    let res = app.post("/request/verify").form(&[("t", t.as_str()), ("code", code.as_str())]).send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let done = res.headers()["location"].to_str()?.to_owned();
    let page = app.get(&done).send().await?.text().await?;
    assert!(
        page.contains("You&#39;re all set") || page.contains("You&#x27;re all set") || page.contains("You're all set"),
        "{page}"
    );
    let status_link = page
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("/r/"))
        .ok_or_else(|| anyhow::anyhow!("no status link on {page}"))?
        .to_owned();
    let path = status_link.trim_start_matches(&app.url).to_owned();
    let status = app.get(&path).send().await?.text().await?;
    assert!(status.contains("Water heater repair") && status.contains("Minneapolis, MN 55401"), "{status}");
    assert!(status.contains("&#60;b&#62;help") && !status.contains("<b>help"), "rendered escaped");

    // Someone guessing links gets nothing.
    let forged = path.replace("/r/", "/r/x");
    assert!(app.get(&forged).send().await?.text().await?.contains("This link has expired"));
    app.clock.advance(time::Duration::days(31));
    assert!(app.get(&path).send().await?.text().await?.contains("This link has expired"), "status links expire");

    let utm: serde_json::Value = sqlx::query_scalar("SELECT utm FROM leads").fetch_one(&app.pool).await?;
    assert_eq!(utm, serde_json::json!({"utm_source": "flyer"}));
    assert_eq!(funnel_steps(&app).await?, ["form_viewed", "submitted", "verified"]);
    Ok(())
}

#[tokio::test]
async fn bots_are_thanked_and_recorded_but_make_no_lead() -> R {
    let app = TestApp::spawn().await?;
    // Too fast: sent back the instant it was shown.
    let token = open_form(&app, "").await?;
    let res = app.post("/request").form(&fields(&token, "6125550190")).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await?.contains("Thanks — we"), "the same thank-you a person gets");
    // The honeypot filled in.
    let token = open_form(&app, "").await?;
    app.clock.advance(time::Duration::seconds(30));
    let mut bot = fields(&token, "6125550191");
    bot.retain(|(k, _)| *k != "website");
    bot.push(("website", "http://spam.example"));
    let res = app.post("/request").form(&bot).send().await?;
    assert_eq!(res.status(), StatusCode::OK);

    let leads: i64 = sqlx::query_scalar("SELECT count(*) FROM leads").fetch_one(&app.pool).await?;
    assert_eq!(leads, 0);
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM lead_rejections ORDER BY created_at, id").fetch_all(&app.pool).await?;
    assert_eq!(reasons, ["too_fast", "honeypot"]);
    Ok(())
}

#[tokio::test]
async fn a_double_click_replays_the_first_answer_and_an_old_form_is_shown_again() -> R {
    let app = TestApp::spawn().await?;
    let token = open_form(&app, "").await?;
    app.clock.advance(time::Duration::seconds(10));
    let first = app.post("/request").form(&fields(&token, "6125550192")).send().await?;
    let second = app.post("/request").form(&fields(&token, "6125550192")).send().await?;
    assert_eq!((first.status(), second.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    let (a, b) = (first.headers()["location"].to_str()?, second.headers()["location"].to_str()?);
    assert_eq!(a.split('.').next(), b.split('.').next(), "the same lead");
    let leads: i64 = sqlx::query_scalar("SELECT count(*) FROM leads").fetch_one(&app.pool).await?;
    assert_eq!(leads, 1);

    // A form left open past its lifetime comes back, input kept, with a fresh token.
    let token = open_form(&app, "").await?;
    app.clock.advance(time::Duration::hours(3));
    let res = app.post("/request").form(&fields(&token, "6125550193")).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await?;
    assert!(html.contains("This form was open a long time"));
    assert!(html.contains("value=\"55401\""));
    assert_ne!(attr_after(&html, "name=\"form_token\" value=\""), Some(token.as_str()));
    // A forged token is treated the same way.
    let res = app.post("/request").form(&fields("forged.123.abc", "6125550193")).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

#[tokio::test]
async fn the_zip_lookup_names_the_town_and_the_first_change_counts_as_started() -> R {
    let app = TestApp::spawn().await?;
    let ok = app.get("/request/zip?zip=02134").send().await?.text().await?;
    assert!(ok.contains("Allston, MA"), "{ok}");
    let unknown = app.get("/request/zip?zip=00000").send().await?.text().await?;
    assert!(unknown.contains("find ZIP 00000 — check the 5 digits"), "{unknown}");
    let hostile = app.get("/request/zip?zip=%3Cscript%3E").send().await?.text().await?;
    assert!(!hostile.contains("<script>"), "{hostile}");
    let partial = app.get("/request/zip?zip=55").send().await?.text().await?;
    assert!(partial.contains("id=\"zip-place\""), "the element stays for the next look-up: {partial}");
    assert!(!partial.contains("📍") && !partial.contains("e-zip"), "nothing to say until 5 digits: {partial}");

    let token = open_form(&app, "").await?;
    let res =
        app.post("/request/started").form(&[("form_token", token.as_str()), ("category", "sewer-line")]).send().await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.post("/request/started").form(&[("form_token", token.as_str())]).send().await?;
    assert_eq!(funnel_steps(&app).await?, ["form_viewed", "form_started"], "each step once per form");
    Ok(())
}

#[tokio::test]
async fn the_request_form_is_rate_limited_per_address_with_a_friendly_page() -> R {
    let app = TestApp::builder().setting("PLUMBERLEADS_RATE_LEADS_PER_IP", "1/1h").spawn().await?;
    let token = open_form(&app, "").await?;
    app.clock.advance(time::Duration::seconds(10));
    assert_eq!(app.post("/request").form(&fields(&token, "6125550194")).send().await?.status(), StatusCode::SEE_OTHER);
    let token = open_form(&app, "").await?;
    app.clock.advance(time::Duration::seconds(10));
    let res = app.post("/request").form(&fields(&token, "6125550195")).send().await?;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.text().await?.contains("Slow down a little"));
    Ok(())
}
