//! `/api/v1/auth/*` and `/api/v1/me*` (PRODUCT.md's contract): sign up, log in for a bearer
//! token and a rotating refresh token, refresh, log out, who am I, my sessions, my password.

use super::sessions::ApiUser;
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::json::json_body;
use crate::problem::{ApiError, Problem, unauthorized};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use domain::account::SessionEnd;
use domain::account::SignupInput;
use serde::{Deserialize, Serialize};
use services::ServiceError;
use services::accounts::{self, Client};
use store::accounts::User;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

fn problem(e: ServiceError) -> Response {
    ApiError::from(e).into_response()
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    id: Uuid,
    /// `pro`, `staff` or `admin`.
    role: String,
    email: String,
    name: String,
    phone: Option<String>,
    email_verified: bool,
    phone_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    business: Option<Business>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Business {
    name: String,
    status: domain::account::ProStatus,
}

async fn me_of(state: &AppState, u: &User) -> Result<Me, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let business =
        store::accounts::pro(&mut conn, u.id).await?.map(|p| Business { name: p.business_name, status: p.status });
    Ok(Me {
        id: u.id,
        role: u.role.clone(),
        email: u.email.clone(),
        name: u.name.clone(),
        phone: u.phone.clone(),
        email_verified: u.email_verified_at.is_some(),
        phone_verified: u.phone_verified_at.is_some(),
        business,
        created_at: u.created_at,
    })
}

/// A plumber's new account. An e-mail link and a text-message code follow, to prove both.
#[utoipa::path(
    post,
    path = "/api/v1/auth/signup",
    tag = "accounts",
    operation_id = "signup",
    request_body(content = SignupInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The account, as `GET /api/v1/me` shows it", body = Me,
         headers(("Location" = String, description = "`/api/v1/me`"))),
        (status = 409, description = "The e-mail already has an account (`/problems/email-taken`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input: SignupInput = match json_body(&headers, &body) {
        Ok(i) => i,
        Err(res) => return res,
    };
    let id = match accounts::signup(&state, &input, &ip.to_string()).await {
        Ok(id) => id,
        Err(e) => return problem(e),
    };
    let user = async {
        let mut conn = state.pool.acquire().await?;
        store::accounts::find(&mut conn, id).await?.ok_or(ApiError::NotFound)
    };
    let me = match user.await {
        Ok(u) => me_of(&state, &u).await,
        Err(e) => Err(e),
    };
    match me {
        Ok(me) => {
            let mut res = (StatusCode::CREATED, Json(me)).into_response();
            res.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/api/v1/me"));
            no_store(res)
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    #[schema(required = true, format = Email)]
    email: String,
    #[schema(required = true, format = Password)]
    password: String,
    /// Staff only: the authenticator app's current code, or a recovery code.
    totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer …`.
    access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    /// Seconds the access token is good for.
    expires_in: u64,
    /// Single use: `POST /api/v1/auth/refresh` answers a new pair.
    refresh_token: String,
}

fn token_pair(state: &AppState, l: accounts::LoggedIn) -> Response {
    let Some(access_token) = l.access_token else {
        return ApiError::Internal(anyhow::anyhow!("an API login without an access token")).into_response();
    };
    no_store(
        Json(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in: accounts::access_token_ttl(state).as_secs(),
            refresh_token: l.secret,
        })
        .into_response(),
    )
}

/// Log in for an access token and a refresh token. Failures are throttled per account and per
/// address (429 with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "accounts",
    operation_id = "login",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong e-mail or password, or a wrong second factor \
            (`/problems/second-factor-failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A staff account: from outside the office network, or without its \
            second factor (`/problems/second-factor-required`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, body: Bytes) -> Response {
    let req: LoginRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    let mut errors = Vec::new();
    if req.email.trim().is_empty() {
        errors.push(FieldError { field: "email", message: "Please give your e-mail address.".into() });
    }
    if req.password.is_empty() {
        errors.push(FieldError { field: "password", message: "Please give your password.".into() });
    }
    if !errors.is_empty() {
        return ApiError::Validation(errors).into_response();
    }
    // A code is only asked of staff; a pro sending one is not refused for it.
    let caller = accounts::Caller { ip, user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()) };
    match accounts::login(&state, &req.email, &req.password, req.totp.as_deref(), Client::Api, caller).await {
        Ok(l) => token_pair(&state, l),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefreshRequest {
    #[schema(required = true)]
    refresh_token: String,
}

/// Trade a refresh token for a new pair. Each works once: using one twice ends the whole session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "accounts",
    operation_id = "refresh",
    request_body(content = RefreshRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 401, description = "Not a live refresh token: log in again", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: RefreshRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    if req.refresh_token.is_empty() || req.refresh_token.len() > 100 {
        return unauthorized("That refresh token is not valid. Log in again.");
    }
    match accounts::refresh(&state, &req.refresh_token).await {
        Ok(l) => token_pair(&state, l),
        Err(e) => problem(e),
    }
}

/// End this session (its access and refresh tokens stop working).
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "accounts",
    operation_id = "logout",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out"))
)]
pub async fn logout(State(state): State<AppState>, ClientIp(ip): ClientIp, ApiUser(s): ApiUser) -> Response {
    match accounts::end_session(&state, s.user.id, s.session.id, SessionEnd::Logout, &ip.to_string()).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}

/// Who is signed in.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    operation_id = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The account", body = Me))
)]
pub async fn me(State(state): State<AppState>, ApiUser(s): ApiUser) -> Response {
    match me_of(&state, &s.user).await {
        Ok(me) => no_store(Json(me).into_response()),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    id: Uuid,
    /// `web` (a browser) or `api` (a token pair).
    kind: String,
    /// The session this request came with.
    current: bool,
    ip: Option<String>,
    user_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    data: Vec<SessionView>,
}

/// The account's open sessions, browsers and apps alike.
#[utoipa::path(
    get,
    path = "/api/v1/me/sessions",
    tag = "me",
    operation_id = "listSessions",
    security(("bearer" = [])),
    responses((status = 200, description = "Open sessions", body = SessionList))
)]
pub async fn sessions(State(state): State<AppState>, ApiUser(s): ApiUser) -> Response {
    let list = async {
        let mut conn = state.pool.acquire().await?;
        Ok::<_, ApiError>(store::sessions::list_open(&mut conn, s.user.id).await?)
    }
    .await;
    let now = state.clock.now();
    match list {
        Ok(list) => {
            let data: Vec<SessionView> = list
                .into_iter()
                .filter(|x| accounts::is_live(&state, x, now))
                .map(|x| SessionView {
                    current: x.id == s.session.id,
                    id: x.id,
                    kind: x.kind,
                    ip: x.ip,
                    user_agent: x.user_agent,
                    created_at: x.created_at,
                    last_seen_at: x.last_seen_at,
                    expires_at: x.expires_at,
                })
                .collect();
            no_store(Json(SessionList { data }).into_response())
        }
        Err(e) => e.into_response(),
    }
}

