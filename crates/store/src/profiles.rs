//! A pro's onboarding profile: licence, insurance, service area, services, hours, preferences,
//! and staff's approval. Each part is written whole, in the caller's transaction.

use domain::account::ProStatus;
use sqlx::PgConnection;
use time::{OffsetDateTime, Time};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Profile {
    pub user_id: Uuid,
    pub business_name: String,
    pub status: ProStatus,
    pub licence_number: Option<String>,
    pub licence_state: Option<String>,
    pub insurance_key: Option<String>,
    pub insurance_content_type: Option<String>,
    pub insurance_uploaded_at: Option<OffsetDateTime>,
    pub base_zip: Option<String>,
    pub radius_miles: Option<i32>,
    pub time_zone: Option<String>,
    pub emergency_24_7: bool,
    pub hours_set: bool,
    pub max_price_cents: Option<i64>,
    pub accepts_shared: bool,
    pub accepts_exclusive: bool,
    pub daily_cap: Option<i32>,
    pub weekly_budget_cents: Option<i64>,
    pub paused: bool,
    pub preferences_set: bool,
    pub offer_sms: bool,
    pub offer_email: bool,
    pub quiet_from: Option<Time>,
    pub quiet_until: Option<Time>,
    pub submitted_at: Option<OffsetDateTime>,
    pub approved_at: Option<OffsetDateTime>,
    /// Staff's last word on a review that did not approve (changes asked for, or why not).
    pub review_message: Option<String>,
}

