//! The leads a pro has bought.

use super::offers::{parse_cursor, parse_limit};
use super::{Page, page};
use crate::{Ctx, ServiceError};
use futures::future::BoxFuture;
use store::purchases::Purchase;
use uuid::Uuid;

pub fn list<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    cursor: Option<&'a str>,
    limit: Option<i64>,
) -> BoxFuture<'a, Result<Page<Purchase>, ServiceError>> {
    Box::pin(list_inner(ctx, pro_id, cursor, limit))
}

async fn list_inner(
    ctx: &Ctx,
    pro_id: Uuid,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Purchase>, ServiceError> {
    let before = parse_cursor(cursor)?;
    let limit = parse_limit(limit)?;
    let mut conn = ctx.pool.acquire().await?;
    let rows = store::purchases::list_for_pro(&mut conn, pro_id, before, limit + 1).await?;
    Ok(page(rows, limit, |p| p.id.to_string()))
}

/// What a pro sends about a bought lead's outcome (PATCH).
#[derive(Debug, Clone, Default)]
pub struct OutcomeInput {
    pub status: Option<String>,
    pub quote_cents: Option<i64>,
    pub job_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
}

/// The largest amount a quote or a job's value may be: $10,000,000.00.
pub const MAX_JOB_CENTS: i64 = 1_000_000_000;

/// Moves a bought lead along its lifecycle (`new` → `contacted` → `quoted` → `won` | `lost`).
pub fn record_outcome<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    id: Uuid,
    input: OutcomeInput,
) -> BoxFuture<'a, Result<Purchase, ServiceError>> {
    Box::pin(record_outcome_inner(ctx, pro_id, id, input))
}

async fn record_outcome_inner(
    ctx: &Ctx,
    pro_id: Uuid,
    id: Uuid,
    input: OutcomeInput,
) -> Result<Purchase, ServiceError> {
    use domain::FieldError;
    use domain::market::PurchaseStatus;
    let mut errors = Vec::new();
    let status = match input.status.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError { field: "status", message: "Say where this job stands.".into() });
            None
        }
        Some(s) => match PurchaseStatus::parse(s) {
            Some(
                st @ (PurchaseStatus::Contacted | PurchaseStatus::Quoted | PurchaseStatus::Won | PurchaseStatus::Lost),
            ) => Some(st),
            _ => {
                errors.push(FieldError {
                    field: "status",
                    message: "Status is one of contacted, quoted, won or lost.".into(),
                });
                None
            }
        },
    };
    for (field, value) in [("quote_cents", input.quote_cents), ("job_value_cents", input.job_value_cents)] {
        if value.is_some_and(|v| !(0..=MAX_JOB_CENTS).contains(&v)) {
            errors.push(FieldError { field, message: "An amount is 0 to 1,000,000,000 cents.".into() });
        }
    }
    let lost_reason = input.lost_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if lost_reason.as_deref().is_some_and(|r| r.chars().count() > 500 || r.chars().any(|c| c.is_control() && c != '\n'))
    {
        errors.push(FieldError {
            field: "lost_reason",
            message: "A reason is plain text of at most 500 characters.".into(),
        });
    }
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = ctx.pool.begin().await?;
    let current = store::purchases::lock_for_pro(&mut tx, id, pro_id).await?.ok_or(ServiceError::NotFound)?;
    if !current.may_move_to(status) {
        return Err(ServiceError::InvalidTransition);
    }
    let outcome = store::purchases::Outcome {
        status,
        quote_cents: input.quote_cents,
        job_value_cents: input.job_value_cents,
        lost_reason,
    };
    store::purchases::record_outcome(&mut tx, id, &outcome, ctx.clock.now()).await?;
    let purchase = store::purchases::get_for_pro(&mut tx, id, pro_id).await?.ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    Ok(purchase)
}
