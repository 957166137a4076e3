//! The pro profile as JSON (`/api/v1/pro/profile`): the portal's onboarding for other clients,
//! through the same use cases (`services::pros::onboarding`). A section sent replaces that section;
//! a refusal names each field by its path (`area.base_zip`), and nothing is saved unless all is.

use super::values::hhmm;
use crate::AppState;
use crate::auth::sessions::ApiPro;
use crate::client_ip::ClientIp;
use crate::json::json_body;
use crate::problem::{ApiError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::account::profile::{Hours, LeadPreferences, Licence, Notifications, ServiceArea, WEEKDAYS};
use domain::account::{BusinessName, ProStatus};
use domain::{Cents, FieldError};
use serde::{Deserialize, Serialize};
use services::ServiceError;
use services::accounts::SignedIn;
use services::pros::onboarding::{self, Changes, Whole};
use utoipa::ToSchema;

/// ProfileBusiness name and plumbing licence (the licence is unset until given).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBusinessView {
    name: String,
    licence_number: Option<String>,
    licence_state: Option<String>,
}

/// ProfileBusiness name and plumbing licence, as sent: all three replace what was there.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBusiness {
    name: String,
    licence_number: String,
    /// Two letters: the state (or DC, or territory) that issued the licence.
    licence_state: String,
}

/// Where you work: every ZIP within `radius_miles` of `base_zip`, plus `extra_zips`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileArea {
    base_zip: String,
    /// 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    radius_miles: u16,
    /// Up to 200 ZIPs beyond the radius.
    #[serde(default)]
    extra_zips: Vec<String>,
}

/// One weekday's hours; `weekday` 0 = Monday … 6 = Sunday, times `HH:MM` in `time_zone`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileDay {
    #[schema(minimum = 0, maximum = 6)]
    weekday: u8,
    opens: String,
    closes: String,
}

/// When you take jobs. A weekday not listed is closed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileHours {
    /// An IANA name of a US time zone, e.g. `America/Chicago`.
    time_zone: String,
    #[serde(default)]
    emergency_24_7: bool,
    #[serde(default)]
    weekly: Vec<ProfileDay>,
}

/// Which leads you want and the limits never exceeded for you (null: no limit).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePreferences {
    #[serde(default)]
    max_price_cents: Option<i64>,
    shared: bool,
    exclusive: bool,
    #[serde(default)]
    daily_cap: Option<i64>,
    #[serde(default)]
    weekly_budget_cents: Option<i64>,
    #[serde(default)]
    paused: bool,
}

/// How offers reach you besides the inbox and the live stream: a text (never in quiet hours, but
/// for an emergency) and an e-mail. Quiet hours are `HH:MM` in your time zone, both or neither.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileNotifications {
    sms: bool,
    email: bool,
    #[serde(default)]
    quiet_from: Option<String>,
    #[serde(default)]
    quiet_until: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileChecklistItem {
    /// `email_verified`, `phone_verified`, `business`, `insurance`, `area`, `services`, `hours`,
    /// `preferences`.
    item: &'static str,
    done: bool,
}

/// The whole profile; a section not yet given is null (`services`: empty).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    status: ProStatus,
    checklist: Vec<ProfileChecklistItem>,
    business: ProfileBusinessView,
    area: Option<ProfileArea>,
    /// Category slugs (see `GET /api/v1/categories`).
    services: Vec<String>,
    hours: Option<ProfileHours>,
    preferences: Option<ProfilePreferences>,
    notifications: ProfileNotifications,
}

/// Any subset of the sections; each one sent replaces that section.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    business: Option<ProfileBusiness>,
    area: Option<ProfileArea>,
    services: Option<Vec<String>>,
    hours: Option<ProfileHours>,
    preferences: Option<ProfilePreferences>,
    notifications: Option<ProfileNotifications>,
}

fn view(w: Whole) -> ProfileView {
    let p = w.profile;
    let area = match (p.base_zip, p.radius_miles) {
        (Some(base_zip), Some(radius)) => {
            Some(ProfileArea { base_zip, radius_miles: u16::try_from(radius).unwrap_or(0), extra_zips: w.extra_zips })
        }
        _ => None,
    };
    let hours = p.hours_set.then(|| ProfileHours {
        time_zone: p.time_zone.clone().unwrap_or_default(),
        emergency_24_7: p.emergency_24_7,
        weekly: w
            .hours
            .iter()
            .map(|h| ProfileDay {
                weekday: u8::try_from(h.weekday).unwrap_or(0),
                opens: hhmm(h.opens),
                closes: hhmm(h.closes),
            })
            .collect(),
    });
    let preferences = p.preferences_set.then_some(ProfilePreferences {
        max_price_cents: p.max_price_cents,
        shared: p.accepts_shared,
        exclusive: p.accepts_exclusive,
        daily_cap: p.daily_cap.map(i64::from),
        weekly_budget_cents: p.weekly_budget_cents,
        paused: p.paused,
    });
    let notifications = ProfileNotifications {
        sms: p.offer_sms,
        email: p.offer_email,
        quiet_from: p.quiet_from.map(hhmm),
        quiet_until: p.quiet_until.map(hhmm),
    };
    ProfileView {
        status: p.status,
        checklist: w
            .progress
            .checklist()
            .iter()
            .map(|(item, done, _)| ProfileChecklistItem { item, done: *done })
            .collect(),
        business: ProfileBusinessView {
            name: p.business_name,
            licence_number: p.licence_number,
            licence_state: p.licence_state,
        },
        area,
        services: w.services,
        hours,
        preferences,
        notifications,
    }
}

