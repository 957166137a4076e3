//! A new plumber's account, and the session that follows it.

use super::login::open_session;
use super::verify::{send_email_link, send_phone_code};
use super::{Caller, Client, LoggedIn, role_of};
use crate::audit::{self, Audit, AuditAction};
use crate::infra::passwords;
use crate::{Conflict, Ctx, ServiceError};
use domain::account::{Role, SignupDraft, SignupInput, TokenPurpose};
use futures::future::BoxFuture;
use uuid::Uuid;

/// A new plumber's account: the user, the business, the e-mail link and the SMS code.
pub fn signup<'a>(ctx: &'a Ctx, input: &'a SignupInput, ip: &'a str) -> BoxFuture<'a, Result<Uuid, ServiceError>> {
    Box::pin(signup_inner(ctx, input, ip))
}

async fn signup_inner(ctx: &Ctx, input: &SignupInput, ip: &str) -> Result<Uuid, ServiceError> {
    let draft = SignupDraft::parse(input).map_err(ServiceError::Invalid)?;
    if let Err(limited) = ctx.rate_limiter.check(&format!("signup:ip:{ip}"), ctx.settings.intake.per_ip).await? {
        return Err(ServiceError::Throttled { retry_after: limited.retry_after });
    }
    let hash = passwords::hash(draft.password.clone()).await?;
    let now = ctx.clock.now();
    let id = Uuid::now_v7();
    let mut tx = ctx.pool.begin().await?;
    if store::accounts::find_by_email(&mut tx, draft.email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict(Conflict::EmailTaken));
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
    // Two sign-ups racing for one address: the unique index decides (`Conflict::EmailTaken`).
    store::accounts::insert(&mut tx, &user).await?;
    store::accounts::insert_pro(&mut tx, id, draft.business_name.as_str(), now).await?;
    send_email_link(&mut tx, ctx, id, draft.email.as_str(), TokenPurpose::VerifyEmail).await?;
    send_phone_code(&mut tx, ctx, id, draft.phone.as_e164()).await?;
    audit::record(
        &mut tx,
        ctx,
        Audit::own(id, AuditAction::Signup, Some(ip)).detail(serde_json::json!({"role": "pro"})),
    )
    .await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    metrics::counter!("accounts_registered_total", "role" => "pro").increment(1);
    Ok(id)
}

/// A session for an account that just proved who it is (a new sign-up).
pub fn start_session<'a>(
    ctx: &'a Ctx,
    user_id: Uuid,
    client: Client,
    caller: Caller<'a>,
) -> BoxFuture<'a, Result<LoggedIn, ServiceError>> {
    Box::pin(start_session_inner(ctx, user_id, client, caller))
}

async fn start_session_inner(
    ctx: &Ctx,
    user_id: Uuid,
    client: Client,
    caller: Caller<'_>,
) -> Result<LoggedIn, ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    let user = store::accounts::find(&mut tx, user_id).await?.ok_or(ServiceError::SessionEnded)?;
    let role = role_of(&user)?;
    if role.is_staff() {
        return Err(ServiceError::SecondFactorRequired);
    }
    let logged_in = open_session(&mut tx, ctx, user.id, role, client, caller, None).await?;
    tx.commit().await?;
    Ok(logged_in)
}
