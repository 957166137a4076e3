//! Staff approve a pro's licence and insurance: the account becomes active.

use crate::audit::{self, Audit, AuditAction};
use crate::{Ctx, ServiceError};
use uuid::Uuid;

/// Approves the pro `pro` on behalf of `staff` (who has just confirmed who they are: the caller
/// checks). Not found when there is no such pro awaiting approval.
pub async fn approve(ctx: &Ctx, staff: Uuid, pro: Uuid, ip: &str) -> Result<(), ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    if !store::profiles::approve(&mut tx, pro, staff, ctx.clock.now()).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(&mut tx, ctx, Audit::new(Some(staff), AuditAction::ProApproved, pro, Some(ip))).await?;
    tx.commit().await?;
    Ok(())
}
