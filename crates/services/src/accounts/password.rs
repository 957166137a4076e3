//! Changing a password (knowing the current one) and resetting it by an e-mailed link.

use super::login::{account_key, address_to_find, attempt, failed, user_key};
use super::notices::{self, Notice};
use super::verify::send_email_link;
use crate::audit::{self, Audit, AuditAction};
use crate::infra::{passwords, tokens};
use crate::{Ctx, ServiceError};
use ::jobs::{Job, JobError};
use domain::FieldError;
use domain::account::{Password, PasswordError, SessionEnd, TokenPurpose};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Changes the password after checking the current one; every other session ends.
pub fn change_password<'a>(
    ctx: &'a Ctx,
    user_id: Uuid,
    keep_session: Uuid,
    current: &'a str,
    new: &'a str,
    ip: &'a str,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(change_password_inner(ctx, user_id, keep_session, current, new, ip))
}

async fn change_password_inner(
    ctx: &Ctx,
    user_id: Uuid,
    keep_session: Uuid,
    current: &str,
    new: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let user = {
        let mut conn = ctx.pool.acquire().await?;
        store::accounts::find(&mut conn, user_id).await?.ok_or(ServiceError::SessionEnded)?
    };
    confirm_password(ctx, &user, current, "current_password", ip).await?;
    let pw = parse_new_password(&user, new)?;
    let hash = passwords::hash(pw).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    store::accounts::set_password(&mut tx, user_id, &hash, now).await?;
    let ended =
        store::sessions::end_all(&mut tx, user_id, Some(keep_session), SessionEnd::PasswordChanged.as_str(), now)
            .await?;
    notices::send(&mut tx, ctx, &user.email, Notice::PasswordChanged).await?;
    audit::record(
        &mut tx,
        ctx,
        Audit::own(user_id, AuditAction::PasswordChanged, Some(ip))
            .detail(serde_json::json!({"sessions_ended": ended})),
    )
    .await?;
    tx.commit().await?;
    ctx.session_cache.bump(user_id).await;
    Ok(())
}

/// Proves the signed-in person knows the account's password before a step that needs it (a new
/// password, closing the account). It is a sign-in step: throttled and audited like one. A wrong
/// one is an error on `field`.
pub(super) async fn confirm_password(
    ctx: &Ctx,
    user: &store::accounts::User,
    password: &str,
    field: &'static str,
    ip: &str,
) -> Result<(), ServiceError> {
    let account = user_key(user.id);
    attempt(ctx, &account, ip).await?;
    if !passwords::verify(Password::presented(password), Some(user.password_hash.clone())).await? {
        let wrong =
            ServiceError::Invalid(vec![FieldError { field, message: "That isn't your current password.".into() }]);
        let tx = ctx.pool.begin().await?;
        return Err(failed(tx, ctx, (&account, ip, Some(user.id)), AuditAction::ReauthFailed, wrong).await);
    }
    // Proven: the slate is clean, whatever the step does next.
    let mut conn = ctx.pool.acquire().await?;
    store::login_failures::clear_account(&mut conn, &account).await?;
    Ok(())
}

fn parse_new_password(user: &store::accounts::User, new: &str) -> Result<Password, ServiceError> {
    Password::parse_new(new, &[&user.email, &user.name]).map_err(|e: PasswordError| {
        ServiceError::Invalid(vec![FieldError { field: "password", message: e.to_string() }])
    })
}

/// Sends a reset link if the address has an account; says nothing either way.
///
/// The request does the same work whoever asks — two limit checks and one queued job — so its
/// answer *and its timing* are the same for an address with an account and one without; the job
/// looks the account up and, if there is one, sends the link (issue 10: no enumeration by timing).
pub fn request_reset<'a>(ctx: &'a Ctx, email: &'a str, ip: &'a str) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(request_reset_inner(ctx, email, ip))
}

async fn request_reset_inner(ctx: &Ctx, email: &str, ip: &str) -> Result<(), ServiceError> {
    let account = account_key(email);
    if let Err(limited) = ctx.rate_limiter.check(&format!("reset:ip:{ip}"), ctx.settings.intake.per_ip).await? {
        return Err(ServiceError::Throttled { retry_after: limited.retry_after });
    }
    // Per address too, but silently: a limit that answered differently would tell.
    let within =
        ctx.rate_limiter.check(&format!("reset:account:{account}"), ctx.settings.intake.per_phone).await?.is_ok();
    if within {
        let mut tx = ctx.pool.begin().await?;
        // An address no account can have (a control character: PostgreSQL could not even
        // store it) still queues its job, with nothing to look up.
        let email = address_to_find(email).map(str::to_owned);
        ctx.queue.enqueue(&mut tx, &SendResetLink { email, ip: ip.to_owned() }).await?;
        tx.commit().await?;
        ctx.queue.wake_workers();
    }
    Ok(())
}

/// Sends a reset link to `email` if an account has that address; nothing otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResetLink {
    pub email: Option<String>,
    pub ip: String,
}

impl Job for SendResetLink {
    const KIND: &'static str = "send_reset_link";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        send_reset_link(&ctx, self.email.as_deref(), &self.ip).await.map_err(|e| JobError::from(anyhow::Error::new(e)))
    }
}

async fn send_reset_link(ctx: &Ctx, email: Option<&str>, ip: &str) -> Result<(), ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    let user = match email {
        Some(address) => store::accounts::find_by_email(&mut tx, address).await?,
        None => None,
    };
    // A closed account signs in no more, so it gets no link to.
    if let Some(user) = user.filter(|u| u.closed_at.is_none()) {
        send_email_link(&mut tx, ctx, user.id, &user.email, TokenPurpose::ResetPassword).await?;
        audit::record(&mut tx, ctx, Audit::new(None, AuditAction::PasswordResetRequested, user.id, Some(ip))).await?;
    }
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(())
}

/// Sets a new password from a reset link; every session of the account ends.
pub fn reset_password<'a>(
    ctx: &'a Ctx,
    token: &'a str,
    new: &'a str,
    ip: &'a str,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(reset_password_inner(ctx, token, new, ip))
}

async fn reset_password_inner(ctx: &Ctx, token: &str, new: &str, ip: &str) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let hash = tokens::secret_hash(token);
    // Check the password before spending the link, so a refused password does not burn it.
    let mut tx = ctx.pool.begin().await?;
    let Some(user_id) = store::email_tokens::consume(&mut tx, &hash, TokenPurpose::ResetPassword.as_str(), now).await?
    else {
        return Err(ServiceError::BadLink);
    };
    let user = store::accounts::find(&mut tx, user_id).await?.ok_or(ServiceError::BadLink)?;
    let pw = parse_new_password(&user, new)?;
    let password_hash = passwords::hash(pw).await?;
    store::accounts::set_password(&mut tx, user_id, &password_hash, now).await?;
    let ended = store::sessions::end_all(&mut tx, user_id, None, SessionEnd::PasswordChanged.as_str(), now).await?;
    notices::send(&mut tx, ctx, &user.email, Notice::PasswordReset).await?;
    // Whoever reset it by e-mail controls the address.
    store::accounts::mark_email_verified(&mut tx, user_id, now).await?;
    store::login_failures::clear_account(&mut tx, &user_key(user_id)).await?;
    audit::record(
        &mut tx,
        ctx,
        Audit::own(user_id, AuditAction::PasswordReset, Some(ip)).detail(serde_json::json!({"sessions_ended": ended})),
    )
    .await?;
    tx.commit().await?;
    ctx.session_cache.bump(user_id).await;
    Ok(())
}