/// The domain names a field as the portal's form does; the API names it by its path.
fn at(field: &'static str) -> &'static str {
    match field {
        "business_name" => "business.name",
        "licence_number" => "business.licence_number",
        "licence_state" => "business.licence_state",
        "base_zip" => "area.base_zip",
        "radius_miles" => "area.radius_miles",
        "extra_zips" => "area.extra_zips",
        "hours" => "hours.weekly",
        "time_zone" => "hours.time_zone",
        "max_price" => "preferences.max_price_cents",
        "weekly_budget" => "preferences.weekly_budget_cents",
        "daily_cap" => "preferences.daily_cap",
        "lead_types" => "preferences.shared",
        "quiet_hours" => "notifications.quiet_from",
        other => other,
    }
}

fn located(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.into_iter().map(|e| FieldError { field: at(e.field), ..e }).collect()
}

fn refused(e: ServiceError) -> Response {
    match e {
        ServiceError::Invalid(errors) => ApiError::Validation(located(errors)).into_response(),
        e => ApiError::from(e).into_response(),
    }
}

async fn answer(state: &AppState, s: &SignedIn, status: StatusCode) -> Response {
    match onboarding::whole(state, &s.user).await {
        Ok(w) => {
            let mut res = (status, Json(view(w))).into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => refused(e),
    }
}

/// The sections sent, parsed by the same rules as the portal's forms; every refusal at once.
fn changes(patch: ProfilePatch) -> Result<Changes, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut keep = |e: Vec<FieldError>| errors.extend(e);
    let business = patch.business.and_then(|b| {
        let name = BusinessName::parse(&b.name)
            .map_err(|e| vec![FieldError { field: "business_name", message: e.to_string() }]);
        let licence = Licence::parse(&b.licence_number, &b.licence_state);
        match (name, licence) {
            (Ok(n), Ok(l)) => Some((n, l)),
            (n, l) => {
                keep(n.err().unwrap_or_default());
                keep(l.err().unwrap_or_default());
                None
            }
        }
    });
    let area = patch.area.and_then(|a| {
        if a.extra_zips.len() > ServiceArea::MAX_EXTRA {
            let message = "That's a lot of ZIP codes — 200 at most. A larger radius may be easier.".to_owned();
            keep(vec![FieldError { field: "extra_zips", message }]);
            return None;
        }
        ServiceArea::parse(&a.base_zip, &a.radius_miles.to_string(), &a.extra_zips.join(",")).map_err(&mut keep).ok()
    });
    let hours = patch.hours.and_then(|h| {
        let mut days: [(bool, String, String); 7] = Default::default();
        for d in h.weekly {
            let message = match days.get(usize::from(d.weekday)) {
                None => "A weekday is 0 (Monday) to 6 (Sunday).".to_owned(),
                Some((true, _, _)) => format!("{} is listed twice.", WEEKDAYS[usize::from(d.weekday)]),
                Some(_) => {
                    days[usize::from(d.weekday)] = (true, d.opens, d.closes);
                    continue;
                }
            };
            keep(vec![FieldError { field: "hours", message }]);
            return None;
        }
        Hours::parse(&days, &h.time_zone, h.emergency_24_7).map_err(&mut keep).ok()
    });
    let preferences = patch.preferences.and_then(|p| {
        LeadPreferences::new(
            p.max_price_cents.map(Cents),
            p.shared,
            p.exclusive,
            p.daily_cap,
            p.weekly_budget_cents.map(Cents),
            p.paused,
        )
        .map_err(&mut keep)
        .ok()
    });
    let notifications = patch.notifications.and_then(|n| {
        let (from, until) = (n.quiet_from.unwrap_or_default(), n.quiet_until.unwrap_or_default());
        Notifications::parse(n.sms, n.email, &from, &until).map_err(&mut keep).ok()
    });
    let services = patch.services;
    if errors.is_empty() {
        Ok(Changes { business, area, services, hours, preferences, notifications })
    } else {
        Err(errors)
    }
}

/// Your profile, its status and what remains before review.
#[utoipa::path(
    get,
    path = "/api/v1/pro/profile",
    tag = "pro",
    operation_id = "getProfile",
    security(("bearer" = [])),
    responses((status = 200, description = "The whole profile", body = ProfileView))
)]
pub async fn get_profile(State(state): State<AppState>, ApiPro(s): ApiPro) -> Response {
    answer(&state, &s, StatusCode::OK).await
}

