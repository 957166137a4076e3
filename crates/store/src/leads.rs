//! Leads and their phone verification.

use domain::lead::{LeadEvent, LeadStatus};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A lead as it is first written.
#[derive(Debug, Clone)]
pub struct NewLead {
    pub id: Uuid,
    pub status: LeadStatus,
    pub category: String,
    pub urgency: &'static str,
    pub zip: String,
    pub description: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub contact_preference: &'static str,
    pub consent_version: &'static str,
    pub source: &'static str,
    pub partner_id: Option<Uuid>,
    pub utm: serde_json::Value,
    pub referrer: Option<String>,
    pub now: OffsetDateTime,
}

/// A job row written with a lead (the queue makes it; the store only writes it).
#[derive(Debug, Clone)]
pub struct Outbound {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    pub max_attempts: i32,
}

/// A fixed-window limit counted with the write: the counter, the window's start, the most
/// allowed in it.
#[derive(Debug, Clone)]
pub struct Counted {
    pub key: String,
    pub window: OffsetDateTime,
    pub max: i32,
}

/// What decides whether a submission becomes a lead, as the application worked it out.
#[derive(Debug, Clone)]
pub struct Checks {
    /// A live lead for the same phone and job created since then makes this a duplicate.
    pub duplicate_since: OffsetDateTime,
    /// The per-phone limit, counted only for a would-be new lead.
    pub phone: Counted,
}

/// What is written together with a new lead.
#[derive(Debug, Clone)]
pub struct WithLead {
    /// The verification code's hash and expiry.
    pub code: Option<(Vec<u8>, OffsetDateTime)>,
    /// Timeline events, in order.
    pub events: &'static [LeadEvent],
    /// A message to send once the lead is committed.
    pub job: Option<Outbound>,
    /// The request form's view it came from: the funnel's `submitted` step (once per view).
    pub funnel: Option<Uuid>,
}

/// One submission's writes, as the application decided them.
#[derive(Debug, Clone)]
pub struct Intake {
    pub lead: NewLead,
    pub checks: Checks,
    pub with: WithLead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    /// Same phone and job recently: nothing written but a `duplicate_attempt` on that lead.
    Duplicate {
        existing: Uuid,
    },
    /// Over the address (or partner) limit (`lead_writer`): nothing written but the count.
    Limited,
    /// Over the per-phone limit: nothing written but the counts.
    PhoneLimited,
}

/// Writes each submission as a lead unless its phone is over its limit or it duplicates a live one, all in
/// one call (`intake_new_leads`: one round trip; atomic on its own or inside the caller's
/// transaction). The submissions must have distinct phones. Answers in the same order.
pub async fn write_new(conn: &mut PgConnection, batch: &[Intake]) -> Result<Vec<Written>, sqlx::Error> {
    fn col<'a, T>(batch: &'a [Intake], f: impl Fn(&'a Intake) -> T) -> Vec<T> {
        batch.iter().map(f).collect()
    }
    let rows = sqlx::query!(
        r#"SELECT n AS "n!", outcome AS "outcome!", lead_id FROM intake_new_leads(
               $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
               $21, $22, $23, $24, $25, $26, $27)"#,
        &col(batch, |i| i.lead.id),
        &col(batch, |i| i.lead.status.as_str()) as &[&str],
        &col(batch, |i| i.lead.category.as_str()) as &[&str],
        &col(batch, |i| i.lead.urgency) as &[&str],
        &col(batch, |i| i.lead.zip.as_str()) as &[&str],
        &col(batch, |i| i.lead.description.as_str()) as &[&str],
        &col(batch, |i| i.lead.name.as_str()) as &[&str],
        &col(batch, |i| i.lead.phone.as_str()) as &[&str],
        &col(batch, |i| i.lead.email.as_deref()) as &[Option<&str>],
        &col(batch, |i| i.lead.contact_preference) as &[&str],
        &col(batch, |i| i.lead.consent_version) as &[&str],
        &col(batch, |i| i.lead.source) as &[&str],
        &col(batch, |i| i.lead.partner_id) as &[Option<Uuid>],
        &col(batch, |i| i.lead.utm.clone()),
        &col(batch, |i| i.lead.referrer.as_deref()) as &[Option<&str>],
        &col(batch, |i| i.lead.now),
        &col(batch, |i| i.checks.duplicate_since),
        &col(batch, |i| i.checks.phone.key.as_str()) as &[&str],
        &col(batch, |i| i.checks.phone.window),
        &col(batch, |i| i.checks.phone.max),
        &col(batch, |i| i.with.code.as_ref().map(|(h, _)| h.as_slice())) as &[Option<&[u8]>],
        &col(batch, |i| i.with.code.as_ref().map(|(_, e)| *e)) as &[Option<OffsetDateTime>],
        &col(batch, |i| i.with.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")),
        &col(batch, |i| i.with.job.as_ref().map(|j| j.kind)) as &[Option<&str>],
        &col(batch, |i| i.with.job.as_ref().map(|j| j.payload.clone())) as &[Option<serde_json::Value>],
        &col(batch, |i| i.with.job.as_ref().map(|j| j.max_attempts)) as &[Option<i32>],
        &col(batch, |i| i.with.funnel) as &[Option<Uuid>],
    )
    .fetch_all(conn)
    .await?;
    let mut written = vec![None; batch.len()];
    for r in rows {
        if let Some(slot) = usize::try_from(r.n - 1).ok().and_then(|n| written.get_mut(n)) {
            *slot = match (r.outcome.as_str(), r.lead_id) {
                ("created", _) => Some(Written::Created),
                ("duplicate", Some(existing)) => Some(Written::Duplicate { existing }),
                ("phone_limited", _) => Some(Written::PhoneLimited),
                // Anything else leaves the slot empty: answered below as an error.
                _ => None,
            };
        }
    }
    written
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| sqlx::Error::Protocol("intake_new_leads left a submission unanswered or unclear".into()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub id: Uuid,
    pub status: LeadStatus,
    pub category: String,
    pub category_name: String,
    pub urgency: String,
    pub zip: String,
    pub city: String,
    pub state: String,
    pub description: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub contact_preference: String,
    pub source: String,
    pub partner_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub verified_at: Option<OffsetDateTime>,
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Lead>, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT l.id, l.status AS "status!: LeadStatus", l.category, c.name AS category_name, l.urgency, l.zip AS "zip!",
                  z.city, z.state AS "state!", l.description, l.name, l.phone, l.email,
                  l.contact_preference::text AS "contact_preference!", l.source::text AS "source!", l.partner_id,
                  l.created_at, l.verified_at
           FROM leads l JOIN categories c ON c.slug = l.category JOIN zip_codes z ON z.zip = l.zip
           WHERE l.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|r| Lead {
        id: r.id,
        status: r.status,
        category: r.category,
        category_name: r.category_name,
        urgency: r.urgency,
        zip: r.zip,
        city: r.city,
        state: r.state,
        description: r.description,
        name: r.name,
        phone: r.phone,
        email: r.email,
        contact_preference: r.contact_preference,
        source: r.source,
        partner_id: r.partner_id,
        created_at: r.created_at,
        verified_at: r.verified_at,
    }))
}

