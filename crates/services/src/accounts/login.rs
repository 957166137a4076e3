//! Logging in, and what every sign-in step shares: the throttle on failures and the new session.

use super::{Caller, Client, LoggedIn, dur, role_of, staff_address};
use crate::audit::{self, Audit, AuditAction};
use crate::infra::{passwords, tokens, totp};
use crate::{Ctx, ServiceError};
use domain::account::throttle::{Failures, Policy};
use domain::account::{Password, Role};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

fn policy(ctx: &Ctx, free: u32) -> Policy {
    let a = &ctx.settings.auth;
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

/// The throttle key of an address with no account: trimmed, lower-case, bounded.
pub(super) fn account_key(email: &str) -> String {
    email.trim().to_lowercase().chars().filter(|c| !c.is_control()).take(254).collect()
}

/// The typed address to look an account up by, if it could be one's: an address with a control
/// character never is (and PostgreSQL cannot even compare a NUL: found by the API fuzzer).
pub(super) fn address_to_find(email: &str) -> Option<&str> {
    let email = email.trim();
    (!email.chars().any(char::is_control)).then_some(email)
}

/// The throttle key of an account: its id, so every spelling of its address (PostgreSQL's
/// `lower()` finds `İris@…` for `iris@…`) counts against the same slate.
pub(super) fn user_key(id: Uuid) -> String {
    format!("user:{id}")
}

/// Logs in. The answer and its timing do not depend on whether the account exists.
pub fn login<'a>(
    ctx: &'a Ctx,
    email: &'a str,
    password: &'a str,
    totp: Option<&'a str>,
    client: Client,
    caller: Caller<'a>,
) -> BoxFuture<'a, Result<LoggedIn, ServiceError>> {
    Box::pin(login_inner(ctx, email, password, totp, client, caller))
}

async fn login_inner(
    ctx: &Ctx,
    email: &str,
    password: &str,
    totp: Option<&str>,
    client: Client,
    caller: Caller<'_>,
) -> Result<LoggedIn, ServiceError> {
    let ip = caller.ip;
    let now = ctx.clock.now();
    let ip_text = ip.to_string();
    let user = match address_to_find(email) {
        Some(address) => store::accounts::find_by_email(&mut *ctx.pool.acquire().await?, address).await?,
        None => None,
    };
    let account = user.as_ref().map_or_else(|| account_key(email), |u| user_key(u.id));
    attempt(ctx, &account, &ip_text).await?;
    if let Some(u) = &user
        && role_of(u)?.is_staff()
        && !staff_address(ctx, ip)
    {
        // Refused before the password is looked at (the answer must not tell a right one from a
        // wrong one), and the attempt stays counted.
        let mut tx = ctx.pool.begin().await?;
        audit::record(&mut tx, ctx, Audit::own(u.id, AuditAction::LoginRefusedIp, Some(&ip_text))).await?;
        tx.commit().await?;
        return Err(ServiceError::StaffNotAllowedHere);
    }
    let ok = passwords::verify(Password::presented(password), user.as_ref().map(|u| u.password_hash.clone())).await?;
    let mut tx = ctx.pool.begin().await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(failed(
            tx,
            ctx,
            (&account, &ip_text, None),
            AuditAction::LoginFailed,
            ServiceError::BadCredentials,
        )
        .await);
    };
    if user.closed_at.is_some() {
        // Said only to someone who knows the password, so it tells no one else the account exists.
        tx.commit().await?;
        return Err(ServiceError::AccountClosed);
    }
    let role = role_of(&user)?;
    let mut mfa_at = None;
    // A browser gets a session that opens nothing but the second-factor page; the API has no
    // enrolment step: the code comes with the password, or no session.
    if role.is_staff() && client == Client::Api {
        let Some(code) = totp.filter(|c| !c.trim().is_empty()) else {
            return Err(ServiceError::SecondFactorRequired);
        };
        let mfa = store::mfa::get(&mut tx, user.id).await?;
        let Some(sealed) = mfa.and_then(|m| m.secret) else { return Err(ServiceError::SecondFactorRequired) };
        // A secret that does not open matches no code.
        let secret = crate::infra::sealed::open(&ctx.signer, user.id, &sealed).unwrap_or_default();
        let step = totp::matching_step(&secret, code, now);
        let fresh = match step {
            Some(step) => store::mfa::use_step(&mut tx, user.id, step).await?,
            None => false,
        };
        if !fresh {
            let who = (account.as_str(), ip_text.as_str(), Some(user.id));
            return Err(failed(tx, ctx, who, AuditAction::MfaFailed, ServiceError::SecondFactorWrong).await);
        }
        mfa_at = Some(now);
    }
    store::login_failures::clear_account(&mut tx, &account).await?;
    let logged_in = open_session(&mut tx, ctx, user.id, role, client, caller, mfa_at).await?;
    tx.commit().await?;
    Ok(logged_in)
}

