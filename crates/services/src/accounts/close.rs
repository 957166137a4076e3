//! A plumber closing their own account (the terms: "close your account at any time; money left
//! in your wallet is refunded to your card"). One transaction: the account is marked closed, the
//! wallet emptied back to the cards that paid it, every session ended, the owner told, the deed
//! audited. The account's row stays: bought leads, the ledger and the audit log point at it.

use super::notices::{self, Notice};
use super::password::confirm_password;
use crate::audit::{self, Audit, AuditAction};
use crate::{Ctx, ServiceError};
use domain::account::{ProStatus, Role, SessionEnd};
use domain::{Cents, FieldError};
use futures::future::BoxFuture;
use uuid::Uuid;

/// Closes the pro's account once they gave their password and said they understand; what went
/// back to their card. Claims wait for it (the pro's row is locked as a claim locks it) and
/// after it are refused; a closed wallet is never left holding money (`market::refunds`).
pub fn close_account<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    password: &'a str,
    understood: bool,
    ip: &'a str,
) -> BoxFuture<'a, Result<Cents, ServiceError>> {
    Box::pin(close_account_inner(ctx, pro_id, password, understood, ip))
}

async fn close_account_inner(
    ctx: &Ctx,
    pro_id: Uuid,
    password: &str,
    understood: bool,
    ip: &str,
) -> Result<Cents, ServiceError> {
    let user = {
        let mut conn = ctx.pool.acquire().await?;
        store::accounts::find(&mut conn, pro_id).await?.ok_or(ServiceError::SessionEnded)?
    };
    if super::role_of(&user)? != Role::Pro {
        return Err(ServiceError::NotFound);
    }
    if !understood {
        return Err(ServiceError::Invalid(vec![FieldError {
            field: "understood",
            message: "Tick the box to say you understand what closing does.".into(),
        }]));
    }
    confirm_password(ctx, &user, password, "password", ip).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    match store::closing::lock(&mut tx, pro_id).await? {
        None => return Err(ServiceError::NotFound),
        Some(ProStatus::Closed) => return Err(ServiceError::SessionEnded),
        Some(_) => {}
    }
    store::closing::close(&mut tx, pro_id, now).await?;
    let refunded = crate::market::refunds::refund_wallet(&mut tx, ctx, pro_id).await?;
    let ended = store::sessions::end_all(&mut tx, pro_id, None, SessionEnd::AccountClosed.as_str(), now).await?;
    // Its live offers go back to their leads' next batches now, not when they would expire.
    ctx.queue.enqueue(&mut tx, &crate::market::WithdrawOffers { pro_id }).await?;
    notices::send(&mut tx, ctx, &user.email, Notice::AccountClosed { refunded }).await?;
    let detail = serde_json::json!({ "refunded_cents": refunded.0, "sessions_ended": ended });
    audit::record(&mut tx, ctx, Audit::own(pro_id, AuditAction::AccountClosed, Some(ip)).detail(detail)).await?;
    tx.commit().await?;
    ctx.session_cache.bump(pro_id).await;
    ctx.feed.publish([pro_id]);
    ctx.queue.wake_workers();
    Ok(refunded)
}
