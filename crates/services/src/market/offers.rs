//! A pro's offers, as their inbox and the API list them.

use super::{MAX_PAGE, Page, page};
use crate::{Ctx, ServiceError};
use domain::FieldError;
use domain::market::OfferStatus;
use futures::future::BoxFuture;
use store::offers::Offer;
use uuid::Uuid;

fn bad(field: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field, message: message.to_owned() }])
}

/// Reads a list's `cursor` (the last id of the previous page).
pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<Uuid>, ServiceError> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| Uuid::parse_str(c).map_err(|_| bad("cursor", "That cursor is not one this list gave out.")))
        .transpose()
}

pub fn parse_limit(limit: Option<i64>) -> Result<i64, ServiceError> {
    match limit {
        None => Ok(25),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(_) => Err(bad("limit", &format!("A page holds 1 to {MAX_PAGE} items."))),
    }
}

/// Live offers (`status` None), or those claimed, declined or expired.
pub fn list<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    status: Option<&'a str>,
    cursor: Option<&'a str>,
    limit: Option<i64>,
) -> BoxFuture<'a, Result<Page<Offer>, ServiceError>> {
    Box::pin(list_inner(ctx, pro_id, status, cursor, limit))
}

async fn list_inner(
    ctx: &Ctx,
    pro_id: Uuid,
    status: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Offer>, ServiceError> {
    let status = match status.filter(|s| !s.is_empty()) {
        None | Some("pending") => None,
        Some(s) => match OfferStatus::parse(s) {
            Some(st) => Some(st),
            None => return Err(bad("status", "Status is one of pending, claimed, declined or expired.")),
        },
    };
    let before = parse_cursor(cursor)?;
    let limit = parse_limit(limit)?;
    let mut conn = ctx.pool.acquire().await?;
    let rows = store::offers::list_for_pro(&mut conn, pro_id, status, ctx.clock.now(), before, limit + 1).await?;
    Ok(page(rows, limit, |o| o.id.to_string()))
}
