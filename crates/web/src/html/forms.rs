//! What every form shares: the cross-site checks, the CSRF token, and field errors beside
//! their fields.

use crate::AppState;
use crate::problem::Problem;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use services::accounts::SignedIn;

/// Pages that show field errors next to their fields (`self.error("email")`,
/// `aria-invalid="{{ self.invalid("email") }}"` in the templates).
pub trait FieldErrors {
    fn field_errors(&self) -> &[(String, String)];

    fn error(&self, field: &str) -> &str {
        self.field_errors().iter().find(|(f, _)| f == field).map_or("", |(_, m)| m.as_str())
    }

    fn invalid(&self, field: &str) -> &'static str {
        if self.field_errors().iter().any(|(f, _)| f == field) { "true" } else { "false" }
    }
}

/// The request comes from one of our pages, not another site: browsers say so in
/// `Sec-Fetch-Site` and `Origin`. Clients that send neither (scripts, old browsers) are let
/// through here; signed-in forms have their CSRF token as well.
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => origin == state.settings.http.public_url.origin().ascii_serialization(),
    }
}

pub fn forbidden_cross_site() -> Response {
    Problem::status(StatusCode::FORBIDDEN, Some("That form was sent from another site, so we ignored it.".into()))
        .into_response()
}

/// A signed-in form's two checks: it came from our own pages and carries this session's token.
pub fn form_ok(state: &AppState, headers: &HeaderMap, s: &SignedIn, token: &str) -> bool {
    same_origin(state, headers) && csrf_ok(s, token)
}

/// The session's CSRF token matches the one the form carried.
pub fn csrf_ok(s: &SignedIn, sent: &str) -> bool {
    use subtle::ConstantTimeEq;
    !sent.is_empty() && s.session.csrf_token.as_bytes().ct_eq(sent.as_bytes()).into()
}

pub fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// A signed-in form that carries nothing but its CSRF token (a button).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}