/// A failed login, second factor or confirmation (already counted by `attempt`): audited in `tx`,
/// which commits. Returns `err` for the caller to give back.
pub(super) async fn failed(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    ctx: &Ctx,
    who: (&str, &str, Option<Uuid>),
    action: AuditAction,
    err: ServiceError,
) -> ServiceError {
    let (account, ip, user) = who;
    let detail = if user.is_none() { serde_json::json!({"account": account}) } else { serde_json::json!({}) };
    let recorded = async {
        audit::record(&mut tx, ctx, Audit { actor: user, action, subject: user, ip: Some(ip), detail }).await?;
        tx.commit().await
    }
    .await;
    match recorded {
        Ok(()) => err,
        Err(e) => ServiceError::Internal(e.into()),
    }
}

/// Starts a sign-in attempt: too many recent failures on this account or from this client means
/// wait; otherwise the attempt is counted as a failure before anything is checked (a success wipes
/// the account's slate), under a lock, so concurrent guesses cannot all pass under the limit.
pub(super) async fn attempt(ctx: &Ctx, account: &str, ip: &str) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let hour_ago = now - time::Duration::HOUR;
    let mut tx = ctx.pool.begin().await?;
    store::login_failures::lock(&mut tx, account, ip).await?;
    let by_account = store::login_failures::for_account(&mut tx, account, hour_ago).await?;
    let by_ip = store::login_failures::for_ip(&mut tx, ip, hour_ago).await?;
    let wait = [
        policy(ctx, ctx.settings.auth.login_free_failures).wait(failures(by_account), now),
        // An address may try many accounts; it gets more room, and no hourly lock of its own.
        Policy { per_hour: u32::MAX, ..policy(ctx, ctx.settings.auth.login_ip_free_failures) }
            .wait(failures(by_ip), now),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(wait) = wait {
        return Err(ServiceError::Throttled { retry_after: wait.try_into().unwrap_or(Duration::from_secs(1)) });
    }
    store::login_failures::record(&mut tx, account, ip, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A new session with a new secret (never one the client brought: no session fixation).
pub(super) async fn open_session(
    tx: &mut PgConnection,
    ctx: &Ctx,
    user_id: Uuid,
    role: Role,
    client: Client,
    caller: Caller<'_>,
    mfa_at: Option<OffsetDateTime>,
) -> Result<LoggedIn, ServiceError> {
    let now = ctx.clock.now();
    let ip_text = caller.ip.to_string();
    let (secret, hash) = tokens::new_secret();
    let (csrf, _) = tokens::new_secret();
    let session_id = Uuid::now_v7();
    let kind = match client {
        Client::Browser => "browser",
        Client::Api => "api",
    };
    let ua: Option<String> = caller.user_agent.map(|u| u.chars().filter(|c| !c.is_control()).take(300).collect());
    // A device this account has not signed in from before (and not its very first session): tell
    // the owner, in case it was not them.
    let (earlier, seen) = store::sessions::device_history(tx, user_id, ua.as_deref()).await?;
    if earlier > 0
        && !seen
        && let Some(user) = store::accounts::find(tx, user_id).await?
    {
        super::notices::send(
            tx,
            ctx,
            &user.email,
            super::notices::Notice::NewDevice { device: ua.as_deref(), ip: &ip_text },
        )
        .await?;
    }
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
            expires_at: now + dur(ctx.settings.sessions.absolute_timeout),
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
            (refresh, Some(access_token(ctx, user_id, session_id, role, now)?))
        }
    };
    let detail = serde_json::json!({"client": kind, "session": session_id});
    audit::record(tx, ctx, Audit::own(user_id, AuditAction::Login, Some(&ip_text)).detail(detail)).await?;
    Ok(LoggedIn { user_id, role, session_id, secret, access_token })
}

pub(super) fn access_token(
    ctx: &Ctx,
    user: Uuid,
    session: Uuid,
    role: Role,
    now: OffsetDateTime,
) -> Result<String, ServiceError> {
    Ok(ctx.tokens.issue(user, session, role.as_str(), now, dur(access_token_ttl(ctx)))?)
}

pub fn access_token_ttl(ctx: &Ctx) -> Duration {
    ctx.settings.auth.access_token_ttl.min(ctx.settings.sessions.idle_timeout)
}
