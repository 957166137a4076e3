//! One submission, start to finish: idempotency, rate limits, validation against the reference
//! data, spam defences, duplicates, the lead and its verification code, written atomically with
//! the jobs that send the messages.

use crate::AppState;
use crate::rate_limit::Window;
use domain::lead::{CONSENT_TEXT_VERSION, FieldError, LeadDraft, LeadInput};
use jobs::handlers::{SendEmail, SendSms};
use rand::Rng;
use serde::Serialize;
use settings::RateLimit;
use sqlx::PgConnection;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;
use store::idempotency::{self, Claim, Stored};
use store::leads::{Checks, Counted, Intake, NewLead, Outbound, WithLead, Written};
use store::rejections::Rejection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Our own form; `funnel_id` ties the submission to its form view for the funnel.
    Web {
        funnel_id: Option<Uuid>,
    },
    Partner {
        id: Uuid,
    },
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Web { .. } => "web",
            Source::Partner { .. } => "partner",
        }
    }

    fn partner_id(self) -> Option<Uuid> {
        match self {
            Source::Partner { id } => Some(id),
            Source::Web { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Submission {
    pub input: LeadInput,
    pub source: Source,
    /// utm_source, utm_medium, utm_campaign, utm_term, utm_content (others are dropped).
    pub utm: BTreeMap<String, String>,
    pub referrer: Option<String>,
    pub client_ip: IpAddr,
}

/// An `Idempotency-Key` and what it is bound to.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub principal: String,
    pub key: String,
    pub request_hash: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created {
        lead_id: Uuid,
        verified: bool,
        code_expires_at: Option<OffsetDateTime>,
    },
    /// Same phone and job recently: not a new lead.
    Duplicate {
        existing: Uuid,
    },
}

#[derive(Debug)]
pub enum Submitted {
    Fresh(Outcome),
    /// The first response to this idempotency key, to send again.
    Replayed(Stored),
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("invalid submission")]
    Invalid(Vec<FieldError>),
    #[error("rate limited")]
    RateLimited { retry_after: Duration },
    #[error("idempotency key reused with a different request")]
    KeyReused,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for IntakeError {
    fn from(e: sqlx::Error) -> Self {
        IntakeError::Internal(e.into())
    }
}

const UTM_KEYS: [&str; 5] = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
/// Longest UTM value or referrer we keep; longer ones are cut, not refused (they are ours to record).
const ATTRIBUTION_MAX_CHARS: usize = 500;

pub fn clean_utm(pairs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter(|(k, v)| UTM_KEYS.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k, clean_attribution(&v)))
        .collect()
}

pub fn clean_attribution(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).take(ATTRIBUTION_MAX_CHARS).collect::<String>().trim().to_owned()
}

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
pub async fn submit(
    state: &AppState,
    sub: Submission,
    idem: Option<Idempotency>,
    respond: impl FnOnce(&Outcome) -> Stored,
) -> Result<Submitted, IntakeError> {
    let now = state.clock.now();
    let intake = &state.settings.intake;
    let limit = AddressLimit::of(intake, &sub);
    // Reference data comes from the node's caches, which may need a connection of their own:
    // read before this request takes one.
    let parsed = parse(state, &sub).await?;
    if idem.is_none()
        && intake.verification_required
        && let Ok(draft) = &parsed
    {
        return submit_grouped(state, &sub, draft, &limit, now).await.map(Submitted::Fresh);
    }

    // One checkout for the whole submission saves round trips, and a request never holds one
    // connection while waiting for another (that deadlocks a busy node: every request holds one,
    // all wait for a second).
    let expired_before = now - ttl(intake.idempotency_ttl);
    let mut conn = state.pool.acquire().await?;
    // A retry of an answered request is replayed before it can count against any limit.
    if let Some(i) = &idem {
        match idempotency::lookup(&mut conn, &i.principal, &i.key, &i.request_hash, expired_before).await? {
            Some(Claim::Replay(stored)) => return Ok(Submitted::Replayed(stored)),
            Some(Claim::Mismatch) => return Err(IntakeError::KeyReused),
            Some(Claim::New) | None => {}
        }
    }

    // Counted before validation answers, so a flood of invalid requests is limited too.
    if let Err(limited) = state.rate_limiter.check_in(&mut conn, &limit.key, limit.limit).await? {
        record_rejection(state, &mut conn, limit.reason, &sub, None).await?;
        return Err(IntakeError::RateLimited { retry_after: limited.retry_after });
    }
    let draft = match parsed {
        Ok(draft) => draft,
        Err(refused) => {
            if refused.disposable_email {
                record_rejection(state, &mut conn, "disposable_email", &sub, None).await?;
            }
            return Err(IntakeError::Invalid(refused.errors));
        }
    };

    // The lead with what goes with it: the idempotency record, the verified hand-off.
    let prepared = prepare(state, &sub, &draft, now)?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    if let Some(i) = &idem {
        // Claimed in the transaction: a concurrent retry waits here for our commit, then replays.
        match idempotency::claim(&mut tx, &i.principal, &i.key, &i.request_hash, now, expired_before).await? {
            Claim::Replay(stored) => {
                tx.commit().await?;
                return Ok(Submitted::Replayed(stored));
            }
            Claim::Mismatch => return Err(IntakeError::KeyReused),
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
            on_verified(state, &mut tx, *lead_id, now).await?;
        }
        if let Some(i) = &idem {
            idempotency::store(&mut tx, &i.principal, &i.key, &respond(outcome)).await?;
        }
        tx.commit().await?;
    } else {
        // Over the phone limit: nothing of this request is kept but its rejection.
        tx.rollback().await?;
    }
    // Refusals are kept for staff, after the lead's own writes.
    if let Some((reason, existing)) = refused {
        record_rejection(state, &mut conn, reason, &sub, existing).await?;
    }
    if let Ok(Outcome::Created { .. }) = answer {
        state.queue.wake_workers();
    }
    answer.map(Submitted::Fresh)
}

