//! What a pro's settings would bring, shown while they edit them: each chosen service's live price
//! and how many verified requests matched the area, services and price limit in the last 30 days.

use crate::{Ctx, ServiceError};
use domain::Cents;
use domain::account::profile::ServiceArea;
use domain::market::sale::{Sale, SaleTiming};
use domain::pricing::Urgency;
use futures::future::BoxFuture;
use time::Duration;

/// How far back the count looks.
pub const LOOKBACK: Duration = Duration::days(30);

/// One chosen service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePreview {
    pub slug: String,
    pub name: String,
    /// Sold to one buyer, at the exclusive multiplier.
    pub exclusive: bool,
    /// The price of a lead at each urgency: emergency, within 48 h, flexible.
    pub prices: [(Urgency, Cents); 3],
    /// Verified requests in the area in the last 30 days at a price within the limit.
    pub matched: i64,
    /// Those left out by the price limit alone.
    pub above_max_price: i64,
}

/// The preview for an area, chosen category slugs (unknown ones ignored) and a price limit.
pub fn preview<'a>(
    ctx: &'a Ctx,
    area: &'a ServiceArea,
    slugs: &'a [String],
    max_price: Option<Cents>,
) -> BoxFuture<'a, Result<Vec<ServicePreview>, ServiceError>> {
    Box::pin(preview_inner(ctx, area, slugs, max_price))
}

async fn preview_inner(
    ctx: &Ctx,
    area: &ServiceArea,
    slugs: &[String],
    max_price: Option<Cents>,
) -> Result<Vec<ServicePreview>, ServiceError> {
    let categories = ctx.categories().await?;
    let chosen: Vec<_> = categories.iter().filter(|c| slugs.contains(&c.slug)).collect();
    let mut conn = ctx.pool.acquire().await?;
    let mut zips: Vec<String> =
        store::zips::within_radius(&mut conn, &area.base, domain::Miles(f64::from(area.radius_miles)))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.info.zip)
            .collect();
    zips.extend(area.extra.iter().map(|z| z.as_str().to_owned()));
    let wanted: Vec<String> = chosen.iter().map(|c| c.slug.clone()).collect();
    let demand = store::demand::verified_since(&mut conn, &zips, &wanted, ctx.clock.now() - LOOKBACK).await?;
    let multipliers = store::categories::multipliers(&mut conn).await?;
    let timing = SaleTiming::default();
    Ok(chosen
        .into_iter()
        .map(|c| {
            let sale = Sale::start(c.max_buyers, ctx.clock.now(), &timing);
            let prices = Urgency::ALL.map(|u| (u, multipliers.price(c.base_price, u, sale.exclusivity())));
            let (mut matched, mut above_max_price) = (0, 0);
            for d in demand.iter().filter(|d| d.category == c.slug) {
                let price = prices.iter().find(|(u, _)| u.as_str() == d.urgency).map(|(_, p)| *p);
                match (price, max_price) {
                    (Some(p), Some(max)) if p.0 > max.0 => above_max_price += d.leads,
                    _ => matched += d.leads,
                }
            }
            ServicePreview {
                slug: c.slug.clone(),
                name: c.name.clone(),
                exclusive: sale.exclusive,
                prices,
                matched,
                above_max_price,
            }
        })
        .collect())
}
