//! RFC 9457 problem documents: the one error shape every client sees. 5xx details are logged
//! once, never sent.

use crate::problem_types::ProblemType;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use services::{CodeError, Conflict, Refusal, ServiceError};
use std::sync::atomic::{AtomicU64, Ordering};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// A field's problem as the wire carries it (`errors[]`), read back by clients and tests. The
/// code speaks `domain::FieldError`; this is only its serialised shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The request field, by name (a header's name for a header).
    pub field: String,
    /// What is wrong and how to fix it, for the person who typed it.
    pub message: String,
}

impl From<domain::FieldError> for FieldError {
    fn from(e: domain::FieldError) -> Self {
        Self { field: e.field.to_owned(), message: e.message }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `/problems/{slug}` (a page explaining it) or `about:blank`.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-error")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A plain HTTP status: `about:blank` with the status's own title (RFC 9457 §4.2.1).
    pub fn status(status: StatusCode, detail: Option<String>) -> Self {
        Self {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
    }

    /// One of ours, explained at its `/problems/{slug}` page.
    pub fn typed(status: StatusCode, kind: ProblemType, detail: Option<String>) -> Self {
        Self { type_: kind.uri(), title: kind.title().into(), status: status.as_u16(), detail, errors: Vec::new() }
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        res
    }
}

/// The web layer's one error type. Narrow errors from `store`/`domain` convert into it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<domain::FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    /// Any other answer, already a problem document.
    #[error("{0:?}")]
    Problem(Box<Response>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError::Problem(Box::new(p.into_response()))
    }
}

/// The one place a use case's refusal becomes an answer for a JSON client. (Pages say the same
/// things in their own words, next to their forms.)
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => ApiError::Validation(errors),
            ServiceError::UnsupportedType(error) => Problem {
                errors: vec![error.into()],
                ..Problem::status(StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("We don't take that kind of file.".into()))
            }
            .into(),
            ServiceError::Conflict(Conflict::EmailTaken) => Problem::typed(
                StatusCode::CONFLICT,
                ProblemType::EmailTaken,
                Some("Log in with it, or reset its password if you have forgotten it.".into()),
            )
            .into(),
            ServiceError::Conflict(Conflict::AlreadyClaimed) => {
                Problem::typed(StatusCode::CONFLICT, ProblemType::OfferClaimed, None).into()
            }
            ServiceError::Conflict(Conflict::AlreadyDisputed) => {
                Problem::typed(StatusCode::CONFLICT, ProblemType::AlreadyDisputed, None).into()
            }
            ServiceError::Conflict(Conflict::DisputeWindowClosed) => {
                Problem::typed(StatusCode::CONFLICT, ProblemType::DisputeWindowClosed, None).into()
            }
            ServiceError::Conflict(Conflict::AlreadyDecided) => {
                ApiError::Conflict("That dispute was decided already.".into())
            }
            ServiceError::Refused(refusal) => {
                let (status, kind) = match refusal {
                    Refusal::SoldOut => (StatusCode::CONFLICT, ProblemType::OfferSoldOut),
                    Refusal::Expired => (StatusCode::CONFLICT, ProblemType::OfferExpired),
                    Refusal::Declined => (StatusCode::CONFLICT, ProblemType::OfferDeclined),
                    Refusal::CapReached => (StatusCode::CONFLICT, ProblemType::CapReached),
                    Refusal::InsufficientBalance => (StatusCode::PAYMENT_REQUIRED, ProblemType::InsufficientBalance),
                };
                Problem::typed(status, kind, Some(kind.entry().explanation.replace('`', ""))).into()
            }
            ServiceError::InvalidTransition => {
                Problem::typed(StatusCode::CONFLICT, ProblemType::InvalidTransition, None).into()
            }
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::BadCredentials => {
                ApiError::Problem(Box::new(unauthorized("That e-mail and password don't match an account.")))
            }
            ServiceError::Throttled { retry_after } => {
                ApiError::RateLimited { retry_after_secs: retry_after.as_secs().max(1) }
            }
            ServiceError::AccountClosed => Problem::status(
                StatusCode::FORBIDDEN,
                Some("This account was closed. To open it again, write to us.".into()),
            )
            .into(),
            ServiceError::StaffNotAllowedHere => Problem::status(
                StatusCode::FORBIDDEN,
                Some("Staff accounts can only sign in from the office network.".into()),
            )
            .into(),
            ServiceError::SecondFactorRequired => Problem::typed(
                StatusCode::FORBIDDEN,
                ProblemType::SecondFactorRequired,
                Some("Staff accounts sign in with a one-time code from an authenticator app.".into()),
            )
            .into(),
            ServiceError::SecondFactorWrong => ApiError::Problem(Box::new(bearer_challenge(Problem::typed(
                StatusCode::UNAUTHORIZED,
                ProblemType::SecondFactorFailed,
                Some(
                    "Use the current code from your authenticator app (each code works once), or a recovery code."
                        .into(),
                ),
            )))),
            ServiceError::BadLink => {
                Problem::typed(StatusCode::BAD_REQUEST, ProblemType::LinkExpired, Some("Ask for a new one.".into()))
                    .into()
            }
            ServiceError::SessionEnded => {
                ApiError::Problem(Box::new(unauthorized("That session has ended. Log in again.")))
            }
            ServiceError::Code(code) => {
                let status = match code {
                    CodeError::ResendTooSoon { retry_after } => {
                        return ApiError::RateLimited { retry_after_secs: retry_after.as_secs().max(1) };
                    }
                    CodeError::TooManySends => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let message = crate::auth::code_message(code);
                Problem {
                    errors: vec![domain::FieldError { field: "code", message: message.clone() }.into()],
                    ..Problem::typed(status, ProblemType::VerificationFailed, Some(message))
                }
                .into()
            }
            ServiceError::KeyReused => Problem::typed(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemType::IdempotencyKeyReused,
                Some("This Idempotency-Key was used with a different request. Use a new key for a new request.".into()),
            )
            .into(),
            ServiceError::Unavailable => ApiError::Unavailable,
            ServiceError::Internal(e) if services::is_outage_in(&e) => ApiError::Unavailable,
            ServiceError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// 401 with `WWW-Authenticate: Bearer`: the API's one answer to "who are you?".
pub fn unauthorized(detail: &str) -> Response {
    bearer_challenge(Problem::status(StatusCode::UNAUTHORIZED, Some(detail.into())))
}

fn bearer_challenge(p: Problem) -> Response {
    let mut res = p.into_response();
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            // A unique or exclusion violation is the client's conflict, never a 500.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("23505" | "23P01")) => {
                ApiError::Conflict("That already exists.".into())
            }
            e if services::is_outage(e) => ApiError::Unavailable,
            _ => ApiError::Internal(e.into()),
        }
    }
}

