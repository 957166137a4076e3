//! The pro's business profile (onboarding): business and licence, insurance certificate,
//! service area, services, hours, lead preferences — each its own small form — and the hand-off
//! to staff for review. Only the owner sees or changes it (and staff, who review it).

use crate::AppState;
use crate::auth::sessions::{ProPage, StaffPage};
use crate::client_ip::ClientIp;
use crate::html::{
    Chrome, CsrfForm, CsrfToken, DoneQuery, FieldErrors, SignedForm, csrf_ok, forbidden_cross_site, html, same_origin,
};
use crate::problem::{ApiError, Problem};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::FieldError;
use domain::account::BusinessName;
use domain::account::profile::{self, Hours, LeadPreferences, Licence, Notifications, ServiceArea};
use services::ServiceError;
use services::accounts::SignedIn;
use services::pros::onboarding::{self, Part};
use store::profiles::Profile;
use uuid::Uuid;

pub mod api;

type Errors = Vec<FieldError>;
/// A profile form's fields in the order sent, repeated names kept (`category`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Pairs(Vec<(String, String)>);

impl CsrfToken for Pairs {
    fn csrf(&self) -> &str {
        field(self, "csrf")
    }
}

fn field<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

fn checked(pairs: &Pairs, key: &str) -> bool {
    !field(pairs, key).is_empty()
}

#[derive(Template)]
#[template(path = "pro_profile.html")]
struct ProfilePage<'a> {
    chrome: Chrome<'a>,
    p: &'a Profile,
    csrf: &'a str,
    errors: &'a Errors,
    /// Always `None`: a saved part's notice shows in that part (`saved_in`), where the page lands.
    notice: Option<&'a str>,
    /// The part just saved (its heading's id) and what to say there.
    saved: Option<(&'a str, &'a str)>,
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
    /// What the saved settings bring, rendered by the same template the live preview answers with.
    preview: String,
    quiet_from: String,
    quiet_until: String,
}

impl FieldErrors for ProfilePage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

impl ProfilePage<'_> {
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn saved_in(&self, part: &str) -> Option<&str> {
        self.saved.filter(|(p, _)| *p == part).map(|(_, text)| text)
    }
}

fn dollars(c: Option<i64>) -> String {
    c.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default()
}

