//! The sandbox payment provider's checkout sessions.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct SandboxCheckout {
    pub id: Uuid,
    pub reference: String,
    pub amount_cents: i64,
    pub state: String,
}

pub async fn create(
    conn: &mut PgConnection,
    id: Uuid,
    reference: &str,
    amount_cents: i64,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sandbox_checkouts (id, reference, amount_cents, created_at) VALUES ($1, $2, $3, $4)",
        id,
        reference,
        amount_cents,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks an open checkout complete; `None` when it does not exist or was already completed, so a
/// replayed completion is never applied twice.
pub async fn complete(
    conn: &mut PgConnection,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<SandboxCheckout>, sqlx::Error> {
    let row = sqlx::query!(
        r#"UPDATE sandbox_checkouts SET state = 'complete', completed_at = $2
           WHERE id = $1 AND state = 'open'
           RETURNING id, reference, amount_cents, state::text AS "state!""#,
        id,
        now
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| SandboxCheckout { id: r.id, reference: r.reference, amount_cents: r.amount_cents, state: r.state }))
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<SandboxCheckout>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, reference, amount_cents, state::text AS "state!" FROM sandbox_checkouts WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| SandboxCheckout { id: r.id, reference: r.reference, amount_cents: r.amount_cents, state: r.state }))
}

/// What a sandbox refund came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refunded {
    Done(Uuid),
    /// The same reference was refunded before: that refund, nothing new.
    Earlier(Uuid),
    NotPaid,
    /// More than the checkout took, less what was refunded of it already.
    TooMuch,
}

/// Records a refund of a completed checkout, as Stripe would: once per reference, never more in
/// all than was paid (the checkout's row is locked while that is checked).
pub async fn refund(
    conn: &mut PgConnection,
    id: Uuid,
    checkout_id: Uuid,
    amount_cents: i64,
    reference: &str,
    now: OffsetDateTime,
) -> Result<Refunded, sqlx::Error> {
    let paid = sqlx::query_scalar!(
        "SELECT amount_cents FROM sandbox_checkouts WHERE id = $1 AND state = 'complete' FOR UPDATE",
        checkout_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(paid) = paid else { return Ok(Refunded::NotPaid) };
    if let Some(earlier) = sqlx::query_scalar!("SELECT id FROM sandbox_refunds WHERE reference = $1", reference)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(Refunded::Earlier(earlier));
    }
    let given = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(amount_cents), 0)::bigint AS "given!" FROM sandbox_refunds WHERE checkout_id = $1"#,
        checkout_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if given + amount_cents > paid {
        return Ok(Refunded::TooMuch);
    }
    sqlx::query!(
        "INSERT INTO sandbox_refunds (id, checkout_id, amount_cents, reference, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        checkout_id,
        amount_cents,
        reference,
        now
    )
    .execute(conn)
    .await?;
    Ok(Refunded::Done(id))
}

/// What the sandbox refunded of a checkout, in all.
pub async fn refunded(conn: &mut PgConnection, checkout_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(amount_cents), 0)::bigint AS "given!" FROM sandbox_refunds WHERE checkout_id = $1"#,
        checkout_id
    )
    .fetch_one(conn)
    .await
}
