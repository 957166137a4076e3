//! JSON request bodies as the API contract wants them: 415 for another content type, 400 for
//! malformed JSON, 422 for JSON of the wrong shape — each an RFC 9457 problem.

use crate::problem::Problem;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

#[expect(clippy::result_large_err, reason = "the error is the finished response, built once and sent")]
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, Response> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Problem::status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("Send the body as application/json.".into()),
        )
        .into_response());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let read = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|v| de.end().map(|()| v).map_err(|e| (String::new(), e)));
    read.map_err(|(path, e)| {
        let status = if e.is_data() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::BAD_REQUEST };
        let mut problem = Problem::status(status, Some(format!("The body is not the JSON we expect: {e}")));
        // A field of the wrong type or form is named by its path (`area.radius_miles`).
        if e.is_data() && !path.is_empty() && path != "." {
            problem.errors.push(crate::problem::FieldError { field: path, message: e.to_string() });
        }
        problem.into_response()
    })
}

/// Longest `Idempotency-Key` taken (Stripe's limit).
pub const IDEMPOTENCY_KEY_MAX: usize = 255;

/// The request's `Idempotency-Key` (if any), bound to `principal` and to the body it came with;
/// a key that is empty, too long or not visible text is a 422 naming the header.
pub fn idempotency_key(
    headers: &HeaderMap,
    principal: impl FnOnce() -> String,
    body: &Bytes,
) -> Result<Option<services::intake::Idempotency>, crate::problem::ApiError> {
    use sha2::{Digest, Sha256};
    match headers.get("idempotency-key").map(|v| v.to_str().map(str::trim)) {
        None => Ok(None),
        Some(Ok(key)) if !key.is_empty() && key.len() <= IDEMPOTENCY_KEY_MAX => {
            Ok(Some(services::intake::Idempotency {
                principal: principal(),
                key: key.to_owned(),
                request_hash: Sha256::digest(body).to_vec(),
            }))
        }
        Some(_) => Err(crate::problem::ApiError::Validation(vec![domain::FieldError {
            field: "Idempotency-Key",
            message: "An Idempotency-Key is 1 to 255 visible characters.".into(),
        }])),
    }
}
