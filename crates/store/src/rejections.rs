//! Submissions the spam and abuse defences turned away, kept for staff with the reason.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Rejection {
    pub id: Uuid,
    pub reason: String,
    pub source: String,
    pub partner_id: Option<Uuid>,
    pub existing_lead_id: Option<Uuid>,
    pub submission: serde_json::Value,
    pub client_ip: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn record(conn: &mut PgConnection, r: &Rejection) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO lead_rejections (id, reason, source, partner_id, existing_lead_id, submission, client_ip, created_at)
         VALUES ($1, $2, ($3::text)::lead_source, $4, $5, $6, ($7::text)::inet, $8)",
        r.id,
        r.reason,
        r.source,
        r.partner_id,
        r.existing_lead_id,
        crate::json::storable(r.submission.clone()),
        r.client_ip,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn recent(conn: &mut PgConnection, limit: i64) -> Result<Vec<Rejection>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, reason, source::text AS "source!", partner_id, existing_lead_id, submission,
                  host(client_ip) AS client_ip, created_at
           FROM lead_rejections ORDER BY created_at DESC, id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Rejection {
            id: r.id,
            reason: r.reason,
            source: r.source,
            partner_id: r.partner_id,
            existing_lead_id: r.existing_lead_id,
            submission: r.submission,
            client_ip: r.client_ip,
            created_at: r.created_at,
        })
        .collect())
}
