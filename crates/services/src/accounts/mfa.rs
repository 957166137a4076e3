//! The staff's second factor: enrolment, codes, recovery codes, and confirming again before a
//! sensitive action.

use super::dur;
use super::login::{attempt, failed, user_key};
use super::{Caller, SignedIn};
use crate::audit::{self, Audit, AuditAction};
use crate::infra::{passwords, sealed, tokens, totp};
use crate::{Ctx, ServiceError};
use domain::account::Password;
use futures::future::BoxFuture;
use uuid::Uuid;

/// A second factor accepted: the session goes on under a new secret (the cookie to set) and CSRF
/// token; after an enrolment, the recovery codes, shown once.
#[derive(Debug)]
pub struct SteppedUp {
    pub secret: String,
    pub csrf_token: String,
    pub recovery_codes: Option<Vec<String>>,
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
pub fn second_factor_step<'a>(ctx: &'a Ctx, user_id: Uuid) -> BoxFuture<'a, Result<SecondFactorStep, ServiceError>> {
    Box::pin(second_factor_step_inner(ctx, user_id))
}

async fn second_factor_step_inner(ctx: &Ctx, user_id: Uuid) -> Result<SecondFactorStep, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    let mfa = store::mfa::get(&mut conn, user_id).await?.ok_or(ServiceError::SessionEnded)?;
    if mfa.secret.is_some() {
        return Ok(SecondFactorStep::Verify);
    }
    // A pending secret that no longer opens (sealed under a key since retired) is replaced.
    let secret = match mfa.pending_secret.and_then(|s| sealed::open(&ctx.signer, user_id, &s)) {
        Some(s) => s,
        None => {
            let s = totp::new_secret();
            keep_pending_secret(&mut conn, ctx, user_id, &s).await?;
            s
        }
    };
    Ok(SecondFactorStep::Enrol { secret })
}

/// Keeps an enrolment secret, sealed (`infra::sealed`), until its first code makes it live.
pub fn keep_pending_secret<'a>(
    conn: &'a mut sqlx::PgConnection,
    ctx: &'a Ctx,
    user_id: Uuid,
    secret: &'a [u8],
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(keep_pending_secret_inner(conn, ctx, user_id, secret))
}

async fn keep_pending_secret_inner(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    user_id: Uuid,
    secret: &[u8],
) -> Result<(), ServiceError> {
    let stored = sealed::seal(&ctx.signer, user_id, secret)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("sealing a TOTP secret failed")))?;
    store::mfa::set_pending(conn, user_id, &stored).await?;
    Ok(())
}

/// An account's TOTP secrets, opened: the live one and the pending one.
pub type OpenSecrets = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The account's TOTP secrets, opened: (live, pending). One that does not open (sealed under a
/// key no longer accepted, or not sealed at all) is `None`; a live one that does not open never
/// matches a code, and only `admin reset-mfa` gives a new enrolment.
pub fn totp_secrets<'a>(ctx: &'a Ctx, user_id: Uuid) -> BoxFuture<'a, Result<OpenSecrets, ServiceError>> {
    Box::pin(totp_secrets_inner(ctx, user_id))
}

async fn totp_secrets_inner(ctx: &Ctx, user_id: Uuid) -> Result<OpenSecrets, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    let m = store::mfa::get(&mut conn, user_id).await?.ok_or(ServiceError::NotFound)?;
    let open = |s: Option<Vec<u8>>| s.and_then(|s| sealed::open(&ctx.signer, user_id, &s));
    Ok((open(m.secret), open(m.pending_secret)))
}

/// Checks the second factor for a staff session and, if it holds, lets the session in under a
/// new secret.
pub fn verify_second_factor<'a>(
    ctx: &'a Ctx,
    who: &'a SignedIn,
    code: &'a str,
    caller: Caller<'a>,
) -> BoxFuture<'a, Result<SteppedUp, ServiceError>> {
    Box::pin(verify_second_factor_inner(ctx, who, code, caller))
}

async fn verify_second_factor_inner(
    ctx: &Ctx,
    who: &SignedIn,
    code: &str,
    caller: Caller<'_>,
) -> Result<SteppedUp, ServiceError> {
    attempt(ctx, &user_key(who.user.id), &caller.ip.to_string()).await?;
    check_second_factor(ctx, who, code, caller).await
}

