//! A request that repeats a recent one (same phone, same job) is not a new lead: the person is
//! sent on with the one they already have instead of being told "already sent" and left there.
//! What the lead holds is only ever sent to the phone on file, never shown to whoever typed the
//! number (who may not own it).

use super::{resend, status_url};
use crate::jobs::SendSms;
use crate::{Ctx, ServiceError};
use domain::lead::LeadStatus;
use uuid::Uuid;

/// Where the earlier request stands, for the page that answers the repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earlier {
    /// Its phone was never confirmed (the code page was closed): the person goes back to it.
    Unconfirmed,
    /// Confirmed; where it stands (offered, sold, unsold…).
    Confirmed { status: LeadStatus },
}

/// Answers a repeat of `existing`. Unconfirmed: a fresh code goes to its phone when the resend
/// limits allow (otherwise the code already sent still works). Confirmed: when `first_time`
/// (not a double-click's replay), the link to its status page is texted to its phone.
pub async fn follow_up(ctx: &Ctx, existing: Uuid, first_time: bool) -> Result<Earlier, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let lead = store::leads::get(&mut tx, existing).await?.ok_or(ServiceError::NotFound)?;
    if lead.status == LeadStatus::PendingVerification {
        tx.rollback().await?;
        if first_time {
            match resend(ctx, existing).await {
                // Too soon or too many: the code already texted is the one to type.
                Ok(_) | Err(ServiceError::Code(_)) => {}
                // Confirmed meanwhile (another tab): it is with plumbers now.
                Err(ServiceError::NotFound) => {
                    return Ok(Earlier::Confirmed { status: LeadStatus::Verified });
                }
                Err(e) => return Err(e),
            }
        }
        return Ok(Earlier::Unconfirmed);
    }
    if first_time {
        let body = format!(
            "PlumberLeads: you asked again about your {} request, so we didn't send it twice. Follow it here: {}",
            lead.category_name.to_lowercase(),
            status_url(ctx, existing, now)
        );
        ctx.queue.enqueue(&mut tx, &SendSms { to: lead.phone.clone(), body }).await?;
    }
    tx.commit().await?;
    if first_time {
        ctx.queue.wake_workers();
    }
    Ok(Earlier::Confirmed { status: lead.status })
}
