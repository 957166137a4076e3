//! Unmet demand: requests that were kept but no plumber took — the back office's list of where
//! to find plumbers, with how many take that job there today.

use crate::{Ctx, ServiceError};
use futures::future::BoxFuture;

/// How far back the back office looks.
pub const LOOKBACK_DAYS: i64 = 30;
/// The rows it shows.
const ROWS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetArea {
    pub unmet: store::demand::Unmet,
    /// Active, unpaused plumbers who cover the ZIP and take the job now (0: nobody does).
    pub taking_now: i64,
}

pub fn recent<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<Vec<UnmetArea>, ServiceError>> {
    Box::pin(recent_inner(ctx))
}

async fn recent_inner(ctx: &Ctx) -> Result<Vec<UnmetArea>, ServiceError> {
    let since = ctx.clock.now() - time::Duration::days(LOOKBACK_DAYS);
    let mut conn = ctx.pool.acquire().await?;
    let mut out = Vec::new();
    for unmet in store::demand::unmet_since(&mut conn, since, ROWS).await? {
        let taking_now = store::matching::taking(&mut conn, &unmet.zip, &unmet.category).await?;
        out.push(UnmetArea { unmet, taking_now });
    }
    Ok(out)
}
