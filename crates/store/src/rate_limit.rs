//! Fixed-window counters in PostgreSQL, for rate limits when Redis is not configured.

use sqlx::PgConnection;
use time::OffsetDateTime;

/// Counts one more event in `key`'s window and returns the count so far.
pub async fn hit(conn: &mut PgConnection, key: &str, window_start: OffsetDateTime) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO rate_limit_counters (key, window_start, count) VALUES ($1, $2, 1)
         ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + 1
         RETURNING count",
        key,
        window_start
    )
    .fetch_one(conn)
    .await
}

/// Drops windows that ended before `before`.
pub async fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM rate_limit_counters WHERE window_start < $1", before)
        .execute(conn)
        .await?
        .rows_affected())
}
