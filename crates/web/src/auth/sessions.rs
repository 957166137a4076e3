//! Who is asking, as extractors: a browser's session cookie, or an API client's access token.
//! The session rules themselves (limits, Redis copies) are `services::accounts`.

use crate::AppState;
use crate::client_ip::ClientIp;
use crate::problem::{ApiError, Problem, unauthorized};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::account::Role;
use services::accounts::{SessionKey, SignedIn, find_session, staff_address};

/// `__Host-`: the browser only accepts it over HTTPS (or on localhost), for the whole site,
/// from this exact host.
pub const COOKIE: &str = "__Host-pl_session";

/// The browser's session, if it has a live one.
pub async fn from_cookies(state: &AppState, jar: &CookieJar) -> Result<Option<SignedIn>, ApiError> {
    let Some(cookie) = jar.get(COOKIE) else { return Ok(None) };
    let value = cookie.value();
    // Ours are 43 characters; anything else is not worth a query.
    if value.len() != 43 {
        return Ok(None);
    }
    Ok(find_session(state, SessionKey::Secret(value)).await?)
}

/// The session cookie for a new session's secret.
pub fn cookie(secret: String) -> Cookie<'static> {
    Cookie::build((COOKIE, secret)).path("/").secure(true).http_only(true).same_site(SameSite::Lax).build()
}

/// Tells the browser to forget the session cookie.
pub fn removal() -> Cookie<'static> {
    let mut c = cookie(String::new());
    c.make_removal();
    c
}

/// A browser page that anyone may see; knows who is signed in, if anyone.
pub struct MaybeSignedIn(pub Option<SignedIn>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let who = from_cookies(state, &jar).await.map_err(IntoResponse::into_response)?;
        if let Some(s) = &who {
            // For the form extractor (`html::SignedForm`), which checks the form's CSRF token.
            parts.extensions.insert(s.clone());
        }
        Ok(MaybeSignedIn(who))
    }
}

/// A page for pros only: others are sent to log in (and back here after), or refused.
pub struct ProPage(pub SignedIn);

impl FromRequestParts<AppState> for ProPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let MaybeSignedIn(who) = MaybeSignedIn::from_request_parts(parts, state).await?;
        match who {
            Some(s) if s.role() == Some(Role::Pro) => Ok(ProPage(s)),
            Some(_) => Err(Problem::status(StatusCode::FORBIDDEN, Some("This page is for plumbers' accounts.".into()))
                .into_response()),
            None => {
                let next = parts.uri.path_and_query().map_or("/pro", |p| p.as_str());
                let to = format!("/login?next={}", urlencode(next));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where to go after logging in: only a path on this site, never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains("://") => n,
        _ => "/pro",
    }
}

/// An API caller with a valid access token whose session is still open.
#[derive(Debug, Clone)]
pub struct ApiUser(pub SignedIn);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return Err(unauthorized("Log in first: send your access token as a Bearer token."));
        };
        let Some(claims) = state.tokens.verify(token, state.clock.now()) else {
            return Err(unauthorized("That access token is not valid or has expired. Refresh it, or log in again."));
        };
        match find_session(state, SessionKey::Id(claims.sid)).await.map_err(|e| ApiError::from(e).into_response())? {
            // A staff session counts only with its second factor (API staff sessions always have it).
            Some(s) if s.user.id == claims.sub && (s.session.mfa_at.is_some() || s.role() == Some(Role::Pro)) => {
                Ok(ApiUser(s))
            }
            _ => Err(unauthorized("That session has ended. Log in again.")),
        }
    }
}

/// An API caller who must be a pro.
#[derive(Debug, Clone)]
pub struct ApiPro(pub SignedIn);

impl FromRequestParts<AppState> for ApiPro {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ApiUser(s) = ApiUser::from_request_parts(parts, state).await?;
        if s.role() == Some(Role::Pro) {
            Ok(ApiPro(s))
        } else {
            Err(Problem::status(StatusCode::FORBIDDEN, Some("This is for plumbers' accounts.".into())).into_response())
        }
    }
}

/// A staff member's browser, from an allowed address, whether or not the second factor is in
/// yet: only the second-factor page takes this.
pub struct StaffMfaPage(pub SignedIn);

impl FromRequestParts<AppState> for StaffMfaPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ClientIp(ip) = match ClientIp::from_request_parts(parts, state).await {
            Ok(ip) => ip,
            Err(never) => match never {},
        };
        if !staff_address(state, ip) {
            // Not even a hint that there is anything here.
            return Err(ApiError::NotFound.into_response());
        }
        let MaybeSignedIn(who) = MaybeSignedIn::from_request_parts(parts, state).await?;
        match who {
            Some(s) if s.role().is_some_and(Role::is_staff) => Ok(StaffMfaPage(s)),
            Some(_) => Err(Problem::status(StatusCode::FORBIDDEN, Some("This area is for PlumberLeads staff.".into()))
                .into_response()),
            None => {
                let next = parts.uri.path_and_query().map_or("/staff", |p| p.as_str());
                Err(Redirect::to(&format!("/login?next={}", urlencode(next))).into_response())
            }
        }
    }
}

/// A staff page: staff role, second factor given in this session, from an allowed address.
/// Anyone else is denied.
pub struct StaffPage(pub SignedIn);

impl FromRequestParts<AppState> for StaffPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let StaffMfaPage(s) = StaffMfaPage::from_request_parts(parts, state).await?;
        if s.session.mfa_at.is_none() {
            return Err(Redirect::to("/staff/mfa").into_response());
        }
        Ok(StaffPage(s))
    }
}

/// An admin's page: a staff page for the `admin` role only.
pub struct AdminPage(pub SignedIn);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let StaffPage(s) = StaffPage::from_request_parts(parts, state).await?;
        if s.role() == Some(Role::Admin) {
            Ok(AdminPage(s))
        } else {
            Err(Problem::status(StatusCode::FORBIDDEN, Some("Only admins manage staff.".into())).into_response())
        }
    }
}
