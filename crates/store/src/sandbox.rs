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