/// A valid submission with nothing to write but the lead: written with whatever others are
/// being submitted at the same moment (`store::lead_writer`).
async fn submit_grouped(
    state: &AppState,
    sub: &Submission,
    draft: &LeadDraft,
    limit: &AddressLimit,
    now: OffsetDateTime,
) -> Result<Outcome, IntakeError> {
    let counted = if state.rate_limiter.counts_in_postgres() {
        let window = Window::of(limit.limit, now);
        Some(Counted {
            key: limit.key.clone(),
            window: window.start_time(),
            max: i32::try_from(limit.limit.max).unwrap_or(i32::MAX),
        })
    } else {
        if let Err(limited) = state.rate_limiter.check(&limit.key, limit.limit).await? {
            reject(state, limit.reason, sub, None).await?;
            return Err(IntakeError::RateLimited { retry_after: limited.retry_after });
        }
        None
    };
    let Prepared { intake, created, phone_window } = prepare(state, sub, draft, now)?;
    let written = state.lead_writer.write(intake, counted).await.map_err(anyhow::Error::from)?;
    let (answer, refused) = answer(written, created, phone_window, limit, now);
    if let Some((reason, existing)) = refused {
        reject(state, reason, sub, existing).await?;
    }
    if let Ok(Outcome::Created { .. }) = answer {
        state.queue.wake_workers();
    }
    answer
}

