//! The request form's conversion funnel, in the `analytics` schema, with no personal data.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Records a step once per funnel (a re-shown form does not count twice).
pub async fn record(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    step: &str,
    source: &str,
    category: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO analytics.funnel_events (funnel_id, step, source, category, occurred_at)
         VALUES ($1, $2, ($3::text)::lead_source, $4, $5) ON CONFLICT (funnel_id, step) DO NOTHING",
        funnel_id,
        step,
        source,
        category,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many funnels reached each step since `since`.
pub async fn step_counts(conn: &mut PgConnection, since: OffsetDateTime) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT step, count(*) AS "n!" FROM analytics.funnel_events WHERE occurred_at >= $1 GROUP BY step ORDER BY step"#,
        since
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.step, r.n)).collect())
}
