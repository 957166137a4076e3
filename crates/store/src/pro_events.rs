//! A pro's live feed, as rows: what changed for them (an offer made, taken by another buyer or
//! closed; the wallet moved), written in the transaction of the change.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct ProEvent {
    pub id: i64,
    pub kind: String,
    pub offer_id: Option<Uuid>,
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
}

/// One event of `kind` for each of `pros` (with its offer, when about one).
pub async fn record(
    conn: &mut PgConnection,
    pros: &[(Uuid, Option<Uuid>)],
    kind: &str,
    data: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    if pros.is_empty() {
        return Ok(());
    }
    let pro_ids: Vec<Uuid> = pros.iter().map(|p| p.0).collect();
    let offer_ids: Vec<Option<Uuid>> = pros.iter().map(|p| p.1).collect();
    sqlx::query!(
        "INSERT INTO pro_events (pro_id, offer_id, kind, data, created_at)
         SELECT p, o, $3, $4, $5 FROM unnest($1::uuid[], $2::uuid[]) AS t(p, o)",
        &pro_ids,
        &offer_ids as &[Option<Uuid>],
        kind,
        data,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The pro's events after `after` (oldest first), not older than `not_before`.
pub async fn since(
    conn: &mut PgConnection,
    pro_id: Uuid,
    after: i64,
    not_before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ProEvent>, sqlx::Error> {
    sqlx::query_as!(
        ProEvent,
        "SELECT id, kind, offer_id, data, created_at FROM pro_events
         WHERE pro_id = $1 AND id > $2 AND created_at >= $3 ORDER BY id LIMIT $4",
        pro_id,
        after,
        not_before,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The newest event id of the pro (0 with none): where a fresh stream starts.
pub async fn latest(conn: &mut PgConnection, pro_id: Uuid) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT max(id) FROM pro_events WHERE pro_id = $1", pro_id)
        .fetch_one(conn)
        .await?
        .unwrap_or(0))
}

pub async fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM pro_events WHERE created_at < $1", before).execute(conn).await?.rows_affected())
}
