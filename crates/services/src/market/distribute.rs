//! Distribution: a verified lead goes to the best eligible pros in batches until it is full or
//! its window closes (PRODUCT.md *Matching and distribution*). One job kind does every step —
//! start the sale, expire offers whose time is up, send the next batch, close the sale — so the
//! same rules run whether a verification, a claim, a decline or the clock asked for a look.

use super::roster::Wanted;
use super::{feed, notify};
use crate::jobs::SendMessages;
use crate::{Ctx, ServiceError};
use ::jobs::{Job, JobError};
use domain::Cents;
use domain::geo::LatLon;
use domain::lead::LeadStatus;
use domain::market::eligibility::{LeadFacts, ProFacts};
use domain::market::ranking::{self, Weights};
use domain::market::sale::{Sale, SaleTiming};
use domain::pricing::{BPS_ONE, Urgency};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::time::Instant;
use store::offers::NewOffer;
use time::OffsetDateTime;
use uuid::Uuid;

/// Looks at one lead's sale. `at`: the look this job was scheduled for; a look rescheduled since
/// makes it stale (it does nothing). `None`: asked for now (verification, claim, decline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribute {
    pub lead_id: Uuid,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
}

impl Distribute {
    pub fn now(lead_id: Uuid) -> Self {
        Self { lead_id, at: None }
    }
}

impl Job for Distribute {
    const KIND: &'static str = "distribute_lead";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        look(&ctx, self.lead_id, self.at).await.map_err(|e| JobError::from(anyhow::Error::new(e)))?;
        Ok(())
    }
}

/// What one look did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Looked {
    pub offered: Vec<Uuid>,
    pub expired: usize,
    pub closed_as: Option<LeadStatus>,
}

pub fn look<'a>(
    ctx: &'a Ctx,
    lead_id: Uuid,
    at: Option<OffsetDateTime>,
) -> BoxFuture<'a, Result<Looked, ServiceError>> {
    Box::pin(look_inner(ctx, lead_id, at))
}

async fn look_inner(ctx: &Ctx, lead_id: Uuid, at: Option<OffsetDateTime>) -> Result<Looked, ServiceError> {
    let now = ctx.clock.now();
    let timing = SaleTiming::default();
    let started = Instant::now();
    ctx.roster.refresh(&ctx.pool).await?;
    metrics::histogram!("roster_refresh_seconds").record(started.elapsed().as_secs_f64());
    let mut tx = ctx.pool.begin().await?;
    let Some(lead) = store::lead_sales::lock(&mut tx, lead_id).await? else {
        return Ok(Looked::default());
    };
    if at.is_some() && at != lead.next_look_at {
        return Ok(Looked::default());
    }
    let sale = match (lead.status, lead.exclusive, lead.max_buyers, lead.window_closes_at) {
        (LeadStatus::Verified, ..) => {
            let sale = Sale::start(lead.category_max_buyers, now, &timing);
            store::lead_sales::start(&mut tx, lead_id, sale.exclusive, sale.max_buyers, sale.window_closes_at, now)
                .await?;
            sale
        }
        (LeadStatus::Offered, Some(exclusive), Some(max_buyers), Some(window_closes_at)) => {
            Sale { exclusive, max_buyers, window_closes_at }
        }
        _ => return Ok(Looked::default()),
    };
    let mut looked = Looked::default();
    let closing = sale.window_closed(now) || sale.is_full(lead.buyers);
    let expired = store::offers::expire(&mut tx, lead_id, now, closing).await?;
    looked.expired = expired.len();
    let mut told =
        feed::record(&mut tx, &expired, feed::OFFER_CLOSED, serde_json::json!({ "reason": "expired" }), now).await?;
    if closing {
        let status = if lead.buyers > 0 { LeadStatus::Sold } else { LeadStatus::Unsold };
        store::lead_sales::finish(&mut tx, lead_id, status, now).await?;
        looked.closed_as = Some(status);
        tx.commit().await?;
        if status == LeadStatus::Unsold {
            // Unmet demand (the business dashboard; the back office lists where).
            metrics::counter!("leads_unsold_total", "category" => lead.category.clone()).increment(1);
        }
        ctx.feed.publish(told);
        return Ok(looked);
    }
    let (live, last_batch) = store::offers::live_and_last_batch(&mut tx, lead_id, now).await?;
    let places = sale.next_batch_size(lead.buyers, i32::try_from(live).unwrap_or(i32::MAX), now);
    if places > 0 {
        let made = offer_batch(ctx, &mut tx, &lead, &sale, last_batch + 1, places, now, &timing).await?;
        told.extend(feed::record(&mut tx, &made, feed::OFFER_CREATED, serde_json::json!({}), now).await?);
        looked.offered = made.into_iter().map(|(_, pro)| pro).collect();
    }
    // Look again when the next live offer expires; with none live (nobody eligible yet), after
    // one offer's time, in case someone opens, tops up or widens their area; never past the close.
    let next = match store::offers::next_expiry(&mut tx, lead_id).await? {
        Some(expiry) => expiry,
        None => now + timing.offer_ttl,
    }
    .min(sale.window_closes_at);
    // PostgreSQL keeps microseconds: the look stored and the look scheduled must compare equal.
    let next = next.replace_nanosecond(next.nanosecond() / 1_000 * 1_000).unwrap_or(next);
    store::lead_sales::set_next_look(&mut tx, lead_id, next).await?;
    ctx.queue.enqueue_at(&mut tx, &Distribute { lead_id, at: Some(next) }, next).await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    ctx.feed.publish(told);
    Ok(looked)
}

