//! A lead's sale: its row locked while distribution or a claim changes it (the lead's row is
//! always locked first, then its offers', then the pro's, then the ledger's; always FOR NO KEY
//! UPDATE, which does not block the KEY SHARE locks that inserts referencing these rows take, so
//! two pros' claims writing to each other's feed cannot wait on each other), the sale's terms
//! fixed once, and the moves to `offered`, `sold` and `unsold`.

use domain::lead::{LeadEvent, LeadStatus};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct ForSale {
    pub id: Uuid,
    pub status: LeadStatus,
    pub category: String,
    pub urgency: String,
    pub zip: String,
    pub city: String,
    pub phone: String,
    pub lat: f64,
    pub lon: f64,
    pub exclusive: Option<bool>,
    pub max_buyers: Option<i32>,
    pub buyers: i32,
    pub window_closes_at: Option<OffsetDateTime>,
    pub next_look_at: Option<OffsetDateTime>,
    pub category_max_buyers: i32,
    pub category_base_cents: i64,
}

pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<ForSale>, sqlx::Error> {
    sqlx::query_as!(
        ForSale,
        r#"SELECT l.id, l.status AS "status!: LeadStatus", l.category, l.urgency, l.zip, z.city, l.phone, z.lat, z.lon,
                  l.exclusive, l.max_buyers, l.buyers, l.window_closes_at, l.next_look_at,
                  c.max_buyers AS category_max_buyers, c.base_price_cents AS category_base_cents
           FROM leads l JOIN zip_codes z ON z.zip = l.zip JOIN categories c ON c.slug = l.category
           WHERE l.id = $1
           FOR NO KEY UPDATE OF l"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Fixes the sale's terms and moves a verified lead to `offered`.
pub async fn start(
    conn: &mut PgConnection,
    id: Uuid,
    exclusive: bool,
    max_buyers: i32,
    window_closes_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE leads SET status = 'offered', exclusive = $2, max_buyers = $3, window_closes_at = $4, updated_at = $5
         WHERE id = $1 AND status = 'verified'",
        id,
        exclusive,
        max_buyers,
        window_closes_at,
        now
    )
    .execute(&mut *conn)
    .await?;
    crate::leads::record_event(conn, id, LeadEvent::Offered, now).await
}

/// Ends the sale: `sold` (with at least one buyer) or `unsold`.
pub async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    status: LeadStatus,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let event = if status == LeadStatus::Sold { LeadEvent::Sold } else { LeadEvent::Unsold };
    let done = sqlx::query!(
        "UPDATE leads SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'offered'",
        id,
        status as LeadStatus,
        now
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        crate::leads::record_event(conn, id, event, now).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Records when distribution will next look at the lead.
pub async fn set_next_look(conn: &mut PgConnection, id: Uuid, at: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE leads SET next_look_at = $2 WHERE id = $1", id, at).execute(conn).await?;
    Ok(())
}
