//! Staff's second factor: the TOTP secret (pending while enrolling, then live), the last time
//! step a code was accepted for, and recovery codes (hashes only).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Mfa {
    pub secret: Option<Vec<u8>>,
    pub pending_secret: Option<Vec<u8>>,
    pub enabled_at: Option<OffsetDateTime>,
    pub last_step: i64,
}

pub async fn get(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Mfa>, sqlx::Error> {
    sqlx::query_as!(
        Mfa,
        r#"SELECT totp_secret AS secret, totp_pending_secret AS pending_secret, totp_enabled_at AS enabled_at,
                  totp_last_step AS last_step
           FROM identity.users WHERE id = $1"#,
        user_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_pending(conn: &mut PgConnection, user_id: Uuid, secret: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE identity.users SET totp_pending_secret = $2 WHERE id = $1", user_id, secret)
        .execute(conn)
        .await?;
    Ok(())
}

/// The pending secret becomes the live one.
pub async fn enable(conn: &mut PgConnection, user_id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_enabled_at = $2
         WHERE id = $1 AND totp_pending_secret IS NOT NULL",
        user_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that a code for `step` was used; false if that step (or a later one) already was,
/// so a code never works twice, even when two requests race.
pub async fn use_step(conn: &mut PgConnection, user_id: Uuid, step: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
        user_id,
        step
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the second factor entirely (an admin's reset); the next login enrols again.
pub async fn reset(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE identity.users SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled_at = NULL WHERE id = $1",
        user_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM identity.recovery_codes WHERE user_id = $1", user_id).execute(conn).await?;
    Ok(())
}

pub async fn replace_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
    hashes: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM identity.recovery_codes WHERE user_id = $1", user_id).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO identity.recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])",
        user_id,
        hashes
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends a recovery code; false if it is not one of theirs or was used.
pub async fn use_recovery_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &[u8],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        user_id,
        hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
