//! One submission, start to finish: idempotency, rate limits, validation against the reference
//! data, spam defences, duplicates, the lead and its verification code, written atomically with
//! the jobs that send the messages.

use super::verify::on_verified;
use super::{Idempotency, Outcome, Source, Submission, Submitted, code_sms, ttl};
use crate::infra::rate_limit::Window;
use crate::infra::signing;
use crate::{Ctx, ServiceError};
use domain::lead::{CONSENT_TEXT_VERSION, FieldError, LeadDraft, LeadEvent, LeadInput, LeadStatus};
use futures::future::BoxFuture;
use serde::Serialize;
use settings::RateLimit;
use sqlx::PgConnection;
use std::collections::BTreeMap;
use store::idempotency::{self, Claim};
use store::leads::{Checks, Counted, Intake, NewLead, Outbound, WithLead, Written};
use store::rejections::Rejection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Why a submission was refused before it reached the database's checks.
struct Refused {
    errors: Vec<FieldError>,
    /// A throwaway e-mail address: recorded for staff as well as answered.
    disposable_email: bool,
}

/// The limit a submission's address (or partner) is counted against.
struct AddressLimit {
    key: String,
    limit: RateLimit,
    /// The rejection's reason when it is over.
    reason: &'static str,
}

impl AddressLimit {
    fn of(intake: &settings::Intake, sub: &Submission) -> Self {
        match sub.source {
            Source::Web { .. } => {
                Self { key: format!("leads:ip:{}", sub.client_ip), limit: intake.per_ip, reason: "rate_limited_ip" }
            }
            Source::Partner { id } => {
                Self { key: format!("leads:partner:{id}"), limit: intake.per_partner, reason: "rate_limited_partner" }
            }
        }
    }
}

/// Runs a submission. The common case — a valid submission with no idempotency key, verification
/// on — has nothing to write but the lead itself: it joins the lead writer's
/// group commit (which also counts the group's address limits when PostgreSQL holds them).
/// Everything else runs on one pooled connection, start to finish: the idempotency look-up, the
/// rate limit and any rejection record, then a transaction around the lead and what goes with it.
pub fn submit<'a>(
    ctx: &'a Ctx,
    sub: Submission,
    idem: Option<Idempotency>,
) -> BoxFuture<'a, Result<Submitted, ServiceError>> {
    Box::pin(submit_inner(ctx, sub, idem))
}

async fn submit_inner(ctx: &Ctx, sub: Submission, idem: Option<Idempotency>) -> Result<Submitted, ServiceError> {
    let now = ctx.clock.now();
    let intake = &ctx.settings.intake;
    let limit = AddressLimit::of(intake, &sub);
    // Reference data comes from the node's caches, which may need a connection of their own:
    // read before this request takes one.
    let parsed = parse(ctx, &sub).await?;
    if idem.is_none()
        && intake.verification_required
        && let Ok(draft) = &parsed
    {
        return submit_grouped(ctx, &sub, draft, &limit, now).await.map(Submitted::Fresh);
    }

    // One checkout for the whole submission saves round trips, and a request never holds one
    // connection while waiting for another (that deadlocks a busy node: every request holds one,
    // all wait for a second).
    let expired_before = now - ttl(intake.idempotency_ttl);
    let mut conn = ctx.pool.acquire().await?;
    // A retry of an answered request is replayed before it can count against any limit.
    if let Some(i) = &idem {
        match idempotency::lookup(&mut conn, &i.principal, &i.key, &i.request_hash, expired_before).await? {
            Some(Claim::Replay(stored)) => return replayed(stored),
            Some(Claim::Mismatch) => return Err(ServiceError::KeyReused),
            Some(Claim::New) | None => {}
        }
    }

    // Counted before validation answers, so a flood of invalid requests is limited too.
    if let Err(limited) = ctx.rate_limiter.check_in(&mut conn, &limit.key, limit.limit).await? {
        record_rejection(ctx, &mut conn, limit.reason, &sub, None).await?;
        return Err(ServiceError::Throttled { retry_after: limited.retry_after });
    }
    let draft = match parsed {
        Ok(draft) => draft,
        Err(refused) => {
            if refused.disposable_email {
                record_rejection(ctx, &mut conn, "disposable_email", &sub, None).await?;
            }
            return Err(ServiceError::Invalid(refused.errors));
        }
    };

    // The lead with what goes with it: the idempotency record, the verified hand-off.
    let prepared = prepare(ctx, &sub, &draft, now)?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    if let Some(i) = &idem {
        // Claimed in the transaction: a concurrent retry waits here for our commit, then replays.
        match idempotency::claim(&mut tx, &i.principal, &i.key, &i.request_hash, now, expired_before).await? {
            Claim::Replay(stored) => {
                tx.commit().await?;
                return replayed(stored);
            }
            Claim::Mismatch => return Err(ServiceError::KeyReused),
            Claim::New => {}
        }
    }
    let written = store::leads::write_new(&mut tx, std::slice::from_ref(&prepared.intake))
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no answer for the lead"))?;
    let (answer, refused) = answer(written, prepared.created, prepared.phone_window, &limit, now);
    if let Ok(outcome) = &answer {
        if let Outcome::Created { lead_id, verified: true, .. } = outcome {
            on_verified(ctx, &mut tx, *lead_id, now).await?;
        }
        if let Some(i) = &idem {
            let stored = serde_json::to_value(outcome).map_err(anyhow::Error::from)?;
            idempotency::store(&mut tx, &i.principal, &i.key, &stored).await?;
        }
        tx.commit().await?;
    } else {
        // Over the phone limit: nothing of this request is kept but its rejection.
        tx.rollback().await?;
    }
    // Refusals are kept for staff, after the lead's own writes.
    if let Some((reason, existing)) = refused {
        record_rejection(ctx, &mut conn, reason, &sub, existing).await?;
    }
    if let Ok(Outcome::Created { .. }) = answer {
        ctx.queue.wake_workers();
        metrics::counter!("leads_submitted_total", "source" => sub.source.as_str()).increment(1);
    }
    answer.map(Submitted::Fresh)
}

