//! Numbers that asked for no more texts (STOP), by E.164.

use sqlx::PgConnection;
use time::OffsetDateTime;

pub async fn opt_out(conn: &mut PgConnection, phone: &str, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sms_opt_outs (phone, opted_out_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
        phone,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// True when the number had opted out.
pub async fn opt_in(conn: &mut PgConnection, phone: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sms_opt_outs WHERE phone = $1", phone).execute(conn).await?.rows_affected() == 1)
}

/// Which of `phones` opted out: one look-up for a whole batch of texts.
pub async fn among(conn: &mut PgConnection, phones: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT phone FROM sms_opt_outs WHERE phone = ANY($1)", phones).fetch_all(conn).await
}