pub async fn get(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as!(
        Profile,
        r#"SELECT user_id, business_name, status AS "status!: ProStatus", licence_number, licence_state::text AS licence_state,
                  insurance_key, insurance_content_type, insurance_uploaded_at, base_zip, radius_miles, time_zone,
                  emergency_24_7, hours_set, max_price_cents, accepts_shared, accepts_exclusive, daily_cap,
                  weekly_budget_cents, paused, preferences_set, offer_sms, offer_email, quiet_from, quiet_until,
                  submitted_at, approved_at, review_message
           FROM pros WHERE user_id = $1"#,
        user_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_business(
    conn: &mut PgConnection,
    user_id: Uuid,
    business_name: &str,
    licence_number: &str,
    licence_state: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    // A changed licence needs staff's eyes again.
    sqlx::query!(
        "UPDATE pros SET business_name = $2, licence_number = $3, licence_state = $4::text, updated_at = $5,
                approved_at = CASE WHEN licence_number IS DISTINCT FROM $3 OR licence_state::text IS DISTINCT FROM $4::text THEN NULL ELSE approved_at END
         WHERE user_id = $1",
        user_id,
        business_name,
        licence_number,
        licence_state,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_insurance(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    content_type: &str,
    now: OffsetDateTime,
) -> Result<Option<String>, sqlx::Error> {
    let old = sqlx::query_scalar!("SELECT insurance_key FROM pros WHERE user_id = $1 FOR UPDATE", user_id)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    sqlx::query!(
        "UPDATE pros SET insurance_key = $2, insurance_content_type = $3, insurance_uploaded_at = $4, updated_at = $4,
                approved_at = NULL
         WHERE user_id = $1",
        user_id,
        key,
        content_type,
        now
    )
    .execute(conn)
    .await?;
    Ok(old)
}

/// Replaces the service area: the base, the radius, and every covered ZIP — those within the
/// radius, and those the pro named (marked as named even when the radius covers them too, so
/// the pro reads back what they typed).
pub async fn set_area(
    conn: &mut PgConnection,
    user_id: Uuid,
    base_zip: &str,
    radius_miles: i32,
    radius_zips: &[String],
    hand_picked: &[String],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE pros SET base_zip = $2, radius_miles = $3, updated_at = $4 WHERE user_id = $1",
        user_id,
        base_zip,
        radius_miles,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM pro_service_zips WHERE pro_id = $1", user_id).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO pro_service_zips (pro_id, zip, hand_picked)
         SELECT $1::uuid, z, false FROM unnest($2::text[]) AS z WHERE z <> ALL($3::text[])
         UNION SELECT $1::uuid, z, true FROM unnest($3::text[]) AS z
         ON CONFLICT DO NOTHING",
        user_id,
        radius_zips,
        hand_picked
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the time zone if the pro has not chosen one.
pub async fn default_time_zone(conn: &mut PgConnection, user_id: Uuid, time_zone: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE pros SET time_zone = coalesce(time_zone, $2) WHERE user_id = $1", user_id, time_zone)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct CoveredZip {
    pub zip: String,
    pub city: String,
    pub state: String,
    pub hand_picked: bool,
}

pub async fn covered_zips(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<CoveredZip>, sqlx::Error> {
    sqlx::query_as!(
        CoveredZip,
        r#"SELECT s.zip, z.city, z.state::text AS "state!", s.hand_picked
           FROM pro_service_zips s JOIN zip_codes z ON z.zip = s.zip
           WHERE s.pro_id = $1 ORDER BY z.state, z.city, s.zip"#,
        user_id
    )
    .fetch_all(conn)
    .await
}

pub async fn set_categories(conn: &mut PgConnection, user_id: Uuid, slugs: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM pro_categories WHERE pro_id = $1", user_id).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO pro_categories (pro_id, category)
         SELECT $1, c.slug FROM categories c WHERE c.slug = ANY($2::text[]) AND c.active",
        user_id,
        slugs
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn categories(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT category FROM pro_categories WHERE pro_id = $1 ORDER BY category", user_id)
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, Copy)]
pub struct HoursRow {
    pub weekday: i16,
    pub opens: Time,
    pub closes: Time,
}

pub async fn set_hours(
    conn: &mut PgConnection,
    user_id: Uuid,
    days: &[HoursRow],
    time_zone: &str,
    emergency_24_7: bool,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE pros SET time_zone = $2, emergency_24_7 = $3, hours_set = true, updated_at = $4 WHERE user_id = $1",
        user_id,
        time_zone,
        emergency_24_7,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM pro_hours WHERE pro_id = $1", user_id).execute(&mut *conn).await?;
    let weekdays: Vec<i16> = days.iter().map(|d| d.weekday).collect();
    let opens: Vec<Time> = days.iter().map(|d| d.opens).collect();
    let closes: Vec<Time> = days.iter().map(|d| d.closes).collect();
    sqlx::query!(
        "INSERT INTO pro_hours (pro_id, weekday, opens, closes)
         SELECT $1, d, o, c FROM unnest($2::smallint[], $3::time[], $4::time[]) AS t(d, o, c)",
        user_id,
        &weekdays,
        &opens,
        &closes
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn hours(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<HoursRow>, sqlx::Error> {
    sqlx::query_as!(
        HoursRow,
        "SELECT weekday, opens, closes FROM pro_hours WHERE pro_id = $1 ORDER BY weekday",
        user_id
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Copy)]
pub struct Preferences {
    pub max_price_cents: Option<i64>,
    pub accepts_shared: bool,
    pub accepts_exclusive: bool,
    pub daily_cap: Option<i32>,
    pub weekly_budget_cents: Option<i64>,
    pub paused: bool,
}

pub async fn set_preferences(
    conn: &mut PgConnection,
    user_id: Uuid,
    p: &Preferences,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE pros SET max_price_cents = $2, accepts_shared = $3, accepts_exclusive = $4, daily_cap = $5,
                weekly_budget_cents = $6, paused = $7, preferences_set = true, updated_at = $8
         WHERE user_id = $1",
        user_id,
        p.max_price_cents,
        p.accepts_shared,
        p.accepts_exclusive,
        p.daily_cap,
        p.weekly_budget_cents,
        p.paused,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How the pro hears of offers: text, e-mail, and quiet hours for texts (both ends or none).
pub async fn set_notifications(
    conn: &mut PgConnection,
    user_id: Uuid,
    sms: bool,
    email: bool,
    quiet: Option<(Time, Time)>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE pros SET offer_sms = $2, offer_email = $3, quiet_from = $4, quiet_until = $5, updated_at = $6
         WHERE user_id = $1",
        user_id,
        sms,
        email,
        quiet.map(|q| q.0),
        quiet.map(|q| q.1),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sends the profile to staff for review.
pub async fn submit(conn: &mut PgConnection, user_id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE pros SET status = 'pending_approval', submitted_at = $2, review_message = NULL, updated_at = $2
         WHERE user_id = $1 AND status = 'onboarding'",
        user_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An approved pro changed what staff vetted (licence, insurance): back to the review queue,
/// receiving no leads until approved again. False when they were not active.
pub async fn back_to_review(conn: &mut PgConnection, user_id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE pros SET status = 'pending_approval', submitted_at = $2, approved_at = NULL, approved_by = NULL,
                         updated_at = $2
         WHERE user_id = $1 AND status = 'active'",
        user_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Staff approve a pro waiting for review: from then on they can receive leads.
/// Approves a pro awaiting review; `staff_id` is None when an operator approved at the command line.
pub async fn approve(
    conn: &mut PgConnection,
    user_id: Uuid,
    staff_id: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE pros SET status = 'active', approved_at = $3, approved_by = $2, review_message = NULL, updated_at = $3
         WHERE user_id = $1 AND status = 'pending_approval'",
        user_id,
        staff_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How a review that does not approve ends: the profile goes back to the pro to change, or the
/// pro is turned down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotApproved {
    ChangesAsked,
    TurnedDown,
}

/// Ends a pending review without approving, with staff's message; false when the pro was not
/// waiting for review (approved or answered meanwhile).
pub async fn not_approved(
    conn: &mut PgConnection,
    user_id: Uuid,
    outcome: NotApproved,
    message: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let status = match outcome {
        NotApproved::ChangesAsked => ProStatus::Onboarding,
        NotApproved::TurnedDown => ProStatus::Suspended,
    };
    let done = sqlx::query!(
        "UPDATE pros SET status = $2, submitted_at = NULL, review_message = $3, updated_at = $4
         WHERE user_id = $1 AND status = 'pending_approval'",
        user_id,
        status as ProStatus,
        message,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pros waiting for staff, oldest first.
pub async fn pending(conn: &mut PgConnection, limit: i64) -> Result<Vec<Profile>, sqlx::Error> {
    sqlx::query_as!(
        Profile,
        r#"SELECT user_id, business_name, status AS "status!: ProStatus", licence_number, licence_state::text AS licence_state,
                  insurance_key, insurance_content_type, insurance_uploaded_at, base_zip, radius_miles, time_zone,
                  emergency_24_7, hours_set, max_price_cents, accepts_shared, accepts_exclusive, daily_cap,
                  weekly_budget_cents, paused, preferences_set, offer_sms, offer_email, quiet_from, quiet_until,
                  submitted_at, approved_at, review_message
           FROM pros WHERE status = 'pending_approval' ORDER BY submitted_at, user_id LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A pro's claim limits and what counts against them now, with their row locked: one pro's claims
/// are counted in turn. Today's and this week's purchases are the figures the purchases trigger
/// keeps on the row (migration `matching_facts`), the same ones matching reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub daily_cap: Option<i32>,
    pub weekly_budget_cents: Option<i64>,
    pub bought_today: i64,
    pub spent_this_week_cents: i64,
    /// Closed by its owner (`closing`): buys nothing more.
    pub closed: bool,
}

pub async fn lock_limits(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<Limits>, sqlx::Error> {
    sqlx::query_as!(
        Limits,
        r#"SELECT daily_cap, weekly_budget_cents,
                  CASE WHEN bought_on = t.local_now::date THEN bought_that_day ELSE 0 END::bigint AS "bought_today!",
                  CASE WHEN spent_week_of = date_trunc('week', t.local_now)::date THEN spent_that_week_cents ELSE 0 END
                    AS "spent_this_week_cents!",
                  status = 'closed' AS "closed!"
           FROM pros CROSS JOIN LATERAL (SELECT $2::timestamptz AT TIME ZONE coalesce(time_zone, 'UTC') AS local_now) t
           WHERE user_id = $1 FOR NO KEY UPDATE OF pros"#,
        user_id,
        now
    )
    .fetch_optional(conn)
    .await
}

/// A pro's business name and mobile, as a homeowner is told them.
pub async fn contact(conn: &mut PgConnection, user_id: Uuid) -> Result<(String, Option<String>), sqlx::Error> {
    let r = sqlx::query!(
        "SELECT p.business_name, u.phone FROM pros p JOIN identity.users u ON u.id = p.user_id WHERE p.user_id = $1",
        user_id
    )
    .fetch_one(conn)
    .await?;
    Ok((r.business_name, r.phone))
}

/// Turns a pro's new-lead e-mails off (their unsubscribe link); the address they went to, or
/// `None` for no such pro. Already off is not an error: a second click says the same.
pub async fn stop_offer_email(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<(String, bool)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"WITH before AS (SELECT offer_email FROM pros WHERE user_id = $1 FOR UPDATE),
                changed AS (UPDATE pros SET offer_email = false, updated_at = $2
                            WHERE user_id = $1 AND offer_email RETURNING user_id)
           SELECT u.email, (SELECT offer_email FROM before) AS "was_on!"
           FROM identity.users u WHERE u.id = $1 AND EXISTS (SELECT 1 FROM before)"#,
        user_id,
        now
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.email, r.was_on)))
}

/// The address a pro's new-lead e-mails go to, and whether they are on.
pub async fn offer_email(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<(String, bool)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT u.email, p.offer_email FROM pros p JOIN identity.users u ON u.id = p.user_id WHERE p.user_id = $1",
        user_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.email, r.offer_email)))
}
