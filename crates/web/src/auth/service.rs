//! Accounts, start to finish, for both the pages and the API: sign up, confirm the e-mail and
//! the mobile number, log in (throttled, without telling "no such account" from "wrong
//! password"), sessions and refresh tokens, password change and reset. Every deed and its
//! audit entry, e-mails and texts commit in one transaction.

use super::{passwords, tokens};
use crate::AppState;
use domain::account::throttle::{Failures, Policy};
use domain::account::{Password, PasswordError, Role, SignupDraft, SignupInput};
use domain::lead::FieldError;
use jobs::handlers::{SendEmail, SendSms};
use rand::Rng;
use sqlx::PgConnection;
use std::time::Duration;
use store::sessions::RefreshUse;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("e-mail address taken")]
    EmailTaken,
    /// No such account, or the wrong password: deliberately the same.
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many tries")]
    Throttled { retry_after: Duration },
    #[error("staff sign-in from an address not on the allow-list")]
    StaffNotAllowedHere,
    #[error("staff sign-in needs a second factor")]
    SecondFactorRequired,
    #[error("second factor not accepted")]
    SecondFactorWrong,
    #[error("link not valid")]
    BadLink,
    #[error("session ended")]
    SessionEnded,
    #[error("code: {0}")]
    Code(CodeError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Internal(e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Wrong { attempts_left: i32 },
    Expired,
    TooManyAttempts,
    NoCode,
    ResendTooSoon { retry_after: Duration },
    TooManySends,
}

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeError::Wrong { attempts_left } => {
                write!(
                    f,
                    "That code doesn't match. You have {attempts_left} more tries — or we can text you a new one."
                )
            }
            CodeError::Expired => f.write_str("That code has expired. We can text you a new one."),
            CodeError::TooManyAttempts => f.write_str("That was too many tries. We can text you a new code."),
            CodeError::NoCode => f.write_str("Ask for a code first — we'll text it to your mobile."),
            CodeError::ResendTooSoon { retry_after } => {
                write!(f, "We just sent a code. You can ask for another in {} seconds.", retry_after.as_secs().max(1))
            }
            CodeError::TooManySends => f.write_str("We've sent as many codes as we can for now. Please contact us."),
        }
    }
}

fn dur(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::HOUR)
}

/// The key the audit log's hash chain is made with: derived from the deployment's secret.
pub fn audit_key(state: &AppState) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    use secrecy::ExposeSecret;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(state.settings.secret_key.expose_secret().as_bytes())
        .unwrap_or_else(|_| {
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(b"k").unwrap_or_else(|_| std::process::abort())
        });
    mac.update(b"audit-log");
    mac.finalize().into_bytes().to_vec()
}

pub struct Audit<'a> {
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub subject: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub detail: serde_json::Value,
}

pub async fn audit(conn: &mut PgConnection, state: &AppState, a: Audit<'_>) -> Result<(), sqlx::Error> {
    let entry =
        store::audit::Entry { actor_id: a.actor, action: a.action, subject_id: a.subject, ip: a.ip, detail: a.detail };
    store::audit::append(conn, &audit_key(state), state.clock.now(), &entry).await?;
    Ok(())
}

fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", state.settings.http.public_url.as_str().trim_end_matches('/'))
}

async fn send_email_link(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
    to: &str,
    purpose: &str,
) -> Result<(), AuthError> {
    let now = state.clock.now();
    let (token, hash) = tokens::new_secret();
    let (ttl, path) = match purpose {
        "verify_email" => (state.settings.auth.email_verify_ttl, "/verify-email"),
        _ => (state.settings.auth.password_reset_ttl, "/reset-password"),
    };
    // Only the newest link works.
    store::email_tokens::spend_all(conn, user_id, purpose, now).await?;
    store::email_tokens::insert(conn, &hash, user_id, purpose, now, now + dur(ttl)).await?;
    let url = link(state, path, &token);
    let hours = ttl.as_secs().div_ceil(3600);
    let (subject, text_body) = match purpose {
        "verify_email" => (
            "Confirm your e-mail for PlumberLeads".to_owned(),
            format!(
                "Welcome to PlumberLeads!\n\nOpen this link to confirm your e-mail address:\n{url}\n\nIt works once, for {hours} hours. If you did not sign up, ignore this e-mail."
            ),
        ),
        _ => (
            "Reset your PlumberLeads password".to_owned(),
            format!(
                "Someone (we hope you) asked to reset your PlumberLeads password.\n\nOpen this link to choose a new one:\n{url}\n\nIt works once, for {hours} hour(s). If it wasn't you, ignore this e-mail: your password stays as it is."
            ),
        ),
    };
    state
        .queue
        .enqueue(conn, &SendEmail { to: to.to_owned(), subject, text_body, html_body: None })
        .await
        .map_err(|e| AuthError::Internal(e.into()))?;
    Ok(())
}

