//! Coverage honesty (issue 12, item 2): the ZIP step says whether plumbers on PlumberLeads take
//! this kind of job there; where none does the homeowner is told before sending (and, in an
//! emergency, what to do right now), the request is still taken, and the confirmation does not
//! promise a call.

use reqwest::StatusCode;
use testkit::TestApp;
use testkit::market::ProSetup;

type R = anyhow::Result<()>;

async fn lookup(app: &TestApp, query: &str) -> anyhow::Result<String> {
    let res = app.get(&format!("/request/zip?{query}")).send().await?;
    anyhow::ensure!(res.status() == StatusCode::OK, "the look-up answered {}", res.status());
    Ok(res.text().await?)
}

#[tokio::test]
async fn the_zip_step_says_how_many_plumbers_take_the_job_there_or_that_none_does() -> R {
    let app = TestApp::spawn().await?;
    // Drain cleaning around Minneapolis (55401 and 10 miles round it), not sewer lines.
    app.active_pro(1, &ProSetup::default()).await?;
    let covered = lookup(&app, "zip=55401&category=drain-cleaning&urgency=within_48h").await?;
    assert!(covered.contains("📍 Minneapolis, MN"), "{covered}");
    assert!(covered.contains("1 local plumber takes drain cleaning jobs here."), "{covered}");
    assert!(!covered.contains("No plumber"), "{covered}");

    let other_job = lookup(&app, "zip=55401&category=sewer-line&urgency=within_48h").await?;
    assert!(other_job.contains("No plumber on PlumberLeads takes sewer line jobs around here yet"), "{other_job}");
    assert!(other_job.contains("You can still send your request"));
    assert!(!other_job.contains("main water valve"), "not an emergency");

    // Far from any plumber, in an emergency: what to do now.
    let far = lookup(&app, "zip=02134&category=drain-cleaning&urgency=emergency").await?;
    assert!(far.contains("📍 Allston, MA") && far.contains("No plumber on PlumberLeads"), "{far}");
    assert!(far.contains("Turn off your main water valve now"), "{far}");

    // No job chosen yet: the town only. A paused plumber takes nothing.
    let no_job = lookup(&app, "zip=55401").await?;
    assert!(no_job.contains("Minneapolis, MN") && !no_job.contains("plumber"), "{no_job}");
    sqlx::query("UPDATE pros SET paused = true").execute(&app.pool).await?;
    let paused = lookup(&app, "zip=55401&category=drain-cleaning&urgency=flexible").await?;
    assert!(paused.contains("No plumber on PlumberLeads takes drain cleaning"), "{paused}");

    // One message about the ZIP: an unknown one replaces the ZIP's error in place, a known one
    // clears it, a half-typed one leaves it alone.
    let unknown = lookup(&app, "zip=00000&category=drain-cleaning").await?;
    assert!(unknown.contains(r#"<p class="field-error" id="e-zip" hx-swap-oob="true">We couldn"#), "{unknown}");
    assert!(covered.contains(r#"<p class="field-error" id="e-zip" hx-swap-oob="true"></p>"#), "{covered}");
    let partial = lookup(&app, "zip=554&category=drain-cleaning").await?;
    assert!(!partial.contains("e-zip"), "{partial}");
    Ok(())
}

#[tokio::test]
async fn a_request_nobody_covers_is_taken_and_its_confirmation_promises_no_call() -> R {
    let app = TestApp::spawn().await?;
    let form = app.get("/request").send().await?.text().await?;
    let token = form.split("name=\"form_token\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    app.clock.advance(time::Duration::seconds(10));
    let fields = [
        ("form_token", token),
        ("category", "burst-pipe"),
        ("urgency", "emergency"),
        ("zip", "02134"),
        ("description", "Pipe burst in the basement"),
        ("name", "Kim Park"),
        ("phone", "6175550123"),
        ("contact_preference", "sms"),
        ("consent", "yes"),
    ];
    let res = app.post("/request").form(&fields).send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "still taken");
    let verify = res.headers()["location"].to_str()?.to_owned();
    let page = app.get(&verify).send().await?.text().await?;
    let t = page.split("name=\"t\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned();
    let code = app.latest_code("+16175550123").await?;
    let res = app.post("/request/verify").form(&[("t", t.as_str()), ("code", code.as_str())]).send().await?;
    let done = res.headers()["location"].to_str()?.to_owned();
    let page = app.get(&done).send().await?.text().await?;
    assert!(page.contains("nobody may call") && page.contains("burst pipe"), "{page}");
    assert!(!page.contains("Expect a call"), "{page}");
    assert!(page.contains("main water valve"), "an emergency: what to do now");
    app.run_pending_jobs().await?;
    let texts = app.texts_to("+16175550123").await?;
    assert!(texts[0].contains("no plumber on PlumberLeads takes it near you yet"), "{texts:?}");
    Ok(())
}
