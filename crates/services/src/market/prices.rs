//! The price list: each category's base price and the multipliers staff set.

use crate::{Ctx, ServiceError};
use domain::pricing::Multipliers;

pub async fn multipliers(ctx: &Ctx) -> Result<Multipliers, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::categories::multipliers(&mut conn).await?)
}
