//! Every page a person meets passes axe-core's accessibility rules with no serious or critical
//! violation (issue 12), at phone and at desktop size: the public pages (with the request form's
//! errors showing), a new plumber's checklist, a working plumber's inbox, wallet, statement,
//! profile and account, and the back office. Pages are checked as they are after loading, with
//! scripts run (the API reference is checked once Swagger UI has drawn it).

use testkit::browser::{Browser, PHONE};
use testkit::market::ProSetup;
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

const PUBLIC: &[&str] = &[
    "/",
    "/request",
    "/request?category=burst-pipe",
    "/login",
    "/signup",
    "/forgot-password",
    "/for-plumbers",
    "/privacy",
    "/terms",
    "/partners",
    "/problems",
    "/problems/validation-error",
    "/no-such-page",
];

#[tokio::test(flavor = "multi_thread")]
async fn no_page_has_a_serious_or_critical_accessibility_violation_on_a_phone_or_a_desktop() -> R {
    let app = TestApp::spawn().await?;
    let pro = app.active_pro(1, &ProSetup::default()).await?;
    let purchase = app.bought_lead(&pro, "6125550199", "drain-cleaning", "55401").await?;
    // The homeowner's own page for that request, by the link we texted them, with what they wrote
    // when they asked again waiting to be added.
    let lead: uuid::Uuid =
        sqlx::query_scalar("SELECT lead_id FROM purchases WHERE id = $1").bind(purchase).fetch_one(&app.pool).await?;
    let now = domain::Clock::now(&app.clock);
    store::lead_notes::keep(&mut *app.pool.acquire().await?, lead, "It overflowed tonight, need someone today", now)
        .await?;
    app.run_pending_jobs().await?;
    let status_page = app
        .texts_to("+16125550199")
        .await?
        .iter()
        .find_map(|t| {
            t.split_whitespace().find(|w| w.contains("/r/")).map(|w| w.trim_start_matches(&app.url).to_owned())
        })
        .ok_or_else(|| anyhow::anyhow!("no status link texted"))?;
    let status_html = app.get(&status_page).send().await?.text().await?;
    anyhow::ensure!(status_html.contains("Add this to my request"), "the note waits on the page: {status_html}");
    app.signup_pro("new@example.com", "+16125550142").await?;
    let waiting = app.active_pro(2, &ProSetup::default()).await?;
    sqlx::query("UPDATE pros SET status = 'pending_approval' WHERE user_id = $1")
        .bind(waiting.id)
        .execute(&app.pool)
        .await?;
    let review = format!("/staff/pros/{}", waiting.id);
    let (staff, staff_password) = app.create_staff("olga@plumberleads.example").await?;
    let secret = app.enrol_staff(staff).await?;
    // A request waiting for its code, for the code page (with "Wrong number?" opened on an error).
    let code_page = {
        let form = app.get("/request").send().await?.text().await?;
        let token =
            form.split("name=\"form_token\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
        app.clock.advance(time::Duration::seconds(10));
        let fields = [
            ("form_token", token),
            ("category", "burst-pipe"),
            ("urgency", "emergency"),
            ("zip", "55401"),
            ("description", "Pipe burst under the sink"),
            ("name", "Sam Lee"),
            ("phone", "6125550111"),
            ("contact_preference", "sms"),
            ("consent", "yes"),
        ];
        let res = app.post("/request").form(&fields).send().await?;
        res.headers()["location"].to_str()?.to_owned()
    };
    let month = {
        let now = domain::Clock::now(&app.clock);
        format!("/pro/wallet/statements/{}-{:02}", now.year(), u8::from(now.month()))
    };

    let mut found = Vec::new();
    for (label, (width, height)) in [("phone", PHONE), ("desktop", (1366, 900))] {
        let b = Browser::start_with_viewport(width, height).await?;
        let result = async {
            let found = &mut found;
            for path in PUBLIC {
                check(&b, &app, label, path, found).await?;
            }
            // The request form as it comes back with every mistake marked.
            b.goto(&format!("{}/request", app.url)).await?;
            app.clock.advance(time::Duration::seconds(5)); // a person takes a moment (bots don't)
            b.click_text("button", "Send my request").await?;
            b.wait_for_text("#error-summary", "Please check", Browser::WAIT).await?;
            note(&b, &format!("{label} /request (errors)"), found).await?;
            check(&b, &app, label, &status_page, found).await?;
            // The code page, then with a mistyped correction of the number.
            check(&b, &app, label, &code_page, found).await?;
            b.click("#change-phone summary").await?;
            b.fill("#f-phone", "612").await?;
            b.click_text("button", "Text the code to this number").await?;
            b.wait_for_text("#e-phone", "phone number", Browser::WAIT).await?;
            note(&b, &format!("{label} {code_page} (wrong number)"), found).await?;
            // The API reference once Swagger UI has drawn the operations.
            b.goto(&format!("{}/api/docs", app.url)).await?;
            b.wait_for_script("document.querySelectorAll('.opblock').length > 0", Browser::WAIT).await?;
            note(&b, &format!("{label} /api/docs"), found).await?;

            // A new plumber's checklist.
            log_in(&b, &app, "new@example.com", PRO_PASSWORD).await?;
            check(&b, &app, label, "/pro", found).await?;
            log_out(&b).await?;
            // A working plumber.
            log_in(&b, &app, &pro.email, PRO_PASSWORD).await?;
            for path in ["/pro/offers", "/pro/wallet", &month, "/pro/profile", "/pro/account", "/pro/account/close"] {
                check(&b, &app, label, path, found).await?;
            }
            log_out(&b).await?;
            // Staff, second factor in.
            log_in(&b, &app, "olga@plumberleads.example", &staff_password).await?;
            b.wait_for_url("/staff/mfa", Browser::WAIT).await?;
            note(&b, &format!("{label} /staff/mfa"), found).await?;
            b.fill("#f-code", &services::infra::totp::code_at(&secret, domain::Clock::now(&app.clock))).await?;
            b.click("main button[type=submit]").await?;
            b.wait_for_url("/staff", Browser::WAIT).await?;
            for path in ["/staff", "/staff/prices", "/staff/disputes", &review] {
                check(&b, &app, label, path, found).await?;
            }
            log_out(&b).await
        }
        .await;
        let closed = b.close().await;
        result?;
        closed?;
    }
    assert!(found.is_empty(), "{} violations:\n{}", found.len(), found.join("\n"));
    app.shutdown().await
}

async fn check(b: &Browser, app: &TestApp, label: &str, path: &str, found: &mut Vec<String>) -> R {
    b.goto(&format!("{}{path}", app.url)).await?;
    note(b, &format!("{label} {path}"), found).await
}

async fn note(b: &Browser, page: &str, found: &mut Vec<String>) -> R {
    found.extend(b.accessibility_violations().await?.into_iter().map(|v| format!("{page}: {v}")));
    Ok(())
}

async fn log_in(b: &Browser, app: &TestApp, email: &str, password: &str) -> R {
    b.goto(&format!("{}/login", app.url)).await?;
    b.fill("#f-email", email).await?;
    b.fill("#f-password", password).await?;
    b.click("main button[type=submit]").await?;
    b.wait_for_script("!location.pathname.startsWith('/login')", Browser::WAIT).await
}

async fn log_out(b: &Browser) -> R {
    b.click(".site-nav__logout button").await?;
    b.wait_for_script("location.pathname.startsWith('/login')", Browser::WAIT).await
}

#[tokio::test]
async fn the_plumbers_price_list_fits_a_phone_without_scrolling_sideways() -> R {
    let app = TestApp::spawn().await?;
    let b = Browser::start().await?;
    let result = async {
        b.goto(&format!("{}/for-plumbers", app.url)).await?;
        let sticks_out =
            b.eval("const w = document.querySelector('.table-wrap'); return w.scrollWidth - w.clientWidth;").await?;
        anyhow::ensure!(sticks_out.as_i64() == Some(0), "the price table is {sticks_out} px wider than a phone");
        anyhow::ensure!(b.horizontal_overflow().await? <= 0, "the page fits the phone");
        Ok(())
    }
    .await;
    let closed = b.close().await;
    result?;
    closed?;
    app.shutdown().await
}
