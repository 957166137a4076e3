//! What every form shares: the cross-site checks, the CSRF token, and field errors beside
//! their fields.

use crate::AppState;
use crate::problem::Problem;
use axum::extract::{Form, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use serde::de::DeserializeOwned;
use services::accounts::SignedIn;

/// Pages that show field errors next to their fields (`self.error("email")`,
/// `aria-invalid="{{ self.invalid("email") }}"` in the templates).
pub trait FieldErrors {
    fn field_errors(&self) -> &[FieldError];

    fn error(&self, field: &str) -> &str {
        self.field_errors().iter().find(|e| e.field == field).map_or("", |e| e.message.as_str())
    }

    fn invalid(&self, field: &str) -> &'static str {
        if self.field_errors().iter().any(|e| e.field == field) { "true" } else { "false" }
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

/// The session's CSRF token matches the one the form carried.
pub fn csrf_ok(s: &SignedIn, sent: &str) -> bool {
    use subtle::ConstantTimeEq;
    !sent.is_empty() && s.session.csrf_token.as_bytes().ct_eq(sent.as_bytes()).into()
}

pub fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// A form sent from one of our own pages (never from another site), parsed.
pub struct OurForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for OurForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let ours = same_origin(state, req.headers());
        let Form(form) = Form::<T>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        if ours { Ok(OurForm(form)) } else { Err(forbidden_cross_site()) }
    }
}

/// A form from a signed-in page: one of ours, carrying this session's CSRF token. The page's
/// session extractor (`auth::sessions`) runs first and leaves the session in the request.
pub struct SignedForm<T>(pub T);

/// A form's CSRF token field.
pub trait CsrfToken {
    fn csrf(&self) -> &str;
}

impl<T: DeserializeOwned + CsrfToken + Send> FromRequest<AppState> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let session = req.extensions().get::<SignedIn>().cloned();
        let OurForm(form) = OurForm::<T>::from_request(req, state).await?;
        match session {
            Some(s) if csrf_ok(&s, form.csrf()) => Ok(SignedForm(form)),
            _ => Err(forbidden_cross_site()),
        }
    }
}

/// A signed-in form that carries nothing but its CSRF token (a button).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

impl CsrfToken for CsrfForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A one-time code typed into a signed-in page (a pro's SMS code, staff's second factor).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CodeForm {
    pub csrf: String,
    pub code: String,
}

impl CsrfToken for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The `?done=…` a page is redirected to after a form worked (post/redirect/get); each page
/// words its own notice for it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

impl DoneQuery {
    pub fn done(&self) -> Option<&str> {
        self.done.as_deref()
    }
}
