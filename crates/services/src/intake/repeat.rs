//! A request that repeats a recent one (same phone, same job) is not a new lead: the person is
//! sent on with the one they already have instead of being told "already sent" and left there.
//! What the lead holds is only ever sent to the phone on file, never shown to whoever typed the
//! number (who may not own it).

use super::{resend, status_url};
use crate::jobs::SendSms;
use crate::{Ctx, ServiceError};
use domain::lead::{LeadEvent, LeadStatus};
use futures::future::BoxFuture;
use uuid::Uuid;

/// Where the earlier request stands, for the page that answers the repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earlier {
    /// Its phone was never confirmed (the code page was closed): the person goes back to it.
    Unconfirmed,
    /// Confirmed; where it stands (offered, sold, unsold…), and whether what was written this
    /// time was kept as a note waiting to be added from the status page.
    Confirmed { status: LeadStatus, note_kept: bool },
}

/// Answers a repeat of `existing`. Unconfirmed: a fresh code goes to its phone when the resend
/// limits allow (otherwise the code already sent still works). Confirmed: when `first_time`
/// (not a double-click's replay), the link to its status page is texted to its phone, and
/// `said` (the repeat's description, when it says something the request doesn't) is kept as a
/// note that the phone's owner can add there.
pub fn follow_up<'a>(
    ctx: &'a Ctx,
    existing: Uuid,
    first_time: bool,
    said: Option<&'a str>,
) -> BoxFuture<'a, Result<Earlier, ServiceError>> {
    Box::pin(follow_up_inner(ctx, existing, first_time, said))
}

async fn follow_up_inner(
    ctx: &Ctx,
    existing: Uuid,
    first_time: bool,
    said: Option<&str>,
) -> Result<Earlier, ServiceError> {
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
                    return Ok(Earlier::Confirmed { status: LeadStatus::Verified, note_kept: false });
                }
                Err(e) => return Err(e),
            }
        }
        return Ok(Earlier::Unconfirmed);
    }
    let said = said.filter(|s| !s.is_empty() && *s != lead.description);
    let note_kept = match said {
        Some(body) => {
            store::lead_notes::keep(&mut tx, existing, body, now).await?;
            true
        }
        None => false,
    };
    if first_time {
        let job = lead.category_name.to_lowercase();
        let url = status_url(ctx, existing, now);
        let body = if note_kept {
            format!(
                "PlumberLeads: you asked again about your {job} request, so we didn't send it twice. To add what you wrote this time, open {url}"
            )
        } else {
            format!(
                "PlumberLeads: you asked again about your {job} request, so we didn't send it twice. Follow it here: {url}"
            )
        };
        ctx.queue.enqueue(&mut tx, &SendSms::new(lead.phone.clone(), body)).await?;
    }
    tx.commit().await?;
    if first_time {
        ctx.queue.wake_workers();
    }
    Ok(Earlier::Confirmed { status: lead.status, note_kept })
}

/// Adds a kept note to its request (the status page's "Add this"), once: the request's
/// timeline records it, and the plumbers who took the request see it with their lead. False
/// when there was nothing waiting (already added, or not this request's).
pub fn add_note<'a>(ctx: &'a Ctx, lead_id: Uuid, note: i64) -> BoxFuture<'a, Result<bool, ServiceError>> {
    Box::pin(add_note_inner(ctx, lead_id, note))
}

async fn add_note_inner(ctx: &Ctx, lead_id: Uuid, note: i64) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    if !store::lead_notes::add(&mut tx, lead_id, note, now).await? {
        return Ok(false);
    }
    store::leads::record_event(&mut tx, lead_id, LeadEvent::NoteAdded, now).await?;
    tx.commit().await?;
    Ok(true)
}
