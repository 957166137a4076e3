//! Pruning what has expired. Safe to run on many nodes at once; runs as the hourly
//! `Housekeeping` job.

use crate::{Ctx, ServiceError};
use futures::future::BoxFuture;

/// What one run removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub idempotency_keys: u64,
    pub rate_limit_windows: u64,
}

/// Deletes idempotency keys past their replay window, rate-limit windows that ended long ago,
/// login failures older than the throttle looks back, and sessions ended a month ago.
pub fn prune<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<Pruned, ServiceError>> {
    Box::pin(prune_inner(ctx))
}

async fn prune_inner(ctx: &Ctx) -> Result<Pruned, ServiceError> {
    let now = ctx.clock.now();
    let intake = &ctx.settings.intake;
    let ttl = time::Duration::try_from(intake.idempotency_ttl).map_err(anyhow::Error::from)?;
    let longest_window =
        [intake.per_ip, intake.per_phone, intake.per_partner].iter().map(|l| l.window).max().unwrap_or_default();
    let longest_window = time::Duration::try_from(longest_window).map_err(anyhow::Error::from)?;
    let mut conn = ctx.pool.acquire().await?;
    let idempotency_keys = store::idempotency::prune(&mut conn, now - ttl).await?;
    let rate_limit_windows = store::rate_limit::prune(&mut conn, now - longest_window).await?;
    // Login throttling looks back one hour; ended sessions are kept a month for the owner's
    // and staff's questions (the audit log keeps the logins themselves).
    store::login_failures::prune(&mut conn, now - time::Duration::HOUR).await?;
    store::sessions::prune(&mut conn, now - time::Duration::days(30)).await?;
    // The live feed replays ten minutes to a reconnecting client; a day is plenty.
    store::pro_events::prune(&mut conn, now - time::Duration::DAY).await?;
    // Every instance's roster has read a change within minutes of its writing (or reloads).
    store::roster::prune_changes(&mut conn).await?;
    Ok(Pruned { idempotency_keys, rate_limit_windows })
}
