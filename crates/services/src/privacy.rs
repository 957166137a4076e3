//! People's rights over their data (the privacy page's promises): a homeowner's copy, its
//! erasure, and its removal 24 months after each request (`PLUMBERLEADS_HOMEOWNER_RETENTION`);
//! a plumber's copy.
//! Erasure and retention blank the person, not the facts: jobs, ZIPs, dates, sales and the
//! ledger stay, so every statistic and every plumber's bill still adds up.

use crate::audit::{Audit, AuditAction};
use crate::{Ctx, ServiceError};
use domain::lead::UsPhone;
use futures::future::BoxFuture;
use serde_json::json;

/// Requests blanked per round of the hourly sweep (the rest wait for the next round).
const SWEEP_BATCH: i64 = 500;

fn phone_of(input: &str) -> Result<UsPhone, ServiceError> {
    UsPhone::parse(input)
        .map_err(|e| ServiceError::Invalid(vec![domain::FieldError { field: "phone", message: e.to_string() }]))
}

/// How long a request keeps its homeowner's details, as the privacy page and a copy of the data
/// say it: "24 months", or days for a period that is not whole months (humantime's month, the
/// unit `PLUMBERLEADS_HOMEOWNER_RETENTION` is written in: 30.44 days).
pub fn retention_words(ctx: &Ctx) -> String {
    const MONTH: u64 = 2_630_016;
    let secs = ctx.settings.intake.homeowner_retention.as_secs();
    let (n, unit) = if secs.is_multiple_of(MONTH) && secs >= MONTH {
        (secs / MONTH, "month")
    } else {
        (secs.div_ceil(86_400), "day")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn retention(ctx: &Ctx) -> time::Duration {
    time::Duration::try_from(ctx.settings.intake.homeowner_retention).unwrap_or(time::Duration::MAX)
}

/// Everything kept about the homeowner with this phone, as JSON: each request with its notes,
/// timeline and the plumbers who took it.
pub fn export_homeowner<'a>(ctx: &'a Ctx, phone: &'a str) -> BoxFuture<'a, Result<serde_json::Value, ServiceError>> {
    Box::pin(export_homeowner_inner(ctx, phone))
}

async fn export_homeowner_inner(ctx: &Ctx, phone: &str) -> Result<serde_json::Value, ServiceError> {
    let phone = phone_of(phone)?;
    let mut conn = ctx.pool.acquire().await?;
    let mut requests = Vec::new();
    for r in store::homeowners::requests_of(&mut conn, phone.as_e164()).await? {
        let notes: Vec<_> = store::lead_notes::of(&mut conn, r.id)
            .await?
            .into_iter()
            .map(
                |n| json!({ "text": n.body, "written_at": rfc3339(n.written_at), "added_at": n.added_at.map(rfc3339) }),
            )
            .collect();
        let timeline: Vec<_> = store::leads::timeline(&mut conn, r.id)
            .await?
            .into_iter()
            .map(|(kind, at)| json!({ "event": kind, "at": rfc3339(at) }))
            .collect();
        let plumbers: Vec<_> = store::purchases::buyers_of(&mut conn, r.id)
            .await?
            .into_iter()
            .map(|b| json!({ "business_name": b.business_name, "phone": b.phone }))
            .collect();
        let mut request = serde_json::to_value(&r).map_err(anyhow::Error::from)?;
        request["notes"] = json!(notes);
        request["timeline"] = json!(timeline);
        request["plumbers"] = json!(plumbers);
        requests.push(request);
    }
    Ok(json!({
        "phone": phone.as_e164(),
        "exported_at": rfc3339(ctx.clock.now()),
        "retention": format!("personal data is removed {} after each request", retention_words(ctx)),
        "requests": requests,
    }))
}

/// Everything kept about the plumber with this e-mail, as JSON (`store::pro_data`).
pub fn export_pro<'a>(ctx: &'a Ctx, email: &'a str) -> BoxFuture<'a, Result<serde_json::Value, ServiceError>> {
    Box::pin(export_pro_inner(ctx, email))
}

async fn export_pro_inner(ctx: &Ctx, email: &str) -> Result<serde_json::Value, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    let mut copy = store::pro_data::export(&mut conn, email.trim()).await?.ok_or(ServiceError::NotFound)?;
    copy["exported_at"] = json!(rfc3339(ctx.clock.now()));
    Ok(copy)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Erases the personal data of every request made from this phone, now (audited, by whoever
/// runs it: an operator acting on a written request). Returns how many requests it blanked.
pub fn erase_homeowner<'a>(ctx: &'a Ctx, phone: &'a str) -> BoxFuture<'a, Result<u64, ServiceError>> {
    Box::pin(erase_homeowner_inner(ctx, phone))
}

async fn erase_homeowner_inner(ctx: &Ctx, phone: &str) -> Result<u64, ServiceError> {
    let phone = phone_of(phone)?;
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let leads: Vec<_> =
        store::homeowners::requests_of(&mut tx, phone.as_e164()).await?.into_iter().map(|r| r.id).collect();
    let erased = store::homeowners::anonymise(&mut tx, &leads, now, now).await?;
    if erased > 0 {
        let audit = Audit {
            actor: None,
            action: AuditAction::HomeownerErased,
            subject: None,
            ip: None,
            detail: json!({ "requests": leads }),
        };
        crate::audit::record(&mut tx, ctx, audit).await?;
    }
    tx.commit().await?;
    Ok(erased)
}

/// Blanks requests older than the retention period, and refused submissions too (hourly, from
/// housekeeping; many nodes may run it at once: each request is blanked once). Returns how many
/// requests it blanked.
pub fn remove_expired<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<u64, ServiceError>> {
    Box::pin(remove_expired_inner(ctx))
}

async fn remove_expired_inner(ctx: &Ctx) -> Result<u64, ServiceError> {
    let now = ctx.clock.now();
    let cutoff = now - retention(ctx);
    let mut total = 0;
    loop {
        let mut tx = ctx.pool.begin().await?;
        let due = store::homeowners::due(&mut tx, cutoff, SWEEP_BATCH).await?;
        let n = store::homeowners::anonymise(&mut tx, &due, cutoff, now).await?;
        tx.commit().await?;
        total += n;
        if (due.len() as i64) < SWEEP_BATCH {
            break;
        }
    }
    let mut conn = ctx.pool.acquire().await?;
    store::homeowners::prune_rejections(&mut conn, cutoff).await?;
    Ok(total)
}