/// End one of the account's sessions (e.g. a lost phone).
#[utoipa::path(
    delete,
    path = "/api/v1/me/sessions/{id}",
    tag = "me",
    operation_id = "endSession",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A session's id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No open session of this account has that id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn end_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiUser(s): ApiUser,
    Path(id): Path<Uuid>,
) -> Response {
    // Only the caller's own sessions: anyone else's is "not found", never "forbidden".
    match accounts::end_session(&state, s.user.id, id, SessionEnd::EndedByOwner, &ip.to_string()).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => ApiError::NotFound.into_response(),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordChange {
    #[schema(required = true, format = Password)]
    current_password: String,
    /// 12 to 256 characters, not easy to guess.
    #[schema(required = true, format = Password, min_length = 12, max_length = 256)]
    password: String,
}

/// Change the password; every other session ends. Wrong current passwords are throttled.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "me",
    operation_id = "changePassword",
    security(("bearer" = [])),
    request_body(content = PasswordChange, content_type = "application/json"),
    responses((status = 204, description = "Changed"))
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiUser(s): ApiUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: PasswordChange = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    match accounts::change_password(
        &state,
        s.user.id,
        s.session.id,
        &req.current_password,
        &req.password,
        &ip.to_string(),
    )
    .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CodeRequest {
    #[schema(required = true, example = "482913")]
    code: String,
}

/// The code texted to the account's mobile number.
#[utoipa::path(
    post,
    path = "/api/v1/me/phone/verification",
    tag = "me",
    operation_id = "verifyPhone",
    security(("bearer" = [])),
    request_body(content = CodeRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "The number is verified"),
        (status = 422, description = "Wrong, expired or exhausted code (`/problems/verification-failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_phone(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiUser(s): ApiUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: CodeRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    match accounts::verify_phone(&state, s.user.id, &req.code, &ip.to_string()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}

/// Text a new code to the account's mobile number.
#[utoipa::path(
    post,
    path = "/api/v1/me/phone/verification/resend",
    tag = "me",
    operation_id = "resendPhoneCode",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new code is on its way"),
        (status = 429, description = "Too soon (`Retry-After`) or no more codes (`/problems/verification-failed`)",
         body = Problem, content_type = "application/problem+json", headers(("Retry-After" = Option<u64>))),
    )
)]
pub async fn resend_phone_code(State(state): State<AppState>, ApiUser(s): ApiUser) -> Response {
    match accounts::resend_phone_code(&state, s.user.id).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TokenRequest {
    /// The token from the e-mailed link.
    #[schema(required = true)]
    token: String,
}

/// Prove the e-mail address with the token from the link we sent.
#[utoipa::path(
    post,
    path = "/api/v1/auth/email-verification",
    tag = "accounts",
    operation_id = "verifyEmail",
    request_body(content = TokenRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, description = "Expired or used link (`/problems/link-expired`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: TokenRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    match accounts::verify_email(&state, &req.token, &ip.to_string()).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ResetRequest {
    #[schema(required = true, format = Email)]
    email: String,
}

/// Ask for a password-reset link by e-mail. Always 202: whether the address has an account is
/// not ours to tell.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset",
    tag = "accounts",
    operation_id = "requestPasswordReset",
    request_body(content = ResetRequest, content_type = "application/json"),
    responses((status = 202, description = "If the address has an account, a reset link is on its way"))
)]
pub async fn request_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: ResetRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    if req.email.trim().is_empty() {
        return ApiError::Validation(vec![FieldError {
            field: "email",
            message: "Please give your e-mail address.".into(),
        }])
        .into_response();
    }
    match accounts::request_reset(&state, &req.email, &ip.to_string()).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ResetConfirm {
    /// The token from the e-mailed link.
    #[schema(required = true)]
    token: String,
    /// The new password: 12 to 256 characters, not easy to guess.
    #[schema(required = true, format = Password, min_length = 12, max_length = 256)]
    password: String,
}

/// Set a new password with the token from the reset link; every session ends.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset/confirm",
    tag = "accounts",
    operation_id = "confirmPasswordReset",
    request_body(content = ResetConfirm, content_type = "application/json"),
    responses(
        (status = 204, description = "The password is changed"),
        (status = 400, description = "Expired or used link (`/problems/link-expired`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: ResetConfirm = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    match accounts::reset_password(&state, &req.token, &req.password, &ip.to_string()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}
