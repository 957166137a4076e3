//! A pro claims an offer: in one transaction, a free buyer place is taken, the offer is checked
//! live, the pro's daily cap and weekly budget hold, the wallet pays, the purchase is written.
//! Rows are locked in one order (lead, offer, pro, wallet), so concurrent claims queue up rather
//! than deadlock; the schema's guards (`leads_buyers_within_max`, `wallet_never_negative`,
//! `purchases_once_per_offer`) hold even if a check here were wrong.

use super::feed;
use crate::{Ctx, Refusal, ServiceError};
use domain::Cents;
use domain::lead::{LeadEvent, LeadStatus};
use domain::market::OfferStatus;
use domain::market::ledger::Transfer;
use futures::future::BoxFuture;
use store::purchases::Purchase;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub purchase: Purchase,
    pub balance: Cents,
    /// `false` when this offer was already claimed by this pro (nothing charged again).
    pub charged_now: bool,
}

pub fn claim<'a>(ctx: &'a Ctx, pro_id: Uuid, offer_id: Uuid) -> BoxFuture<'a, Result<Claimed, ServiceError>> {
    Box::pin(claim_inner(ctx, pro_id, offer_id))
}

async fn claim_inner(ctx: &Ctx, pro_id: Uuid, offer_id: Uuid) -> Result<Claimed, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let offer = store::offers::get_for_pro(&mut tx, offer_id, pro_id).await?.ok_or(ServiceError::NotFound)?;
    let lead = store::lead_sales::lock(&mut tx, offer.lead_id).await?.ok_or(ServiceError::NotFound)?;
    match store::offers::lock(&mut tx, offer_id).await?.ok_or(ServiceError::NotFound)? {
        OfferStatus::Claimed => {
            let purchase = store::purchases::by_offer(&mut tx, offer_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("claimed offer {offer_id} has no purchase"))?;
            let balance = Cents(store::ledger::balance(&mut tx, pro_id).await?);
            return Ok(Claimed { purchase, balance, charged_now: false });
        }
        OfferStatus::Declined => return Err(ServiceError::Refused(Refusal::Declined)),
        OfferStatus::Expired => {
            let full = lead.max_buyers.is_some_and(|m| lead.buyers >= m);
            return Err(ServiceError::Refused(if full { Refusal::SoldOut } else { Refusal::Expired }));
        }
        OfferStatus::Pending => {}
    }
    if lead.max_buyers.is_none_or(|m| lead.buyers >= m) {
        return Err(ServiceError::Refused(Refusal::SoldOut));
    }
    let window_open = lead.window_closes_at.is_some_and(|close| now < close);
    if lead.status != LeadStatus::Offered || now >= offer.expires_at || !window_open {
        return Err(ServiceError::Refused(Refusal::Expired));
    }
    let price = Cents(offer.price_cents);
    let limits = store::profiles::lock_limits(&mut tx, pro_id, now).await?.ok_or(ServiceError::NotFound)?;
    if limits.closed {
        // The account was closed while this claim waited for the pro's row: its sessions ended.
        return Err(ServiceError::SessionEnded);
    }
    let over_cap = limits.daily_cap.is_some_and(|cap| limits.bought_today >= i64::from(cap));
    let over_budget = limits.weekly_budget_cents.is_some_and(|b| limits.spent_this_week_cents + price.0 > b);
    if over_cap || over_budget {
        return Err(ServiceError::Refused(Refusal::CapReached));
    }
    if store::ledger::balance(&mut tx, pro_id).await? < price.0 {
        return Err(ServiceError::Refused(Refusal::InsufficientBalance));
    }
    let purchase_id = Uuid::now_v7();
    store::purchases::insert(&mut tx, purchase_id, offer_id, offer.lead_id, pro_id, price.0, now).await?;
    store::offers::decide(&mut tx, offer_id, OfferStatus::Claimed, None, now).await?;
    store::leads::record_event(&mut tx, offer.lead_id, LeadEvent::Purchased, now).await?;
    let (business, pro_phone) = store::profiles::contact(&mut tx, pro_id).await?;
    super::notify::bought(ctx, &mut tx, &lead.phone, &business, pro_phone.as_deref()).await?;
    let mut told = vec![pro_id];
    let taken = lead.buyers + 1;
    if lead.max_buyers.is_some_and(|m| taken >= m) {
        // Full: the sale ends now and the other offers close.
        let closed = store::offers::expire(&mut tx, offer.lead_id, now, true).await?;
        told.extend(
            feed::record(&mut tx, &closed, feed::OFFER_CLOSED, serde_json::json!({ "reason": "sold_out" }), now)
                .await?,
        );
        store::lead_sales::finish(&mut tx, offer.lead_id, LeadStatus::Sold, now).await?;
    } else {
        let others: Vec<(Uuid, Uuid)> = store::offers::live_holders(&mut tx, offer.lead_id, now)
            .await?
            .into_iter()
            .filter(|o| o.1 != pro_id)
            .collect();
        let buyers = serde_json::json!({ "buyers": { "max": offer.max_buyers, "taken": taken } });
        told.extend(feed::record(&mut tx, &others, feed::OFFER_TAKEN, buyers, now).await?);
    }
    // The wallet pays last: the posting locks the house revenue account, which every claim
    // shares, so it is held only from here to the commit (bench/market: with it held across the
    // rest of the claim, pgbench's claim rate stopped growing with clients).
    let balance =
        store::ledger::post(&mut tx, pro_id, &Transfer::purchase(price), &purchase_id.to_string(), now).await?;
    feed::wallet_changed(&mut tx, pro_id, balance, now).await?;
    let purchase = store::purchases::by_offer(&mut tx, offer_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("purchase {purchase_id} vanished"))?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    ctx.feed.publish(told);
    metrics::counter!("leads_sold_total", "category" => offer.category.clone()).increment(1);
    metrics::counter!("lead_sales_cents_total", "category" => offer.category)
        .increment(u64::try_from(price.0).unwrap_or(0));
    Ok(Claimed { purchase, balance: Cents(balance), charged_now: true })
}