/// The second factor itself, once the attempt is counted.
async fn check_second_factor(
    ctx: &Ctx,
    who: &SignedIn,
    code: &str,
    caller: Caller<'_>,
) -> Result<SteppedUp, ServiceError> {
    let now = ctx.clock.now();
    let user = &who.user;
    let account = user_key(user.id);
    let ip_text = caller.ip.to_string();
    let mut tx = ctx.pool.begin().await?;
    let m = store::mfa::get(&mut tx, user.id).await?.ok_or(ServiceError::SessionEnded)?;
    // A live secret that does not open matches nothing (it is never replaced by an enrolment).
    let open = |s: &Option<Vec<u8>>| s.as_ref().map(|s| sealed::open(&ctx.signer, user.id, s).unwrap_or_default());
    let (accepted, new_codes, action) = match (&open(&m.secret), &open(&m.pending_secret)) {
        (Some(secret), _) => {
            let ok = if totp::is_recovery_code(code) {
                let mut used = false;
                for hash in totp::recovery_hashes(&ctx.signer, user.id, code) {
                    if store::mfa::use_recovery_code(&mut tx, user.id, &hash, now).await? {
                        used = true;
                        break;
                    }
                }
                used
            } else {
                match totp::matching_step(secret, code, now) {
                    Some(step) => store::mfa::use_step(&mut tx, user.id, step).await?,
                    None => false,
                }
            };
            (
                ok,
                None,
                if totp::is_recovery_code(code) { AuditAction::MfaRecoveryCodeUsed } else { AuditAction::MfaVerified },
            )
        }
        (None, Some(pending)) => match totp::matching_step(pending, code, now) {
            Some(step) => {
                store::mfa::enable(&mut tx, user.id, now).await?;
                store::mfa::use_step(&mut tx, user.id, step).await?;
                let codes = totp::new_recovery_codes();
                let hashes: Vec<Vec<u8>> = codes.iter().map(|c| totp::recovery_hash(&ctx.signer, user.id, c)).collect();
                store::mfa::replace_recovery_codes(&mut tx, user.id, &hashes).await?;
                (true, Some(codes), AuditAction::MfaEnrolled)
            }
            None => (false, None, AuditAction::MfaFailed),
        },
        (None, None) => (false, None, AuditAction::MfaFailed),
    };
    if !accepted {
        let who = (account.as_str(), ip_text.as_str(), Some(user.id));
        return Err(failed(tx, ctx, who, AuditAction::MfaFailed, ServiceError::SecondFactorWrong).await);
    }
    let (secret, hash) = tokens::new_secret();
    let (csrf_token, _) = tokens::new_secret();
    if !store::sessions::step_up(&mut tx, who.session.id, &hash, &csrf_token, now).await? {
        return Err(ServiceError::SessionEnded);
    }
    store::login_failures::clear_account(&mut tx, &account).await?;
    let detail = serde_json::json!({"session": who.session.id});
    audit::record(&mut tx, ctx, Audit::own(user.id, action, Some(&ip_text)).detail(detail)).await?;
    tx.commit().await?;
    ctx.session_cache.bump(user.id).await;
    Ok(SteppedUp { secret, csrf_token, recovery_codes: new_codes })
}

/// Staff gave their second factor within the re-authentication window in this session.
pub fn recently_confirmed(ctx: &Ctx, who: &SignedIn) -> bool {
    let window = dur(ctx.settings.auth.reauth_window);
    who.session.mfa_at.is_some_and(|at| ctx.clock.now() - at < window)
}

/// Password and code again, before a sensitive action; renews the session's confirmation, under
/// a new secret.
pub fn reauthenticate<'a>(
    ctx: &'a Ctx,
    who: &'a SignedIn,
    password: &'a str,
    code: &'a str,
    caller: Caller<'a>,
) -> BoxFuture<'a, Result<SteppedUp, ServiceError>> {
    Box::pin(reauthenticate_inner(ctx, who, password, code, caller))
}

async fn reauthenticate_inner(
    ctx: &Ctx,
    who: &SignedIn,
    password: &str,
    code: &str,
    caller: Caller<'_>,
) -> Result<SteppedUp, ServiceError> {
    let account = user_key(who.user.id);
    let ip_text = caller.ip.to_string();
    attempt(ctx, &account, &ip_text).await?;
    // Read afresh: a session's cached copy of the account never holds the hash.
    let stored = {
        let mut conn = ctx.pool.acquire().await?;
        store::accounts::find(&mut conn, who.user.id).await?.map(|u| u.password_hash)
    };
    if !passwords::verify(Password::presented(password), stored).await? {
        let tx = ctx.pool.begin().await?;
        let id = (account.as_str(), ip_text.as_str(), Some(who.user.id));
        return Err(failed(tx, ctx, id, AuditAction::ReauthFailed, ServiceError::BadCredentials).await);
    }
    check_second_factor(ctx, who, code, caller).await
}
