//! The request form in a real browser (headless Chromium) on a phone-sized screen: htmx, the
//! error summary, the verify code and the confirmation, as a homeowner goes through them.
//! Screenshots land in `target/screenshots/` for a person to look at.

use anyhow::ensure;
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;
use testkit::TestApp;
use testkit::browser::{Browser, PHONE};

type R = anyhow::Result<()>;

const WAIT: Duration = Browser::WAIT;

fn screenshot_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots"))
}

/// `assert_eq!` that returns an error instead of panicking, so the browser is still closed.
fn same<T: PartialEq + Debug>(what: &str, got: T, want: T) -> R {
    ensure!(got == want, "{what}: got {got:?}, expected {want:?}");
    Ok(())
}

/// More than the form's minimum fill time (3 s): a person, not a bot.
fn think(app: &TestApp) {
    app.clock.advance(time::Duration::seconds(5));
}

/// Taps the label of a radio button or checkbox, then checks it took.
async fn choose(browser: &Browser, name: &str, value: &str) -> R {
    let input = format!("input[name=\"{name}\"][value=\"{value}\"]");
    browser.click(&format!("label:has(> {input})")).await?;
    ensure!(browser.is_selected(&input).await?, "{input} is not checked after tapping its label");
    Ok(())
}

/// Nothing sticks out sideways: on a phone that means no sideways scrolling.
async fn fits_the_phone(browser: &Browser, page: &str) -> R {
    let overflow = browser.horizontal_overflow().await?;
    ensure!(overflow <= 0, "{page} is {overflow}px wider than the phone's screen");
    Ok(())
}

#[tokio::test]
async fn a_homeowner_on_a_phone_fixes_a_mistake_confirms_the_code_and_lands_on_the_confirmation() -> R {
    homeowner_at(PHONE, "").await
}

#[tokio::test]
async fn a_homeowner_at_a_desktop_fixes_a_mistake_confirms_the_code_and_lands_on_the_confirmation() -> R {
    homeowner_at((1366, 900), "desktop-").await
}

/// The homeowner's whole journey in a browser of this size; screenshots named with `prefix`.
async fn homeowner_at(size: (u32, u32), prefix: &'static str) -> R {
    let app = TestApp::spawn().await?;
    let browser = Browser::start_with_viewport(size.0, size.1).await?;
    let result = homeowner(&app, &browser, size, prefix).await;
    let closed = browser.close().await;
    result?;
    closed?;
    app.shutdown().await
}

async fn homeowner(app: &TestApp, browser: &Browser, size: (u32, u32), prefix: &str) -> R {
    let shots = screenshot_dir();
    let shot = |name: &str| shots.join(format!("{prefix}{name}"));
    // A plumber takes this job around Minneapolis, so the ZIP step and the confirmation can say so.
    app.active_pro(1, &testkit::market::ProSetup::default()).await?;

    browser.goto(&format!("{}/", app.url)).await?;
    let (width, height) = browser.viewport().await?;
    same("the viewport", (width, height), (u64::from(size.0), u64::from(size.1)))?;
    fits_the_phone(browser, "the home page").await?;
    browser.click_text("a", "Start my request").await?;
    browser.wait_for_url("/request", WAIT).await?;
    browser.wait_for_text("h1", "Tell us about the job", WAIT).await?;
    fits_the_phone(browser, "the request form").await?;

    // First try: everything right but the phone number.
    choose(browser, "category", "burst-pipe").await?;
    choose(browser, "urgency", "emergency").await?;
    browser.fill("#f-zip", "55401").await?;
    // htmx looks the ZIP up as it is typed.
    browser.wait_for_text("#zip-place", "Minneapolis, MN", WAIT).await?;
    browser.wait_for_text("#zip-place", "1 local plumber takes burst pipe or emergency leak jobs here", WAIT).await?;
    browser.fill("#f-description", "Pipe under the kitchen sink burst, water on the floor").await?;
    browser.fill("#f-name", "Sam O'Neil").await?;
    browser.fill("#f-phone", "123").await?;
    choose(browser, "contact_preference", "sms").await?;
    choose(browser, "consent", "yes").await?;
    think(app);
    browser.click_text("main button[type=submit]", "Send my request").await?;

    // The form comes back with the mistake pointed out, at the top and at the field.
    let summary = browser.wait_for_text("#error-summary", "Please check one thing", WAIT).await?;
    ensure!(summary.contains("check the 10 digits"), "summary: {summary}");
    same("the summary's link", browser.attr("#error-summary a", "href").await?.as_deref(), Some("#f-phone"))?;
    let phone_error = browser.text("#e-phone").await?;
    ensure!(phone_error.contains("doesn't look like a US phone number"), "next to the phone: {phone_error:?}");
    same("phone aria-invalid", browser.attr("#f-phone", "aria-invalid").await?.as_deref(), Some("true"))?;
    same("the name's error (only the phone is wrong)", browser.text("#e-name").await?.as_str(), "")?;
    // What they typed is still there.
    same("name", browser.value("#f-name").await?.as_str(), "Sam O'Neil")?;
    same("ZIP", browser.value("#f-zip").await?.as_str(), "55401")?;
    same("phone", browser.value("#f-phone").await?.as_str(), "123")?;
    let description = browser.value("#f-description").await?;
    same("description", description.as_str(), "Pipe under the kitchen sink burst, water on the floor")?;
    for checked in [
        "input[name=category][value=burst-pipe]",
        "input[name=urgency][value=emergency]",
        "input[name=contact_preference][value=sms]",
        "input[name=consent]",
    ] {
        ensure!(browser.is_selected(checked).await?, "{checked} was not kept");
    }
    let place = browser.text("#zip-place").await?;
    ensure!(place.contains("Minneapolis, MN"), "the town is shown again: {place:?}");
    fits_the_phone(browser, "the form with an error").await?;
    browser.screenshot(shot("request-form-error.png")).await?;
    browser.screenshot_full_page(shot("request-form-error-full.png")).await?;

    // Fixed, sent again: on to the code.
    browser.fill("#f-phone", "(612) 555-0123").await?;
    think(app);
    browser.click_text("main button[type=submit]", "Send my request").await?;
    browser.wait_for_url("/request/verify?t=", WAIT).await?;
    browser.wait_for_text("h1", "Confirm your phone", WAIT).await?;
    browser.wait_for_text("main", "(•••) •••-0123", WAIT).await?;
    fits_the_phone(browser, "the verify page").await?;
    browser.screenshot(shot("request-verify.png")).await?;

    let code = app.latest_code("+16125550123").await?;
    browser.fill("#f-code", &code).await?;
    browser.click_text("main button[type=submit]", "Confirm").await?;
    browser.wait_for_url("/request/done?t=", WAIT).await?;
    browser.wait_for_text("h1", "You're all set", WAIT).await?;
    fits_the_phone(browser, "the confirmation page").await?;
    browser.screenshot(shot("request-done.png")).await?;

    browser.click_text("a", "See who's taking my request").await?;
    browser.wait_for_url("/r/", WAIT).await?;
    browser.wait_for_text("main", "Burst pipe or emergency leak", WAIT).await?;
    browser.wait_for_text("main", "Minneapolis, MN", WAIT).await?;
    fits_the_phone(browser, "the status page").await?;
    browser.screenshot_full_page(shot("request-status-full.png")).await?;

    // No script errors, blocked resources or CSP violations anywhere along the way. (Chromium
    // logs the form's 422 answer as a failed load; that one is expected.)
    let errors: Vec<_> = browser
        .console_errors()
        .await?
        .into_iter()
        .filter(|e| {
            !e.message.contains("/request - Failed to load resource: the server responded with a status of 422")
        })
        .collect();
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    Ok(())
}