/// The draft, with the checks against the reference data: the ZIP and the job must exist, and
/// an e-mail address must not be a throwaway one.
async fn parse(state: &AppState, sub: &Submission) -> Result<Result<LeadDraft, Refused>, IntakeError> {
    let draft = match LeadDraft::parse(&sub.input) {
        Ok(d) => d,
        Err(errors) => return Ok(Err(Refused { errors, disposable_email: false })),
    };
    let mut errors = Vec::new();
    match state.zip(&draft.zip).await? {
        Some(z) if z.active => {}
        _ => errors.push(FieldError {
            field: "zip",
            message: format!("We couldn't find ZIP {} — check the 5 digits?", draft.zip),
        }),
    }
    let categories = state.categories().await?;
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
fn prepare(
    state: &AppState,
    sub: &Submission,
    draft: &LeadDraft,
    now: OffsetDateTime,
) -> Result<Prepared, IntakeError> {
    let intake = &state.settings.intake;
    let lead_id = Uuid::now_v7();
    let verified = !intake.verification_required;
    let phone = draft.phone.as_e164();
    let lead = NewLead {
        id: lead_id,
        status: if verified { "verified" } else { "pending_verification" },
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
    let code = (!verified).then(new_code);
    let sms =
        code.as_ref().map(|c| state.queue.row(&code_sms(state, phone, c))).transpose().map_err(anyhow::Error::from)?;
    let with = WithLead {
        code: code.as_ref().map(|c| (state.signer.code_hash(&lead_id.to_string(), c), expires)),
        events: if verified { &["received"] } else { &["received", "code_sent"] },
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
) -> (Result<Outcome, IntakeError>, Refusal) {
    match written {
        Written::Created => (Ok(created), None),
        Written::Duplicate { existing } => (Ok(Outcome::Duplicate { existing }), Some(("duplicate", Some(existing)))),
        Written::PhoneLimited => (
            Err(IntakeError::RateLimited { retry_after: phone_window.remaining() }),
            Some(("rate_limited_phone", None)),
        ),
        Written::Limited => (
            Err(IntakeError::RateLimited { retry_after: Window::of(limit.limit, now).remaining() }),
            Some((limit.reason, None)),
        ),
    }
}

fn ttl(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// Six digits from the OS's CSPRNG.
fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// The text that carries a verification code.
fn code_sms(state: &AppState, phone: &str, code: &str) -> SendSms {
    let minutes = state.settings.intake.code_ttl.as_secs() / 60;
    let body = format!(
        "PlumberLeads: your code is {code}. It works for {minutes} minutes. Didn't ask for a plumber? Ignore this text."
    );
    SendSms { to: phone.to_owned(), body }
}

/// The hand-off: a `verified` event on the lead's timeline (distribution starts from it) and
/// the homeowner's confirmation with their status link.
async fn on_verified(
    state: &AppState,
    tx: &mut PgConnection,
    lead_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), IntakeError> {
    store::leads::record_event(tx, lead_id, "verified", now).await?;
    let lead = store::leads::get(tx, lead_id).await?.ok_or_else(|| anyhow::anyhow!("lead {lead_id} vanished"))?;
    let link = status_url(state, lead_id, now);
    let first_name = lead.name.split_whitespace().next().unwrap_or("there");
    let sms = format!(
        "PlumberLeads: thanks, {first_name}! Your {} request is confirmed. Local plumbers will call you soon. See who: {link}",
        lead.category_name.to_lowercase()
    );
    state.queue.enqueue(tx, &SendSms { to: lead.phone.clone(), body: sms }).await?;
    if let Some(email) = &lead.email {
        let text = format!(
            "Hi {first_name},\n\nYour request ({}, {} {}) is confirmed. Up to 3 local plumbers will get it and call you soon.\n\nSee which plumbers took it: {link}\n\nPlumberLeads",
            lead.category_name, lead.city, lead.zip
        );
        let mail = SendEmail {
            to: email.clone(),
            subject: "Your plumbing request is confirmed".into(),
            text_body: text,
            html_body: None,
        };
        state.queue.enqueue(tx, &mail).await?;
    }
    Ok(())
}

/// The signed, expiring link to a lead's status page.
pub fn status_url(state: &AppState, lead_id: Uuid, now: OffsetDateTime) -> String {
    let token = state.signer.sign("status", &lead_id.to_string(), now + ttl(state.settings.intake.status_link_ttl));
    let base = state.settings.http.public_url.as_str().trim_end_matches('/');
    format!("{base}/r/{token}")
}

async fn reject(state: &AppState, reason: &str, sub: &Submission, existing: Option<Uuid>) -> Result<(), IntakeError> {
    let mut conn = state.pool.acquire().await?;
    record_rejection(state, &mut conn, reason, sub, existing).await
}

async fn record_rejection(
    state: &AppState,
    conn: &mut PgConnection,
    reason: &str,
    sub: &Submission,
    existing: Option<Uuid>,
) -> Result<(), IntakeError> {
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
            created_at: state.clock.now(),
        },
    )
    .await?;
    metrics::counter!("leads_rejected_total", "reason" => reason.to_owned()).increment(1);
    Ok(())
}

/// Records a rejection that happened before a submission was parsed (honeypot, too fast).
pub async fn reject_unparsed(state: &AppState, reason: &str, sub: &Submission) -> Result<(), IntakeError> {
    reject(state, reason, sub, None).await
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("no such request")]
    NotFound,
    #[error("That code didn't match. You have {remaining} more tries.")]
    Wrong { remaining: i32 },
    #[error("That code has expired. We can text you a new one.")]
    Expired,
    #[error("Too many wrong codes. We can text you a new one.")]
    TooManyAttempts,
    #[error("Please wait a moment before asking for another code.")]
    TooSoon { retry_after: Duration },
    #[error("We've sent as many codes as we can for this request. Please start a new request later.")]
    TooManySends,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Now,
    Already,
}

/// Checks a code. Counts every attempt, refuses after the limit or expiry, and on success moves
/// the lead to `verified` with its hand-off, all in one transaction.
pub async fn verify(state: &AppState, lead_id: Uuid, code: &str) -> Result<Result<Verified, CodeError>, IntakeError> {
    let now = state.clock.now();
    let max = state.settings.intake.code_max_attempts;
    let mut tx = state.pool.begin().await?;
    let Some(v) = store::leads::verification_for_update(&mut tx, lead_id).await? else {
        return Ok(Err(CodeError::NotFound));
    };
    if v.verified_at.is_some() {
        return Ok(Ok(Verified::Already));
    }
    if v.attempts >= max {
        return Ok(Err(CodeError::TooManyAttempts));
    }
    if now >= v.expires_at {
        return Ok(Err(CodeError::Expired));
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if !state.signer.code_matches(&lead_id.to_string(), &code, &v.code_hash) {
        store::leads::count_failed_attempt(&mut tx, lead_id).await?;
        tx.commit().await?;
        let remaining = max - v.attempts - 1;
        return Ok(Err(if remaining > 0 { CodeError::Wrong { remaining } } else { CodeError::TooManyAttempts }));
    }
    store::leads::mark_code_used(&mut tx, lead_id, now).await?;
    if store::leads::mark_verified(&mut tx, lead_id, now).await? {
        on_verified(state, &mut tx, lead_id, now).await?;
        let source = store::leads::get(&mut tx, lead_id).await?.map(|l| l.source).unwrap_or_default();
        metrics::counter!("leads_verified_total", "source" => source).increment(1);
    }
    tx.commit().await?;
    state.queue.wake_workers();
    Ok(Ok(Verified::Now))
}

/// Sends a fresh code (the old one stops working), within the resend limits.
pub async fn resend(state: &AppState, lead_id: Uuid) -> Result<Result<OffsetDateTime, CodeError>, IntakeError> {
    let now = state.clock.now();
    let intake = &state.settings.intake;
    let mut tx = state.pool.begin().await?;
    let Some(v) = store::leads::verification_for_update(&mut tx, lead_id).await? else {
        return Ok(Err(CodeError::NotFound));
    };
    if v.verified_at.is_some() {
        return Ok(Err(CodeError::NotFound));
    }
    if v.sends >= intake.code_max_sends {
        return Ok(Err(CodeError::TooManySends));
    }
    let next = v.last_sent_at + ttl(intake.code_resend_interval);
    if now < next {
        let wait = (next - now).try_into().unwrap_or(Duration::from_secs(1));
        return Ok(Err(CodeError::TooSoon { retry_after: wait }));
    }
    let lead = store::leads::get(&mut tx, lead_id).await?.ok_or_else(|| anyhow::anyhow!("lead {lead_id} vanished"))?;
    let code = new_code();
    let expires = now + ttl(intake.code_ttl);
    store::leads::replace_code(&mut tx, lead_id, &state.signer.code_hash(&lead_id.to_string(), &code), expires, now)
        .await?;
    state.queue.enqueue(&mut tx, &code_sms(state, &lead.phone, &code)).await?;
    store::leads::record_event(&mut tx, lead_id, "code_sent", now).await?;
    tx.commit().await?;
    state.queue.wake_workers();
    Ok(Ok(expires))
}
