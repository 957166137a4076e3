//! The request form's funnel (viewed → started → submitted → verified), counted per form view
//! without personal data. `submitted` is written with the lead itself (`store::leads::write_new`)
//! and `verified` with the verification (`verify`); the page steps here never fail a page.

use crate::Ctx;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The steps, as the schema's CHECK on `analytics.funnel_events.step` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelStep {
    FormViewed,
    FormStarted,
    Submitted,
    Verified,
}

impl FunnelStep {
    pub fn as_str(self) -> &'static str {
        match self {
            FunnelStep::FormViewed => "form_viewed",
            FunnelStep::FormStarted => "form_started",
            FunnelStep::Submitted => "submitted",
            FunnelStep::Verified => "verified",
        }
    }
}

/// Records a step of the form's own funnel; the category only if it could be a slug. A step that
/// cannot be written is logged, never shown to the homeowner.
pub fn mark<'a>(ctx: &'a Ctx, funnel: Uuid, step: FunnelStep, category: Option<&'a str>) -> BoxFuture<'a, ()> {
    Box::pin(mark_inner(ctx, funnel, step, category))
}

async fn mark_inner(ctx: &Ctx, funnel: Uuid, step: FunnelStep, category: Option<&str>) {
    let now = ctx.clock.now();
    let written = async {
        let mut conn = ctx.pool.acquire().await?;
        record(&mut conn, funnel, step, category, now).await
    };
    if let Err(e) = written.await {
        tracing::warn!(error = %e, step = step.as_str(), "could not record a funnel step");
    }
}

pub(super) async fn record(
    conn: &mut PgConnection,
    funnel: Uuid,
    step: FunnelStep,
    category: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let category = category.filter(|c| !c.is_empty() && c.len() <= 64);
    store::funnel::record(conn, funnel, step.as_str(), "web", category, now).await
}