/// Someone typing a ZIP slowly, as on a phone: every key is its own look-up.
#[tokio::test]
async fn the_town_shows_for_a_zip_typed_one_key_at_a_time() -> R {
    let app = TestApp::spawn().await?;
    let browser = Browser::start().await?;
    let result = zip_typed_slowly(&app, &browser).await;
    let closed = browser.close().await;
    result?;
    closed?;
    app.shutdown().await
}

async fn zip_typed_slowly(app: &TestApp, browser: &Browser) -> R {
    browser.goto(&format!("{}/request", app.url)).await?;
    // Counts look-ups that answered, and those htmx gave up on because their target was gone.
    let count = "window.zipLookups = 0; const done = () => { window.zipLookups += 1; }; \
                 document.body.addEventListener('htmx:afterRequest', done); \
                 document.body.addEventListener('htmx:targetError', done);";
    browser.eval(count).await?;
    let zip = browser.find("#f-zip").await?;
    for (n, key) in "55401".chars().enumerate() {
        zip.send_keys(key.to_string()).await?;
        // The look-up for this key has answered before the next key is typed.
        browser.wait_for_script(&format!("window.zipLookups >= {}", n + 1), WAIT).await?;
    }
    browser.wait_for_text("#zip-place", "Minneapolis, MN", WAIT).await?;
    let errors = browser.console_errors().await?;
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    Ok(())
}

/// How far down the page the ZIP field starts, in phone screens.
async fn screens_to_zip(browser: &Browser) -> anyhow::Result<f64> {
    let top =
        browser.eval("return document.getElementById('f-zip').getBoundingClientRect().top + window.scrollY;").await?;
    Ok(top.as_f64().unwrap_or(f64::MAX) / f64::from(PHONE.1))
}

#[tokio::test]
async fn the_request_form_reaches_the_zip_quickly_and_a_job_chosen_on_the_home_page_stays_chosen() -> R {
    let app = TestApp::spawn().await?;
    let browser = Browser::start().await?;
    let result = async {
        // From the home page's list: that job, chosen, with the others one tap away.
        browser.goto(&format!("{}/", app.url)).await?;
        browser.click("a[href='/request?category=sewer-line']").await?;
        browser.wait_for_url("/request?category=sewer-line", WAIT).await?;
        ensure!(browser.is_selected("input[name=category][value=sewer-line]").await?, "the job is chosen");
        let chosen = screens_to_zip(&browser).await?;
        ensure!(chosen < 1.5, "the ZIP starts {chosen:.1} phone screens down with a job chosen");
        browser.screenshot(screenshot_dir().join("request-form-job-chosen.png")).await?;
        // Changing one's mind: the other jobs are behind one tap.
        browser.click_text("summary", "A different job? Choose another").await?;
        choose(&browser, "category", "gas-line").await?;
        ensure!(!browser.is_selected("input[name=category][value=sewer-line]").await?, "one job at a time");

        // Straight to the form: the most asked-for jobs, the rest behind one tap.
        browser.goto(&format!("{}/request", app.url)).await?;
        let fresh = screens_to_zip(&browser).await?;
        ensure!(fresh < 2.5, "the ZIP starts {fresh:.1} phone screens down (was 4.3)");
        browser.click_text("summary", "More kinds of job (9)").await?;
        choose(&browser, "category", "backflow-testing").await?;
        fits_the_phone(&browser, "the request form with all jobs open").await
    }
    .await;
    let closed = browser.close().await;
    result?;
    closed?;
    app.shutdown().await
}
