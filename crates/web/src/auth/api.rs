//! `/api/v1/auth/*` and `/api/v1/me*` (PRODUCT.md's contract): sign up, log in for a bearer
//! token and a rotating refresh token, refresh, log out, who am I, my sessions, my password.

use super::sessions::ApiUser;
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::json::json_body;
use crate::problem::{ApiError, unauthorized};
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
use uuid::Uuid;

fn problem(e: ServiceError) -> Response {
    ApiError::from(e).into_response()
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Debug, Serialize)]
struct Me {
    id: Uuid,
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

#[derive(Debug, Serialize)]
struct Business {
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginRequest {
    email: String,
    password: String,
    totp: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenPair {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RefreshRequest {
    refresh_token: String,
}

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

pub async fn logout(State(state): State<AppState>, ClientIp(ip): ClientIp, ApiUser(s): ApiUser) -> Response {
    match accounts::end_session(&state, s.user.id, s.session.id, SessionEnd::Logout, &ip.to_string()).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}

pub async fn me(State(state): State<AppState>, ApiUser(s): ApiUser) -> Response {
    match me_of(&state, &s.user).await {
        Ok(me) => no_store(Json(me).into_response()),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Serialize)]
struct SessionView {
    id: Uuid,
    kind: String,
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
            no_store(Json(serde_json::json!({ "data": data })).into_response())
        }
        Err(e) => e.into_response(),
    }
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordChange {
    current_password: String,
    password: String,
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CodeRequest {
    code: String,
}

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

pub async fn resend_phone_code(State(state): State<AppState>, ApiUser(s): ApiUser) -> Response {
    match accounts::resend_phone_code(&state, s.user.id).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => problem(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenRequest {
    token: String,
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResetRequest {
    email: String,
}

/// Always 202: whether the address has an account is not ours to tell.
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResetConfirm {
    token: String,
    password: String,
}

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
