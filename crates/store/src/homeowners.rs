//! A homeowner's personal data across their requests: found by phone for a copy (GDPR/CCPA
//! access) and blanked for erasure or at the end of retention (see the migration
//! `homeowner_privacy`).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// What a request's personal data is replaced with.
pub const REMOVED_NAME: &str = "Removed";
/// A number no US phone has (area code 000), so it never matches a real one.
pub const REMOVED_PHONE: &str = "+10000000000";

/// One request as its homeowner gets it in a copy of their data.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Request {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub category: String,
    pub urgency: String,
    pub zip: String,
    pub description: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub contact_preference: String,
    pub consent_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub consent_at: OffsetDateTime,
    pub status: String,
    pub source: String,
    pub referrer: Option<String>,
    pub utm: serde_json::Value,
}

/// The requests made from `phone` (E.164) that still hold personal data, oldest first.
pub async fn requests_of(conn: &mut PgConnection, phone: &str) -> Result<Vec<Request>, sqlx::Error> {
    sqlx::query_as!(
        Request,
        r#"SELECT id, created_at, category, urgency, zip AS "zip!", description, name, phone, email,
                  contact_preference::text AS "contact_preference!", consent_version, consent_at,
                  status::text AS "status!", source::text AS "source!", referrer, utm
           FROM leads WHERE phone = $1 AND anonymised_at IS NULL ORDER BY created_at, id"#,
        phone
    )
    .fetch_all(conn)
    .await
}

/// Requests made before `before` whose personal data is still there, oldest first, at most `limit`.
pub async fn due(conn: &mut PgConnection, before: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM leads WHERE anonymised_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2",
        before,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Blanks the personal data of `leads` and deletes what else holds it: notes, refused copies of
/// the same request, and the dev outboxes' messages to its phone or e-mail sent until
/// `messages_until` (a later request from the same phone keeps its own). Returns how many were
/// blanked.
pub async fn anonymise(
    conn: &mut PgConnection,
    leads: &[Uuid],
    messages_until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    if leads.is_empty() {
        return Ok(0);
    }
    let contacts = sqlx::query!(
        r#"SELECT array_agg(DISTINCT phone) AS "phones!", coalesce(array_agg(DISTINCT email) FILTER (WHERE email IS NOT NULL), '{}') AS "emails!"
           FROM leads WHERE id = ANY($1) AND anonymised_at IS NULL"#,
        leads
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM lead_notes WHERE lead_id = ANY($1)", leads).execute(&mut *conn).await?;
    sqlx::query!("DELETE FROM lead_rejections WHERE existing_lead_id = ANY($1)", leads).execute(&mut *conn).await?;
    sqlx::query!(
        "DELETE FROM dev_sms_outbox WHERE to_number = ANY($1) AND created_at <= $2",
        &contacts.phones,
        messages_until
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM dev_mailbox WHERE to_address = ANY($1) AND created_at <= $2",
        &contacts.emails,
        messages_until
    )
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query!(
        "UPDATE leads SET name = $2, phone = $3, email = NULL, description = '', referrer = NULL, utm = '{}',
                          anonymised_at = $4, updated_at = $4
         WHERE id = ANY($1) AND anonymised_at IS NULL",
        leads,
        REMOVED_NAME,
        REMOVED_PHONE,
        now
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Refused submissions (abuse records, which may hold what was typed) older than `before`.
pub async fn prune_rejections(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM lead_rejections WHERE created_at < $1", before).execute(conn).await?.rows_affected())
}
