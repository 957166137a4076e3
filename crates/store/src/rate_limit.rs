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

/// Counts one event for each `(key, window start)`, in order, and returns each one's count so
/// far: one statement however many share a key.
pub async fn hit_each(conn: &mut PgConnection, hits: &[(&str, OffsetDateTime)]) -> Result<Vec<i32>, sqlx::Error> {
    let keys: Vec<&str> = hits.iter().map(|h| h.0).collect();
    let windows: Vec<OffsetDateTime> = hits.iter().map(|h| h.1).collect();
    sqlx::query_scalar!(
        r#"WITH input AS (
               SELECT * FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS i(key, window_start, n)
           ),
           hits AS (
               INSERT INTO rate_limit_counters AS c (key, window_start, count)
               SELECT key, window_start, count(*) FROM input GROUP BY 1, 2 ORDER BY 1, 2
               ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + excluded.count
               RETURNING c.key, c.window_start, c.count
           )
           SELECT (h.count - count(*) OVER w + row_number() OVER (w ORDER BY i.n))::integer AS "count!"
           FROM input i JOIN hits h USING (key, window_start)
           WINDOW w AS (PARTITION BY i.key, i.window_start)
           ORDER BY i.n"#,
        &keys as &[&str],
        &windows,
    )
    .fetch_all(conn)
    .await
}

/// Drops windows that ended before `before`.
pub async fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM rate_limit_counters WHERE window_start < $1", before)
        .execute(conn)
        .await?
        .rows_affected())
}