/// The outcome a key's first request had, as it was stored.
fn replayed(stored: serde_json::Value) -> Result<Submitted, ServiceError> {
    let outcome =
        serde_json::from_value(stored).map_err(|e| anyhow::anyhow!("a stored outcome that does not read: {e}"))?;
    Ok(Submitted::Replayed(outcome))
}

/// A valid submission with nothing to write but the lead: written with whatever others are
/// being submitted at the same moment (`store::lead_writer`).
async fn submit_grouped(
    ctx: &Ctx,
    sub: &Submission,
    draft: &LeadDraft,
    limit: &AddressLimit,
    now: OffsetDateTime,
) -> Result<Outcome, ServiceError> {
    let counted = if ctx.rate_limiter.counts_in_postgres() {
        let window = Window::of(limit.limit, now);
        Some(Counted {
            key: limit.key.clone(),
            window: window.start_time(),
            max: i32::try_from(limit.limit.max).unwrap_or(i32::MAX),
        })
    } else {
        if let Err(limited) = ctx.rate_limiter.check(&limit.key, limit.limit).await? {
            reject(ctx, limit.reason, sub, None).await?;
            return Err(ServiceError::Throttled { retry_after: limited.retry_after });
        }
        None
    };
    let Prepared { intake, created, phone_window } = prepare(ctx, sub, draft, now)?;
    let written = ctx.lead_writer.write(intake, counted).await.map_err(|e| match e {
        store::lead_writer::WriteError::Database(db) if crate::error::is_outage(&db) => ServiceError::Unavailable,
        e => ServiceError::Internal(e.into()),
    })?;
    let (answer, refused) = answer(written, created, phone_window, limit, now);
    if let Some((reason, existing)) = refused {
        reject(ctx, reason, sub, existing).await?;
    }
    if let Ok(Outcome::Created { .. }) = answer {
        ctx.queue.wake_workers();
        metrics::counter!("leads_submitted_total", "source" => sub.source.as_str()).increment(1);
    }
    answer
}

/// The draft, with the checks against the reference data: the ZIP and the job must exist, and
/// an e-mail address must not be a throwaway one.
async fn parse(ctx: &Ctx, sub: &Submission) -> Result<Result<LeadDraft, Refused>, ServiceError> {
    let draft = match LeadDraft::parse(&sub.input) {
        Ok(d) => d,
        Err(errors) => return Ok(Err(Refused { errors, disposable_email: false })),
    };
    let mut errors = Vec::new();
    match ctx.zip(&draft.zip).await? {
        Some(z) if z.active => {}
        _ => errors.push(FieldError {
            field: "zip",
            message: format!("We couldn't find ZIP {} — check the 5 digits?", draft.zip),
        }),
    }
    let categories = ctx.categories().await?;
    if !categories.iter().any(|c| c.slug == draft.category.as_str()) {
        errors.push(FieldError { field: "category", message: "Please choose one of the listed jobs.".into() });
    }
    let disposable_email = draft.email.as_ref().is_some_and(|e| !mailchecker::is_valid(e.as_str()));
    if disposable_email {
        errors.push(FieldError {
            field: "email",
            message: "Please use an email address you'll check — or leave it empty.".into(),
        });
    }
    Ok(if errors.is_empty() { Ok(draft) } else { Err(Refused { errors, disposable_email }) })
}

/// A submission's writes, and its answer if they make a new lead.
struct Prepared {
    intake: Intake,
    created: Outcome,
    /// The per-phone limit's window, for a phone-limited answer's `Retry-After`.
    phone_window: Window,
}

