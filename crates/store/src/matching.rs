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
    pub email: String,
    pub phone: Option<String>,
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
    sqlx::query_as!(
        Candidate,
        r#"WITH c AS (
               SELECT p.*, ($4::timestamptz AT TIME ZONE coalesce(p.time_zone, 'UTC')) AS local_now
               FROM pro_service_zips sz JOIN pros p ON p.user_id = sz.pro_id
               WHERE sz.zip = $1
                 AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.lead_id = $5 AND o.pro_id = p.user_id)
           ), w AS (
               SELECT c.*,
                      date_trunc('day', c.local_now) AT TIME ZONE coalesce(c.time_zone, 'UTC') AS day_start,
                      date_trunc('week', c.local_now) AT TIME ZONE coalesce(c.time_zone, 'UTC') AS week_start
               FROM c
           )
           SELECT w.user_id AS pro_id, w.status AS "status!: ProStatus", w.paused,
                  EXISTS (SELECT 1 FROM pro_categories pc WHERE pc.pro_id = w.user_id AND pc.category = $2) AS "offers_category!",
                  w.accepts_shared, w.accepts_exclusive, w.emergency_24_7,
                  ARRAY(SELECT h.weekday FROM pro_hours h WHERE h.pro_id = w.user_id ORDER BY h.weekday) AS "hours_weekday!",
                  ARRAY(SELECT h.opens FROM pro_hours h WHERE h.pro_id = w.user_id ORDER BY h.weekday) AS "hours_opens!",
                  ARRAY(SELECT h.closes FROM pro_hours h WHERE h.pro_id = w.user_id ORDER BY h.weekday) AS "hours_closes!",
                  extract(isodow FROM w.local_now)::int AS "local_isodow!",
                  w.local_now::time AS "local_time!",
                  w.max_price_cents, w.daily_cap,
                  (SELECT count(*) FROM purchases pu WHERE pu.pro_id = w.user_id AND pu.purchased_at >= w.day_start)
                    + (SELECT count(*) FROM offers o WHERE o.pro_id = w.user_id AND o.status = 'pending' AND o.expires_at > $4)
                    AS "leads_today!",
                  w.weekly_budget_cents,
                  (SELECT coalesce(sum(pu.price_cents), 0) FROM purchases pu WHERE pu.pro_id = w.user_id AND pu.purchased_at >= w.week_start)::bigint
                    + (SELECT coalesce(sum(o.price_cents), 0) FROM offers o WHERE o.pro_id = w.user_id AND o.status = 'pending' AND o.expires_at > $4)::bigint
                    AS "committed_this_week_cents!",
                  coalesce((SELECT a.balance_cents FROM ledger_accounts a WHERE a.pro_id = w.user_id), 0) AS "balance_cents!",
                  EXISTS (SELECT 1 FROM purchases pu JOIN leads l ON l.id = pu.lead_id
                          WHERE pu.pro_id = w.user_id AND l.phone = $3 AND pu.purchased_at > $4 - interval '30 days') AS "bought_from_phone!",
                  z.lat AS "base_lat?", z.lon AS "base_lon?", w.radius_miles,
                  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pu.purchased_at - o.created_at))
                   FROM purchases pu JOIN offers o ON o.id = pu.offer_id
                   WHERE pu.pro_id = w.user_id AND pu.purchased_at > $4 - interval '30 days') AS median_claim_seconds,
                  u.email, u.phone, w.offer_sms, w.offer_email, w.quiet_from, w.quiet_until
           FROM w JOIN identity.users u ON u.id = w.user_id LEFT JOIN zip_codes z ON z.zip = w.base_zip"#,
        zip,
        category,
        phone,
        now,
        lead_id
    )
    .fetch_all(conn)
    .await
}
