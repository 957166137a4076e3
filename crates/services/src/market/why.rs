//! Why a pro got a lead or not: the ranking's components for an offer, the first rule that left
//! them out otherwise, and the recent leads they missed.

use super::offers::{parse_cursor, parse_limit};
use super::{Page, page};
use crate::{Ctx, ServiceError};
use futures::future::BoxFuture;
use store::exclusions::{Missed, Ranked};
use uuid::Uuid;

/// Missed leads are kept in view for this long.
pub const MISSED_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    Offered(Ranked),
    LeftOut(String),
}

pub fn why<'a>(ctx: &'a Ctx, pro: Uuid, lead: Uuid) -> BoxFuture<'a, Result<Why, ServiceError>> {
    Box::pin(why_inner(ctx, pro, lead))
}

async fn why_inner(ctx: &Ctx, pro: Uuid, lead: Uuid) -> Result<Why, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    if let Some(r) = store::exclusions::ranked(&mut conn, lead, pro).await? {
        return Ok(Why::Offered(r));
    }
    match store::exclusions::of(&mut conn, lead, pro).await? {
        Some(rule) => Ok(Why::LeftOut(rule)),
        None => Err(ServiceError::NotFound),
    }
}

pub fn missed<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    cursor: Option<&'a str>,
    limit: Option<i64>,
) -> BoxFuture<'a, Result<Page<Missed>, ServiceError>> {
    Box::pin(missed_inner(ctx, pro, cursor, limit))
}

async fn missed_inner(
    ctx: &Ctx,
    pro: Uuid,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Missed>, ServiceError> {
    let before = parse_cursor(cursor)?;
    let limit = parse_limit(limit)?;
    let since = ctx.clock.now() - time::Duration::days(MISSED_DAYS);
    let mut conn = ctx.pool.acquire().await?;
    let rows = store::exclusions::missed(&mut conn, pro, since, before, limit + 1).await?;
    Ok(page(rows, limit, |m| m.lead_id.to_string()))
}
