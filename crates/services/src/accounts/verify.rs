//! Confirming an account's e-mail address (a link) and mobile number (an SMS code).

use super::dur;
use crate::audit::{self, Audit, AuditAction};
use crate::infra::{signing, tokens};
use crate::jobs::{SendEmail, SendSms};
use crate::{CodeError, Ctx, ServiceError};
use domain::account::TokenPurpose;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

/// E-mails a link for `purpose`; only the newest link of a purpose works.
pub(super) async fn send_email_link(
    conn: &mut PgConnection,
    ctx: &Ctx,
    user_id: Uuid,
    to: &str,
    purpose: TokenPurpose,
) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let (token, hash) = tokens::new_secret();
    let (ttl, path) = match purpose {
        TokenPurpose::VerifyEmail => (ctx.settings.auth.email_verify_ttl, "/verify-email"),
        TokenPurpose::ResetPassword => (ctx.settings.auth.password_reset_ttl, "/reset-password"),
    };
    // Only the newest link works.
    store::email_tokens::spend_all(conn, user_id, purpose.as_str(), now).await?;
    store::email_tokens::insert(conn, &hash, user_id, purpose.as_str(), now, now + dur(ttl)).await?;
    let url = ctx.public_link(&format!("{path}?token={token}"));
    let hours = ttl.as_secs().div_ceil(3600);
    let (subject, text_body) = match purpose {
        TokenPurpose::VerifyEmail => (
            "Confirm your e-mail for PlumberLeads".to_owned(),
            format!(
                "Welcome to PlumberLeads!\n\nOpen this link to confirm your e-mail address:\n{url}\n\nIt works once, for {hours} hours. If you did not sign up, ignore this e-mail."
            ),
        ),
        TokenPurpose::ResetPassword => (
            "Reset your PlumberLeads password".to_owned(),
            format!(
                "Someone (we hope you) asked to reset your PlumberLeads password.\n\nOpen this link to choose a new one:\n{url}\n\nIt works once, for {hours} hour(s). If it wasn't you, ignore this e-mail: your password stays as it is."
            ),
        ),
    };
    ctx.queue
        .enqueue(conn, &SendEmail { to: to.to_owned(), subject, text_body, html_body: None, unsubscribe: None })
        .await?;
    Ok(())
}

pub(super) async fn send_phone_code(
    conn: &mut PgConnection,
    ctx: &Ctx,
    user_id: Uuid,
    phone: &str,
) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let code = signing::new_code();
    let hash = ctx.signer.code_hash(&format!("pro-phone:{user_id}:{phone}"), &code);
    store::phone_codes::put(conn, user_id, phone, &hash, now + dur(ctx.settings.intake.code_ttl), now).await?;
    let minutes = ctx.settings.intake.code_ttl.as_secs() / 60;
    let body = format!("Your PlumberLeads code is {code}. It expires in {minutes} minutes. Don't share it.");
    ctx.queue.enqueue(conn, &SendSms::requested(phone.to_owned(), body)).await?;
    Ok(())
}

/// Confirms the address behind a link from our e-mail.
pub fn verify_email<'a>(ctx: &'a Ctx, token: &'a str, ip: &'a str) -> BoxFuture<'a, Result<Uuid, ServiceError>> {
    Box::pin(verify_email_inner(ctx, token, ip))
}

async fn verify_email_inner(ctx: &Ctx, token: &str, ip: &str) -> Result<Uuid, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let Some(user_id) =
        store::email_tokens::consume(&mut tx, &tokens::secret_hash(token), TokenPurpose::VerifyEmail.as_str(), now)
            .await?
    else {
        return Err(ServiceError::BadLink);
    };
    if store::accounts::mark_email_verified(&mut tx, user_id, now).await? {
        audit::record(&mut tx, ctx, Audit::own(user_id, AuditAction::EmailVerified, Some(ip))).await?;
    }
    tx.commit().await?;
    ctx.session_cache.bump(user_id).await;
    Ok(user_id)
}

pub fn resend_email_link<'a>(ctx: &'a Ctx, user_id: Uuid) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(resend_email_link_inner(ctx, user_id))
}

async fn resend_email_link_inner(ctx: &Ctx, user_id: Uuid) -> Result<(), ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    let Some(user) = store::accounts::find(&mut tx, user_id).await? else { return Err(ServiceError::SessionEnded) };
    if user.email_verified_at.is_none() {
        if let Err(limited) =
            ctx.rate_limiter.check(&format!("verify-email:{user_id}"), ctx.settings.intake.per_phone).await?
        {
            return Err(ServiceError::Throttled { retry_after: limited.retry_after });
        }
        send_email_link(&mut tx, ctx, user_id, &user.email, TokenPurpose::VerifyEmail).await?;
    }
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(())
}

/// Checks the SMS code for the account's mobile number.
pub fn verify_phone<'a>(
    ctx: &'a Ctx,
    user_id: Uuid,
    code: &'a str,
    ip: &'a str,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(verify_phone_inner(ctx, user_id, code, ip))
}

async fn verify_phone_inner(ctx: &Ctx, user_id: Uuid, code: &str, ip: &str) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let max = ctx.settings.intake.code_max_attempts;
    let mut tx = ctx.pool.begin().await?;
    let Some(pending) = store::phone_codes::lock(&mut tx, user_id).await? else {
        return Err(ServiceError::Code(CodeError::NoCode));
    };
    if pending.attempts >= max {
        return Err(ServiceError::Code(CodeError::TooManyAttempts));
    }
    if now >= pending.expires_at {
        return Err(ServiceError::Code(CodeError::Expired));
    }
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if !ctx.signer.code_matches(&format!("pro-phone:{user_id}:{}", pending.phone), &code, &pending.code_hash) {
        store::phone_codes::count_attempt(&mut tx, user_id).await?;
        tx.commit().await?;
        let left = max - pending.attempts - 1;
        return Err(ServiceError::Code(if left <= 0 {
            CodeError::TooManyAttempts
        } else {
            CodeError::Wrong { attempts_left: left }
        }));
    }
    store::phone_codes::delete(&mut tx, user_id).await?;
    store::accounts::mark_phone_verified(&mut tx, user_id, &pending.phone, now).await?;
    // The code came back from the phone: its owner wants our texts again after a STOP.
    store::sms_opt_outs::opt_in(&mut tx, &pending.phone).await?;
    audit::record(&mut tx, ctx, Audit::own(user_id, AuditAction::PhoneVerified, Some(ip))).await?;
    tx.commit().await?;
    ctx.session_cache.bump(user_id).await;
    Ok(())
}

pub fn resend_phone_code<'a>(ctx: &'a Ctx, user_id: Uuid) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(resend_phone_code_inner(ctx, user_id))
}

async fn resend_phone_code_inner(ctx: &Ctx, user_id: Uuid) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let Some(user) = store::accounts::find(&mut tx, user_id).await? else { return Err(ServiceError::SessionEnded) };
    let Some(phone) = user.phone.filter(|_| user.phone_verified_at.is_none()) else {
        return Ok(());
    };
    if let Some(pending) = store::phone_codes::lock(&mut tx, user_id).await? {
        let next = pending.last_sent_at + dur(ctx.settings.intake.code_resend_interval);
        if now < next {
            return Err(ServiceError::Code(CodeError::ResendTooSoon {
                retry_after: (next - now).try_into().unwrap_or_default(),
            }));
        }
        if pending.sends >= ctx.settings.intake.code_max_sends {
            return Err(ServiceError::Code(CodeError::TooManySends));
        }
    }
    send_phone_code(&mut tx, ctx, user_id, &phone).await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(())
}
