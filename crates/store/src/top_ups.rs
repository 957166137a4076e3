//! Wallet top-ups through the payment provider's checkout. A top-up succeeds once: the provider's
//! completion (or a replay of it) moves `pending` to `succeeded` at most once.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct TopUp {
    pub id: Uuid,
    pub pro_id: Uuid,
    pub amount_cents: i64,
    pub status: String,
    pub checkout_url: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn create(
    conn: &mut PgConnection,
    id: Uuid,
    pro_id: Uuid,
    amount_cents: i64,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO wallet_top_ups (id, pro_id, amount_cents, created_at) VALUES ($1, $2, $3, $4)",
        id,
        pro_id,
        amount_cents,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_checkout(conn: &mut PgConnection, id: Uuid, checkout_id: &str, url: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE wallet_top_ups SET checkout_id = $2, checkout_url = $3 WHERE id = $1", id, checkout_id, url)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a pending top-up paid; `None` if unknown or already settled (a replayed event).
pub async fn succeed(conn: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<Option<TopUp>, sqlx::Error> {
    sqlx::query_as!(
        TopUp,
        r#"UPDATE wallet_top_ups SET status = 'succeeded', completed_at = $2 WHERE id = $1 AND status = 'pending'
           RETURNING id, pro_id, amount_cents, status::text AS "status!", checkout_url, created_at"#,
        id,
        now
    )
    .fetch_optional(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<TopUp>, sqlx::Error> {
    sqlx::query_as!(
        TopUp,
        r#"SELECT id, pro_id, amount_cents, status::text AS "status!", checkout_url, created_at FROM wallet_top_ups WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}
