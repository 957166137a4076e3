//! Partner sites that post leads with an API key.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

pub async fn create(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    key_prefix: &str,
    key_hash: &[u8],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO partners (id, name, key_prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        name,
        key_prefix,
        key_hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The active partner holding this key prefix, with the stored hash of its secret.
pub async fn find_active_by_prefix(
    conn: &mut PgConnection,
    key_prefix: &str,
) -> Result<Option<(Partner, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT id, name, key_prefix, key_hash, created_at, revoked_at FROM partners WHERE key_prefix = $1 AND revoked_at IS NULL",
        key_prefix
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        (
            Partner {
                id: r.id,
                name: r.name,
                key_prefix: r.key_prefix,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
            },
            r.key_hash,
        )
    }))
}

pub async fn revoke(conn: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("UPDATE partners SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<Partner>, sqlx::Error> {
    let rows =
        sqlx::query!("SELECT id, name, key_prefix, created_at, revoked_at FROM partners ORDER BY created_at DESC")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| Partner {
            id: r.id,
            name: r.name,
            key_prefix: r.key_prefix,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}
