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
pub(crate) mod values;

use values::Values;

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
    /// Every field's value: as typed when the page comes back with an error, else as saved.
    v: &'a Values,
    csrf: &'a str,
    errors: &'a Errors,
    /// Always `None`: a saved part's notice shows in that part (`saved_in`), where the page lands.
    notice: Option<&'a str>,
    /// The part just saved (its heading's id) and what to say there.
    saved: Option<(&'a str, &'a str)>,
    states: &'a [&'a str],
    insurance_uploaded: Option<String>,
    upload_max_mb: usize,
    covered: &'a [store::profiles::CoveredZip],
    towns: Vec<String>,
    /// (slug, name, offered)
    categories: Vec<(String, String, bool)>,
    /// (weekday, name, open, opens, closes)
    days: Vec<(usize, &'static str, bool, String, String)>,
    zones: &'a [(&'a str, &'a str)],
    /// What the settings on the page bring, rendered by the same template the live preview answers with.
    preview: String,
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

/// What the page is drawn from: the stored profile and its parts.
struct Stored {
    p: Profile,
    covered: Vec<store::profiles::CoveredZip>,
    offered: Vec<String>,
    hours: Vec<store::profiles::HoursRow>,
}

impl Stored {
    async fn read(state: &AppState, pro: Uuid) -> Result<Self, ApiError> {
        let mut conn = state.pool.acquire().await?;
        let p = store::profiles::get(&mut conn, pro).await?.ok_or(ApiError::NotFound)?;
        let covered = store::profiles::covered_zips(&mut conn, pro).await?;
        let offered = store::profiles::categories(&mut conn, pro).await?;
        let hours = store::profiles::hours(&mut conn, pro).await?;
        Ok(Self { p, covered, offered, hours })
    }

    fn values(&self) -> Values {
        Values::saved(&self.p, &self.covered, &self.offered, &self.hours)
    }
}

/// What the page shows in place of what is stored: everything typed (the page's form), or one
/// part as typed (a single part's form).
enum Typed<'a> {
    Nothing,
    All(&'a Pairs),
    Part(Part, &'a Pairs),
}

async fn profile_page(
    state: &AppState,
    s: &SignedIn,
    errors: &Errors,
    saved: Option<(&str, &str)>,
    typed: Typed<'_>,
    status: StatusCode,
) -> Response {
    let stored = match Stored::read(state, s.user.id).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let all = match state.categories().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let v = match typed {
        Typed::Nothing => stored.values(),
        Typed::All(pairs) => Values::typed(pairs),
        Typed::Part(part, pairs) => stored.values().with_part(part, pairs),
    };
    let Stored { p, covered, .. } = &stored;
    let mut towns: Vec<String> = covered.iter().map(|z| format!("{}, {}", z.city, z.state)).collect();
    towns.dedup();
    let days = profile::WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (open, opens, closes) = (format!("open_{i}"), format!("opens_{i}"), format!("closes_{i}"));
            (i, *name, v.on(&open), v.one(&opens).to_owned(), v.one(&closes).to_owned())
        })
        .collect();
    let area = ServiceArea::parse(v.one("base_zip"), v.one("radius_miles"), v.one("extra_zips")).ok();
    let slugs: Vec<String> = v.many("category").into_iter().map(str::to_owned).collect();
    let max_price = profile::parse_dollars(v.one("max_price")).ok().flatten();
    let preview = preview_panel(state, area, &slugs, max_price).await;
    let chrome = Chrome::signed_in(state, s);
    let when = time::macros::format_description!("[month repr:short] [day padding:none], [year]");
    html(
        &ProfilePage {
            chrome,
            csrf: &s.session.csrf_token,
            errors,
            notice: None,
            saved,
            states: &profile::STATES,
            insurance_uploaded: p.insurance_uploaded_at.and_then(|t| t.format(&when).ok()),
            upload_max_mb: state.settings.auth.upload_max_bytes / (1024 * 1024),
            covered,
            towns,
            categories: all.iter().map(|c| (c.slug.clone(), c.name.clone(), slugs.contains(&c.slug))).collect(),
            days,
            zones: &profile::TIME_ZONES,
            preview,
            v: &v,
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
    if let Some(part) = done?.strip_prefix("unchanged_") {
        return Some((part, "Nothing had changed, so there was nothing to save."));
    }
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
    profile_page(&state, &s, &Vec::new(), notice_for(q.done()), Typed::Nothing, StatusCode::OK).await
}

/// After a part is saved: back to the page, at that part; a refusal shows on the page, beside
/// the fields it names, with what was typed in that part.
async fn saved(
    state: &AppState,
    s: &SignedIn,
    part: Part,
    posted: Option<&Pairs>,
    result: Result<(), ServiceError>,
) -> Response {
    let typed = posted.map_or(Typed::Nothing, |pairs| Typed::Part(part, pairs));
    match result {
        Ok(()) => Redirect::to(&format!("/pro/profile?done={0}#{0}", part.as_str())).into_response(),
        Err(ServiceError::Invalid(errors)) => refused(state, s, errors, typed, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(ServiceError::UnsupportedType(error)) => {
            refused(state, s, vec![error], typed, StatusCode::UNSUPPORTED_MEDIA_TYPE).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn refused(state: &AppState, s: &SignedIn, errors: Errors, typed: Typed<'_>, status: StatusCode) -> Response {
    profile_page(state, s, &errors, None, typed, status).await
}

fn parse_business(pairs: &Pairs) -> Result<(BusinessName, Licence), Errors> {
    let name = BusinessName::parse(field(pairs, "business_name"));
    let licence = Licence::parse(field(pairs, "licence_number"), field(pairs, "licence_state"));
    match (name, licence) {
        (Ok(name), Ok(licence)) => Ok((name, licence)),
        (name, licence) => {
            let mut errors = Vec::new();
            if let Err(e) = name {
                errors.push(FieldError { field: "business_name", message: e.to_string() });
            }
            errors.extend(licence.err().unwrap_or_default());
            Err(errors)
        }
    }
}

fn parse_area(pairs: &Pairs) -> Result<ServiceArea, Errors> {
    ServiceArea::parse(field(pairs, "base_zip"), field(pairs, "radius_miles"), field(pairs, "extra_zips"))
}

fn parse_services(pairs: &Pairs) -> Vec<String> {
    pairs.0.iter().filter(|(k, _)| k == "category").map(|(_, v)| v.clone()).take(50).collect()
}

fn parse_hours(pairs: &Pairs) -> Result<Hours, Errors> {
    let days: [(bool, String, String); 7] = std::array::from_fn(|i| {
        (
            checked(pairs, &format!("open_{i}")),
            field(pairs, &format!("opens_{i}")).to_owned(),
            field(pairs, &format!("closes_{i}")).to_owned(),
        )
    });
    Hours::parse(&days, field(pairs, "time_zone"), checked(pairs, "emergency_24_7"))
}

fn parse_preferences(pairs: &Pairs) -> Result<LeadPreferences, Errors> {
    LeadPreferences::parse(
        field(pairs, "max_price"),
        checked(pairs, "shared"),
        checked(pairs, "exclusive"),
        field(pairs, "daily_cap"),
        field(pairs, "weekly_budget"),
        checked(pairs, "paused"),
    )
}

fn parse_notifications(pairs: &Pairs) -> Result<Notifications, Errors> {
    Notifications::parse(
        checked(pairs, "offer_sms"),
        checked(pairs, "offer_email"),
        field(pairs, "quiet_from"),
        field(pairs, "quiet_until"),
    )
}

/// The page's one form: every part changed on the page is checked and saved together (or none
/// is), whichever Save was pressed; parts nobody touched are left alone. On a refusal the whole
/// page comes back as typed, with each problem beside its field.
pub async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let here = Part::ALL.into_iter().find(|p| p.as_str() == field(&pairs, "save")).unwrap_or(Part::Business);
    let stored = match Stored::read(&state, s.user.id).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let changed = Values::typed(&pairs).changed_parts(&stored.values());
    if changed.is_empty() {
        return Redirect::to(&format!("/pro/profile?done=unchanged_{0}#{0}", here.as_str())).into_response();
    }
    let mut changes = onboarding::Changes::default();
    let mut errors = Vec::new();
    for part in changed {
        match part {
            Part::Business => parse_business(&pairs).map(|b| changes.business = Some(b)),
            Part::Area => parse_area(&pairs).map(|a| changes.area = Some(a)),
            Part::Services => {
                changes.services = Some(parse_services(&pairs));
                Ok(())
            }
            Part::Hours => parse_hours(&pairs).map(|h| changes.hours = Some(h)),
            Part::Preferences => parse_preferences(&pairs).map(|p| changes.preferences = Some(p)),
            Part::Notifications => parse_notifications(&pairs).map(|n| changes.notifications = Some(n)),
            Part::Insurance => Ok(()),
        }
        .unwrap_or_else(|e| errors.extend(e));
    }
    let result = if errors.is_empty() {
        onboarding::update(&state, s.user.id, &ip.to_string(), changes).await
    } else {
        Err(ServiceError::Invalid(errors))
    };
    match result {
        Ok(()) => Redirect::to(&format!("/pro/profile?done={0}#{0}", here.as_str())).into_response(),
        Err(ServiceError::Invalid(errors)) => {
            refused(&state, &s, errors, Typed::All(&pairs), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

// One part at a time (a form that posts only that part's fields).

pub async fn business(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result = match parse_business(&pairs) {
        Ok((name, licence)) => onboarding::set_business(&state, s.user.id, &ip.to_string(), name, licence).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Business, Some(&pairs), result).await
}

pub async fn area(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result = match parse_area(&pairs) {
        Ok(area) => onboarding::set_area(&state, s.user.id, &ip.to_string(), area).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Area, Some(&pairs), result).await
}

pub async fn services(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result = onboarding::set_services(&state, s.user.id, &ip.to_string(), parse_services(&pairs)).await;
    saved(&state, &s, Part::Services, Some(&pairs), result).await
}

pub async fn hours(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result = match parse_hours(&pairs) {
        Ok(h) => onboarding::set_hours(&state, s.user.id, &ip.to_string(), h).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Hours, Some(&pairs), result).await
}

pub async fn preferences(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result = match parse_preferences(&pairs) {
        Ok(p) => onboarding::set_preferences(&state, s.user.id, &ip.to_string(), p).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Preferences, Some(&pairs), result).await
}

pub async fn notifications(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(pairs): SignedForm<Pairs>,
) -> Response {
    let result = match parse_notifications(&pairs) {
        Ok(n) => onboarding::set_notifications(&state, s.user.id, &ip.to_string(), n).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    saved(&state, &s, Part::Notifications, Some(&pairs), result).await
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
            let errors = vec![FieldError { field: "insurance", message }];
            return refused(&state, &s, errors, Typed::Nothing, StatusCode::PAYLOAD_TOO_LARGE).await;
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
    saved(&state, &s, Part::Insurance, None, result).await
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
