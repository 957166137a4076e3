//! A pro passes on an offer; when the batch has nobody left to answer, the next one goes out.
//! A pro who closes their account passes on all of theirs at once (`WithdrawOffers`).

use super::{Distribute, feed};
use crate::{Ctx, Refusal, ServiceError};
use ::jobs::{Job, JobError};
use domain::FieldError;
use domain::market::OfferStatus;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the lead's record says of an offer withdrawn by its account's closing.
pub const CLOSED_ACCOUNT: &str = "The plumber closed their account.";

/// Declines every live offer of a pro whose account closed, so each lead's next batch goes out
/// now rather than when the offer would have expired. Queued in the closing's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawOffers {
    pub pro_id: Uuid,
}

impl Job for WithdrawOffers {
    const KIND: &'static str = "withdraw_offers";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let live = {
            let mut conn = ctx.pool.acquire().await.map_err(anyhow::Error::new)?;
            store::offers::live_for_pro(&mut conn, self.pro_id, ctx.clock.now()).await.map_err(anyhow::Error::new)?
        };
        for offer in live {
            match decline(&ctx, self.pro_id, offer, Some(CLOSED_ACCOUNT)).await {
                // Claimed before the closing, or expired since: nothing left to withdraw.
                Ok(()) | Err(ServiceError::Conflict(_) | ServiceError::Refused(_) | ServiceError::NotFound) => {}
                Err(e) => return Err(JobError::from(anyhow::Error::new(e))),
            }
        }
        Ok(())
    }
}

pub const MAX_REASON_CHARS: usize = 500;

pub fn decline<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    offer_id: Uuid,
    reason: Option<&'a str>,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(decline_inner(ctx, pro_id, offer_id, reason))
}

async fn decline_inner(ctx: &Ctx, pro_id: Uuid, offer_id: Uuid, reason: Option<&str>) -> Result<(), ServiceError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason
        && (r.chars().count() > MAX_REASON_CHARS || r.chars().any(|c| c.is_control() && c != '\n'))
    {
        return Err(ServiceError::Invalid(vec![FieldError {
            field: "reason",
            message: format!("A reason is plain text of at most {MAX_REASON_CHARS} characters."),
        }]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let offer = store::offers::get_for_pro(&mut tx, offer_id, pro_id).await?.ok_or(ServiceError::NotFound)?;
    store::lead_sales::lock(&mut tx, offer.lead_id).await?;
    match store::offers::lock(&mut tx, offer_id).await?.ok_or(ServiceError::NotFound)? {
        // Declining twice changes nothing.
        OfferStatus::Declined => return Ok(()),
        OfferStatus::Claimed => {
            return Err(ServiceError::Conflict(crate::Conflict::AlreadyClaimed));
        }
        OfferStatus::Expired => return Err(ServiceError::Refused(Refusal::Expired)),
        OfferStatus::Pending if now >= offer.expires_at => return Err(ServiceError::Refused(Refusal::Expired)),
        OfferStatus::Pending => {}
    }
    store::offers::decide(&mut tx, offer_id, OfferStatus::Declined, reason, now).await?;
    let told = feed::record(
        &mut tx,
        &[(offer_id, pro_id)],
        feed::OFFER_CLOSED,
        serde_json::json!({ "reason": "declined" }),
        now,
    )
    .await?;
    ctx.queue.enqueue(&mut tx, &Distribute::now(offer.lead_id)).await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    ctx.feed.publish(told);
    Ok(())
}
