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

/// The evidence our own data holds for a dispute of `purchase_id` (the view `purchase_evidence`):
/// whether the same phone sent another verified request in the 7 days before this one (a
/// duplicate), and whether the lead's ZIP is outside the pro's area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    pub duplicate: bool,
    pub outside_area: bool,
}

pub async fn evidence(conn: &mut PgConnection, purchase_id: Uuid) -> Result<Evidence, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT duplicate AS "duplicate!", outside_area AS "outside_area!" FROM purchase_evidence WHERE purchase_id = $1"#,
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

/// A dispute waiting for staff, with what they need to decide it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDispute {
    pub id: Uuid,
    pub purchase_id: Uuid,
    pub pro_id: Uuid,
    pub business_name: String,
    pub pro_email: String,
    pub category: String,
    pub urgency: String,
    pub zip: String,
    pub description: String,
    pub price_cents: i64,
    pub purchased_at: OffsetDateTime,
    pub reason: String,
    pub note: String,
    pub created_at: OffsetDateTime,
    pub duplicate: bool,
    pub outside_area: bool,
}

/// Open disputes, oldest first (`disputes_open`), at most `limit`.
pub async fn open_ones(conn: &mut PgConnection, limit: i64) -> Result<Vec<OpenDispute>, sqlx::Error> {
    sqlx::query_as!(
        OpenDispute,
        r#"SELECT d.id, d.purchase_id, p.pro_id, pr.business_name, u.email AS pro_email,
                  l.category, l.urgency, l.zip, l.description, p.price_cents, p.purchased_at,
                  d.reason, d.note, d.created_at, e.duplicate AS "duplicate!", e.outside_area AS "outside_area!"
           FROM disputes d
           JOIN purchases p ON p.id = d.purchase_id
           JOIN purchase_evidence e ON e.purchase_id = p.id
           JOIN leads l ON l.id = p.lead_id
           JOIN pros pr ON pr.user_id = p.pro_id
           JOIN identity.users u ON u.id = p.pro_id
           WHERE d.status = 'open'
           ORDER BY d.created_at, d.id
           LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The dispute still open, locked for its decision: (purchase, pro, price paid). None once
/// decided (or never there).
pub async fn lock_open(conn: &mut PgConnection, id: Uuid) -> Result<Option<(Uuid, Uuid, i64)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT d.purchase_id, p.pro_id, p.price_cents
           FROM disputes d JOIN purchases p ON p.id = d.purchase_id
           WHERE d.id = $1 AND d.status = 'open'
           FOR NO KEY UPDATE OF d, p"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.purchase_id, r.pro_id, r.price_cents)))
}

/// Whether a dispute with this id exists at all (decided or not).
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM disputes WHERE id = $1) AS "e!""#, id).fetch_one(conn).await
}

/// Records staff's decision on an open dispute: `credited` with the amount, or `denied`.
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    credit_cents: Option<i64>,
    staff: Uuid,
    note: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE disputes
         SET status = CASE WHEN $2::bigint IS NULL THEN 'denied' ELSE 'credited' END::dispute_status,
             credit_cents = $2, decided_by = $3, decision_note = $4, decided_at = $5
         WHERE id = $1 AND status = 'open'",
        id,
        credit_cents,
        staff,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
