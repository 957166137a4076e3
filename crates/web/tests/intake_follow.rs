//! What happens after the request form when a person trips (issue 12, items 8 and 9): sending
//! the same job again (and what it said joining the request), a mistyped mobile number, and
//! asking for a new code too soon.

use reqwest::StatusCode;
use testkit::TestApp;

type R = anyhow::Result<()>;

fn attr_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    html.split(marker).nth(1)?.split('"').next()
}

/// Opens the form, takes a person's few seconds, and sends the water-heater job from `phone`:
/// the response.
async fn send_request(app: &TestApp, phone: &str, description: &str) -> anyhow::Result<reqwest::Response> {
    let form = app.get("/request").send().await?.text().await?;
    let token = attr_after(&form, "name=\"form_token\" value=\"").unwrap_or_default().to_owned();
    app.clock.advance(time::Duration::seconds(10));
    send_form(app, &token, phone, description).await
}

async fn send_form(app: &TestApp, token: &str, phone: &str, description: &str) -> anyhow::Result<reqwest::Response> {
    send_job(app, token, "water-heater-repair", phone, description).await
}

async fn send_job(
    app: &TestApp,
    token: &str,
    category: &str,
    phone: &str,
    description: &str,
) -> anyhow::Result<reqwest::Response> {
    let fields = [
        ("form_token", token),
        ("category", category),
        ("urgency", "within_48h"),
        ("zip", "55401"),
        ("description", description),
        ("name", "Sam O'Neil"),
        ("phone", phone),
        ("contact_preference", "sms"),
        ("consent", "yes"),
        ("website", ""),
    ];
    Ok(app.post("/request").form(&fields).send().await?)
}

/// The code page a request was sent to: (its path, its `t` token, its HTML).
async fn code_page(app: &TestApp, res: reqwest::Response) -> anyhow::Result<(String, String, String)> {
    anyhow::ensure!(res.status() == StatusCode::SEE_OTHER, "the form answered {}", res.status());
    let path = res.headers()["location"].to_str()?.to_owned();
    let html = app.get(&path).send().await?.text().await?;
    let t = attr_after(&html, "name=\"t\" value=\"").unwrap_or_default().to_owned();
    Ok((path, t, html))
}

async fn confirm(app: &TestApp, t: &str, code: &str) -> anyhow::Result<StatusCode> {
    Ok(app.post("/request/verify").form(&[("t", t), ("code", code)]).send().await?.status())
}

async fn leads(app: &TestApp) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM leads").fetch_one(&app.pool).await?)
}

#[tokio::test]
async fn sending_an_unconfirmed_request_again_goes_back_to_its_code_page_with_a_new_code() -> R {
    let app = TestApp::spawn().await?;
    let (_, first_t, _) = code_page(&app, send_request(&app, "6125550150", "No hot water").await?).await?;
    // They closed the tab without typing the code; a few minutes later they send it again.
    app.clock.advance(time::Duration::minutes(3));
    let res = send_request(&app, "(612) 555-0150", "No hot water at all since this morning").await?;
    let (path, t, html) = code_page(&app, res).await?;
    assert!(path.contains("again=1"), "{path}");
    assert!(html.contains("You started this request earlier"), "{html}");
    assert_eq!(leads(&app).await?, 1, "the same request, not a second one");
    app.run_pending_jobs().await?;
    let texts = app.texts_to("+16125550150").await?;
    assert_eq!(texts.iter().filter(|t| t.contains("code is")).count(), 2, "a fresh code: {texts:?}");
    // The new code confirms the one request, through either page's link.
    let code = app.latest_code("+16125550150").await?;
    assert_eq!(confirm(&app, &t, &code).await?, StatusCode::SEE_OTHER);
    assert_eq!(confirm(&app, &first_t, &code).await?, StatusCode::SEE_OTHER, "already confirmed: on to the end");
    let status: String = sqlx::query_scalar("SELECT status::text FROM leads").fetch_one(&app.pool).await?;
    assert_eq!(status, "verified");
    Ok(())
}

