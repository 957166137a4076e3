//! What the dev e-mail and SMS providers "sent": kept so staff and tests can read it.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmail {
    pub id: Uuid,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    /// The address a real provider would send as `List-Unsubscribe`.
    pub list_unsubscribe: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredSms {
    pub id: Uuid,
    pub to: String,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// Newest first; `to` narrows to one recipient.
pub async fn recent_emails(
    conn: &mut PgConnection,
    to: Option<&str>,
    limit: i64,
) -> Result<Vec<StoredEmail>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, to_address, from_address, subject, text_body, html_body, list_unsubscribe, created_at FROM dev_mailbox
         WHERE $1::text IS NULL OR to_address = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        to,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredEmail {
            id: r.id,
            to: r.to_address,
            from: r.from_address,
            subject: r.subject,
            text_body: r.text_body,
            html_body: r.html_body,
            list_unsubscribe: r.list_unsubscribe,
            created_at: r.created_at,
        })
        .collect())
}

/// Keeps texts, a whole batch in one statement (one commit).
pub async fn insert_sms(conn: &mut PgConnection, all: &[StoredSms]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = all.iter().map(|m| m.id).collect();
    let to: Vec<String> = all.iter().map(|m| m.to.clone()).collect();
    let body: Vec<String> = all.iter().map(|m| m.body.clone()).collect();
    let at: Vec<OffsetDateTime> = all.iter().map(|m| m.created_at).collect();
    sqlx::query!(
        "INSERT INTO dev_sms_outbox (id, to_number, body, created_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[])",
        &ids,
        &to,
        &body,
        &at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps e-mails, a whole batch in one statement (one commit).
pub async fn insert_emails(conn: &mut PgConnection, all: &[StoredEmail]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = all.iter().map(|m| m.id).collect();
    let to: Vec<String> = all.iter().map(|m| m.to.clone()).collect();
    let from: Vec<String> = all.iter().map(|m| m.from.clone()).collect();
    let subject: Vec<String> = all.iter().map(|m| m.subject.clone()).collect();
    let text: Vec<String> = all.iter().map(|m| m.text_body.clone()).collect();
    let html: Vec<Option<String>> = all.iter().map(|m| m.html_body.clone()).collect();
    let unsubscribe: Vec<Option<String>> = all.iter().map(|m| m.list_unsubscribe.clone()).collect();
    let at: Vec<OffsetDateTime> = all.iter().map(|m| m.created_at).collect();
    sqlx::query!(
        "INSERT INTO dev_mailbox (id, to_address, from_address, subject, text_body, html_body, list_unsubscribe, created_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::timestamptz[])",
        &ids,
        &to,
        &from,
        &subject,
        &text,
        &html as &[Option<String>],
        &unsubscribe as &[Option<String>],
        &at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Newest first; `to` narrows to one number.
pub async fn recent_sms(conn: &mut PgConnection, to: Option<&str>, limit: i64) -> Result<Vec<StoredSms>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, to_number, body, created_at FROM dev_sms_outbox
         WHERE $1::text IS NULL OR to_number = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        to,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredSms { id: r.id, to: r.to_number, body: r.body, created_at: r.created_at })
        .collect())
}
