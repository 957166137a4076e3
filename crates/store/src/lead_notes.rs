//! Notes on a request: what its homeowner wrote when they asked again (see the migration
//! `lead_notes`). Kept at once, added to the request only from its status page.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub lead_id: Uuid,
    pub body: String,
    pub written_at: OffsetDateTime,
    pub added_at: Option<OffsetDateTime>,
}

/// Keeps `body` as a note not yet added; the same words again are the same note. True when new.
pub async fn keep(
    conn: &mut PgConnection,
    lead_id: Uuid,
    body: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "INSERT INTO lead_notes (lead_id, body, written_at) VALUES ($1, $2, $3)
         ON CONFLICT (lead_id, md5(body)) DO NOTHING",
        lead_id,
        body,
        now
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Adds note `id` of `lead_id` to the request. True when it was waiting (not already added).
pub async fn add(conn: &mut PgConnection, lead_id: Uuid, id: i64, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        "UPDATE lead_notes SET added_at = $3 WHERE id = $2 AND lead_id = $1 AND added_at IS NULL",
        lead_id,
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every note of one request, oldest first.
pub async fn of(conn: &mut PgConnection, lead_id: Uuid) -> Result<Vec<Note>, sqlx::Error> {
    sqlx::query_as!(
        Note,
        "SELECT id, lead_id, body, written_at, added_at FROM lead_notes WHERE lead_id = $1 ORDER BY id",
        lead_id
    )
    .fetch_all(conn)
    .await
}

/// The added notes of several requests (a plumber's bought leads), oldest first.
pub async fn added_to(conn: &mut PgConnection, leads: &[Uuid]) -> Result<Vec<Note>, sqlx::Error> {
    sqlx::query_as!(
        Note,
        "SELECT id, lead_id, body, written_at, added_at FROM lead_notes
         WHERE lead_id = ANY($1) AND added_at IS NOT NULL ORDER BY added_at, id",
        leads
    )
    .fetch_all(conn)
    .await
}
