//! Wallet money going back to the cards that paid it, one refund per top-up it comes from. The
//! schema's `card_refunds_within_top_up` keeps a card from getting back more than it paid.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A paid top-up and how much of it can still go back to its card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refundable {
    pub top_up_id: Uuid,
    pub left_cents: i64,
}

/// The pro's paid top-ups with something left to refund, newest first (the card most likely
/// still valid gets its money back first).
pub async fn refundable(conn: &mut PgConnection, pro_id: Uuid) -> Result<Vec<Refundable>, sqlx::Error> {
    sqlx::query_as!(
        Refundable,
        r#"SELECT t.id AS top_up_id, (t.amount_cents - coalesce(sum(r.amount_cents), 0))::bigint AS "left_cents!"
           FROM wallet_top_ups t LEFT JOIN card_refunds r ON r.top_up_id = t.id
           WHERE t.pro_id = $1 AND t.status = 'succeeded'
           GROUP BY t.id
           HAVING t.amount_cents > coalesce(sum(r.amount_cents), 0)
           ORDER BY t.completed_at DESC, t.id DESC"#,
        pro_id
    )
    .fetch_all(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    pro_id: Uuid,
    top_up_id: Uuid,
    amount_cents: i64,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO card_refunds (id, pro_id, top_up_id, amount_cents, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        pro_id,
        top_up_id,
        amount_cents,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A refund still to be sent: the provider's checkout it goes back through, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToSend {
    pub checkout_id: Option<String>,
    pub amount_cents: i64,
}

pub async fn pending(conn: &mut PgConnection, id: Uuid) -> Result<Option<ToSend>, sqlx::Error> {
    sqlx::query_as!(
        ToSend,
        "SELECT t.checkout_id, r.amount_cents FROM card_refunds r JOIN wallet_top_ups t ON t.id = r.top_up_id
         WHERE r.id = $1 AND r.status = 'pending'",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn succeed(
    conn: &mut PgConnection,
    id: Uuid,
    provider_refund_id: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE card_refunds SET status = 'succeeded', provider_refund_id = $2, completed_at = $3
         WHERE id = $1 AND status = 'pending'",
        id,
        provider_refund_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
