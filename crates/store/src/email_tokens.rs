//! One-time links sent by e-mail: verify the address, reset the password. Only a hash of the
//! token is kept; a token works once, before it expires.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

pub async fn insert(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    purpose: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO identity.email_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        token_hash,
        user_id,
        purpose,
        now,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends the token if it is unused and unexpired; returns whose it was.
pub async fn consume(
    conn: &mut PgConnection,
    token_hash: &[u8],
    purpose: &str,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE identity.email_tokens SET used_at = $3
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING user_id",
        token_hash,
        purpose,
        now
    )
    .fetch_optional(conn)
    .await
}

/// Spends every unused token of this purpose for the user (a newer one, or the deed, replaces them).
pub async fn spend_all(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE identity.email_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        user_id,
        purpose,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