/// Replace any of the profile's sections, all or none. Changing an approved licence sends the
/// profile back to review.
#[utoipa::path(
    patch,
    path = "/api/v1/pro/profile",
    tag = "pro",
    operation_id = "updateProfile",
    security(("bearer" = [])),
    request_body(content = ProfilePatch, content_type = "application/json"),
    responses((status = 200, description = "The whole profile, as saved", body = ProfileView))
)]
pub async fn update_profile(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPro(s): ApiPro,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let patch: ProfilePatch = match json_body(&headers, &body) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let changes = match changes(patch) {
        Ok(c) => c,
        Err(errors) => return ApiError::Validation(located(errors)).into_response(),
    };
    match onboarding::update(&state, s.user.id, &ip.to_string(), changes).await {
        Ok(()) => answer(&state, &s, StatusCode::OK).await,
        Err(e) => refused(e),
    }
}

/// A multipart upload: the certificate as the part `file`.
#[derive(Debug, ToSchema)]
pub struct InsuranceUpload {
    /// A PDF, JPEG or PNG (told by its bytes).
    #[schema(value_type = String, format = Binary)]
    #[expect(dead_code, reason = "describes the multipart body for the document; the handler reads the parts")]
    file: Vec<u8>,
}

/// Upload your insurance certificate (PDF, JPEG or PNG); it replaces the previous one, and an
/// approved profile goes back to review.
#[utoipa::path(
    post,
    path = "/api/v1/pro/profile/insurance",
    tag = "pro",
    operation_id = "uploadInsurance",
    security(("bearer" = [])),
    request_body(content = InsuranceUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Kept; the whole profile", body = ProfileView),
        (status = 413, description = "The file is larger than the upload limit", body = Problem,
         content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, JPEG or PNG", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload_insurance(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPro(s): ApiPro,
    mut multipart: Multipart,
) -> Response {
    let max = state.settings.auth.upload_max_bytes;
    let read = async {
        let mut file = None;
        while let Some(f) = multipart.next_field().await? {
            if f.name() == Some("file") {
                file = Some(f.bytes().await?);
            }
        }
        Ok::<_, axum::extract::multipart::MultipartError>(file)
    };
    let file = match read.await {
        Ok(file) => file,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let detail = format!("That file is too large — {} MB at most.", max / (1024 * 1024));
            return Problem::status(StatusCode::PAYLOAD_TOO_LARGE, Some(detail)).into_response();
        }
        Err(e) => {
            let detail = format!("The upload did not arrive whole: {}", e.body_text());
            return Problem::status(StatusCode::BAD_REQUEST, Some(detail)).into_response();
        }
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let message = "Send the certificate as the multipart part `file`.".to_owned();
        return ApiError::Validation(vec![FieldError { field: "file", message }]).into_response();
    };
    match onboarding::upload_insurance(&state, s.user.id, &ip.to_string(), bytes).await {
        Ok(()) => answer(&state, &s, StatusCode::CREATED).await,
        Err(e) => refused(e),
    }
}

/// Send the finished profile to staff for review.
#[utoipa::path(
    post,
    path = "/api/v1/pro/profile/submit",
    tag = "pro",
    operation_id = "submitProfile",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "In review (`status: pending_approval`), or already approved", body = ProfileView),
        (status = 422, description = "The checklist is not done: `errors[]` names each open item", body = Problem,
         content_type = "application/problem+json"),
    )
)]
pub async fn submit_profile(State(state): State<AppState>, ClientIp(ip): ClientIp, ApiPro(s): ApiPro) -> Response {
    match onboarding::submit_for_review(&state, &s.user, &ip.to_string()).await {
        Ok(true) => answer(&state, &s, StatusCode::OK).await,
        Ok(false) => match onboarding::progress(&state, &s.user).await {
            Ok((progress, _)) => {
                let open = progress
                    .checklist()
                    .iter()
                    .filter(|(_, done, _)| !done)
                    .map(|(item, _, todo)| FieldError { field: item, message: (*todo).to_owned() })
                    .collect();
                ApiError::Validation(open).into_response()
            }
            Err(e) => refused(e),
        },
        Err(e) => refused(e),
    }
}
