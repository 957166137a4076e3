//! Leads bought by pros. `purchases_once_per_offer` and `purchases_once_per_pro` make a second
//! purchase of the same lead impossible; the trigger behind it counts the lead's buyers against
//! `leads_buyers_within_max`.

use domain::market::PurchaseStatus;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub lead_id: Uuid,
    pub pro_id: Uuid,
    pub status: PurchaseStatus,
    pub price_cents: i64,
    pub purchased_at: OffsetDateTime,
    pub quote_cents: Option<i64>,
    pub job_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub category: String,
    pub urgency: String,
    pub zip: String,
    pub description: String,
    pub dispute_id: Option<Uuid>,
    pub dispute_status: Option<String>,
    pub dispute_credit_cents: Option<i64>,
    pub dispute_decided_at: Option<OffsetDateTime>,
}

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    offer_id: Uuid,
    lead_id: Uuid,
    pro_id: Uuid,
    price_cents: i64,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO purchases (id, offer_id, lead_id, pro_id, price_cents, purchased_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        id,
        offer_id,
        lead_id,
        pro_id,
        price_cents,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_offer(conn: &mut PgConnection, offer_id: Uuid) -> Result<Option<Purchase>, sqlx::Error> {
    sqlx::query_as!(
        Purchase,
        r#"SELECT p.id, p.offer_id, p.lead_id, p.pro_id, p.status AS "status!: PurchaseStatus", p.price_cents, p.purchased_at,
                  p.quote_cents, p.job_value_cents, p.lost_reason,
                  l.name, l.phone, l.email, l.category, l.urgency, l.zip, l.description,
                  d.id AS "dispute_id?", d.status::text AS "dispute_status?", d.credit_cents AS "dispute_credit_cents?",
                  d.decided_at AS "dispute_decided_at?"
           FROM purchases p JOIN leads l ON l.id = p.lead_id LEFT JOIN disputes d ON d.purchase_id = p.id
           WHERE p.offer_id = $1"#,
        offer_id
    )
    .fetch_optional(conn)
    .await
}

/// A pro's purchases, newest first; `before`: the last id of the previous page.
pub async fn list_for_pro(
    conn: &mut PgConnection,
    pro_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Purchase>, sqlx::Error> {
    sqlx::query_as!(
        Purchase,
        r#"SELECT p.id, p.offer_id, p.lead_id, p.pro_id, p.status AS "status!: PurchaseStatus", p.price_cents, p.purchased_at,
                  p.quote_cents, p.job_value_cents, p.lost_reason,
                  l.name, l.phone, l.email, l.category, l.urgency, l.zip, l.description,
                  d.id AS "dispute_id?", d.status::text AS "dispute_status?", d.credit_cents AS "dispute_credit_cents?",
                  d.decided_at AS "dispute_decided_at?"
           FROM purchases p JOIN leads l ON l.id = p.lead_id LEFT JOIN disputes d ON d.purchase_id = p.id
           WHERE p.pro_id = $1 AND ($2::uuid IS NULL OR p.id < $2)
           ORDER BY p.id DESC
           LIMIT $3"#,
        pro_id,
        before,
        limit
    )
    .fetch_all(conn)
    .await
}

/// One of a pro's purchases, its row locked for an update.
pub async fn lock_for_pro(
    conn: &mut PgConnection,
    id: Uuid,
    pro_id: Uuid,
) -> Result<Option<PurchaseStatus>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT status AS "status!: PurchaseStatus" FROM purchases WHERE id = $1 AND pro_id = $2 FOR NO KEY UPDATE"#,
        id,
        pro_id
    )
    .fetch_optional(conn)
    .await
}

/// What the pro reports about a bought lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: PurchaseStatus,
    pub quote_cents: Option<i64>,
    pub job_value_cents: Option<i64>,
    pub lost_reason: Option<String>,
}

/// Records an outcome; figures not given keep their earlier values.
pub async fn record_outcome(
    conn: &mut PgConnection,
    id: Uuid,
    o: &Outcome,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE purchases SET status = $2, quote_cents = coalesce($3, quote_cents), job_value_cents = coalesce($4, job_value_cents),
                lost_reason = coalesce($5, lost_reason), updated_at = $6
         WHERE id = $1",
        id,
        o.status as PurchaseStatus,
        o.quote_cents,
        o.job_value_cents,
        o.lost_reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_for_pro(conn: &mut PgConnection, id: Uuid, pro_id: Uuid) -> Result<Option<Purchase>, sqlx::Error> {
    sqlx::query_as!(
        Purchase,
        r#"SELECT p.id, p.offer_id, p.lead_id, p.pro_id, p.status AS "status!: PurchaseStatus", p.price_cents, p.purchased_at,
                  p.quote_cents, p.job_value_cents, p.lost_reason,
                  l.name, l.phone, l.email, l.category, l.urgency, l.zip, l.description,
                  d.id AS "dispute_id?", d.status::text AS "dispute_status?", d.credit_cents AS "dispute_credit_cents?",
                  d.decided_at AS "dispute_decided_at?"
           FROM purchases p JOIN leads l ON l.id = p.lead_id LEFT JOIN disputes d ON d.purchase_id = p.id
           WHERE p.id = $1 AND p.pro_id = $2"#,
        id,
        pro_id
    )
    .fetch_optional(conn)
    .await
}

/// The plumbers who bought a lead, first buyer first: what its homeowner is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub business_name: String,
    pub phone: Option<String>,
}

pub async fn buyers_of(conn: &mut PgConnection, lead_id: Uuid) -> Result<Vec<Buyer>, sqlx::Error> {
    sqlx::query_as!(
        Buyer,
        "SELECT pr.business_name, u.phone FROM purchases p JOIN pros pr ON pr.user_id = p.pro_id
         JOIN identity.users u ON u.id = p.pro_id
         WHERE p.lead_id = $1 ORDER BY p.purchased_at, p.id",
        lead_id
    )
    .fetch_all(conn)
    .await
}
