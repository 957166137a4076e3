//! The pro's business profile (onboarding): business and licence, insurance certificate,
//! service area, services, hours, lead preferences — each its own small form — and the hand-off
//! to staff for review. Only the owner sees or changes it (and staff, who review it).

use crate::AppState;
use crate::auth::pages::FieldErrors;
use crate::auth::pages::{forbidden_cross_site, form_ok};
use crate::auth::service::{Audit, audit};
use crate::auth::sessions::{ProPage, SignedIn, StaffPage};
use crate::client_ip::ClientIp;
use crate::intake::form::{assets, html};
use crate::problem::{ApiError, Problem};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use domain::account::BusinessName;
use domain::account::profile::{self, Hours, LeadPreferences, Licence, Progress, ServiceArea};
use domain::lead::FieldError;
use store::profiles::{HoursRow, Preferences, Profile};
use uuid::Uuid;

type Errors = Vec<(String, String)>;
type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

fn checked(pairs: &Pairs, key: &str) -> bool {
    !field(pairs, key).is_empty()
}

fn errors_of(e: Vec<FieldError>) -> Errors {
    e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect()
}

/// How far along a pro is, from their account and profile.
pub async fn progress(state: &AppState, s: &SignedIn) -> Result<(Progress, Option<Profile>), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let p = store::profiles::get(&mut conn, s.user.id).await?;
    let services = !store::profiles::categories(&mut conn, s.user.id).await?.is_empty();
    let progress = match &p {
        Some(p) => Progress {
            email_verified: s.user.email_verified_at.is_some(),
            phone_verified: s.user.phone_verified_at.is_some(),
            licence: p.licence_number.is_some() && p.licence_state.is_some(),
            insurance: p.insurance_key.is_some(),
            service_area: p.base_zip.is_some(),
            services,
            hours: p.hours_set,
            preferences: p.preferences_set,
        },
        None => Progress::default(),
    };
    Ok((progress, p))
}

#[derive(Template)]
#[template(path = "pro_profile.html")]
struct ProfilePage<'a> {
    asset_css: &'a str,
    asset_htmx: &'a str,
    asset_js: &'a str,
    p: &'a Profile,
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
    licence_number: &'a str,
    licence_state: &'a str,
    states: &'a [&'a str],
    insurance_uploaded: Option<String>,
    upload_max_mb: usize,
    base_zip: &'a str,
    radius: String,
    extra_zips: String,
    covered: &'a [store::profiles::CoveredZip],
    towns: Vec<String>,
    /// (slug, name, offered)
    categories: Vec<(String, String, bool)>,
    /// (weekday, name, open, opens, closes)
    days: Vec<(usize, &'static str, bool, String, String)>,
    time_zone: &'a str,
    zones: &'a [(&'a str, &'a str)],
    max_price: String,
    daily_cap: String,
    weekly_budget: String,
}

impl FieldErrors for ProfilePage<'_> {
    fn field_errors(&self) -> &[(String, String)] {
        self.errors
    }
}

impl ProfilePage<'_> {
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

fn dollars(c: Option<i64>) -> String {
    c.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default()
}

fn hhmm(t: time::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

async fn profile_page(
    state: &AppState,
    s: &SignedIn,
    errors: &Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let data = async {
        let mut conn = state.pool.acquire().await?;
        let p = store::profiles::get(&mut conn, s.user.id).await?.ok_or(ApiError::NotFound)?;
        let covered = store::profiles::covered_zips(&mut conn, s.user.id).await?;
        let offered = store::profiles::categories(&mut conn, s.user.id).await?;
        let hours = store::profiles::hours(&mut conn, s.user.id).await?;
        Ok::<_, ApiError>((p, covered, offered, hours))
    }
    .await;
    let (p, covered, offered, hours) = match data {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let all = match state.categories().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut towns: Vec<String> = covered.iter().map(|z| format!("{}, {}", z.city, z.state)).collect();
    towns.dedup();
    let time_zone = p.time_zone.clone().or_else(|| covered.first().map(|_| String::new())).unwrap_or_default();
    let days = profile::WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, name)| match hours.iter().find(|h| usize::try_from(h.weekday).ok() == Some(i)) {
            Some(h) => (i, *name, true, hhmm(h.opens), hhmm(h.closes)),
            None => (i, *name, false, "08:00".to_owned(), "17:00".to_owned()),
        })
        .collect();
    let (asset_css, asset_htmx, asset_js) = assets(state);
    let when = time::macros::format_description!("[month repr:short] [day padding:none], [year]");
    html(
        &ProfilePage {
            asset_css,
            asset_htmx,
            asset_js,
            csrf: &s.session.csrf_token,
            errors,
            notice,
            licence_number: p.licence_number.as_deref().unwrap_or(""),
            licence_state: p.licence_state.as_deref().unwrap_or(""),
            states: &profile::STATES,
            insurance_uploaded: p.insurance_uploaded_at.and_then(|t| t.format(&when).ok()),
            upload_max_mb: state.settings.auth.upload_max_bytes / (1024 * 1024),
            base_zip: p.base_zip.as_deref().unwrap_or(""),
            radius: p.radius_miles.map(|r| r.to_string()).unwrap_or_else(|| "25".into()),
            extra_zips: covered.iter().filter(|z| z.hand_picked).map(|z| z.zip.as_str()).collect::<Vec<_>>().join(", "),
            covered: &covered,
            towns,
            categories: all.iter().map(|c| (c.slug.clone(), c.name.clone(), offered.contains(&c.slug))).collect(),
            days,
            time_zone: &time_zone,
            zones: &profile::TIME_ZONES,
            max_price: dollars(p.max_price_cents),
            daily_cap: p.daily_cap.map(|d| d.to_string()).unwrap_or_default(),
            weekly_budget: dollars(p.weekly_budget_cents),
            p: &p,
        },
        status,
    )
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("business") => Some("Business details saved."),
        Some("insurance") => Some("Insurance certificate uploaded."),
        Some("area") => Some("Service area saved."),
        Some("services") => Some("Services saved."),
        Some("hours") => Some("Hours saved."),
        Some("preferences") => Some("Lead preferences saved."),
        _ => None,
    }
}