async fn send_phone_code(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
    phone: &str,
) -> Result<(), AuthError> {
    let now = state.clock.now();
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let hash = state.signer.code_hash(&format!("pro-phone:{user_id}:{phone}"), &code);
    store::phone_codes::put(conn, user_id, phone, &hash, now + dur(state.settings.intake.code_ttl), now).await?;
    let minutes = state.settings.intake.code_ttl.as_secs() / 60;
    let body = format!("Your PlumberLeads code is {code}. It expires in {minutes} minutes. Don't share it.");
    state
        .queue
        .enqueue(conn, &SendSms { to: phone.to_owned(), body })
        .await
        .map_err(|e| AuthError::Internal(e.into()))?;
    Ok(())
}

/// A new plumber's account: the user, the business, the e-mail link and the SMS code.
pub async fn signup(state: &AppState, input: &SignupInput, ip: &str) -> Result<Uuid, AuthError> {
    let draft = SignupDraft::parse(input).map_err(AuthError::Invalid)?;
    if let Err(limited) = state.rate_limiter.check(&format!("signup:ip:{ip}"), state.settings.intake.per_ip).await? {
        return Err(AuthError::Throttled { retry_after: limited.retry_after });
    }
    let hash = passwords::hash(draft.password.clone()).await?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    if store::accounts::find_by_email(&mut tx, draft.email.as_str()).await?.is_some() {
        return Err(AuthError::EmailTaken);
    }
    let user = store::accounts::NewUser {
        id,
        role: Role::Pro.as_str(),
        email: draft.email.as_str(),
        name: draft.owner_name.as_str(),
        phone: Some(draft.phone.as_e164()),
        password_hash: &hash,
        now,
    };
    match store::accounts::insert(&mut tx, &user).await {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Err(AuthError::EmailTaken),
        other => other?,
    }
    store::accounts::insert_pro(&mut tx, id, draft.business_name.as_str(), now).await?;
    send_email_link(&mut tx, state, id, draft.email.as_str(), "verify_email").await?;
    send_phone_code(&mut tx, state, id, draft.phone.as_e164()).await?;
    audit(
        &mut tx,
        state,
        Audit {
            actor: Some(id),
            action: "signup",
            subject: Some(id),
            ip: Some(ip),
            detail: serde_json::json!({"role": "pro"}),
        },
    )
    .await?;
    tx.commit().await?;
    state.queue.wake_workers();
    Ok(id)
}

