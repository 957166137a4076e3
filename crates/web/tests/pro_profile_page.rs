//! The profile page never loses what was typed (issue 12, item 1): it is one form, sent whole as
//! a browser sends it; every part changed anywhere on the page is saved together, whichever Save
//! is pressed; a refusal brings the whole page back as typed, with nothing saved.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use scraper::{Html, Selector};
use testkit::{PRO_PASSWORD, TestApp};

type R = anyhow::Result<()>;

fn cookie(value: &str) -> String {
    format!("__Host-pl_session={value}")
}

/// What a browser would send for the page's form `#profile` as it stands: every named control
/// that belongs to it (ticked boxes only; a select's chosen option, or its first).
fn form_fields(html: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let controls =
        Selector::parse("#profile input[name], #profile select[name], #profile textarea[name]").expect("css");
    let chosen = Selector::parse("option[selected]").expect("css");
    let first = Selector::parse("option").expect("css");
    let mut out = Vec::new();
    for el in doc.select(&controls) {
        let e = el.value();
        let name = e.attr("name").unwrap_or_default().to_owned();
        if e.attr("form").is_some() {
            continue; // another form's control (the certificate upload)
        }
        match e.name() {
            "select" => {
                let option = el.select(&chosen).next().or_else(|| el.select(&first).next());
                out.push((name, option.and_then(|o| o.value().attr("value")).unwrap_or_default().to_owned()));
            }
            "textarea" => out.push((name, el.text().collect())),
            _ => match e.attr("type") {
                Some("checkbox") => {
                    if e.attr("checked").is_some() {
                        out.push((name, e.attr("value").unwrap_or("on").to_owned()));
                    }
                }
                Some("file") => {}
                _ => out.push((name, e.attr("value").unwrap_or_default().to_owned())),
            },
        }
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, key: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == key) {
        Some(f) => f.1 = value.to_owned(),
        None => fields.push((key.to_owned(), value.to_owned())),
    }
}

fn untick(fields: &mut Vec<(String, String)>, key: &str) {
    fields.retain(|(k, _)| k != key);
}

struct Page {
    app: TestApp,
    sid: String,
    id: uuid::Uuid,
}

impl Page {
    async fn open() -> anyhow::Result<Self> {
        let app = TestApp::spawn().await?;
        let id = app.signup_pro("pat@example.com", "+16125550177").await?;
        let sid = app.browser_login("pat@example.com", PRO_PASSWORD).await?;
        Ok(Self { app, sid, id })
    }

    async fn fields(&self) -> anyhow::Result<Vec<(String, String)>> {
        let html = self.app.get("/pro/profile").header(COOKIE, cookie(&self.sid)).send().await?.text().await?;
        Ok(form_fields(&html))
    }

    /// Presses the Save button `save` with these fields: (status, Location or page).
    async fn save(&self, mut fields: Vec<(String, String)>, save: &str) -> anyhow::Result<(StatusCode, String)> {
        fields.push(("save".into(), save.into()));
        let res = self.app.post("/pro/profile").header(COOKIE, cookie(&self.sid)).form(&fields).send().await?;
        let status = res.status();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Ok((status, if status == StatusCode::SEE_OTHER { location } else { res.text().await? }))
    }

    async fn stored(&self) -> anyhow::Result<(Option<String>, Option<String>, Option<i32>)> {
        Ok(sqlx::query_as("SELECT licence_number, licence_state::text, radius_miles FROM pros WHERE user_id = $1")
            .bind(self.id)
            .fetch_one(&self.app.pool)
            .await?)
    }
}

#[tokio::test]
async fn a_licence_typed_in_one_part_is_saved_when_another_parts_save_is_pressed() -> R {
    let page = Page::open().await?;
    let mut fields = page.fields().await?;
    set(&mut fields, "licence_number", "PL-778812");
    set(&mut fields, "licence_state", "MN");
    set(&mut fields, "base_zip", "55401");
    set(&mut fields, "radius_miles", "15");
    assert_eq!(page.save(fields, "area").await?, (StatusCode::SEE_OTHER, "/pro/profile?done=area#area".into()));
    assert_eq!(page.stored().await?, (Some("PL-778812".into()), Some("MN".into()), Some(15)), "both parts saved");

    // Pressing Save with nothing changed says so, and writes nothing (no audit entry).
    let audits = || {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM identity.audit_log WHERE action = 'profile_changed'")
            .fetch_one(&page.app.pool)
    };
    let before = audits().await?;
    let (status, to) = page.save(page.fields().await?, "hours").await?;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/pro/profile?done=unchanged_hours#hours"));
    assert_eq!(audits().await?, before, "nothing written");
    let html = page.app.get("/pro/profile?done=unchanged_hours").header(COOKIE, cookie(&page.sid)).send().await?;
    assert!(html.text().await?.contains("Nothing had changed"));
    Ok(())
}

#[tokio::test]
async fn a_refusal_brings_the_whole_page_back_as_typed_and_saves_nothing() -> R {
    let page = Page::open().await?;
    let mut fields = page.fields().await?;
    // A licence number typed before the state was picked; a travel distance that isn't one;
    // Monday to Friday ticked with Friday's closing time before its opening; a service ticked.
    set(&mut fields, "licence_number", "PL-778812");
    set(&mut fields, "base_zip", "55401");
    set(&mut fields, "radius_miles", "far");
    for day in 0..5 {
        set(&mut fields, &format!("open_{day}"), "on");
    }
    set(&mut fields, "opens_4", "09:00");
    set(&mut fields, "closes_4", "07:30");
    set(&mut fields, "time_zone", "America/Chicago");
    set(&mut fields, "category", "drain-cleaning");
    untick(&mut fields, "shared");
    let (status, html) = page.save(fields, "hours").await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let kept = form_fields(&html);
    let value = |k: &str| kept.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(value("licence_number"), Some("PL-778812"), "the licence number is kept");
    assert_eq!(value("radius_miles"), Some("far"), "the mistake is kept, to be seen and fixed");
    assert_eq!((value("opens_4"), value("closes_4")), (Some("09:00"), Some("07:30")), "Friday as typed");
    assert_eq!((0..5).filter(|d| value(&format!("open_{d}")).is_some()).count(), 5, "the ticked days stay ticked");
    assert_eq!(value("category"), Some("drain-cleaning"));
    assert_eq!(value("shared"), None, "an unticked box stays unticked");
    assert_eq!(value("time_zone"), Some("America/Chicago"));
    for error in ["e-licence_state", "e-radius_miles", "e-hours"] {
        let said = html.split(&format!("id=\"{error}\">")).nth(1).and_then(|r| r.split('<').next()).unwrap_or_default();
        assert!(!said.is_empty(), "{error} says what is wrong");
    }
    assert_eq!(page.stored().await?, (None, None, None), "nothing saved");
    Ok(())
}
