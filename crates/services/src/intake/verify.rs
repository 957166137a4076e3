//! A homeowner's phone, confirmed by the texted code; and a new code when asked.

use super::funnel::FunnelStep;
use super::{code_sms, status_url, ttl};
use crate::infra::signing;
use crate::jobs::{SendEmail, SendSms};
use crate::{CodeError, Ctx, ServiceError};
use domain::FieldError;
use domain::lead::{LeadEvent, UsPhone};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// The hand-off: a `verified` event on the lead's timeline (distribution starts from it) and
/// the homeowner's confirmation with their status link.
pub(super) async fn on_verified(
    ctx: &Ctx,
    tx: &mut PgConnection,
    lead_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), ServiceError> {
    store::leads::record_event(tx, lead_id, LeadEvent::Verified, now).await?;
    ctx.queue.enqueue(tx, &crate::market::Distribute::now(lead_id)).await?;
    let lead = store::leads::get(tx, lead_id).await?.ok_or_else(|| anyhow::anyhow!("lead {lead_id} vanished"))?;
    let link = status_url(ctx, lead_id, now);
    let first_name = lead.name.split_whitespace().next().unwrap_or("there");
    let job = lead.category_name.to_lowercase();
    let taking = store::matching::anyone_taking(tx, &lead.zip, &lead.category).await?;
    let sms = if taking {
        format!(
            "PlumberLeads: thanks, {first_name}! Your {job} request is confirmed. Local plumbers will call you soon. See who: {link}"
        )
    } else {
        format!(
            "PlumberLeads: thanks, {first_name}! Your {job} request is confirmed, but no plumber on PlumberLeads takes it near you yet: please call a local plumber too. Follow it: {link}"
        )
    };
    ctx.queue.enqueue(tx, &SendSms::new(lead.phone.clone(), sms)).await?;
    if let Some(email) = &lead.email {
        let text = format!(
            "Hi {first_name},\n\nYour request ({}, {} {}) is confirmed. {}\n\nSee which plumbers took it: {link}\n\nPlumberLeads",
            lead.category_name,
            lead.city,
            lead.zip,
            if taking {
                "Up to 3 local plumbers will get it and call you soon."
            } else {
                "No plumber on PlumberLeads takes this kind of job near you yet, so nobody may call: please call a local plumber too. We'll keep offering it for a while in case one joins."
            }
        );
        let mail = SendEmail {
            to: email.clone(),
            subject: "Your plumbing request is confirmed".into(),
            text_body: text,
            html_body: None,
            unsubscribe: None,
        };
        ctx.queue.enqueue(tx, &mail).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Now,
    Already,
}

/// Checks a code. Counts every attempt, refuses after the limit or expiry, and on success moves
/// the lead to `verified` with its hand-off (and the form's funnel step, when it came from the
/// form), all in one transaction.
pub fn verify<'a>(
    ctx: &'a Ctx,
    lead_id: Uuid,
    code: &'a str,
    funnel: Option<Uuid>,
) -> BoxFuture<'a, Result<Verified, ServiceError>> {
    Box::pin(verify_inner(ctx, lead_id, code, funnel))
}

async fn verify_inner(ctx: &Ctx, lead_id: Uuid, code: &str, funnel: Option<Uuid>) -> Result<Verified, ServiceError> {
    let now = ctx.clock.now();
    let max = ctx.settings.intake.code_max_attempts;
    let mut tx = ctx.pool.begin().await?;
    let Some(v) = store::leads::verification_for_update(&mut tx, lead_id).await? else {
        return Err(ServiceError::NotFound);
    };
    if v.verified_at.is_some() {
        return Ok(Verified::Already);
    }
    if v.attempts >= max {
        return Err(CodeError::TooManyAttempts.into());
    }
    if now >= v.expires_at {
        return Err(CodeError::Expired.into());
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if !ctx.signer.code_matches(&lead_id.to_string(), &code, &v.code_hash) {
        store::leads::count_failed_attempt(&mut tx, lead_id).await?;
        tx.commit().await?;
        let remaining = max - v.attempts - 1;
        return Err(if remaining > 0 {
            CodeError::Wrong { attempts_left: remaining }
        } else {
            CodeError::TooManyAttempts
        }
        .into());
    }
    store::leads::mark_code_used(&mut tx, lead_id, now).await?;
    if store::leads::mark_verified(&mut tx, lead_id, now).await? {
        on_verified(ctx, &mut tx, lead_id, now).await?;
        if let Some(funnel) = funnel {
            super::funnel::record(&mut tx, funnel, FunnelStep::Verified, None, now).await?;
        }
        let lead = store::leads::get(&mut tx, lead_id).await?;
        if let Some(l) = &lead {
            // The code came back from the phone: its owner wants our texts again after a STOP.
            store::sms_opt_outs::opt_in(&mut tx, &l.phone).await?;
        }
        let source = lead.map(|l| l.source).unwrap_or_default();
        metrics::counter!("leads_verified_total", "source" => source).increment(1);
    }
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(Verified::Now)
}

/// Sends a fresh code (the old one stops working), within the resend limits.
pub fn resend<'a>(ctx: &'a Ctx, lead_id: Uuid) -> BoxFuture<'a, Result<OffsetDateTime, ServiceError>> {
    Box::pin(resend_inner(ctx, lead_id))
}

