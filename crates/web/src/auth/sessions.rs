//! Who is asking: a browser's session cookie, or an API client's access token. Sessions are
//! checked on every request against both limits (idle and absolute, from the settings) and
//! against the database, so logging out or ending a session elsewhere takes effect at once.

use super::tokens;
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::problem::{ApiError, Problem};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::account::Role;
use store::accounts::User;
use store::sessions::Session;
use time::OffsetDateTime;

/// `__Host-`: the browser only accepts it over HTTPS (or on localhost), for the whole site,
/// from this exact host.
pub const COOKIE: &str = "__Host-pl_session";
/// Writing `last_seen_at` on every request would cost a write per page; this often is enough.
const TOUCH_EVERY: time::Duration = time::Duration::seconds(30);

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
}

impl SignedIn {
    pub fn role(&self) -> Option<Role> {
        Role::parse(&self.user.role)
    }
}

/// Within its idle and absolute limits at `now`.
pub fn is_live(state: &AppState, s: &Session, now: OffsetDateTime) -> bool {
    let idle = time::Duration::try_from(state.settings.sessions.idle_timeout).unwrap_or(time::Duration::MINUTE * 30);
    now < s.expires_at && now < s.last_seen_at + idle
}

/// The open, live session with this hash (or id) and its user; expired ones are closed on the
/// way. Read from the Redis copy when there is a current one (see `cache`).
async fn load(state: &AppState, find: SessionKey<'_>) -> Result<Option<SignedIn>, ApiError> {
    let now = state.clock.now();
    let cache_key = match find {
        SessionKey::Secret(hash) => hex::encode(hash),
        SessionKey::Id(id) => format!("id:{id}"),
    };
    if let Some((mut session, user, generation)) = state.session_cache.get(&cache_key).await
        && is_live(state, &session, now)
    {
        if now - session.last_seen_at >= TOUCH_EVERY {
            let mut conn = state.pool.acquire().await?;
            store::sessions::touch(&mut conn, session.id, now).await?;
            session.last_seen_at = now;
            state.session_cache.put(&cache_key, generation, &session, &user).await;
        }
        return Ok(Some(SignedIn { user, session }));
    }
    let Some(found) = load_from_db(state, &find, now).await? else { return Ok(None) };
    if state.session_cache.enabled()
        && let Some(generation) = state.session_cache.generation(found.user.id).await
    {
        // Read again after taking the generation: a change committed in between is either in
        // what we read now, or has bumped the generation past the stamp.
        if let Some(fresh) = load_from_db(state, &find, now).await? {
            state.session_cache.put(&cache_key, generation, &fresh.session, &fresh.user).await;
            return Ok(Some(fresh));
        }
        return Ok(None);
    }
    Ok(Some(found))
}

async fn load_from_db(
    state: &AppState,
    find: &SessionKey<'_>,
    now: OffsetDateTime,
) -> Result<Option<SignedIn>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let session = match find {
        SessionKey::Secret(hash) => store::sessions::find_open_by_secret(&mut conn, hash).await?,
        SessionKey::Id(id) => store::sessions::find_open(&mut conn, *id).await?,
    };
    let Some(session) = session else { return Ok(None) };
    if !is_live(state, &session, now) {
        store::sessions::end(&mut conn, session.user_id, session.id, "expired", now).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        store::sessions::touch(&mut conn, session.id, now).await?;
    }
    let Some(user) = store::accounts::find(&mut conn, session.user_id).await? else { return Ok(None) };
    Ok(Some(SignedIn { user, session }))
}

enum SessionKey<'a> {
    Secret(&'a [u8]),
    Id(uuid::Uuid),
}

/// The browser's session, if it has a live one.
pub async fn from_cookies(state: &AppState, jar: &CookieJar) -> Result<Option<SignedIn>, ApiError> {
    let Some(cookie) = jar.get(COOKIE) else { return Ok(None) };
    let value = cookie.value();
    // Ours are 43 characters; anything else is not worth a query.
    if value.len() != 43 {
        return Ok(None);
    }
    load(state, SessionKey::Secret(&tokens::secret_hash(value))).await
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
        from_cookies(state, &jar).await.map(MaybeSignedIn).map_err(IntoResponse::into_response)
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
        match load(state, SessionKey::Id(claims.sid)).await.map_err(IntoResponse::into_response)? {
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

pub fn unauthorized(detail: &str) -> Response {
    let mut res = Problem::status(StatusCode::UNAUTHORIZED, Some(detail.into())).into_response();
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
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
        if !super::service::staff_address(state, ip) {
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
