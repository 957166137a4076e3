//! `/api/v1/pro/…`: offers, claims, leads, wallet. Another pro's offer or lead is a 404, never a
//! 403: ids are not confirmed to strangers. One file per part: `offers`, `leads`, `wallet`.

mod leads;
mod offers;
mod wallet;

pub use leads::*;
pub use offers::*;
pub use wallet::*;

use crate::problem::ApiError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const USD: &str = "USD";

fn private(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn answer<T: Serialize>(status: StatusCode, body: &T) -> Response {
    private((status, Json(body)).into_response())
}

fn failed(e: services::ServiceError) -> Response {
    ApiError::from(e).into_response()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Where the previous page ended (its `next_cursor`).
    cursor: Option<String>,
    /// Items per page, 1–100 (default 25).
    limit: Option<String>,
}

fn parse_limit(limit: Option<&str>) -> Result<Option<i64>, ApiError> {
    match limit.filter(|l| !l.is_empty()) {
        None => Ok(None),
        Some(l) => l.parse::<i64>().map(Some).map_err(|_| {
            ApiError::Validation(vec![FieldError { field: "limit", message: "A page holds 1 to 100 items.".into() }])
        }),
    }
}

/// Why this offer came to you: the ranking's components, each 0–1.
#[derive(Debug, Serialize, ToSchema)]
pub struct Why {
    score: f32,
    distance: f32,
    responsiveness: f32,
    rating: f32,
    fairness: f32,
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}
