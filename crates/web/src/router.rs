//! Routes and the middleware stack, outermost first: observe (request id, logs, metrics, and
//! the security headers) → compression → problem documents → panic catcher → timeout → body limit.

use crate::auth::{close_pages, pages as auth_pages, portal_pages, staff_pages, staff_review};
use crate::intake::{follow, form, zip_step};
use crate::market::inbox as market_inbox;
use crate::{
    AppState, api_docs, assets, health, info_pages, metrics_route, middleware, openapi, pages, pro_profile,
    problem_types,
};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// A worker-only node's HTTP: the probes (`/health` for a balancer or supervisor, `/health/live`)
/// and `/metrics` for Prometheus, under the same observing middleware; everything else is 404.
pub fn probes_router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/metrics", get(metrics_route::metrics))
        .fallback(middleware::not_found)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, state.settings.http.request_timeout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::problems))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}

/// The application's routes plus `extra` (tests add probes), under the same middleware.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let http = &state.settings.http;
    let router = Router::new()
        .route("/", get(pages::home))
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/metrics", get(metrics_route::metrics))
        .route("/static/{*path}", get(assets::serve_asset))
        .route("/request", get(form::show).post(form::submit))
        .route("/request/zip", get(zip_step::zip_lookup))
        .route("/request/started", post(form::started))
        .route("/request/verify", get(follow::show_verify).post(follow::check_code))
        .route("/request/verify/resend", post(follow::resend_code))
        .route("/request/verify/phone", post(follow::change_phone))
        .route("/request/done", get(follow::done))
        .route("/r/{token}", get(follow::status))
        .route("/r/{token}/notes", post(follow::add_note))
        .route(crate::sms_webhook::PATH, post(crate::sms_webhook::inbound))
        .route("/api/docs", get(api_docs::page))
        .route("/problems", get(problem_types::index))
        .route("/problems/{slug}", get(problem_types::show))
        .route("/for-plumbers", get(info_pages::for_plumbers))
        .route("/privacy", get(info_pages::privacy))
        .route("/terms", get(info_pages::terms))
        .route("/partners", get(info_pages::partners))
        .route("/signup", get(auth_pages::show_signup).post(auth_pages::signup))
        .route("/login", get(auth_pages::show_login).post(auth_pages::login))
        .route("/logout", post(auth_pages::logout))
        .route("/verify-email", get(auth_pages::verify_email))
        .route("/forgot-password", get(auth_pages::show_forgot).post(auth_pages::forgot))
        .route("/reset-password", get(auth_pages::show_reset).post(auth_pages::reset))
        .route("/pro", get(portal_pages::pro_home))
        .route("/pro/verify-email/resend", post(auth_pages::resend_email))
        .route("/pro/phone", post(portal_pages::verify_phone))
        .route("/pro/phone/resend", post(portal_pages::resend_phone_code))
        .route("/pro/account", get(portal_pages::account))
        .route("/pro/sessions/{id}/end", post(portal_pages::end_session))
        .route("/pro/password", post(portal_pages::change_password))
        .route("/pro/account/close", get(close_pages::show).post(close_pages::close))
        .route(
            "/unsubscribe/{token}",
            get(crate::market::unsubscribe_page::show).post(crate::market::unsubscribe_page::confirm),
        )
        .route("/pro/profile", get(pro_profile::show).post(pro_profile::save))
        .route("/pro/profile/preview", get(pro_profile::preview))
        .route("/pro/profile/business", post(pro_profile::business))
        .route("/pro/profile/area", post(pro_profile::area))
        .route("/pro/profile/services", post(pro_profile::services))
        .route("/pro/profile/hours", post(pro_profile::hours))
        .route("/pro/profile/preferences", post(pro_profile::preferences))
        .route("/pro/profile/notifications", post(pro_profile::notifications))
        .route("/pro/submit", post(pro_profile::submit))
        .route("/pro/offers", get(market_inbox::page))
        .route("/pro/offers/events", get(market_inbox::events))
        .route("/pro/offers/{id}/claim", post(market_inbox::claim))
        .route("/pro/offers/{id}/decline", post(market_inbox::decline))
        .route("/pro/wallet", get(crate::market::wallet_page::show))
        .route("/pro/wallet/statements/{month}", get(crate::market::wallet_page::month))
        .route("/pro/wallet/top-up", post(market_inbox::top_up))
        .route("/staff/pros/{id}/insurance", get(pro_profile::staff_insurance))
        .route("/staff/pros/{id}", get(staff_review::show))
        .route("/staff/pros/{id}/approve", post(staff_review::approve))
        .route("/staff/pros/{id}/changes", post(staff_review::ask_for_changes))
        .route("/staff/pros/{id}/turn-down", post(staff_review::turn_down))
        .route("/staff", get(staff_pages::home))
        .route("/staff/mfa", get(staff_pages::show_mfa).post(staff_pages::check_mfa))
        .route("/staff/confirm", get(staff_pages::show_confirm).post(staff_pages::confirm))
        .route("/staff/team", get(staff_pages::team).post(staff_pages::add_staff))
        .route("/staff/prices", get(crate::market::prices_page::show).post(crate::market::prices_page::save))
        .route("/staff/disputes", get(crate::market::disputes_page::show))
        .route("/staff/disputes/{id}", post(crate::market::disputes_page::decide))
        // Every /api/v1 route, described by the same attributes that route it.
        .merge(openapi::routes().split_for_parts().0)
        .merge(extra)
        // Innermost first: each `layer` wraps everything above it.
        .layer(DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(http.body_limit_bytes));
    // Uploads have their own, larger limit (plus room for the form's other parts).
    let upload_limit = state.settings.auth.upload_max_bytes;
    let uploads = Router::new()
        .route("/pro/profile/insurance", get(pro_profile::own_insurance).post(pro_profile::upload_insurance))
        .merge(openapi::upload_routes().split_for_parts().0)
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(RequestBodyLimitLayer::new(upload_limit + 64 * 1024));
    router
        .merge(uploads)
        .fallback(middleware::not_found)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, http.request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::problems))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}