/// Confirms the address behind a link from our e-mail.
pub async fn verify_email(state: &AppState, token: &str, ip: &str) -> Result<Uuid, AuthError> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let Some(user_id) = store::email_tokens::consume(&mut tx, &tokens::secret_hash(token), "verify_email", now).await?
    else {
        return Err(AuthError::BadLink);
    };
    if store::accounts::mark_email_verified(&mut tx, user_id, now).await? {
        audit(
            &mut tx,
            state,
            Audit {
                actor: Some(user_id),
                action: "email_verified",
                subject: Some(user_id),
                ip: Some(ip),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    state.session_cache.bump(user_id).await;
    Ok(user_id)
}

pub async fn resend_email_link(state: &AppState, user_id: Uuid) -> Result<(), AuthError> {
    let mut tx = state.pool.begin().await?;
    let Some(user) = store::accounts::find(&mut tx, user_id).await? else { return Err(AuthError::SessionEnded) };
    if user.email_verified_at.is_none() {
        if let Err(limited) =
            state.rate_limiter.check(&format!("verify-email:{user_id}"), state.settings.intake.per_phone).await?
        {
            return Err(AuthError::Throttled { retry_after: limited.retry_after });
        }
        send_email_link(&mut tx, state, user_id, &user.email, "verify_email").await?;
    }
    tx.commit().await?;
    state.queue.wake_workers();
    Ok(())
}

/// Checks the SMS code for the account's mobile number.
pub async fn verify_phone(state: &AppState, user_id: Uuid, code: &str, ip: &str) -> Result<(), AuthError> {
    let now = state.clock.now();
    let max = state.settings.intake.code_max_attempts;
    let mut tx = state.pool.begin().await?;
    let Some(pending) = store::phone_codes::lock(&mut tx, user_id).await? else {
        return Err(AuthError::Code(CodeError::NoCode));
    };
    if pending.attempts >= max {
        return Err(AuthError::Code(CodeError::TooManyAttempts));
    }
    if now >= pending.expires_at {
        return Err(AuthError::Code(CodeError::Expired));
    }
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if !state.signer.code_matches(&format!("pro-phone:{user_id}:{}", pending.phone), &code, &pending.code_hash) {
        store::phone_codes::count_attempt(&mut tx, user_id).await?;
        tx.commit().await?;
        let left = max - pending.attempts - 1;
        return Err(AuthError::Code(if left <= 0 {
            CodeError::TooManyAttempts
        } else {
            CodeError::Wrong { attempts_left: left }
        }));
    }
    store::phone_codes::delete(&mut tx, user_id).await?;
    store::accounts::mark_phone_verified(&mut tx, user_id, &pending.phone, now).await?;
    audit(
        &mut tx,
        state,
        Audit {
            actor: Some(user_id),
            action: "phone_verified",
            subject: Some(user_id),
            ip: Some(ip),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    state.session_cache.bump(user_id).await;
    Ok(())
}

pub async fn resend_phone_code(state: &AppState, user_id: Uuid) -> Result<(), AuthError> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let Some(user) = store::accounts::find(&mut tx, user_id).await? else { return Err(AuthError::SessionEnded) };
    let Some(phone) = user.phone.filter(|_| user.phone_verified_at.is_none()) else {
        return Ok(());
    };
    if let Some(pending) = store::phone_codes::lock(&mut tx, user_id).await? {
        let next = pending.last_sent_at + dur(state.settings.intake.code_resend_interval);
        if now < next {
            return Err(AuthError::Code(CodeError::ResendTooSoon {
                retry_after: (next - now).try_into().unwrap_or_default(),
            }));
        }
        if pending.sends >= state.settings.intake.code_max_sends {
            return Err(AuthError::Code(CodeError::TooManySends));
        }
    }
    send_phone_code(&mut tx, state, user_id, &phone).await?;
    tx.commit().await?;
    state.queue.wake_workers();
    Ok(())
}

/// Where a request comes from, as sessions and the audit log record it.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub ip: std::net::IpAddr,
    pub user_agent: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Browser,
    Api,
}

#[derive(Debug)]
pub struct LoggedIn {
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    /// The cookie value (browser) or the refresh token (API).
    pub secret: String,
    /// API only.
    pub access_token: Option<String>,
}

fn policy(state: &AppState, free: u32) -> Policy {
    let a = &state.settings.auth;
    Policy {
        free,
        base: dur(a.login_backoff_base),
        max: dur(a.login_backoff_max),
        per_hour: a.login_max_failures_per_hour,
    }
}

fn failures(r: store::login_failures::Recent) -> Failures {
    Failures { count: u32::try_from(r.count).unwrap_or(u32::MAX), oldest: r.oldest, latest: r.latest }
}

/// The throttle key for an address as typed: trimmed, lower-case, bounded.
fn account_key(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

/// Logs in. The answer and its timing do not depend on whether the account exists.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    totp: Option<&str>,
    client: Client,
    caller: Caller<'_>,
) -> Result<LoggedIn, AuthError> {
    let ip = caller.ip;
    let now = state.clock.now();
    let account = account_key(email);
    let ip_text = ip.to_string();
    throttled(state, &account, &ip_text, now).await?;
    let user = {
        let mut conn = state.pool.acquire().await?;
        store::accounts::find_by_email(&mut conn, email.trim()).await?
    };
    let ok = passwords::verify(Password::presented(password), user.as_ref().map(|u| u.password_hash.clone())).await?;
    let mut tx = state.pool.begin().await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(failed(tx, state, (&account, &ip_text, None), "login_failed", AuthError::BadCredentials).await);
    };
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", user.role))?;
    let mut mfa_at = None;
    if role.is_staff() {
        if !staff_address(state, ip) {
            audit(
                &mut tx,
                state,
                Audit {
                    actor: Some(user.id),
                    action: "login_refused_ip",
                    subject: Some(user.id),
                    ip: Some(&ip_text),
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            return Err(AuthError::StaffNotAllowedHere);
        }
        if client == Client::Api {
            // The API has no enrolment step: the code comes with the password, or no session.
            let Some(code) = totp.filter(|c| !c.trim().is_empty()) else { return Err(AuthError::SecondFactorRequired) };
            let mfa = store::mfa::get(&mut tx, user.id).await?;
            let Some(secret) = mfa.and_then(|m| m.secret) else { return Err(AuthError::SecondFactorRequired) };
            let step = crate::auth::mfa::matching_step(&secret, code, now);
            let fresh = match step {
                Some(step) => store::mfa::use_step(&mut tx, user.id, step).await?,
                None => false,
            };
            if !fresh {
                let who = (account.as_str(), ip_text.as_str(), Some(user.id));
                return Err(failed(tx, state, who, "mfa_failed", AuthError::SecondFactorWrong).await);
            }
            mfa_at = Some(now);
        }
        // A browser gets a session that opens nothing but the second-factor page.
    }
    store::login_failures::clear_account(&mut tx, &account).await?;
    let logged_in = open_session(&mut tx, state, user.id, role, client, caller, mfa_at).await?;
    tx.commit().await?;
    Ok(logged_in)
}

/// A failed login, second factor or confirmation: it counts toward throttling and is audited,
/// in `tx`, which commits. Returns `err` for the caller to give back.
async fn failed(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    state: &AppState,
    who: (&str, &str, Option<Uuid>),
    action: &str,
    err: AuthError,
) -> AuthError {
    let (account, ip, user) = who;
    let now = state.clock.now();
    let detail = if user.is_none() { serde_json::json!({"account": account}) } else { serde_json::json!({}) };
    let recorded = async {
        store::login_failures::record(&mut tx, account, ip, now).await?;
        audit(&mut tx, state, Audit { actor: user, action, subject: user, ip: Some(ip), detail }).await?;
        tx.commit().await
    }
    .await;
    match recorded {
        Ok(()) => err,
        Err(e) => AuthError::Internal(e.into()),
    }
}

/// Staff may sign in only from these addresses (the office, the VPN).
pub fn staff_address(state: &AppState, ip: std::net::IpAddr) -> bool {
    state.settings.auth.staff_allow.iter().any(|net| net.contains(&ip))
}

/// Too many recent failures for this address typed, or from this client: wait.
async fn throttled(state: &AppState, account: &str, ip: &str, now: OffsetDateTime) -> Result<(), AuthError> {
    let hour_ago = now - time::Duration::HOUR;
    let mut conn = state.pool.acquire().await?;
    let by_account = store::login_failures::for_account(&mut conn, account, hour_ago).await?;
    let by_ip = store::login_failures::for_ip(&mut conn, ip, hour_ago).await?;
    let wait = [
        policy(state, state.settings.auth.login_free_failures).wait(failures(by_account), now),
        // An address may try many accounts; it gets more room, and no hourly lock of its own.
        Policy { per_hour: u32::MAX, ..policy(state, state.settings.auth.login_ip_free_failures) }
            .wait(failures(by_ip), now),
    ]
    .into_iter()
    .flatten()
    .max();
    match wait {
        Some(wait) => Err(AuthError::Throttled { retry_after: wait.try_into().unwrap_or(Duration::from_secs(1)) }),
        None => Ok(()),
    }
}

/// A session for an account that just proved who it is (a new sign-up).
pub async fn start_session(
    state: &AppState,
    user_id: Uuid,
    client: Client,
    caller: Caller<'_>,
) -> Result<LoggedIn, AuthError> {
    let mut tx = state.pool.begin().await?;
    let user = store::accounts::find(&mut tx, user_id).await?.ok_or(AuthError::SessionEnded)?;
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", user.role))?;
    if role.is_staff() {
        return Err(AuthError::SecondFactorRequired);
    }
    let logged_in = open_session(&mut tx, state, user.id, role, client, caller, None).await?;
    tx.commit().await?;
    Ok(logged_in)
}

/// A new session with a new secret (never one the client brought: no session fixation).
async fn open_session(
    tx: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
    role: Role,
    client: Client,
    caller: Caller<'_>,
    mfa_at: Option<OffsetDateTime>,
) -> Result<LoggedIn, AuthError> {
    let now = state.clock.now();
    let ip_text = caller.ip.to_string();
    let (secret, hash) = tokens::new_secret();
    let (csrf, _) = tokens::new_secret();
    let session_id = Uuid::now_v7();
    let kind = match client {
        Client::Browser => "browser",
        Client::Api => "api",
    };
    let ua: Option<String> = caller.user_agent.map(|u| u.chars().filter(|c| !c.is_control()).take(300).collect());
    store::sessions::insert(
        tx,
        &store::sessions::NewSession {
            id: session_id,
            // An API session's own secret is never handed out; its refresh tokens are.
            secret_hash: &hash,
            user_id,
            kind,
            csrf_token: &csrf,
            now,
            expires_at: now + dur(state.settings.sessions.absolute_timeout),
            ip: Some(&ip_text),
            user_agent: ua.as_deref(),
            mfa_at,
        },
    )
    .await?;
    let (secret, access_token) = match client {
        Client::Browser => (secret, None),
        Client::Api => {
            let (refresh, refresh_hash) = tokens::new_secret();
            store::sessions::insert_refresh_token(tx, &refresh_hash, session_id, now).await?;
            (refresh, Some(access_token(state, user_id, session_id, role, now)?))
        }
    };
    audit(
        tx,
        state,
        Audit {
            actor: Some(user_id),
            action: "login",
            subject: Some(user_id),
            ip: Some(&ip_text),
            detail: serde_json::json!({"client": kind, "session": session_id}),
        },
    )
    .await?;
    Ok(LoggedIn { user_id, role, session_id, secret, access_token })
}

fn access_token(
    state: &AppState,
    user: Uuid,
    session: Uuid,
    role: Role,
    now: OffsetDateTime,
) -> Result<String, AuthError> {
    let ttl = state.settings.auth.access_token_ttl.min(state.settings.sessions.idle_timeout);
    Ok(state.tokens.issue(user, session, role.as_str(), now, dur(ttl))?)
}

pub fn access_token_ttl(state: &AppState) -> Duration {
    state.settings.auth.access_token_ttl.min(state.settings.sessions.idle_timeout)
}

/// Trades a refresh token for a new pair. A token used twice ends its whole session.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<LoggedIn, AuthError> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let session_id = match store::sessions::use_refresh_token(&mut tx, &tokens::secret_hash(refresh_token), now).await?
    {
        RefreshUse::Fresh(id) => id,
        RefreshUse::Reused(id) => {
            let owner = store::sessions::find_open(&mut tx, id).await?;
            if let Some(s) = &owner {
                store::sessions::end(&mut tx, s.user_id, id, "refresh_token_reused", now).await?;
                audit(
                    &mut tx,
                    state,
                    Audit {
                        actor: None,
                        action: "refresh_token_reused",
                        subject: Some(s.user_id),
                        ip: None,
                        detail: serde_json::json!({"session": id}),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            if let Some(s) = owner {
                state.session_cache.bump(s.user_id).await;
            }
            return Err(AuthError::SessionEnded);
        }
        RefreshUse::Unknown => return Err(AuthError::SessionEnded),
    };
    let Some(session) = store::sessions::find_open(&mut tx, session_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    if !super::sessions::is_live(state, &session, now) {
        store::sessions::end(&mut tx, session.user_id, session.id, "expired", now).await?;
        tx.commit().await?;
        return Err(AuthError::SessionEnded);
    }
    let Some(user) = store::accounts::find(&mut tx, session.user_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", user.role))?;
    store::sessions::touch(&mut tx, session.id, now).await?;
    let (refresh, refresh_hash) = tokens::new_secret();
    store::sessions::insert_refresh_token(&mut tx, &refresh_hash, session.id, now).await?;
    let access = access_token(state, user.id, session.id, role, now)?;
    tx.commit().await?;
    Ok(LoggedIn { user_id: user.id, role, session_id: session.id, secret: refresh, access_token: Some(access) })
}

/// Ends one of the user's own sessions (logout, or "end that session" from the list).
pub async fn end_session(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    reason: &str,
    ip: &str,
) -> Result<bool, AuthError> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let ended = store::sessions::end(&mut tx, user_id, session_id, reason, now).await?;
    if ended {
        audit(
            &mut tx,
            state,
            Audit {
                actor: Some(user_id),
                action: if reason == "logout" { "logout" } else { "session_ended" },
                subject: Some(user_id),
                ip: Some(ip),
                detail: serde_json::json!({"session": session_id}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    state.session_cache.bump(user_id).await;
    Ok(ended)
}

/// Changes the password after checking the current one; every other session ends.
pub async fn change_password(
    state: &AppState,
    user_id: Uuid,
    keep_session: Uuid,
    current: &str,
    new: &str,
    ip: &str,
) -> Result<(), AuthError> {
    let user = {
        let mut conn = state.pool.acquire().await?;
        store::accounts::find(&mut conn, user_id).await?.ok_or(AuthError::SessionEnded)?
    };
    if !passwords::verify(Password::presented(current), Some(user.password_hash.clone())).await? {
        return Err(AuthError::Invalid(vec![FieldError {
            field: "current_password",
            message: "That isn't your current password.".into(),
        }]));
    }
    let pw = parse_new_password(&user, new)?;
    let hash = passwords::hash(pw).await?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    store::accounts::set_password(&mut tx, user_id, &hash, now).await?;
    let ended = store::sessions::end_all(&mut tx, user_id, Some(keep_session), "password_changed", now).await?;
    audit(
        &mut tx,
        state,
        Audit {
            actor: Some(user_id),
            action: "password_changed",
            subject: Some(user_id),
            ip: Some(ip),
            detail: serde_json::json!({"sessions_ended": ended}),
        },
    )
    .await?;
    tx.commit().await?;
    state.session_cache.bump(user_id).await;
    Ok(())
}

fn parse_new_password(user: &store::accounts::User, new: &str) -> Result<Password, AuthError> {
    Password::parse_new(new, &[&user.email, &user.name])
        .map_err(|e: PasswordError| AuthError::Invalid(vec![FieldError { field: "password", message: e.to_string() }]))
}

/// Sends a reset link if the address has an account; says nothing either way.
pub async fn request_reset(state: &AppState, email: &str, ip: &str) -> Result<(), AuthError> {
    let account = account_key(email);
    if let Err(limited) = state.rate_limiter.check(&format!("reset:ip:{ip}"), state.settings.intake.per_ip).await? {
        return Err(AuthError::Throttled { retry_after: limited.retry_after });
    }
    // Per address too, but silently: a limit that answered differently would tell.
    let within =
        state.rate_limiter.check(&format!("reset:account:{account}"), state.settings.intake.per_phone).await?.is_ok();
    let mut tx = state.pool.begin().await?;
    if let Some(user) = store::accounts::find_by_email(&mut tx, email.trim()).await?.filter(|_| within) {
        send_email_link(&mut tx, state, user.id, &user.email, "reset_password").await?;
        audit(
            &mut tx,
            state,
            Audit {
                actor: None,
                action: "password_reset_requested",
                subject: Some(user.id),
                ip: Some(ip),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    state.queue.wake_workers();
    Ok(())
}

/// Sets a new password from a reset link; every session of the account ends.
pub async fn reset_password(state: &AppState, token: &str, new: &str, ip: &str) -> Result<(), AuthError> {
    let now = state.clock.now();
    let hash = tokens::secret_hash(token);
    // Check the password before spending the link, so a refused password does not burn it.
    let mut tx = state.pool.begin().await?;
    let Some(user_id) = store::email_tokens::consume(&mut tx, &hash, "reset_password", now).await? else {
        return Err(AuthError::BadLink);
    };
    let user = store::accounts::find(&mut tx, user_id).await?.ok_or(AuthError::BadLink)?;
    let pw = parse_new_password(&user, new)?;
    let password_hash = passwords::hash(pw).await?;
    store::accounts::set_password(&mut tx, user_id, &password_hash, now).await?;
    let ended = store::sessions::end_all(&mut tx, user_id, None, "password_changed", now).await?;
    // Whoever reset it by e-mail controls the address.
    store::accounts::mark_email_verified(&mut tx, user_id, now).await?;
    store::login_failures::clear_account(&mut tx, &account_key(&user.email)).await?;
    audit(
        &mut tx,
        state,
        Audit {
            actor: Some(user_id),
            action: "password_reset",
            subject: Some(user_id),
            ip: Some(ip),
            detail: serde_json::json!({"sessions_ended": ended}),
        },
    )
    .await?;
    tx.commit().await?;
    state.session_cache.bump(user_id).await;
    Ok(())
}

/// What a staff member sees on the second-factor page.
#[derive(Debug, Clone)]
pub enum SecondFactorStep {
    /// Enter a code from the app (or a recovery code).
    Verify,
    /// Scan this secret into an app, then enter its code.
    Enrol { secret: Vec<u8> },
}

/// The step a signed-in staff member is at; an enrolment secret is made once and kept until used.
pub async fn second_factor_step(state: &AppState, user_id: Uuid) -> Result<SecondFactorStep, AuthError> {
    let mut conn = state.pool.acquire().await?;
    let mfa = store::mfa::get(&mut conn, user_id).await?.ok_or(AuthError::SessionEnded)?;
    if mfa.secret.is_some() {
        return Ok(SecondFactorStep::Verify);
    }
    let secret = match mfa.pending_secret {
        Some(s) => s,
        None => {
            let s = crate::auth::mfa::new_secret();
            store::mfa::set_pending(&mut conn, user_id, &s).await?;
            s
        }
    };
    Ok(SecondFactorStep::Enrol { secret })
}

/// Checks the second factor for a staff session and, if it holds, lets the session in. Returns
/// the new recovery codes when this completed an enrolment (shown once, never again).
pub async fn verify_second_factor(
    state: &AppState,
    who: &super::sessions::SignedIn,
    code: &str,
    caller: Caller<'_>,
) -> Result<Option<Vec<String>>, AuthError> {
    use crate::auth::mfa;
    let now = state.clock.now();
    let user = &who.user;
    let account = account_key(&user.email);
    let ip_text = caller.ip.to_string();
    throttled(state, &account, &ip_text, now).await?;
    let mut tx = state.pool.begin().await?;
    let m = store::mfa::get(&mut tx, user.id).await?.ok_or(AuthError::SessionEnded)?;
    let (accepted, new_codes, action) = match (&m.secret, &m.pending_secret) {
        (Some(secret), _) => {
            let ok = if mfa::is_recovery_code(code) {
                store::mfa::use_recovery_code(&mut tx, user.id, &mfa::recovery_hash(code), now).await?
            } else {
                match mfa::matching_step(secret, code, now) {
                    Some(step) => store::mfa::use_step(&mut tx, user.id, step).await?,
                    None => false,
                }
            };
            (ok, None, if mfa::is_recovery_code(code) { "mfa_recovery_code_used" } else { "mfa_verified" })
        }
        (None, Some(pending)) => match mfa::matching_step(pending, code, now) {
            Some(step) => {
                store::mfa::enable(&mut tx, user.id, now).await?;
                store::mfa::use_step(&mut tx, user.id, step).await?;
                let (codes, hashes) = mfa::new_recovery_codes();
                store::mfa::replace_recovery_codes(&mut tx, user.id, &hashes).await?;
                (true, Some(codes), "mfa_enrolled")
            }
            None => (false, None, "mfa_failed"),
        },
        (None, None) => (false, None, "mfa_failed"),
    };
    if !accepted {
        let who = (account.as_str(), ip_text.as_str(), Some(user.id));
        return Err(failed(tx, state, who, "mfa_failed", AuthError::SecondFactorWrong).await);
    }
    store::mfa::mark_session(&mut tx, who.session.id, now).await?;
    store::login_failures::clear_account(&mut tx, &account).await?;
    audit(
        &mut tx,
        state,
        Audit {
            actor: Some(user.id),
            action,
            subject: Some(user.id),
            ip: Some(&ip_text),
            detail: serde_json::json!({"session": who.session.id}),
        },
    )
    .await?;
    tx.commit().await?;
    state.session_cache.bump(user.id).await;
    Ok(new_codes)
}

/// A staff account, created by an operator (`plumberleads admin create-staff`). Returns the
/// first password, to hand over once; the second factor is enrolled at first sign-in.
pub async fn create_staff(state: &AppState, email: &str, name: &str, role: Role) -> Result<(Uuid, String), AuthError> {
    let mut errors = Vec::new();
    let email = domain::lead::Email::parse(email)
        .map_err(|e| errors.push(FieldError { field: "email", message: e.to_string() }));
    let name = domain::lead::PersonName::parse(name)
        .map_err(|e| errors.push(FieldError { field: "name", message: e.to_string() }));
    let (Ok(email), Ok(name)) = (email, name) else { return Err(AuthError::Invalid(errors)) };
    if !role.is_staff() {
        return Err(AuthError::Invalid(vec![FieldError {
            field: "role",
            message: "Staff accounts are staff or admin.".into(),
        }]));
    }
    let (password, _) = tokens::new_secret();
    let hash = passwords::hash(Password::presented(&password)).await?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    if store::accounts::find_by_email(&mut tx, email.as_str()).await?.is_some() {
        return Err(AuthError::EmailTaken);
    }
    let user = store::accounts::NewUser {
        id,
        role: role.as_str(),
        email: email.as_str(),
        name: name.as_str(),
        phone: None,
        password_hash: &hash,
        now,
    };
    store::accounts::insert(&mut tx, &user).await?;
    // The operator vouches for the address.
    store::accounts::mark_email_verified(&mut tx, id, now).await?;
    audit(
        &mut tx,
        state,
        Audit {
            actor: None,
            action: "staff_created",
            subject: Some(id),
            ip: None,
            detail: serde_json::json!({"role": role.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, password))
}

/// Removes a staff member's second factor (lost phone and codes); they enrol again at sign-in.
/// Their sessions end.
pub async fn reset_second_factor(state: &AppState, email: &str) -> Result<Uuid, AuthError> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let user = store::accounts::find_by_email(&mut tx, email.trim()).await?.ok_or(AuthError::BadCredentials)?;
    store::mfa::reset(&mut tx, user.id).await?;
    store::sessions::end_all(&mut tx, user.id, None, "password_changed", now).await?;
    audit(
        &mut tx,
        state,
        Audit { actor: None, action: "mfa_reset", subject: Some(user.id), ip: None, detail: serde_json::json!({}) },
    )
    .await?;
    tx.commit().await?;
    state.session_cache.bump(user.id).await;
    Ok(user.id)
}

/// Staff gave their second factor within the re-authentication window in this session.
pub fn recently_confirmed(state: &AppState, who: &super::sessions::SignedIn) -> bool {
    let window = dur(state.settings.auth.reauth_window);
    who.session.mfa_at.is_some_and(|at| state.clock.now() - at < window)
}

/// Password and code again, before a sensitive action; renews the session's confirmation.
pub async fn reauthenticate(
    state: &AppState,
    who: &super::sessions::SignedIn,
    password: &str,
    code: &str,
    caller: Caller<'_>,
) -> Result<(), AuthError> {
    let now = state.clock.now();
    let account = account_key(&who.user.email);
    let ip_text = caller.ip.to_string();
    throttled(state, &account, &ip_text, now).await?;
    // Read afresh: a session's cached copy of the account never holds the hash.
    let stored = {
        let mut conn = state.pool.acquire().await?;
        store::accounts::find(&mut conn, who.user.id).await?.map(|u| u.password_hash)
    };
    if !passwords::verify(Password::presented(password), stored).await? {
        let tx = state.pool.begin().await?;
        let id = (account.as_str(), ip_text.as_str(), Some(who.user.id));
        return Err(failed(tx, state, id, "reauth_failed", AuthError::BadCredentials).await);
    }
    verify_second_factor(state, who, code, caller).await.map(|_| ())
}