/// Moves a lead from `pending_verification` to `verified`; `false` if it was not pending.
pub async fn mark_verified(conn: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE leads SET status = 'verified', verified_at = $2, updated_at = $2 WHERE id = $1 AND status = 'pending_verification'",
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub code_hash: Vec<u8>,
    pub expires_at: OffsetDateTime,
    pub attempts: i32,
    pub sends: i32,
    pub last_sent_at: OffsetDateTime,
    pub verified_at: Option<OffsetDateTime>,
}

/// The verification row, locked until the transaction ends (attempts are counted exactly).
pub async fn verification_for_update(
    conn: &mut PgConnection,
    lead_id: Uuid,
) -> Result<Option<Verification>, sqlx::Error> {
    let r = sqlx::query!(
        "SELECT code_hash, expires_at, attempts, sends, last_sent_at, verified_at FROM lead_verifications WHERE lead_id = $1 FOR UPDATE",
        lead_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|r| Verification {
        code_hash: r.code_hash,
        expires_at: r.expires_at,
        attempts: r.attempts,
        sends: r.sends,
        last_sent_at: r.last_sent_at,
        verified_at: r.verified_at,
    }))
}

pub async fn count_failed_attempt(conn: &mut PgConnection, lead_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE lead_verifications SET attempts = attempts + 1 WHERE lead_id = $1", lead_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_code_used(conn: &mut PgConnection, lead_id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE lead_verifications SET verified_at = $2, attempts = attempts + 1 WHERE lead_id = $1",
        lead_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new code replaces the old one: fresh attempts, one more send.
pub async fn replace_code(
    conn: &mut PgConnection,
    lead_id: Uuid,
    code_hash: &[u8],
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE lead_verifications SET code_hash = $2, expires_at = $3, attempts = 0, sends = sends + 1, last_sent_at = $4 WHERE lead_id = $1",
        lead_id,
        code_hash,
        expires_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new phone number for a lead that is still waiting for its phone to be confirmed; false
/// when it is not (confirmed meanwhile, or no such lead).
pub async fn set_unconfirmed_phone(conn: &mut PgConnection, lead_id: Uuid, phone: &str) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query!("UPDATE leads SET phone = $2 WHERE id = $1 AND status = 'pending_verification'", lead_id, phone)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// The lead's timeline, oldest first: (event, when).
pub async fn timeline(conn: &mut PgConnection, lead_id: Uuid) -> Result<Vec<(String, OffsetDateTime)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT kind, occurred_at FROM lead_events WHERE lead_id = $1 ORDER BY id", lead_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.occurred_at)).collect())
}

/// Appends to the lead's timeline.
pub async fn record_event(
    conn: &mut PgConnection,
    lead_id: Uuid,
    kind: LeadEvent,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO lead_events (lead_id, kind, occurred_at) VALUES ($1, $2, $3)",
        lead_id,
        kind.as_str(),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The timeline's kinds in order, oldest first.
pub async fn events(conn: &mut PgConnection, lead_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT kind FROM lead_events WHERE lead_id = $1 ORDER BY id", lead_id).fetch_all(conn).await
}