/// The lead with its code and text (or, when verification is off, as verified), and the checks
/// that decide whether it is written. The per-phone limit is counted in PostgreSQL even when
/// Redis holds the others: it decides this write, so it is counted in the same call.
fn prepare(ctx: &Ctx, sub: &Submission, draft: &LeadDraft, now: OffsetDateTime) -> Result<Prepared, ServiceError> {
    let intake = &ctx.settings.intake;
    let lead_id = Uuid::now_v7();
    let verified = !intake.verification_required;
    let phone = draft.phone.as_e164();
    let lead = NewLead {
        id: lead_id,
        status: if verified { LeadStatus::Verified } else { LeadStatus::PendingVerification },
        category: draft.category.as_str().to_owned(),
        urgency: draft.urgency.as_str(),
        zip: draft.zip.as_str().to_owned(),
        description: draft.description.as_str().to_owned(),
        name: draft.name.as_str().to_owned(),
        phone: phone.to_owned(),
        email: draft.email.as_ref().map(|e| e.as_str().to_owned()),
        contact_preference: draft.contact_preference.as_str(),
        consent_version: CONSENT_TEXT_VERSION,
        source: sub.source.as_str(),
        partner_id: sub.source.partner_id(),
        utm: serde_json::to_value(&sub.utm).unwrap_or_default(),
        referrer: sub.referrer.clone(),
        now,
    };
    let phone_window = Window::of(intake.per_phone, now);
    let checks = Checks {
        duplicate_since: now - ttl(intake.duplicate_window),
        phone: Counted {
            key: format!("leads:phone:{phone}"),
            window: phone_window.start_time(),
            max: i32::try_from(intake.per_phone.max).unwrap_or(i32::MAX),
        },
    };
    let expires = now + ttl(intake.code_ttl);
    // Unless verification is off: a code, its text, and the timeline saying it was sent.
    let code = (!verified).then(signing::new_code);
    let sms =
        code.as_ref().map(|c| ctx.queue.row(&code_sms(ctx, phone, c))).transpose().map_err(anyhow::Error::from)?;
    let with = WithLead {
        code: code.as_ref().map(|c| (ctx.signer.code_hash(&lead_id.to_string(), c), expires)),
        events: if verified { &[LeadEvent::Received] } else { &[LeadEvent::Received, LeadEvent::CodeSent] },
        job: sms.map(|j| Outbound { kind: j.kind, payload: j.payload, max_attempts: j.max_attempts }),
        funnel: match sub.source {
            Source::Web { funnel_id } => funnel_id,
            Source::Partner { .. } => None,
        },
    };
    Ok(Prepared {
        intake: Intake { lead, checks, with },
        created: Outcome::Created { lead_id, verified, code_expires_at: (!verified).then_some(expires) },
        phone_window,
    })
}

/// What a write means for the submitter, and the refusal (reason, lead it duplicates) to keep
/// for staff.
type Refusal = Option<(&'static str, Option<Uuid>)>;

fn answer(
    written: Written,
    created: Outcome,
    phone_window: Window,
    limit: &AddressLimit,
    now: OffsetDateTime,
) -> (Result<Outcome, ServiceError>, Refusal) {
    match written {
        Written::Created => (Ok(created), None),
        Written::Duplicate { existing } => (Ok(Outcome::Duplicate { existing }), Some(("duplicate", Some(existing)))),
        Written::PhoneLimited => {
            (Err(ServiceError::Throttled { retry_after: phone_window.remaining() }), Some(("rate_limited_phone", None)))
        }
        Written::Limited => (
            Err(ServiceError::Throttled { retry_after: Window::of(limit.limit, now).remaining() }),
            Some((limit.reason, None)),
        ),
    }
}

async fn reject(ctx: &Ctx, reason: &str, sub: &Submission, existing: Option<Uuid>) -> Result<(), ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    record_rejection(ctx, &mut conn, reason, sub, existing).await
}

async fn record_rejection(
    ctx: &Ctx,
    conn: &mut PgConnection,
    reason: &str,
    sub: &Submission,
    existing: Option<Uuid>,
) -> Result<(), ServiceError> {
    #[derive(Serialize)]
    struct Recorded<'a> {
        input: &'a LeadInput,
        utm: &'a BTreeMap<String, String>,
        referrer: &'a Option<String>,
    }
    let submission = serde_json::to_value(Recorded { input: &sub.input, utm: &sub.utm, referrer: &sub.referrer })
        .unwrap_or_default();
    store::rejections::record(
        conn,
        &Rejection {
            id: Uuid::now_v7(),
            reason: reason.to_owned(),
            source: sub.source.as_str().to_owned(),
            partner_id: sub.source.partner_id(),
            existing_lead_id: existing,
            submission,
            client_ip: Some(sub.client_ip.to_string()),
            created_at: ctx.clock.now(),
        },
    )
    .await?;
    metrics::counter!("leads_rejected_total", "reason" => reason.to_owned()).increment(1);
    Ok(())
}

/// Records a rejection that happened before a submission was parsed (honeypot, too fast).
pub fn reject_unparsed<'a>(
    ctx: &'a Ctx,
    reason: &'a str,
    sub: &'a Submission,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(reject_unparsed_inner(ctx, reason, sub))
}

async fn reject_unparsed_inner(ctx: &Ctx, reason: &str, sub: &Submission) -> Result<(), ServiceError> {
    reject(ctx, reason, sub, None).await
}