#[tokio::test]
async fn sending_a_confirmed_request_again_texts_its_link_to_the_phone_and_shows_nothing_of_it() -> R {
    let app = TestApp::spawn().await?;
    let (_, t, _) = code_page(&app, send_request(&app, "6125550151", "Leaking tank, need someone").await?).await?;
    let code = app.latest_code("+16125550151").await?;
    assert_eq!(confirm(&app, &t, &code).await?, StatusCode::SEE_OTHER);
    app.run_pending_jobs().await?;
    let texts_before = app.texts_to("+16125550151").await?.len();

    let form = app.get("/request").send().await?.text().await?;
    let token = attr_after(&form, "name=\"form_token\" value=\"").unwrap_or_default().to_owned();
    app.clock.advance(time::Duration::seconds(10));
    let res = send_form(&app, &token, "6125550151", "Still leaking").await?;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await?;
    assert!(page.contains("Your request is already with plumbers"), "{page}");
    assert!(page.contains("We&#39;ve texted you the link") || page.contains("We&#x27;ve texted you the link"));
    // Whoever typed the number may not own it: the page shows nothing of the earlier request.
    for private in ["/r/", "Leaking tank", "O&#39;Neil", "0151"] {
        assert!(!page.contains(private), "the page shows {private:?}");
    }
    app.run_pending_jobs().await?;
    let texts = app.texts_to("+16125550151").await?;
    assert_eq!(texts.len(), texts_before + 1, "one text: {texts:?}");
    let link = texts[0].split_whitespace().find(|w| w.contains("/r/")).unwrap_or_default();
    let status = app.get(link.trim_start_matches(&app.url)).send().await?.text().await?;
    assert!(status.contains("Leaking tank"), "the link is the earlier request's page: {status}");
    assert_eq!(leads(&app).await?, 1);

    // A double-click answers the same again without a second text.
    let again = send_form(&app, &token, "6125550151", "Still leaking").await?;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.text().await?.contains("Your request is already with plumbers"));
    app.run_pending_jobs().await?;
    assert_eq!(app.texts_to("+16125550151").await?.len(), texts_before + 1);
    Ok(())
}

#[tokio::test]
async fn a_mistyped_mobile_is_corrected_on_the_code_page_and_the_code_goes_to_the_right_one() -> R {
    let app = TestApp::spawn().await?;
    let (_, t, html) = code_page(&app, send_request(&app, "6125550160", "Water heater pilot out").await?).await?;
    assert!(html.contains("Wrong number? Change it"));
    let wrong_code = app.latest_code("+16125550160").await?;

    // A mistake in the correction: said by the field, with what was typed kept.
    let res = app.post("/request/verify/phone").form(&[("t", t.as_str()), ("phone", "612 555")]).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await?;
    assert!(
        page.contains("value=\"612 555\"")
            && page.contains("<details class=\"change-phone\" id=\"change-phone\" open>")
    );
    assert!(page.contains("look like a US phone number"), "{page}");

    // Corrected at once: no wait for the resend limit (the last code went to someone else).
    let res = app.post("/request/verify/phone").form(&[("t", t.as_str()), ("phone", "612-555-0161")]).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await?;
    assert!(page.contains("(•••) •••-0161"), "{page}");
    assert_eq!(confirm(&app, &t, &wrong_code).await?, StatusCode::UNPROCESSABLE_ENTITY, "the old code is void");
    let code = app.latest_code("+16125550161").await?;
    assert_eq!(confirm(&app, &t, &code).await?, StatusCode::SEE_OTHER);
    let phone: String = sqlx::query_scalar("SELECT phone FROM leads").fetch_one(&app.pool).await?;
    assert_eq!(phone, "+16125550161");
    // Once confirmed, the number is what it is.
    let res = app.post("/request/verify/phone").form(&[("t", t.as_str()), ("phone", "6125550162")]).send().await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn corrections_count_against_the_codes_a_request_may_send() -> R {
    let app = TestApp::spawn().await?;
    let (_, t, _) =
        code_page(&app, send_request(&app, "6125550170", "Slow drip under the water heater").await?).await?;
    // The form's code was the first of five.
    for n in 1..=4 {
        let phone = format!("612555017{n}");
        let res =
            app.post("/request/verify/phone").form(&[("t", t.as_str()), ("phone", phone.as_str())]).send().await?;
        assert_eq!(res.status(), StatusCode::OK, "correction {n}");
    }
    let res = app.post("/request/verify/phone").form(&[("t", t.as_str()), ("phone", "6125550179")]).send().await?;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await?.contains("value=\"6125550179\""), "what was typed is kept");
    app.run_pending_jobs().await?;
    assert!(app.texts_to("+16125550179").await?.is_empty(), "nothing sent past the limit");
    Ok(())
}

#[tokio::test]
async fn a_new_code_asked_for_too_soon_says_how_long_to_wait_above_the_form_not_on_the_code_box() -> R {
    let app = TestApp::spawn().await?;
    let (_, t, _) = code_page(&app, send_request(&app, "6125550180", "No hot water").await?).await?;
    app.clock.advance(time::Duration::seconds(15));
    let res = app.post("/request/verify/resend").form(&[("t", t.as_str())]).send().await?;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "45");
    let page = res.text().await?;
    assert!(page.contains("You can ask for another one in 45 seconds"), "{page}");
    assert!(!page.contains("aria-invalid=\"true\""), "the code box is not in error");
    // Just under the minute: still refused; at the minute: sent.
    app.clock.advance(time::Duration::seconds(44));
    let res = app.post("/request/verify/resend").form(&[("t", t.as_str())]).send().await?;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await?.contains("another one in 1 second;"));
    app.clock.advance(time::Duration::seconds(1));
    let res = app.post("/request/verify/resend").form(&[("t", t.as_str())]).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    Ok(())
}