/// Marks an answer given because the database is away (read by the request log).
#[derive(Debug, Clone, Copy)]
pub struct Outage;

/// Seconds a client is asked to wait while the database is away (a restart takes a few).
const OUTAGE_RETRY_AFTER_SECS: u64 = 5;

/// The answer while the database is away: 503, `Retry-After`, its own problem type. The log says
/// so once per outage (at most every 30 s), not once per request.
fn unavailable() -> Response {
    // Each request the database failed (unreachable, restarting, no connection to be had): the
    // seed's "more than 5 database connection errors in 5 minutes" alert counts these.
    metrics::counter!("db_connection_errors_total").increment(1);
    static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = LAST_LOGGED.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 30
        && LAST_LOGGED.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        tracing::warn!("database unavailable: answering 503 until it is back");
    }
    let mut res = Problem::typed(
        StatusCode::SERVICE_UNAVAILABLE,
        ProblemType::DatabaseUnavailable,
        Some("We are having trouble right now. Please try again in a minute.".into()),
    )
    .into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(OUTAGE_RETRY_AFTER_SECS));
    res.extensions_mut().insert(Outage);
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::Validation(errors) => Problem {
                errors: errors.into_iter().map(FieldError::from).collect(),
                ..Problem::typed(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemType::ValidationError,
                    Some("Check the fields listed in errors.".into()),
                )
            },
            ApiError::BadRequest(detail) => Problem::status(StatusCode::BAD_REQUEST, Some(detail)),
            ApiError::NotFound => Problem::status(StatusCode::NOT_FOUND, None),
            ApiError::Conflict(detail) => Problem::status(StatusCode::CONFLICT, Some(detail)),
            ApiError::RateLimited { retry_after_secs } => {
                let mut res = Problem::status(
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(format!("Too many requests. Try again in {retry_after_secs} seconds.")),
                )
                .into_response();
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return res;
            }
            ApiError::Problem(res) => return *res,
            ApiError::Unavailable => return unavailable(),
            ApiError::Internal(e) if services::is_outage_in(&e) => return unavailable(),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                Problem::status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some("Something went wrong on our side. Please try again.".into()),
                )
            }
        };
        problem.into_response()
    }
}
