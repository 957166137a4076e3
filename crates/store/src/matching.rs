//! What matching asks the database for one lead: who was already offered it and who bought from
//! its phone lately. Which pros cover its ZIP, and their facts, come from the instance's roster
//! (`store::roster`, `services::market::roster`); the ZIP step's own counts are here too.

use sqlx::PgConnection;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

/// Who a look must leave out for reasons only the database knows: the pros already offered this
/// lead, and those who bought from its phone in the last 30 days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Already {
    pub offered: Vec<Uuid>,
    pub bought_from_phone: Vec<Uuid>,
}

pub async fn already(
    conn: &mut PgConnection,
    lead_id: Uuid,
    phone: &str,
    now: OffsetDateTime,
) -> Result<Already, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT ARRAY(SELECT o.pro_id FROM offers o WHERE o.lead_id = $1) AS "offered!",
                  ARRAY(SELECT pu.pro_id FROM leads l JOIN purchases pu ON pu.lead_id = l.id
                        WHERE l.phone = $2 AND pu.purchased_at > $3::timestamptz - interval '30 days')
                      AS "bought!""#,
        lead_id,
        phone,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok(Already { offered: row.offered, bought_from_phone: row.bought })
}

/// The wall-clock time at `now` in each of these time zones (PostgreSQL's zone data, as the
/// purchase figures on `pros` use).
pub async fn local_times(
    conn: &mut PgConnection,
    zones: &[String],
    now: OffsetDateTime,
) -> Result<Vec<(String, PrimitiveDateTime)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT z AS "zone!", $2::timestamptz AT TIME ZONE z AS "local!" FROM unnest($1::text[]) AS z"#,
        zones,
        now
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.zone, r.local)).collect())
}

/// Where the chosen pros are told of their offers (read for the few chosen, not every candidate).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub pro_id: Uuid,
    pub email: String,
    pub phone: Option<String>,
}

pub async fn contacts(conn: &mut PgConnection, pro_ids: &[Uuid]) -> Result<Vec<Contact>, sqlx::Error> {
    sqlx::query_as!(Contact, "SELECT id AS pro_id, email, phone FROM identity.users WHERE id = ANY($1)", pro_ids)
        .fetch_all(conn)
        .await
}

/// Whether any working pro (active, not paused) takes `category` jobs in `zip`: stops at the
/// first, where `taking` reads every covering pro (~1,300 in a metro; at 100 verifications a
/// second, counting them was most of PostgreSQL's time in `bench/market`).
pub async fn anyone_taking(conn: &mut PgConnection, zip: &str, category: &str) -> Result<bool, sqlx::Error> {
    let any = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pro_service_zips sz JOIN pros p ON p.user_id = sz.pro_id
           WHERE sz.zip = $1 AND p.status = 'active' AND NOT p.paused AND $2 = ANY (p.categories)) AS "any!""#,
        zip,
        category
    )
    .fetch_one(conn)
    .await?;
    Ok(any)
}

/// How many working pros (active, not paused) take `category` jobs in `zip`: what a homeowner
/// is told at the ZIP step, before any lead exists.
pub async fn taking(conn: &mut PgConnection, zip: &str, category: &str) -> Result<i64, sqlx::Error> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM pro_service_zips sz JOIN pros p ON p.user_id = sz.pro_id
           WHERE sz.zip = $1 AND p.status = 'active' AND NOT p.paused AND $2 = ANY (p.categories)"#,
        zip,
        category
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}
