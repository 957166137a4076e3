//! Why a pro was not offered a lead: the first rule that left them out, per lead and pro (the
//! latest look's record replaces the one before), kept as one row per lead and rule with the
//! pros it left out (migration `exclusions_by_rule`) and the lead's ZIP, by which a pro's missed
//! leads are found (migration `exclusions_by_zip`).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

pub async fn record(
    conn: &mut PgConnection,
    lead_id: Uuid,
    zip: &str,
    left_out: &[(Uuid, &str)],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    // The latest look replaces the lead's record; a first look, the usual case, has nothing to
    // remove.
    sqlx::query!("DELETE FROM match_exclusions WHERE lead_id = $1", lead_id).execute(&mut *conn).await?;
    if left_out.is_empty() {
        return Ok(());
    }
    let pros: Vec<Uuid> = left_out.iter().map(|l| l.0).collect();
    let rules: Vec<String> = left_out.iter().map(|l| l.1.to_owned()).collect();
    sqlx::query!(
        "INSERT INTO match_exclusions (lead_id, rule, pro_ids, at, zip)
         SELECT $1, r, array_agg(p), $4, $5 FROM unnest($2::uuid[], $3::text[]) AS t(p, r) GROUP BY r",
        lead_id,
        &pros,
        &rules,
        now,
        zip
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A lead a pro did not get, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Missed {
    pub lead_id: Uuid,
    pub rule: String,
    pub at: OffsetDateTime,
    pub category: String,
    pub urgency: String,
    pub zip: String,
    pub city: String,
    pub created_at: OffsetDateTime,
}

/// The pro's missed leads since `since`, newest first (never one they were offered after all);
/// `before`: the previous page's last lead id. Only pros covering a lead's ZIP are ever left out
/// of it, so the pro's ZIPs lead to every row they can be in.
pub async fn missed(
    conn: &mut PgConnection,
    pro_id: Uuid,
    since: OffsetDateTime,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Missed>, sqlx::Error> {
    sqlx::query_as!(
        Missed,
        // The area's rows first, then the pro in each row's array: materialised, so the array (~1,300
        // ids, stored out of line) is read only for rows in the pro's ZIPs (18 ms for a pro with 351
        // missed leads in bench/market, against 108 ms when PostgreSQL checked every row's array).
        r#"WITH area AS MATERIALIZED (
               SELECT e.lead_id, e.rule, e.at, e.pro_ids
               FROM pro_service_zips a JOIN match_exclusions e ON e.zip = a.zip AND e.at >= $2
               WHERE a.pro_id = $1 AND ($3::uuid IS NULL OR e.lead_id < $3))
           SELECT e.lead_id AS "lead_id!", e.rule AS "rule!", e.at AS "at!", l.category, l.urgency, l.zip, z.city,
                  l.created_at
           FROM area e JOIN leads l ON l.id = e.lead_id JOIN zip_codes z ON z.zip = l.zip
           WHERE $1 = ANY (e.pro_ids)
             AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.lead_id = e.lead_id AND o.pro_id = $1)
           ORDER BY e.lead_id DESC
           LIMIT $4"#,
        pro_id,
        since,
        before,
        limit
    )
    .fetch_all(conn)
    .await
}

/// This pro's exclusion from one lead, if they were left out of it.
pub async fn of(conn: &mut PgConnection, lead_id: Uuid, pro_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT rule FROM match_exclusions WHERE lead_id = $1 AND $2 = ANY (pro_ids)", lead_id, pro_id)
        .fetch_optional(conn)
        .await
}

/// This pro's offer of one lead: its score and components, if they were offered it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub score: f32,
    pub distance: f32,
    pub responsiveness: f32,
    pub rating: f32,
    pub fairness: f32,
    pub distance_miles: f32,
}

pub async fn ranked(conn: &mut PgConnection, lead_id: Uuid, pro_id: Uuid) -> Result<Option<Ranked>, sqlx::Error> {
    sqlx::query_as!(
        Ranked,
        "SELECT score, score_distance AS distance, score_responsiveness AS responsiveness, score_rating AS rating,
                score_fairness AS fairness, distance_miles
         FROM offers WHERE lead_id = $1 AND pro_id = $2",
        lead_id,
        pro_id
    )
    .fetch_optional(conn)
    .await
}