/// The form's token, a person's few seconds later.
async fn fresh_form(app: &TestApp) -> anyhow::Result<String> {
    let form = app.get("/request").send().await?.text().await?;
    app.clock.advance(time::Duration::seconds(10));
    Ok(attr_after(&form, "name=\"form_token\" value=\"").unwrap_or_default().to_owned())
}

#[tokio::test]
async fn what_a_repeat_says_joins_the_request_only_from_the_phones_link_and_its_plumbers_see_it() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(1, &testkit::market::ProSetup::default()).await?;
    let cookie = format!("__Host-pl_session={}", app.browser_login(&pro.email, testkit::PRO_PASSWORD).await?);
    app.bought_lead(&pro, "6125550170", "drain-cleaning", "55401").await?;
    app.run_pending_jobs().await?;
    let inbox = || async {
        let res = app.get("/pro/offers").header("cookie", &cookie).send().await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "the inbox answered {}", res.status());
        let page = res.text().await?;
        anyhow::ensure!(page.contains("The kitchen sink drains slowly"), "the bought lead is listed: {page}");
        anyhow::Ok(page)
    };
    const SAID: &str = "It overflowed tonight - need someone today please";

    // The homeowner asks again with something new: it is kept, not yet part of the request.
    let res = send_job(&app, &fresh_form(&app).await?, "drain-cleaning", "6125550170", SAID).await?;
    let page = res.text().await?;
    assert!(page.contains("What you wrote this time is kept: open the link to add it"), "{page}");
    assert!(!inbox().await?.contains("need someone today"), "not added by whoever typed the number");
    app.run_pending_jobs().await?;
    let text = app.texts_to("+16125550170").await?.into_iter().find(|t| t.contains("asked again")).unwrap_or_default();
    assert!(text.contains("To add what you wrote this time, open"), "{text}");
    let link = text.split_whitespace().find(|w| w.contains("/r/")).unwrap_or_default().trim_start_matches(&app.url);
    let status = app.get(link).send().await?.text().await?;
    assert!(status.contains(SAID) && status.contains("Add this to my request"), "{status}");
    let note: i64 = sqlx::query_scalar("SELECT id FROM lead_notes").fetch_one(&app.pool).await?;

    // Sending the same words again keeps no second note.
    send_job(&app, &fresh_form(&app).await?, "drain-cleaning", "6125550170", SAID).await?;
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM lead_notes").fetch_one(&app.pool).await?;
    assert_eq!(notes, 1);

    // Hostile and broken taps add nothing and break nothing.
    let forged = format!("/r/{}x/notes", link.trim_start_matches("/r/"));
    assert_eq!(app.post(&forged).form(&[("note", note)]).send().await?.status(), StatusCode::NOT_FOUND);
    for body in [vec![("note", "not-a-number")], vec![], vec![("note", "-1")]] {
        let res = app.post(&format!("{link}/notes")).form(&body).send().await?;
        assert!(res.status().is_client_error() || res.status() == StatusCode::SEE_OTHER, "{body:?}: {}", res.status());
    }
    // Another request's note, through this request's link.
    let other = app.verified_lead("6125550171", "burst-pipe", "within_48h", "55401").await?;
    let mut conn = app.pool.acquire().await?;
    store::lead_notes::keep(&mut conn, other, "Not this request's words", domain::Clock::now(&app.clock)).await?;
    let theirs: i64 =
        sqlx::query_scalar("SELECT id FROM lead_notes WHERE lead_id = $1").bind(other).fetch_one(&app.pool).await?;
    app.post(&format!("{link}/notes")).form(&[("note", theirs)]).send().await?;
    let added: i64 =
        sqlx::query_scalar("SELECT count(*) FROM lead_notes WHERE added_at IS NOT NULL").fetch_one(&app.pool).await?;
    assert_eq!(added, 0);
    assert!(!inbox().await?.contains("need someone today"));

    // The phone's owner taps "Add this" (twice: the second finds it done).
    for _ in 0..2 {
        let res = app.post(&format!("{link}/notes")).form(&[("note", note)]).send().await?;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"].to_str()?, format!("{link}?added=1#notes"));
    }
    let status = app.get(&format!("{link}?added=1")).send().await?.text().await?;
    assert!(status.contains("Added to your request. The plumbers who take it see it."), "{status}");
    assert!(status.contains(&format!("You added:</span> {SAID}")) && !status.contains("Add this to my request"));
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM lead_events WHERE kind = 'note_added'").fetch_one(&app.pool).await?;
    assert_eq!(events, 1, "added once");
    let page = inbox().await?;
    assert!(page.contains(&format!("Added later by the homeowner:</span> {SAID}")), "{page}");
    Ok(())
}
