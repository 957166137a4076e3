//! The candidates for one lead: every pro whose service area covers its ZIP (the indexed
//! `pro_service_zips`), with the figures the eligibility rules and the ranking read, computed at
//! one instant in each pro's own time zone. Pros already offered this lead are not candidates.

use domain::account::ProStatus;
use sqlx::PgConnection;
use time::{OffsetDateTime, Time};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub pro_id: Uuid,
    pub status: ProStatus,
    pub paused: bool,
    pub offers_category: bool,
    pub accepts_shared: bool,
    pub accepts_exclusive: bool,
    pub emergency_24_7: bool,
    pub hours_weekday: Vec<i16>,
    pub hours_opens: Vec<Time>,
    pub hours_closes: Vec<Time>,
    /// ISO weekday (Monday = 1) and time where the pro works.
    pub local_isodow: i32,
    pub local_time: Time,
    pub max_price_cents: Option<i64>,
    pub daily_cap: Option<i32>,
    pub leads_today: i64,
    pub weekly_budget_cents: Option<i64>,
    pub committed_this_week_cents: i64,
    pub balance_cents: i64,
    pub bought_from_phone: bool,
    pub base_lat: Option<f64>,
    pub base_lon: Option<f64>,
    pub radius_miles: Option<i32>,
    pub median_claim_seconds: Option<f64>,
    pub offer_sms: bool,
    pub offer_email: bool,
    pub quiet_from: Option<Time>,
    pub quiet_until: Option<Time>,
}

pub async fn candidates(
    conn: &mut PgConnection,
    lead_id: Uuid,
    zip: &str,
    category: &str,
    phone: &str,
    now: OffsetDateTime,
) -> Result<Vec<Candidate>, sqlx::Error> {
    // One row per covering pro, no per-pro sub-query but the live offers' (an index range on
    // `offers_pending_pro`, empty for most): categories, hours, base position and purchase
    // figures are kept on `pros` by triggers (migration `matching_facts`); the pros who bought
    // from this phone and those already offered this lead are read once, as sets.
    sqlx::query_as!(
        Candidate,
        r#"WITH bought AS (
               SELECT pu.pro_id FROM leads l JOIN purchases pu ON pu.lead_id = l.id
               WHERE l.phone = $3 AND pu.purchased_at > $4::timestamptz - interval '30 days'
           ), offered AS (
               SELECT o.pro_id FROM offers o WHERE o.lead_id = $5
           )
           SELECT p.user_id AS pro_id, p.status AS "status!: ProStatus", p.paused,
                  $2 = ANY (p.categories) AS "offers_category!",
                  p.accepts_shared, p.accepts_exclusive, p.emergency_24_7,
                  p.hours_weekday, p.hours_opens, p.hours_closes,
                  extract(isodow FROM t.local_now)::int AS "local_isodow!",
                  t.local_now::time AS "local_time!",
                  p.max_price_cents, p.daily_cap,
                  CASE WHEN p.bought_on = t.local_now::date THEN p.bought_that_day ELSE 0 END + live.n AS "leads_today!",
                  p.weekly_budget_cents,
                  CASE WHEN p.spent_week_of = date_trunc('week', t.local_now)::date THEN p.spent_that_week_cents ELSE 0 END
                    + live.cents AS "committed_this_week_cents!",
                  coalesce(a.balance_cents, 0) AS "balance_cents!",
                  p.user_id IN (SELECT pro_id FROM bought) AS "bought_from_phone!",
                  p.base_lat, p.base_lon, p.radius_miles,
                  CASE WHEN p.last_bought_at > $4 - interval '30 days' THEN p.median_claim_seconds END AS median_claim_seconds,
                  p.offer_sms, p.offer_email, p.quiet_from, p.quiet_until
           FROM pro_service_zips sz
           JOIN pros p ON p.user_id = sz.pro_id
           LEFT JOIN ledger_accounts a ON a.pro_id = p.user_id
           CROSS JOIN LATERAL (SELECT $4::timestamptz AT TIME ZONE coalesce(p.time_zone, 'UTC') AS local_now) t
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(o.price_cents), 0)::bigint AS cents
                               FROM offers o
                               WHERE o.pro_id = p.user_id AND o.status = 'pending' AND o.expires_at > $4) live
           WHERE sz.zip = $1 AND sz.pro_id NOT IN (SELECT pro_id FROM offered)"#,
        zip,
        category,
        phone,
        now,
        lead_id
    )
    .fetch_all(conn)
    .await
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