pub async fn show(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<DoneQuery>) -> Response {
    profile_page(&state, &s, &Vec::new(), notice_for(q.done.as_deref()), StatusCode::OK).await
}

/// Runs a profile change and its audit entry in one transaction, then goes back to the page.
async fn save<F>(state: &AppState, s: &SignedIn, ip: &str, what: &'static str, change: F) -> Response
where
    F: for<'c> FnOnce(&'c mut sqlx::PgConnection) -> futures::future::BoxFuture<'c, Result<(), sqlx::Error>>,
{
    let result = async {
        let mut tx = state.pool.begin().await?;
        change(&mut tx).await?;
        audit(
            &mut tx,
            state,
            Audit {
                actor: Some(s.user.id),
                action: "profile_changed",
                subject: Some(s.user.id),
                ip: Some(ip),
                detail: serde_json::json!({"part": what}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/pro/profile?done={what}#{what}")).into_response(),
        Err(e) => e.into_response(),
    }
}

macro_rules! guard {
    ($state:expr, $s:expr, $headers:expr, $pairs:expr) => {
        if !form_ok(&$state, &$headers, &$s, field(&$pairs, "csrf")) {
            return forbidden_cross_site();
        }
    };
}

pub async fn business(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    guard!(state, s, headers, pairs);
    let name = BusinessName::parse(field(&pairs, "business_name"));
    let licence = Licence::parse(field(&pairs, "licence_number"), field(&pairs, "licence_state"));
    let (name, licence) = match (name, licence) {
        (Ok(n), Ok(l)) => (n, l),
        (n, l) => {
            let mut errors = Vec::new();
            if let Err(e) = n {
                errors.push(("business_name".to_owned(), e.to_string()));
            }
            if let Err(e) = l {
                errors.extend(errors_of(e));
            }
            return profile_page(&state, &s, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let (id, now) = (s.user.id, state.clock.now());
    save(&state, &s, &ip.to_string(), "business", move |c| {
        Box::pin(async move {
            store::profiles::set_business(c, id, name.as_str(), &licence.number, &licence.state, now).await
        })
    })
    .await
}

pub async fn area(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    guard!(state, s, headers, pairs);
    let parsed =
        ServiceArea::parse(field(&pairs, "base_zip"), field(&pairs, "radius_miles"), field(&pairs, "extra_zips"));
    let area = match parsed {
        Ok(a) => a,
        Err(e) => return profile_page(&state, &s, &errors_of(e), None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    // Every ZIP must exist in the reference data.
    let mut unknown = Vec::new();
    for z in std::iter::once(&area.base).chain(area.extra.iter()) {
        match state.zip(z).await {
            Ok(Some(_)) => {}
            Ok(None) => unknown.push(z.as_str().to_owned()),
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if !unknown.is_empty() {
        let field =
            if unknown.first().map(String::as_str) == Some(area.base.as_str()) { "base_zip" } else { "extra_zips" };
        let errors =
            vec![(field.to_owned(), format!("We couldn't find ZIP {} — check the 5 digits?", unknown.join(", ")))];
        return profile_page(&state, &s, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let within = async {
        let mut conn = state.pool.acquire().await?;
        store::zips::within_radius(&mut conn, &area.base, domain::Miles(f64::from(area.radius_miles))).await
    }
    .await;
    let radius_zips: Vec<String> = match within {
        Ok(list) => list.unwrap_or_default().into_iter().map(|n| n.info.zip).collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let extra: Vec<String> = area.extra.iter().map(|z| z.as_str().to_owned()).collect();
    let (id, now, base, radius) =
        (s.user.id, state.clock.now(), area.base.as_str().to_owned(), i32::from(area.radius_miles));
    // The base ZIP's time zone is the likely one, until the pro says otherwise.
    let tz = state.zip(&area.base).await.ok().flatten().map(|z| z.time_zone);
    save(&state, &s, &ip.to_string(), "area", move |c| {
        Box::pin(async move {
            store::profiles::set_area(c, id, &base, radius, &radius_zips, &extra, now).await?;
            if let Some(tz) = tz {
                store::profiles::default_time_zone(c, id, &tz).await?;
            }
            Ok(())
        })
    })
    .await
}

pub async fn services(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    guard!(state, s, headers, pairs);
    let slugs: Vec<String> = pairs.iter().filter(|(k, _)| k == "category").map(|(_, v)| v.clone()).take(50).collect();
    let known = match state.categories().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if slugs.is_empty() || slugs.iter().any(|s| !known.iter().any(|c| &c.slug == s)) {
        let errors = vec![("services".to_owned(), "Choose at least one kind of job you do.".to_owned())];
        return profile_page(&state, &s, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let id = s.user.id;
    save(&state, &s, &ip.to_string(), "services", move |c| {
        Box::pin(async move { store::profiles::set_categories(c, id, &slugs).await })
    })
    .await
}

pub async fn hours(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    guard!(state, s, headers, pairs);
    let days: [(bool, String, String); 7] = std::array::from_fn(|i| {
        (
            checked(&pairs, &format!("open_{i}")),
            field(&pairs, &format!("opens_{i}")).to_owned(),
            field(&pairs, &format!("closes_{i}")).to_owned(),
        )
    });
    let h = match Hours::parse(&days, field(&pairs, "time_zone"), checked(&pairs, "emergency_24_7")) {
        Ok(h) => h,
        Err(e) => return profile_page(&state, &s, &errors_of(e), None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let rows: Vec<HoursRow> =
        h.days.iter().map(|d| HoursRow { weekday: i16::from(d.weekday), opens: d.opens, closes: d.closes }).collect();
    let (id, now) = (s.user.id, state.clock.now());
    save(&state, &s, &ip.to_string(), "hours", move |c| {
        Box::pin(async move { store::profiles::set_hours(c, id, &rows, &h.time_zone, h.emergency_24_7, now).await })
    })
    .await
}

pub async fn preferences(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    guard!(state, s, headers, pairs);
    let parsed = LeadPreferences::parse(
        field(&pairs, "max_price"),
        checked(&pairs, "shared"),
        checked(&pairs, "exclusive"),
        field(&pairs, "daily_cap"),
        field(&pairs, "weekly_budget"),
        checked(&pairs, "paused"),
    );
    let p = match parsed {
        Ok(p) => p,
        Err(e) => return profile_page(&state, &s, &errors_of(e), None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let prefs = Preferences {
        max_price_cents: p.max_price.map(|c| c.0),
        accepts_shared: p.shared,
        accepts_exclusive: p.exclusive,
        daily_cap: p.daily_cap,
        weekly_budget_cents: p.weekly_budget.map(|c| c.0),
        paused: p.paused,
    };
    let (id, now) = (s.user.id, state.clock.now());
    save(&state, &s, &ip.to_string(), "preferences", move |c| {
        Box::pin(async move { store::profiles::set_preferences(c, id, &prefs, now).await })
    })
    .await
}

/// The types we take, told by the file's first bytes, never by its name or the browser's word.
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some("application/pdf") => Some(("application/pdf", "pdf")),
        Some("image/jpeg") => Some(("image/jpeg", "jpg")),
        Some("image/png") => Some(("image/png", "png")),
        _ => None,
    }
}

pub async fn upload_insurance(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let max = state.settings.auth.upload_max_bytes;
    let read = async {
        let (mut csrf, mut file): (String, Option<Bytes>) = (String::new(), None);
        while let Some(f) = multipart.next_field().await? {
            match f.name() {
                Some("csrf") => csrf = f.text().await?,
                Some("file") => file = Some(f.bytes().await?),
                _ => {}
            }
        }
        Ok::<_, axum::extract::multipart::MultipartError>((csrf, file))
    };
    let (csrf, file) = match read.await {
        Ok(parts) => parts,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let errors =
                vec![("insurance".to_owned(), format!("That file is too large — {} MB at most.", max / (1024 * 1024)))];
            return profile_page(&state, &s, &errors, None, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(e) => {
            let detail = format!("The upload did not arrive whole: {}", e.body_text());
            return Problem::status(StatusCode::BAD_REQUEST, Some(detail)).into_response();
        }
    };
    if !form_ok(&state, &headers, &s, &csrf) {
        return forbidden_cross_site();
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let errors = vec![("insurance".to_owned(), "Choose the file of your insurance certificate.".to_owned())];
        return profile_page(&state, &s, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let Some((content_type, ext)) = sniff(&bytes) else {
        let errors = vec![(
            "insurance".to_owned(),
            "That file isn't a PDF, JPEG or PNG. Save or scan the certificate as one of those and try again."
                .to_owned(),
        )];
        return profile_page(&state, &s, &errors, None, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    };
    let key = format!("insurance/{}/{}.{ext}", s.user.id, Uuid::now_v7());
    if let Err(e) = state.providers.storage.put(&key, bytes).await {
        return ApiError::Internal(e.into()).into_response();
    }
    let (id, now) = (s.user.id, state.clock.now());
    let storage = state.providers.storage.clone();
    let key_for_db = key.clone();
    save(&state, &s, &ip.to_string(), "insurance", move |c| {
        Box::pin(async move {
            if let Some(old) = store::profiles::set_insurance(c, id, &key_for_db, content_type, now).await? {
                // The replaced certificate goes; a failure here only leaves an orphan file.
                let _ = storage.delete(&old).await;
            }
            Ok(())
        })
    })
    .await
}

/// The certificate, to its owner only (with the type we sniffed, never rendered inline as HTML).
pub async fn own_insurance(State(state): State<AppState>, ProPage(s): ProPage) -> Response {
    insurance_of(&state, s.user.id).await
}

/// The certificate of any pro, for staff reviewing it.
pub async fn staff_insurance(State(state): State<AppState>, StaffPage(_): StaffPage, Path(id): Path<Uuid>) -> Response {
    insurance_of(&state, id).await
}

async fn insurance_of(state: &AppState, pro: Uuid) -> Response {
    let p = async {
        let mut conn = state.pool.acquire().await?;
        Ok::<_, ApiError>(store::profiles::get(&mut conn, pro).await?)
    }
    .await;
    let (key, content_type) = match p {
        Ok(Some(Profile { insurance_key: Some(k), insurance_content_type: Some(t), .. })) => (k, t),
        Ok(_) => return ApiError::NotFound.into_response(),
        Err(e) => return e.into_response(),
    };
    match state.providers.storage.get(&key).await {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"insurance-certificate\""),
            );
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
            res
        }
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

/// Sends a finished profile to staff for review.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if !form_ok(&state, &headers, &s, &form.csrf) {
        return forbidden_cross_site();
    }
    let (progress, _) = match progress(&state, &s).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if !progress.ready_for_review() {
        return Redirect::to("/pro?done=not_ready").into_response();
    }
    let result = async {
        let mut tx = state.pool.begin().await?;
        if store::profiles::submit(&mut tx, s.user.id, state.clock.now()).await? {
            audit(
                &mut tx,
                &state,
                Audit {
                    actor: Some(s.user.id),
                    action: "profile_submitted",
                    subject: Some(s.user.id),
                    ip: Some(&ip.to_string()),
                    detail: serde_json::json!({}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/pro?done=submitted").into_response(),
        Err(e) => e.into_response(),
    }
}

/// Staff approve a pro's licence and insurance: the account becomes active.
pub async fn approve(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffPage(staff): StaffPage,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if !form_ok(&state, &headers, &staff, &form.csrf) {
        return forbidden_cross_site();
    }
    if !crate::auth::service::recently_confirmed(&state, &staff) {
        return crate::auth::staff_pages::confirm_first("/staff");
    }
    let result = async {
        let mut tx = state.pool.begin().await?;
        let approved = store::profiles::approve(&mut tx, id, staff.user.id, state.clock.now()).await?;
        if approved {
            audit(
                &mut tx,
                &state,
                Audit {
                    actor: Some(staff.user.id),
                    action: "pro_approved",
                    subject: Some(id),
                    ip: Some(&ip.to_string()),
                    detail: serde_json::json!({}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, ApiError>(approved)
    }
    .await;
    match result {
        Ok(true) => Redirect::to("/staff?done=approved").into_response(),
        Ok(false) => ApiError::NotFound.into_response(),
        Err(e) => e.into_response(),
    }
}
