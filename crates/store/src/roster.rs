//! Every pro's matching facts, read whole once and then as changes (`pro_changes`, migration
//! `roster_changes`): what an app instance keeps in memory so that matching a lead reads only
//! who was offered the lead or bought from its phone, not ~1,500 rows of pros, wallets and offers.

use domain::account::ProStatus;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

/// A pro's settings and the figures that move, as stored; matching computes the rest at the
/// instant of each look (today's and this week's counts, the local time).
#[derive(Debug, Clone, PartialEq)]
pub struct RosterPro {
    pub pro_id: Uuid,
    pub status: ProStatus,
    pub paused: bool,
    pub categories: Vec<String>,
    pub accepts_shared: bool,
    pub accepts_exclusive: bool,
    pub emergency_24_7: bool,
    pub hours_weekday: Vec<i16>,
    pub hours_opens: Vec<Time>,
    pub hours_closes: Vec<Time>,
    pub time_zone: String,
    pub max_price_cents: Option<i64>,
    pub daily_cap: Option<i32>,
    pub weekly_budget_cents: Option<i64>,
    pub last_bought_at: Option<OffsetDateTime>,
    pub bought_on: Option<Date>,
    pub bought_that_day: i32,
    pub spent_week_of: Option<Date>,
    pub spent_that_week_cents: i64,
    pub median_claim_seconds: Option<f64>,
    pub balance_cents: i64,
    pub base_lat: Option<f64>,
    pub base_lon: Option<f64>,
    pub radius_miles: Option<i32>,
    pub offer_sms: bool,
    pub offer_email: bool,
    pub quiet_from: Option<Time>,
    pub quiet_until: Option<Time>,
    /// The pro's pending offers (any lead): when each expires and its price. Whether one is
    /// still claimable depends on the instant of the look.
    pub pending_expiries: Vec<OffsetDateTime>,
    pub pending_prices: Vec<i64>,
    /// Moves with every write to the pro's covered ZIPs: their `area` is read again only then.
    pub area_version: i64,
}

/// A pro's covered ZIPs, with the `area_version` they were read at (one statement: the two agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub pro_id: Uuid,
    pub version: i64,
    pub zips: Vec<String>,
}

/// Where a read of changes starts: the oldest transaction running at the previous read (a
/// snapshot's xmin, as a number).
pub type Horizon = i64;

/// The horizon for the next read, and the pros changed from `since` on (every pro when `None`).
pub async fn changed(conn: &mut PgConnection, since: Option<Horizon>) -> Result<(Horizon, Vec<Uuid>), sqlx::Error> {
    // One statement, one snapshot: its xmin and the changes it sees agree.
    let row = sqlx::query!(
        r#"SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS "horizon!",
                  CASE WHEN $1::bigint IS NULL THEN ARRAY(SELECT user_id FROM pros)
                       ELSE ARRAY(SELECT DISTINCT pro_id FROM pro_changes WHERE xid >= $1::bigint::text::xid8)
                  END AS "pros!""#,
        since
    )
    .fetch_one(conn)
    .await?;
    Ok((row.horizon, row.pros))
}

/// The facts of these pros (fewer rows than ids for a pro that no longer exists).
pub async fn facts(conn: &mut PgConnection, pro_ids: &[Uuid]) -> Result<Vec<RosterPro>, sqlx::Error> {
    sqlx::query_as!(
        RosterPro,
        r#"SELECT p.user_id AS pro_id, p.status AS "status!: ProStatus", p.paused, p.categories,
                  p.accepts_shared, p.accepts_exclusive, p.emergency_24_7,
                  p.hours_weekday, p.hours_opens, p.hours_closes, coalesce(p.time_zone, 'UTC') AS "time_zone!",
                  p.max_price_cents, p.daily_cap, p.weekly_budget_cents,
                  p.last_bought_at, p.bought_on, p.bought_that_day, p.spent_week_of, p.spent_that_week_cents,
                  p.median_claim_seconds, coalesce(a.balance_cents, 0) AS "balance_cents!",
                  p.base_lat, p.base_lon, p.radius_miles,
                  p.offer_sms, p.offer_email, p.quiet_from, p.quiet_until,
                  live.expiries AS "pending_expiries!", live.prices AS "pending_prices!", p.area_version
           FROM pros p
           LEFT JOIN ledger_accounts a ON a.pro_id = p.user_id
           CROSS JOIN LATERAL (SELECT coalesce(array_agg(o.expires_at), '{}') AS expiries,
                                      coalesce(array_agg(o.price_cents), '{}') AS prices
                               FROM offers o WHERE o.pro_id = p.user_id AND o.status = 'pending') live
           WHERE p.user_id = ANY ($1)"#,
        pro_ids
    )
    .fetch_all(conn)
    .await
}

/// The covered ZIPs of these pros (none for a pro that no longer exists).
pub async fn areas(conn: &mut PgConnection, pro_ids: &[Uuid]) -> Result<Vec<Area>, sqlx::Error> {
    sqlx::query_as!(
        Area,
        r#"SELECT p.user_id AS pro_id, p.area_version AS version,
                  ARRAY(SELECT sz.zip FROM pro_service_zips sz WHERE sz.pro_id = p.user_id) AS "zips!"
           FROM pros p WHERE p.user_id = ANY ($1)"#,
        pro_ids
    )
    .fetch_all(conn)
    .await
}

/// Forgets changes older than an hour (the database's own clock: readers reload whole when
/// their last read is older than half of that, by their own).
pub async fn prune_changes(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM pro_changes WHERE at < now() - interval '1 hour'").execute(conn).await?;
    Ok(done.rows_affected())
}