#[expect(clippy::too_many_arguments, reason = "one batch's inputs, all read in the caller's transaction")]
async fn offer_batch(
    ctx: &Ctx,
    tx: &mut PgConnection,
    lead: &store::lead_sales::ForSale,
    sale: &Sale,
    batch: i32,
    places: usize,
    now: OffsetDateTime,
    timing: &SaleTiming,
) -> Result<Vec<(Uuid, Uuid)>, ServiceError> {
    let urgency = Urgency::parse(&lead.urgency)
        .map_err(|_| anyhow::anyhow!("lead {} has urgency {:?}", lead.id, lead.urgency))?;
    let multipliers = store::categories::multipliers(tx).await?;
    let base = Cents(lead.category_base_cents);
    let price = multipliers.price(base, urgency, sale.exclusivity());
    let facts = LeadFacts { category: lead.category.clone(), urgency, exclusive: sale.exclusive, price };
    let matching = Instant::now();
    let wanted = Wanted {
        lead_id: lead.id,
        zip: &lead.zip,
        category: &lead.category,
        phone: &lead.phone,
        at: LatLon::new(lead.lat, lead.lon),
    };
    let candidates = ctx.roster.candidates(tx, &wanted, now).await?;
    let pros: Vec<ProFacts> = candidates.iter().map(|c| c.facts.clone()).collect();
    let ranked = ranking::rank(&facts, &pros, &weights(ctx), places);
    let left_out: Vec<(Uuid, &str)> = ranked.left_out.iter().map(|(pro, why)| (*pro, why.as_str())).collect();
    metrics::histogram!("distribution_matching_seconds").record(matching.elapsed().as_secs_f64());
    store::exclusions::record(tx, lead.id, &lead.zip, &left_out, now).await?;
    let expires_at = sale.offer_expiry(urgency, now, timing);
    let exclusive_bps = if sale.exclusive { multipliers.exclusive_bps } else { BPS_ONE };
    let offers: Vec<NewOffer> = ranked
        .chosen
        .iter()
        .map(|(pro_id, s)| {
            let distance = pros.iter().find(|p| p.pro_id == *pro_id).map_or(0.0, |p| p.distance.0);
            NewOffer {
                id: Uuid::now_v7(),
                pro_id: *pro_id,
                base_cents: base.0,
                urgency_bps: i32::try_from(multipliers.urgency_bps(urgency)).unwrap_or(i32::MAX),
                exclusive_bps: i32::try_from(exclusive_bps).unwrap_or(i32::MAX),
                price_cents: price.0,
                distance_miles: distance as f32,
                score: s.score as f32,
                score_distance: s.distance as f32,
                score_responsiveness: s.responsiveness as f32,
                score_rating: s.rating as f32,
                score_fairness: s.fairness as f32,
                expires_at,
            }
        })
        .collect();
    if !offers.is_empty() {
        store::offers::insert_batch(tx, lead.id, batch, &offers, now).await?;
    }
    let categories = ctx.categories().await?;
    let category_name =
        categories.iter().find(|c| c.slug == lead.category).map_or(lead.category.as_str(), |c| c.name.as_str());
    let chosen: Vec<Uuid> = offers.iter().map(|o| o.pro_id).collect();
    let contacts = if chosen.is_empty() { Vec::new() } else { store::matching::contacts(tx, &chosen).await? };
    let mut messages = Vec::with_capacity(offers.len() * 2);
    for offer in &offers {
        let Some(pro) = candidates.iter().find(|c| c.facts.pro_id == offer.pro_id) else { continue };
        let Some(contact) = contacts.iter().find(|c| c.pro_id == offer.pro_id) else { continue };
        let news = notify::OfferNews {
            category_name,
            city: &lead.city,
            zip: &lead.zip,
            urgency,
            price,
            distance_miles: f64::from(offer.distance_miles),
            expires_at,
            now,
        };
        notify::new_offer(ctx, pro, contact, &news, &mut messages);
    }
    if !messages.is_empty() {
        ctx.queue.enqueue(tx, &SendMessages { messages }).await?;
    }
    Ok(offers.iter().map(|o| (o.id, o.pro_id)).collect())
}

fn weights(_ctx: &Ctx) -> Weights {
    Weights::default()
}
