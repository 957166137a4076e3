//! The SMS code confirming a pro's mobile number: one live code per account, its keyed hash only.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct PhoneCode {
    pub user_id: Uuid,
    pub phone: String,
    pub code_hash: Vec<u8>,
    pub expires_at: OffsetDateTime,
    pub attempts: i32,
    pub sends: i32,
    pub last_sent_at: OffsetDateTime,
}

/// A new code replaces the old one; `sends` counts how many were sent for this number.
pub async fn put(
    conn: &mut PgConnection,
    user_id: Uuid,
    phone: &str,
    code_hash: &[u8],
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO identity.phone_codes (user_id, phone, code_hash, expires_at, last_sent_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE SET
           code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at, attempts = 0,
           sends = CASE WHEN identity.phone_codes.phone = EXCLUDED.phone THEN identity.phone_codes.sends + 1 ELSE 1 END,
           phone = EXCLUDED.phone, last_sent_at = EXCLUDED.last_sent_at",
        user_id,
        phone,
        code_hash,
        expires_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The live code, locked until the transaction ends so attempts are counted exactly.
pub async fn lock(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<PhoneCode>, sqlx::Error> {
    sqlx::query_as!(
        PhoneCode,
        "SELECT user_id, phone, code_hash, expires_at, attempts, sends, last_sent_at
         FROM identity.phone_codes WHERE user_id = $1 FOR UPDATE",
        user_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn count_attempt(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE identity.phone_codes SET attempts = attempts + 1 WHERE user_id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM identity.phone_codes WHERE user_id = $1", user_id).execute(conn).await?;
    Ok(())
}