/// "HH:MM", as time inputs and the profile API write it.
fn hhmm(t: time::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

async fn profile_page(
    state: &AppState,
    s: &SignedIn,
    errors: &Errors,
    saved: Option<(&str, &str)>,
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
    let saved_area = ServiceArea::parse(
        p.base_zip.as_deref().unwrap_or(""),
        &p.radius_miles.map(|r| r.to_string()).unwrap_or_default(),
        &covered.iter().filter(|z| z.hand_picked).map(|z| z.zip.as_str()).collect::<Vec<_>>().join(","),
    );
    let preview = preview_panel(state, saved_area.ok(), &offered, p.max_price_cents.map(domain::Cents)).await;
    let chrome = Chrome::signed_in(state, s);
    let when = time::macros::format_description!("[month repr:short] [day padding:none], [year]");
    html(
        &ProfilePage {
            chrome,
            csrf: &s.session.csrf_token,
            errors,
            notice: None,
            saved,
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
            preview,
            quiet_from: p.quiet_from.map(hhmm).unwrap_or_default(),
            quiet_until: p.quiet_until.map(hhmm).unwrap_or_default(),
            p: &p,
        },
        status,
    )
}

/// One row of the preview: a chosen service's prices and the requests it matched.
struct PreviewRow {
    name: String,
    exclusive: bool,
    /// (price, urgency in words)
    prices: Vec<(domain::Cents, &'static str)>,
    matched: i64,
    above_max_price: i64,
}

#[derive(Template)]
#[template(path = "pro_preview.html")]
struct PreviewPanel {
    message: Option<&'static str>,
    max_price: Option<domain::Cents>,
    rows: Vec<PreviewRow>,
}

/// The panel for an area (none: not given yet or not readable), services and price limit.
async fn preview_panel(
    state: &AppState,
    area: Option<ServiceArea>,
    slugs: &[String],
    max_price: Option<domain::Cents>,
) -> String {
    let message = match (&area, slugs.is_empty()) {
        (None, _) => Some("Give your base ZIP code and how far you travel to see the requests near you."),
        (Some(_), true) => Some("Tick the jobs you do to see their prices and how many requests came in."),
        _ => None,
    };
    let rows = match (&area, message) {
        (Some(area), None) => match services::pros::preview::preview(state, area, slugs, max_price).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "profile preview failed");
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    let rows = rows
        .into_iter()
        .map(|r| PreviewRow {
            name: r.name,
            exclusive: r.exclusive,
            prices: r.prices.iter().rev().map(|(u, c)| (*c, urgency_words(*u))).collect(),
            matched: r.matched,
            above_max_price: r.above_max_price,
        })
        .collect();
    PreviewPanel { message, max_price, rows }.render().unwrap_or_default()
}

fn urgency_words(u: domain::Urgency) -> &'static str {
    match u {
        domain::Urgency::Emergency => "emergency",
        domain::Urgency::Within48h => "within 48 h",
        domain::Urgency::Flexible => "flexible",
    }
}

/// The live preview while the pro edits area, services and price limit (htmx swaps it in):
/// what the form holds now, saved or not.
pub async fn preview(State(state): State<AppState>, ProPage(_): ProPage, Query(pairs): Query<Pairs>) -> Response {
    let area =
        ServiceArea::parse(field(&pairs, "base_zip"), field(&pairs, "radius_miles"), field(&pairs, "extra_zips")).ok();
    let slugs: Vec<String> = pairs.0.iter().filter(|(k, _)| k == "category").map(|(_, v)| v.clone()).take(50).collect();
    let max_price = profile::parse_dollars(field(&pairs, "max_price")).ok().flatten();
    let panel = preview_panel(&state, area, &slugs, max_price).await;
    ([(header::CACHE_CONTROL, "no-store")], axum::response::Html(panel)).into_response()
}

/// The part just saved, and what to say there.
fn notice_for(done: Option<&str>) -> Option<(&str, &'static str)> {
    let part = done?;
    let text = match part {
        "business" => "Business details saved.",
        "insurance" => "Insurance certificate uploaded.",
        "area" => "Service area saved.",
        "services" => "Services saved.",
        "hours" => "Hours saved.",
        "preferences" => "Lead preferences saved.",
        "notifications" => "Notifications saved.",
        _ => return None,
    };
    Some((part, text))
}

pub async fn show(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<DoneQuery>) -> Response {
    profile_page(&state, &s, &Vec::new(), notice_for(q.done()), StatusCode::OK).await
}

/// After a part is saved: back to the page, at that part; a refusal shows on the page, beside
/// the fields it names.
async fn saved(state: &AppState, s: &SignedIn, part: Part, result: Result<(), ServiceError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/pro/profile?done={0}#{0}", part.as_str())).into_response(),
        Err(ServiceError::Invalid(errors)) => refused(state, s, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(ServiceError::UnsupportedType(error)) => {
            refused(state, s, vec![error], StatusCode::UNSUPPORTED_MEDIA_TYPE).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn refused(state: &AppState, s: &SignedIn, errors: Vec<FieldError>, status: StatusCode) -> Response {
    profile_page(state, s, &errors, None, status).await
}

pub async fn business(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let name = BusinessName::parse(field(&pairs, "business_name"));
    let licence = Licence::parse(field(&pairs, "licence_number"), field(&pairs, "licence_state"));
    let result = match (name, licence) {
        (Ok(name), Ok(licence)) => onboarding::set_business(&state, s.user.id, &ip.to_string(), name, licence).await,
        (name, licence) => {
            let mut errors = Vec::new();
            if let Err(e) = name {
                errors.push(FieldError { field: "business_name", message: e.to_string() });
            }
            errors.extend(licence.err().unwrap_or_default());
            Err(ServiceError::Invalid(errors))
        }
    };
    saved(&state, &s, Part::Business, result).await
}

pub async fn area(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result =
        match ServiceArea::parse(field(&pairs, "base_zip"), field(&pairs, "radius_miles"), field(&pairs, "extra_zips"))
        {
            Ok(area) => onboarding::set_area(&state, s.user.id, &ip.to_string(), area).await,
            Err(errors) => Err(ServiceError::Invalid(errors)),
        };
    saved(&state, &s, Part::Area, result).await
}

pub async fn services(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let slugs: Vec<String> = pairs.0.iter().filter(|(k, _)| k == "category").map(|(_, v)| v.clone()).take(50).collect();
    let result = onboarding::set_services(&state, s.user.id, &ip.to_string(), slugs).await;
    saved(&state, &s, Part::Services, result).await
}

pub async fn hours(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let days: [(bool, String, String); 7] = std::array::from_fn(|i| {
        (
            checked(&pairs, &format!("open_{i}")),
            field(&pairs, &format!("opens_{i}")).to_owned(),
            field(&pairs, &format!("closes_{i}")).to_owned(),
        )
    });
    let result = match Hours::parse(&days, field(&pairs, "time_zone"), checked(&pairs, "emergency_24_7")) {
        Ok(h) => onboarding::set_hours(&state, s.user.id, &ip.to_string(), h).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Hours, result).await
}

pub async fn preferences(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let parsed = LeadPreferences::parse(
        field(&pairs, "max_price"),
        checked(&pairs, "shared"),
        checked(&pairs, "exclusive"),
        field(&pairs, "daily_cap"),
        field(&pairs, "weekly_budget"),
        checked(&pairs, "paused"),
    );
    let result = match parsed {
        Ok(p) => onboarding::set_preferences(&state, s.user.id, &ip.to_string(), p).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Preferences, result).await
}

pub async fn notifications(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let parsed = Notifications::parse(
        checked(&pairs, "offer_sms"),
        checked(&pairs, "offer_email"),
        field(&pairs, "quiet_from"),
        field(&pairs, "quiet_until"),
    );
    let result = match parsed {
        Ok(n) => onboarding::set_notifications(&state, s.user.id, &ip.to_string(), n).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Notifications, result).await
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
            let message = format!("That file is too large — {} MB at most.", max / (1024 * 1024));
            return refused(
                &state,
                &s,
                vec![FieldError { field: "insurance", message }],
                StatusCode::PAYLOAD_TOO_LARGE,
            )
            .await;
        }
        Err(e) => {
            let detail = format!("The upload did not arrive whole: {}", e.body_text());
            return Problem::status(StatusCode::BAD_REQUEST, Some(detail)).into_response();
        }
    };
    if !(same_origin(&state, &headers) && csrf_ok(&s, &csrf)) {
        return forbidden_cross_site();
    }
    let result = match file.filter(|b| !b.is_empty()) {
        Some(bytes) => onboarding::upload_insurance(&state, s.user.id, &ip.to_string(), bytes).await,
        None => {
            let message = "Choose the file of your insurance certificate.".to_owned();
            Err(ServiceError::Invalid(vec![FieldError { field: "insurance", message }]))
        }
    };
    saved(&state, &s, Part::Insurance, result).await
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
    let (bytes, content_type) = match onboarding::insurance(state, pro).await {
        Ok(found) => found,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=\"insurance-certificate\""));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    res
}

/// Sends a finished profile to staff for review.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match onboarding::submit_for_review(&state, &s.user, &ip.to_string()).await {
        Ok(true) => Redirect::to("/pro?done=submitted").into_response(),
        Ok(false) => Redirect::to("/pro?done=not_ready").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
