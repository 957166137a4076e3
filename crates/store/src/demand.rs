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

/// Requests no plumber took, by ZIP and job: where the marketplace needs plumbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub zip: String,
    pub city: String,
    pub state: String,
    pub category: String,
    pub category_name: String,
    pub leads: i64,
}

/// Confirmed requests made since `since` whose sale closed with no buyer (`unsold`: nobody
/// covered them, or nobody eligible took them), most first.
pub async fn unmet_since(
    conn: &mut PgConnection,
    since: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Unmet>, sqlx::Error> {
    sqlx::query_as!(
        Unmet,
        r#"SELECT l.zip AS "zip!", z.city, z.state AS "state!", l.category, c.name AS category_name, count(*) AS "leads!"
           FROM leads l JOIN zip_codes z ON z.zip = l.zip JOIN categories c ON c.slug = l.category
           WHERE l.created_at >= $1 AND l.status = 'unsold'
           GROUP BY l.zip, z.city, z.state, l.category, c.name
           ORDER BY count(*) DESC, l.zip, l.category
           LIMIT $2"#,
        since,
        limit
    )
    .fetch_all(conn)
    .await
}
