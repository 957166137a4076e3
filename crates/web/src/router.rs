//! Routes and the middleware stack, outermost first: observe (request id, logs, metrics) →
//! security headers → compression → problem documents → panic catcher → timeout → body limit.

use crate::intake::{api, form};
use crate::{AppState, assets, health, metrics_route, middleware, pages};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// No inline script or style anywhere: htmx and our JS load from /static.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application's routes plus `extra` (tests add probes), under the same middleware.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let http = &state.settings.http;
    let headers = [
        (header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    let mut router = Router::new()
        .route("/", get(pages::home))
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/metrics", get(metrics_route::metrics))
        .route("/static/{*path}", get(assets::serve_asset))
        .route("/request", get(form::show).post(form::submit))
        .route("/request/zip", get(form::zip_lookup))
        .route("/request/started", post(form::started))
        .route("/request/verify", get(form::show_verify).post(form::check_code))
        .route("/request/verify/resend", post(form::resend_code))
        .route("/request/done", get(form::done))
        .route("/r/{token}", get(form::status))
        .route("/api/v1/categories", get(api::categories))
        .route("/api/v1/leads", post(api::create_lead))
        .route("/api/v1/leads/{id}", get(api::get_lead))
        .route("/api/v1/leads/{id}/verification", post(api::verify_lead))
        .route("/api/v1/leads/{id}/verification/resend", post(api::resend_code))
        .merge(extra)
        .fallback(middleware::not_found)
        // Innermost first: each `layer` wraps everything above it.
        .layer(DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(http.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, http.request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::problems))
        .layer(CompressionLayer::new());
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router.layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe)).with_state(state)
}
