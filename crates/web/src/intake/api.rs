//! `/api/v1` for leads and categories (PRODUCT.md's contract). Partners authenticate with an API
//! key (`Authorization: Bearer pl_…`); without one a submission counts as our own web source.

use crate::AppState;
use crate::client_ip::ClientIp;
use crate::json::json_body;
use crate::problem::{ApiError, Problem, unauthorized};
use crate::problem_types::ProblemType;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use domain::lead::{LeadInput, LeadStatus};
use serde::{Deserialize, Serialize};
use services::intake::{self, Outcome, Source, Submission, Submitted, Verified};
use services::{CodeError, ServiceError};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The partner behind a valid API key.
#[derive(Debug, Clone, Copy)]
pub struct Partner(pub Uuid);

/// `None` without a key; a 401 problem for a key that is wrong, unknown or revoked.
async fn partner(state: &AppState, headers: &HeaderMap) -> Result<Option<Partner>, Response> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    let Some(raw) = raw else { return Ok(None) };
    match services::partners::authenticate(state, raw).await {
        Ok(id) => Ok(Some(Partner(id))),
        Err(ServiceError::BadCredentials) => Err(unauthorized("That API key is not valid.")),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LeadRequest {
    #[serde(flatten)]
    input: LeadInput,
    /// Campaign attribution (`utm_source`, `utm_medium`, …); other keys are dropped.
    #[serde(default)]
    utm: BTreeMap<String, String>,
    #[serde(default)]
    referrer: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Whether the homeowner still has to enter the code texted to them.
    required: bool,
    /// When the code sent expires (null when none is needed).
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadCreated {
    id: Uuid,
    status: LeadStatus,
    verification: Verification,
}

/// The answer to a submission's outcome; a replay of a key's first answer says so.
fn render(outcome: &Outcome, replayed: bool) -> Response {
    let mut res = match outcome {
        Outcome::Created { lead_id, verified, code_expires_at } => {
            let body = LeadCreated {
                id: *lead_id,
                status: if *verified { LeadStatus::Verified } else { LeadStatus::PendingVerification },
                verification: Verification { required: !verified, expires_at: *code_expires_at },
            };
            let mut res = (StatusCode::CREATED, Json(body)).into_response();
            if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/leads/{lead_id}")) {
                res.headers_mut().insert(header::LOCATION, location);
            }
            res
        }
        Outcome::Duplicate { .. } => Problem::typed(
            StatusCode::CONFLICT,
            ProblemType::DuplicateLead,
            Some("The same phone number asked for the same job in the last 7 days, so it is not a new lead.".into()),
        )
        .into_response(),
    };
    if replayed {
        res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

/// Submit a homeowner's request. Without an API key it counts as our own site's; with one, as
/// the partner's (who may then read it back). Unless the partner verified the phone itself, the
/// homeowner is texted a code and the lead waits in `pending_verification`.
#[utoipa::path(
    post,
    path = "/api/v1/leads",
    tag = "leads",
    operation_id = "createLead",
    security((), ("partner_key" = []), ("partner_key_header" = [])),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255,
            description = "Makes a retry safe: the first answer is kept ≥ 24 h and replayed")),
    request_body(content = LeadRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Received", body = LeadCreated, headers(
            ("Location" = String, description = "`/api/v1/leads/{id}`"),
            ("Idempotent-Replayed" = Option<String>, description = "`true` when this is a replay of the key's first answer"))),
        (status = 409, description = "The same phone asked for the same job in the last 7 days \
            (`/problems/duplicate-lead`)", body = Problem, content_type = "application/problem+json",
            headers(("Idempotent-Replayed" = Option<String>, description = "`true` on a replay"))),
        (status = 422, description = "A field is missing or not acceptable (`/problems/validation-error`), \
            or the Idempotency-Key was used with another body (`/problems/idempotency-key-reused`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_lead(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let partner = match partner(&state, &headers).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let req = match json_body::<LeadRequest>(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    // A partner's keys are its own; without a partner the Idempotency-Key alone names the
    // request (a client whose address changes between tries still gets its replay).
    let principal = || partner.map_or_else(|| "anonymous".to_owned(), |p| format!("partner:{}", p.0));
    let idem = match crate::json::idempotency_key(&headers, principal, &body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let sub = Submission {
        input: req.input,
        source: partner.map_or(Source::Web { funnel_id: None }, |p| Source::Partner { id: p.0 }),
        utm: intake::clean_utm(req.utm),
        referrer: req.referrer.as_deref().map(intake::clean_attribution).filter(|r| !r.is_empty()),
        client_ip: ip,
    };
    match intake::submit(&state, sub, idem).await {
        Ok(Submitted::Fresh(outcome)) => render(&outcome, false),
        Ok(Submitted::Replayed(outcome)) => render(&outcome, true),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadView {
    id: Uuid,
    status: LeadStatus,
    category: String,
    urgency: String,
    zip: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    verified_at: Option<OffsetDateTime>,
}

/// A partner reads the leads it sent; anyone else is told there is nothing there.
async fn own_lead(state: &AppState, headers: &HeaderMap, id: &str) -> Result<store::leads::Lead, Response> {
    let Some(partner) = partner(state, headers).await? else {
        return Err(unauthorized("Send your API key as a Bearer token."));
    };
    let not_found = || ApiError::NotFound.into_response();
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let mut conn = state.pool.acquire().await.map_err(|e| ApiError::from(e).into_response())?;
    match store::leads::get(&mut conn, id).await.map_err(|e| ApiError::from(e).into_response())? {
        Some(lead) if lead.partner_id == Some(partner.0) => Ok(lead),
        _ => Err(not_found()),
    }
}

/// One lead this partner sent, as it stands now.
#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}",
    tag = "leads",
    operation_id = "getLead",
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("id" = String, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The lead", body = LeadView),
        (status = 404, description = "No lead of this partner's has that id", body = Problem,
         content_type = "application/problem+json"),
    )
)]
pub async fn get_lead(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    match own_lead(&state, &headers, &id).await {
        Ok(l) => Json(LeadView {
            id: l.id,
            status: l.status,
            category: l.category,
            urgency: l.urgency,
            zip: l.zip,
            created_at: l.created_at,
            verified_at: l.verified_at,
        })
        .into_response(),
        Err(res) => res,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeBody {
    /// The six digits texted to the homeowner.
    #[schema(example = "482913")]
    code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadVerified {
    id: Uuid,
    status: LeadStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeResent {
    id: Uuid,
    verification: Verification,
}

/// A code refusal, in the homeowner API's own problem types; anything else as usual.
fn code_problem(e: ServiceError) -> Response {
    let ServiceError::Code(code) = e else { return ApiError::from(e).into_response() };
    let message = super::code_message(code);
    let (status, kind) = match code {
        CodeError::ResendTooSoon { retry_after } => {
            return ApiError::RateLimited { retry_after_secs: retry_after.as_secs().max(1) }.into_response();
        }
        CodeError::TooManySends => (StatusCode::TOO_MANY_REQUESTS, ProblemType::VerificationSendsExhausted),
        CodeError::Expired => (StatusCode::UNPROCESSABLE_ENTITY, ProblemType::VerificationCodeExpired),
        CodeError::TooManyAttempts => (StatusCode::UNPROCESSABLE_ENTITY, ProblemType::VerificationAttemptsExhausted),
        CodeError::Wrong { .. } | CodeError::NoCode => {
            (StatusCode::UNPROCESSABLE_ENTITY, ProblemType::VerificationCodeWrong)
        }
    };
    let errors = if status == StatusCode::UNPROCESSABLE_ENTITY {
        vec![FieldError { field: "code", message: message.clone() }.into()]
    } else {
        Vec::new()
    };
    Problem { errors, ..Problem::typed(status, kind, Some(message)) }.into_response()
}

/// The homeowner's code, for a partner that relays it (verifying twice is fine).
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/verification",
    tag = "leads",
    operation_id = "verifyLead",
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("id" = String, Path, description = "The lead's id")),
    request_body(content = CodeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Verified", body = LeadVerified),
        (status = 404, description = "No lead of this partner's has that id", body = Problem,
         content_type = "application/problem+json"),
        (status = 422, description = "Wrong, expired or exhausted code (`/problems/verification-code-*`, \
            `/problems/verification-attempts-exhausted`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_lead(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<CodeBody>,
) -> Response {
    let lead = match own_lead(&state, &headers, &id).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    match intake::verify(&state, lead.id, &body.code, None).await {
        Ok(Verified::Now | Verified::Already) => {
            Json(LeadVerified { id: lead.id, status: LeadStatus::Verified }).into_response()
        }
        Err(e) => code_problem(e),
    }
}

/// Text the homeowner a new code (the old one stops working).
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/verification/resend",
    tag = "leads",
    operation_id = "resendLeadCode",
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("id" = String, Path, description = "The lead's id")),
    responses(
        (status = 202, description = "A new code is on its way", body = CodeResent),
        (status = 404, description = "No lead of this partner's has that id", body = Problem,
         content_type = "application/problem+json"),
        (status = 429, description = "Too soon after the last code (`Retry-After`), or no more codes \
            (`/problems/verification-sends-exhausted`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = Option<u64>))),
    )
)]
pub async fn resend_code(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let lead = match own_lead(&state, &headers, &id).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    match intake::resend(&state, lead.id).await {
        Ok(expires_at) => {
            let v = Verification { required: true, expires_at: Some(expires_at) };
            (StatusCode::ACCEPTED, Json(CodeResent { id: lead.id, verification: v })).into_response()
        }
        Err(e) => code_problem(e),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    #[schema(example = "drain-cleaning")]
    slug: String,
    name: String,
    description: String,
    /// What one lead costs before the urgency and exclusivity multipliers (USD cents).
    #[schema(example = 2500)]
    base_price_cents: i64,
    /// How many plumbers may buy one lead (1: sold exclusively).
    #[schema(example = 3)]
    max_buyers: i32,
}

/// Price multipliers in basis points (10000 = ×1): price = base × urgency × exclusivity,
/// rounded half up to the cent.
#[derive(Debug, Serialize, ToSchema)]
pub struct MultipliersView {
    emergency_bps: i64,
    within_48h_bps: i64,
    flexible_bps: i64,
    exclusive_bps: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Categories {
    categories: Vec<CategoryView>,
    multipliers: MultipliersView,
    currency: &'static str,
}

/// The kinds of job a request can be for.
#[utoipa::path(
    get,
    path = "/api/v1/categories",
    tag = "leads",
    operation_id = "listCategories",
    responses((status = 200, description = "Every category", body = Categories))
)]
pub async fn categories(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = state.categories().await?;
    let m = services::market::prices::multipliers(&state).await?;
    let view: Vec<_> = list
        .iter()
        .map(|c| CategoryView {
            slug: c.slug.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            base_price_cents: c.base_price.0,
            max_buyers: c.max_buyers,
        })
        .collect();
    let multipliers = MultipliersView {
        emergency_bps: m.emergency_bps,
        within_48h_bps: m.within_48h_bps,
        flexible_bps: m.flexible_bps,
        exclusive_bps: m.exclusive_bps,
    };
    Ok(Json(Categories { categories: view, multipliers, currency: "USD" }).into_response())
}
