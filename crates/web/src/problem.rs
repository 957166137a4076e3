//! RFC 9457 problem documents: the one error shape every client sees. 5xx details are logged
//! once, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
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

    /// One of ours, documented at `/problems/{slug}`.
    pub fn typed(status: StatusCode, slug: &str, title: &str, detail: Option<String>) -> Self {
        Self {
            type_: format!("/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
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
    Validation(Vec<FieldError>),
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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            // A unique or exclusion violation is the client's conflict, never a 500.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("23505" | "23P01")) => {
                ApiError::Conflict("That already exists.".into())
            }
            sqlx::Error::PoolTimedOut => ApiError::Unavailable,
            _ => ApiError::Internal(e.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::Validation(errors) => Problem {
                errors,
                ..Problem::typed(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation-error",
                    "Some details need another look",
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
            ApiError::Unavailable => Problem::status(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("We are having trouble right now. Please try again in a minute.".into()),
            ),
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
