//! Demand: how many verified requests came from a set of ZIPs, per category and urgency — what a
//! pro's settings would have matched.

use sqlx::PgConnection;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    pub category: String,
    pub urgency: String,
    pub leads: i64,
}

/// Verified requests made since `since` in `zips` for `categories`.
pub async fn verified_since(
    conn: &mut PgConnection,
    zips: &[String],
    categories: &[String],
    since: OffsetDateTime,
) -> Result<Vec<Demand>, sqlx::Error> {
    // `created_at` leads the range (the `leads_recent` index); verification follows within minutes.
    sqlx::query_as!(
        Demand,
        r#"SELECT category, urgency, count(*) AS "leads!"
           FROM leads
           WHERE created_at >= $3 AND verified_at IS NOT NULL
             AND zip = ANY($1::text[]) AND category = ANY($2::text[])
           GROUP BY category, urgency"#,
        zips,
        categories,
        since
    )
    .fetch_all(conn)
    .await
}
