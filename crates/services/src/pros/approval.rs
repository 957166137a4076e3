//! Staff approve a pro's licence and insurance: the account becomes active.

use crate::audit::{self, Audit, AuditAction};
use crate::{Ctx, ServiceError};
use uuid::Uuid;

/// Approves the pro `pro` on behalf of `staff` (who has just confirmed who they are: the caller
/// checks). Not found when there is no such pro awaiting approval.
pub async fn approve(ctx: &Ctx, staff: Uuid, pro: Uuid, ip: &str) -> Result<(), ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    if !store::profiles::approve(&mut tx, pro, Some(staff), ctx.clock.now()).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(&mut tx, ctx, Audit::new(Some(staff), AuditAction::ProApproved, pro, Some(ip))).await?;
    tx.commit().await?;
    Ok(())
}

/// Approves the pro with this e-mail from the command line (`plumberleads admin approve-pro`):
/// audited with no person signed in. Not found when no such pro awaits approval.
pub async fn approve_by_operator(ctx: &Ctx, email: &str) -> Result<Uuid, ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    let user = store::accounts::find_by_email(&mut tx, email.trim()).await?.ok_or(ServiceError::NotFound)?;
    if !store::profiles::approve(&mut tx, user.id, None, ctx.clock.now()).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(&mut tx, ctx, Audit::about(AuditAction::ProApproved, user.id)).await?;
    tx.commit().await?;
    Ok(user.id)
}
