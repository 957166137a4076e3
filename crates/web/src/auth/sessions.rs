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
use time::OffsetDateTime;

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
    next.filter(|n| is_local_path(n)).unwrap_or("/pro")
}

/// A path on this site. Browsers drop tabs and newlines from a URL and read `\` as `/`, so
/// `/<TAB>/evil.example` would be `//evil.example`, another host: any control character,
/// whitespace or backslash is refused, as is `//`; what is left must parse as a path.
fn is_local_path(n: &str) -> bool {
    n.starts_with('/')
        && !n.starts_with("//")
        && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && n.parse::<axum::http::uri::PathAndQuery>().is_ok()
}

/// An API caller with a valid access token whose session is still open.
#[derive(Debug, Clone)]
pub struct ApiUser(pub SignedIn);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        Ok(ApiUser(bearer(parts, state).await?.0))
    }
}

/// The caller of a valid access token whose session is still open, and when the token expires.
async fn bearer(parts: &Parts, state: &AppState) -> Result<(SignedIn, OffsetDateTime), Response> {
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
            let expires = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            Ok((s, expires))
        }
        _ => Err(unauthorized("That session has ended. Log in again.")),
    }
}

fn not_a_pro() -> Response {
    Problem::status(StatusCode::FORBIDDEN, Some("This is for plumbers' accounts.".into())).into_response()
}

/// An API caller who must be a pro.
#[derive(Debug, Clone)]
pub struct ApiPro(pub SignedIn);

impl FromRequestParts<AppState> for ApiPro {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (s, _) = bearer(parts, state).await?;
        if s.role() != Some(Role::Pro) {
            return Err(not_a_pro());
        }
        Ok(ApiPro(s))
    }
}

/// An API pro and the moment their access runs out (the token's expiry or the session's limits,
/// whichever is first): what a long-lived answer such as the live feed must not outlast.
#[derive(Debug, Clone)]
pub struct ApiProUntil(pub SignedIn, pub OffsetDateTime);

impl FromRequestParts<AppState> for ApiProUntil {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (s, token_expires) = bearer(parts, state).await?;
        if s.role() != Some(Role::Pro) {
            return Err(not_a_pro());
        }
        let until = token_expires.min(services::accounts::live_until(state, &s.session));
        Ok(ApiProUntil(s, until))
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

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_on_this_site_or_the_portal() {
        for ok in ["/pro/account", "/staff", "/pro/profile?done=area#hours", "/a/b%2F/c"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        let hostile = [
            "https://evil.example/",
            "//evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\u{0}/evil.example",
            "/\u{85}/evil.example",
            "/\u{3000}/evil.example",
            " /pro",
            "pro",
            "",
            "javascript:alert(1)",
        ];
        for n in hostile {
            assert_eq!(safe_next(Some(n)), "/pro", "{n:?}");
        }
        assert_eq!(safe_next(None), "/pro");
    }
}
