//! The price list: each category's base price and buyer count, and the multipliers, which staff
//! change in the back office (audited). A change applies to offers made after it: each offer
//! keeps the price it was made at.

use crate::audit::{self, Audit, AuditAction};
use crate::{Ctx, ServiceError};
use domain::FieldError;
use domain::account::profile::parse_dollars;
use domain::pricing::{Multipliers, parse_multiplier, show_multiplier};
use futures::future::BoxFuture;
use store::categories::Category;
use uuid::Uuid;

pub fn multipliers<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<Multipliers, ServiceError>> {
    Box::pin(multipliers_inner(ctx))
}

async fn multipliers_inner(ctx: &Ctx) -> Result<Multipliers, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::categories::multipliers(&mut conn).await?)
}

pub fn list<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<(Vec<Category>, Multipliers), ServiceError>> {
    Box::pin(list_inner(ctx))
}

async fn list_inner(ctx: &Ctx) -> Result<(Vec<Category>, Multipliers), ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok((store::categories::list_all(&mut conn).await?, store::categories::multipliers(&mut conn).await?))
}

/// What staff typed: per category (slug, base price in dollars, max buyers), and the four
/// multipliers as decimals.
#[derive(Debug, Clone, Default)]
pub struct PriceInput {
    pub categories: Vec<(String, String, String)>,
    pub emergency: String,
    pub within_48h: String,
    pub flexible: String,
    pub exclusive: String,
}

/// Lowest and highest base price a category may have.
pub const MIN_BASE_CENTS: i64 = 100;
pub const MAX_BASE_CENTS: i64 = 100_000;

pub fn update<'a>(
    ctx: &'a Ctx,
    staff: Uuid,
    ip: &'a str,
    input: &'a PriceInput,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(update_inner(ctx, staff, ip, input))
}

async fn update_inner(ctx: &Ctx, staff: Uuid, ip: &str, input: &PriceInput) -> Result<(), ServiceError> {
    let (before, before_m) = list(ctx).await?;
    let mut errors = Vec::new();
    let mut prices = Vec::new();
    for (slug, base, max) in &input.categories {
        let Some(cat) = before.iter().find(|c| &c.slug == slug) else { continue };
        let base = match parse_dollars(base) {
            Ok(Some(c)) if (MIN_BASE_CENTS..=MAX_BASE_CENTS).contains(&c.0) => Some(c.0),
            _ => {
                errors.push(FieldError {
                    field: "prices",
                    message: format!("{}: a base price is $1.00 to $1,000.00.", cat.name),
                });
                None
            }
        };
        let max = match max.trim().parse::<i32>() {
            Ok(m) if (1..=10).contains(&m) => Some(m),
            _ => {
                errors.push(FieldError {
                    field: "prices",
                    message: format!("{}: buyers per lead is 1 to 10.", cat.name),
                });
                None
            }
        };
        if let (Some(b), Some(m)) = (base, max) {
            prices.push((cat, b, m));
        }
    }
    let mut multiplier = |field: &'static str, label: &str, text: &str| {
        parse_multiplier(text).or_else(|| {
            errors.push(FieldError { field, message: format!("{label}: a multiplier is ×0.1 to ×10, like 1.5.") });
            None
        })
    };
    let m = (
        multiplier("emergency", "Emergency", &input.emergency),
        multiplier("within_48h", "Within 48 hours", &input.within_48h),
        multiplier("flexible", "Flexible", &input.flexible),
        multiplier("exclusive", "Exclusive", &input.exclusive),
    );
    let (Some(emergency_bps), Some(within_48h_bps), Some(flexible_bps), Some(exclusive_bps)) = m else {
        return Err(ServiceError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let after_m = Multipliers { emergency_bps, within_48h_bps, flexible_bps, exclusive_bps };
    let now = ctx.clock.now();
    let mut changes = Vec::new();
    let mut tx = ctx.pool.begin().await?;
    for (cat, base, max) in prices {
        if cat.base_price.0 != base || cat.max_buyers != max {
            store::categories::set_price(&mut tx, &cat.slug, base, max, now).await?;
            changes.push(serde_json::json!({
                "category": cat.slug, "base_price_cents": [cat.base_price.0, base], "max_buyers": [cat.max_buyers, max]
            }));
        }
    }
    if after_m != before_m {
        store::categories::set_multipliers(&mut tx, &after_m, now).await?;
        let pair = |a: i64, b: i64| serde_json::json!([show_multiplier(a), show_multiplier(b)]);
        changes.push(serde_json::json!({ "multipliers": {
            "emergency": pair(before_m.emergency_bps, emergency_bps),
            "within_48h": pair(before_m.within_48h_bps, within_48h_bps),
            "flexible": pair(before_m.flexible_bps, flexible_bps),
            "exclusive": pair(before_m.exclusive_bps, exclusive_bps),
        }}));
    }
    if !changes.is_empty() {
        let entry = Audit::new(Some(staff), AuditAction::PricesChanged, staff, Some(ip))
            .detail(serde_json::json!({ "changes": changes }));
        audit::record(&mut tx, ctx, entry).await?;
    }
    tx.commit().await?;
    ctx.forget_categories().await;
    Ok(())
}
