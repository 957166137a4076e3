//! Disputes of bought leads. `disputes_once_per_purchase` makes a second dispute impossible.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    pub id: Uuid,
    pub purchase_id: Uuid,
    pub reason: String,
    pub status: String,
    pub credit_cents: Option<i64>,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
}

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    purchase_id: Uuid,
    reason: &str,
    note: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO disputes (id, purchase_id, reason, note, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        purchase_id,
        reason,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn credit(conn: &mut PgConnection, id: Uuid, cents: i64, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE disputes SET status = 'credited', credit_cents = $2, decided_at = $3 WHERE id = $1 AND status = 'open'",
        id,
        cents,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn of_purchase(conn: &mut PgConnection, purchase_id: Uuid) -> Result<Option<Dispute>, sqlx::Error> {
    sqlx::query_as!(
        Dispute,
        r#"SELECT id, purchase_id, reason, status::text AS "status!", credit_cents, created_at, decided_at
           FROM disputes WHERE purchase_id = $1"#,
        purchase_id
    )
    .fetch_optional(conn)
    .await
}

/// The evidence our own data holds for a dispute of `purchase_id`: whether the same phone sent
/// another verified request in the 7 days before this one (a duplicate), and whether the lead's
/// ZIP is outside the pro's area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    pub duplicate: bool,
    pub outside_area: bool,
}

pub async fn evidence(conn: &mut PgConnection, purchase_id: Uuid) -> Result<Evidence, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT
             EXISTS (SELECT 1 FROM leads l2
                     WHERE l2.phone = l.phone AND l2.id <> l.id AND l2.verified_at IS NOT NULL
                       AND l2.created_at >= l.created_at - interval '7 days' AND l2.created_at < l.created_at) AS "duplicate!",
             NOT EXISTS (SELECT 1 FROM pro_service_zips z WHERE z.pro_id = p.pro_id AND z.zip = l.zip) AS "outside_area!"
           FROM purchases p JOIN leads l ON l.id = p.lead_id WHERE p.id = $1"#,
        purchase_id
    )
    .fetch_one(conn)
    .await?;
    Ok(Evidence { duplicate: r.duplicate, outside_area: r.outside_area })
}

/// Moves a purchase to `disputed` or `credited` (the lifecycle's dispute branch).
pub async fn mark_purchase(
    conn: &mut PgConnection,
    purchase_id: Uuid,
    status: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE purchases SET status = $2::text::purchase_status, updated_at = $3 WHERE id = $1",
        purchase_id,
        status,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
