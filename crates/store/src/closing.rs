//! A pro's account closing: the pro's row, locked in the order claims lock it, and the marks
//! that keep a closed account out of sign-in and matching.

use domain::account::ProStatus;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The pro's status, with the row locked as a claim locks it (`profiles::lock_limits`), so a
/// claim and a closing of one pro happen one after the other.
pub async fn lock(conn: &mut PgConnection, pro_id: Uuid) -> Result<Option<ProStatus>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT status AS "status: ProStatus" FROM pros WHERE user_id = $1 FOR UPDATE"#, pro_id)
        .fetch_optional(conn)
        .await
}

pub async fn close(conn: &mut PgConnection, pro_id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE pros SET status = 'closed', updated_at = $2 WHERE user_id = $1", pro_id, now)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("UPDATE identity.users SET closed_at = $2, updated_at = $2 WHERE id = $1", pro_id, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn is_closed(conn: &mut PgConnection, pro_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT closed_at IS NOT NULL FROM identity.users WHERE id = $1", pro_id)
        .fetch_optional(conn)
        .await?
        .flatten()
        .unwrap_or(false))
}
