//! Cross-cutting request handling: request ids, logs, metrics and security headers, and turning
//! every bare error response (a rejection, a timeout, a panic) into a problem document or a
//! friendly page.

use crate::AppState;
use crate::problem::Problem;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tracing::Instrument;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A caller's request id is kept only if it is short and plain, so it cannot forge log lines.
fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// Request id (honoured or made), a span keyed on the matched route, a log line, metrics, and
/// the security headers.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let id_value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert(X_REQUEST_ID, id_value.clone());
    // Unmatched paths share one label, so scanners cannot blow up the metric's cardinality.
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);

    let mut res = next.run(req).instrument(span.clone()).await;

    let elapsed = started.elapsed();
    let status = res.status();
    let labels = [("method", method.to_string()), ("route", route), ("status", status.as_u16().to_string())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1_000.0;
    span.in_scope(|| {
        // A database outage is logged once where it was found, not as a failure per request.
        let outage = res.extensions().get::<crate::problem::Outage>().is_some();
        if status.is_server_error() && !outage {
            tracing::error!(status = status.as_u16(), latency_ms, "request failed");
        } else if outage || status.is_client_error() || elapsed >= state.settings.alerts.response_time {
            tracing::info!(status = status.as_u16(), latency_ms, "request");
        } else {
            tracing::debug!(status = status.as_u16(), latency_ms, "request");
        }
    });
    res.headers_mut().insert(X_REQUEST_ID, id_value);
    set_security_headers(res.headers_mut());
    res
}

/// No inline script or style anywhere: htmx and our JS load from /static.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Sent with every response unless a handler set its own (one loop in `observe` rather than a
/// layer each: seven layers were a measurable share of a small response's cost).
fn set_security_headers(headers: &mut HeaderMap) {
    const HEADERS: [(HeaderName, &str); 7] = [
        (header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    for (name, value) in HEADERS {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
}

fn wants_html(headers: &HeaderMap, path: &str) -> bool {
    !path.starts_with("/api/")
        && headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Bare errors (axum's rejections, a timeout, a caught panic) have no body type or plain text;
/// anything else was written on purpose (a problem, a page, the health report) and is kept.
fn is_bare(res: &Response) -> bool {
    res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|ct| ct.starts_with("text/plain"))
}

/// How much of a rejection's text we read to use as the problem's detail.
const DETAIL_LIMIT: usize = 1_024;

/// Every error leaves as RFC 9457 (or, for a browser outside the API, a friendly page).
pub async fn problems(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let html = wants_html(req.headers(), req.uri().path());
    let res = next.run(req).await;
    let status = res.status();
    if status.as_u16() < 400 || !is_bare(&res) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let mut out = if html {
        crate::pages::error_page(&state, status)
    } else {
        // Client errors from axum's extractors carry a useful plain-text reason; server errors
        // never show theirs.
        let detail = if status.is_client_error() {
            axum::body::to_bytes(body, DETAIL_LIMIT)
                .await
                .ok()
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .filter(|s| !s.trim().is_empty())
        } else {
            None
        };
        Problem::status(status, detail.or_else(|| default_detail(status))).into_response()
    };
    for keep in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&keep) {
            out.headers_mut().insert(keep, v.clone());
        }
    }
    out
}

fn default_detail(status: StatusCode) -> Option<String> {
    Some(
        match status {
            StatusCode::NOT_FOUND => "There is nothing at this address.",
            StatusCode::METHOD_NOT_ALLOWED => "This address does not accept that method; see the Allow header.",
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than we accept.",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "Send the body as application/json.",
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
                "We took too long to answer. Please try again."
            }
            s if s.is_server_error() => "Something went wrong on our side. Please try again.",
            _ => return None,
        }
        .to_owned(),
    )
}

/// The 404 for any path no route matches.
pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Body::empty()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_honoured_only_when_plain() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(acceptable_request_id(&ok).as_deref(), Some("abc-123_x.y:z"));
        for bad in ["", "has space", "quote\"", "{\"json\":1}"] {
            assert_eq!(
                acceptable_request_id(&HeaderValue::from_str(bad).unwrap_or(HeaderValue::from_static("a b"))),
                None,
                "{bad}"
            );
        }
        let long = HeaderValue::from_str(&"a".repeat(129)).unwrap_or(HeaderValue::from_static("a b"));
        assert_eq!(acceptable_request_id(&long), None);
    }
}
