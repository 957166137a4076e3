//! Staff review a plumber (issue 12, item 12): the whole profile before deciding; approve only
//! with the check ticked; send back for changes or turn down with a message the plumber gets by
//! e-mail and text and sees on their portal; every decision audited in words.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use testkit::market::ProSetup;
use testkit::{PRO_PASSWORD, TestApp, csrf_in};
use uuid::Uuid;

type R = anyhow::Result<()>;

fn cookie(sid: &str) -> String {
    format!("__Host-pl_session={sid}")
}

/// A pro with a whole profile (Minneapolis, 10 miles; four services; weekday hours) waiting for
/// review, and the staff member's session: (pro, pro's e-mail, staff cookie, staff CSRF token).
async fn waiting(app: &TestApp) -> anyhow::Result<(Uuid, String, String, String)> {
    let pro = app.active_pro(1, &ProSetup::default()).await?;
    sqlx::query(
        "UPDATE pros SET status = 'pending_approval', approved_at = NULL, approved_by = NULL WHERE user_id = $1",
    )
    .bind(pro.id)
    .execute(&app.pool)
    .await?;
    let sid = app.staff_session("olga@plumberleads.example").await?;
    let home = app.get("/staff").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    Ok((pro.id, pro.email, sid, csrf_in(&home)))
}

async fn status_of(app: &TestApp, pro: Uuid) -> anyhow::Result<(String, Option<String>)> {
    Ok(sqlx::query_as("SELECT status::text, review_message FROM pros WHERE user_id = $1")
        .bind(pro)
        .fetch_one(&app.pool)
        .await?)
}

#[tokio::test]
async fn staff_see_the_whole_profile_and_approve_only_with_the_check_ticked() -> R {
    let app = TestApp::spawn().await?;
    let (pro, email, sid, csrf) = waiting(&app).await?;
    let home = app.get("/staff").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(home.contains(&format!("href=\"/staff/pros/{pro}\">Review Pro 1 Plumbing")), "{home}");

    let page = app.get(&format!("/staff/pros/{pro}")).header(COOKIE, cookie(&sid)).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await?;
    let covered: i64 = sqlx::query_scalar("SELECT count(*) FROM pro_service_zips WHERE pro_id = $1")
        .bind(pro)
        .fetch_one(&app.pool)
        .await?;
    for shown in [
        "Waiting for approval".to_owned(),
        "MN ".to_owned(),
        format!("href=\"/staff/pros/{pro}/insurance\""),
        "55401 (Minneapolis, MN), 10 miles around".to_owned(),
        format!("Every ZIP code covered ({covered})"),
        "Burst pipe or emergency leak, Drain cleaning, Clogged toilet, Leak detection".to_owned(),
        "<dt>Monday</dt><dd>08:00–17:00</dd>".to_owned(),
        "America/Chicago".to_owned(),
    ] {
        assert!(page.contains(&shown), "the review shows {shown:?}");
    }

    let approve = |checked: Option<&'static str>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(checked.map(|c| ("checked", c.to_owned())));
        app.post(&format!("/staff/pros/{pro}/approve")).header(COOKIE, cookie(&sid)).form(&form).send()
    };
    let res = approve(None).await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await?.contains("Tick this once you&#39;ve checked"));
    assert_eq!(status_of(&app, pro).await?.0, "pending_approval", "nothing approved without the check");
    let res = approve(Some("yes")).await?;
    assert_eq!(res.headers()["location"], "/staff?done=approved");
    assert_eq!(status_of(&app, pro).await?.0, "active");
    assert_eq!(app.latest_email_to(&email).await?.0, "You're approved: leads can start");
    // Decided already: no second decision.
    assert_eq!(approve(Some("yes")).await?.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn changes_asked_for_go_back_to_the_plumber_who_sees_them_and_sends_the_profile_again() -> R {
    let app = TestApp::spawn().await?;
    let (pro, email, sid, csrf) = waiting(&app).await?;
    let ask = |message: &'static str| {
        app.post(&format!("/staff/pros/{pro}/changes"))
            .header(COOKIE, cookie(&sid))
            .form(&[("csrf", csrf.as_str()), ("message", message)])
            .send()
    };
    // Nothing said: the form comes back; too long: the same, with what was typed.
    let res = ask("   ").await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await?.contains("id=\"e-changes\">Say what the plumber should change"));
    let long: &'static str = Box::leak("x".repeat(2_001).into_boxed_str());
    let res = ask(long).await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await?.contains(&format!(">{long}</textarea>")), "what was typed is kept");

    let res = ask("The licence number has a typo: MN licences start with PC.").await?;
    assert_eq!(res.headers()["location"], "/staff?done=changes_asked");
    assert_eq!(
        status_of(&app, pro).await?,
        ("onboarding".to_owned(), Some("The licence number has a typo: MN licences start with PC.".to_owned()))
    );
    let (subject, body) = app.latest_email_to(&email).await?;
    assert_eq!(subject, "Please change a few things on your profile");
    assert!(body.contains("MN licences start with PC"), "{body}");

    // The plumber sees it on their portal, and sending again clears it.
    let pro_sid = app.browser_login(&email, PRO_PASSWORD).await?;
    let portal = app.get("/pro").header(COOKIE, cookie(&pro_sid)).send().await?.text().await?;
    assert!(portal.contains("We need a few changes before we can approve you") && portal.contains("start with PC"));
    let res =
        app.post("/pro/submit").header(COOKIE, cookie(&pro_sid)).form(&[("csrf", csrf_in(&portal))]).send().await?;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, pro).await?, ("pending_approval".to_owned(), None));

    // In the audit, in words, with who.
    let home = app.get("/staff").header(COOKIE, cookie(&sid)).send().await?.text().await?;
    assert!(
        home.contains("<td>Olga Ops (olga@plumberleads.example)</td><td>Asked a plumber for changes</td>"),
        "{home}"
    );
    Ok(())
}

#[tokio::test]
async fn a_plumber_turned_down_is_told_why_and_gets_no_leads() -> R {
    let app = TestApp::spawn().await?;
    let (pro, email, sid, csrf) = waiting(&app).await?;
    let res = app
        .post(&format!("/staff/pros/{pro}/turn-down"))
        .header(COOKIE, cookie(&sid))
        .form(&[("csrf", csrf.as_str()), ("message", "The insurance certificate belongs to another business.")])
        .send()
        .await?;
    assert_eq!(res.headers()["location"], "/staff?done=turned_down");
    assert_eq!(status_of(&app, pro).await?.0, "suspended");
    assert_eq!(app.latest_email_to(&email).await?.0, "We couldn't approve your account");
    let texts = app.texts_to("+16125551001").await?;
    assert!(texts[0].contains("we couldn't approve your account"), "{texts:?}");
    let pro_sid = app.browser_login(&email, PRO_PASSWORD).await?;
    let portal = app.get("/pro").header(COOKIE, cookie(&pro_sid)).send().await?.text().await?;
    assert!(
        portal.contains("We couldn't approve your account") && portal.contains("belongs to another business"),
        "{portal}"
    );
    // A lead in their area and line of work does not reach them.
    let lead = app.verified_lead("6125550142", "drain-cleaning", "within_48h", "55401").await?;
    app.run_pending_jobs().await?;
    let offers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM offers WHERE lead_id = $1").bind(lead).fetch_one(&app.pool).await?;
    assert_eq!(offers, 0);
    Ok(())
}