async fn resend_inner(ctx: &Ctx, lead_id: Uuid) -> Result<OffsetDateTime, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let last_sent_at = unconfirmed_with_sends_left(ctx, &mut tx, lead_id).await?;
    let next = last_sent_at + ttl(ctx.settings.intake.code_resend_interval);
    if now < next {
        let wait = (next - now).try_into().unwrap_or(Duration::from_secs(1));
        return Err(CodeError::ResendTooSoon { retry_after: wait }.into());
    }
    let lead = store::leads::get(&mut tx, lead_id).await?.ok_or_else(|| anyhow::anyhow!("lead {lead_id} vanished"))?;
    send_code(ctx, tx, lead_id, &lead.phone, now).await
}

/// A corrected number for a request whose phone is not confirmed yet (a typo on the form): the
/// lead takes it and a fresh code goes there at once — without the resend wait, since the last
/// code went to someone else — within the request's limit on codes sent. The new number, masked.
pub fn change_phone<'a>(ctx: &'a Ctx, lead_id: Uuid, phone: &'a str) -> BoxFuture<'a, Result<String, ServiceError>> {
    Box::pin(change_phone_inner(ctx, lead_id, phone))
}

async fn change_phone_inner(ctx: &Ctx, lead_id: Uuid, phone: &str) -> Result<String, ServiceError> {
    let phone = UsPhone::parse(phone)
        .map_err(|e| ServiceError::Invalid(vec![FieldError { field: "phone", message: e.to_string() }]))?;
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    unconfirmed_with_sends_left(ctx, &mut tx, lead_id).await?;
    if !store::leads::set_unconfirmed_phone(&mut tx, lead_id, phone.as_e164()).await? {
        return Err(ServiceError::NotFound);
    }
    send_code(ctx, tx, lead_id, phone.as_e164(), now).await?;
    Ok(phone.masked())
}

/// Locks the lead's verification: not found once confirmed, refused when its codes are spent;
/// otherwise when the last code went out.
async fn unconfirmed_with_sends_left(
    ctx: &Ctx,
    tx: &mut PgConnection,
    lead_id: Uuid,
) -> Result<OffsetDateTime, ServiceError> {
    let v = store::leads::verification_for_update(tx, lead_id).await?.ok_or(ServiceError::NotFound)?;
    if v.verified_at.is_some() {
        return Err(ServiceError::NotFound);
    }
    if v.sends >= ctx.settings.intake.code_max_sends {
        return Err(CodeError::TooManySends.into());
    }
    Ok(v.last_sent_at)
}

/// A new code replaces the old, goes to `phone` by text, and the transaction commits: when the
/// new code stops working.
async fn send_code(
    ctx: &Ctx,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    lead_id: Uuid,
    phone: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ServiceError> {
    let code = signing::new_code();
    let expires = now + ttl(ctx.settings.intake.code_ttl);
    store::leads::replace_code(&mut tx, lead_id, &ctx.signer.code_hash(&lead_id.to_string(), &code), expires, now)
        .await?;
    ctx.queue.enqueue(&mut tx, &code_sms(ctx, phone, &code)).await?;
    store::leads::record_event(&mut tx, lead_id, LeadEvent::CodeSent, now).await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(expires)
}
