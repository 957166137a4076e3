//! Offers of a lead to a pro: made in batches by distribution, claimed, declined or expired.

use domain::lead::LeadStatus;
use domain::market::OfferStatus;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct NewOffer {
    pub id: Uuid,
    pub pro_id: Uuid,
    pub base_cents: i64,
    pub urgency_bps: i32,
    pub exclusive_bps: i32,
    pub price_cents: i64,
    pub distance_miles: f32,
    pub score: f32,
    pub score_distance: f32,
    pub score_responsiveness: f32,
    pub score_rating: f32,
    pub score_fairness: f32,
    pub expires_at: OffsetDateTime,
}

pub async fn insert_batch(
    conn: &mut PgConnection,
    lead_id: Uuid,
    batch: i32,
    offers: &[NewOffer],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let col = |f: fn(&NewOffer) -> f32| offers.iter().map(f).collect::<Vec<f32>>();
    sqlx::query!(
        "INSERT INTO offers (id, lead_id, pro_id, batch, base_cents, urgency_bps, exclusive_bps, price_cents, distance_miles,
                             score, score_distance, score_responsiveness, score_rating, score_fairness, created_at, expires_at)
         SELECT t.id, $1, t.pro_id, $2, t.base, t.ubps, t.ebps, t.price, t.dist, t.s, t.sd, t.sr, t.sra, t.sf, $3, t.exp
         FROM unnest($4::uuid[], $5::uuid[], $6::bigint[], $7::int[], $8::int[], $9::bigint[], $10::real[],
                     $11::real[], $12::real[], $13::real[], $14::real[], $15::real[], $16::timestamptz[])
              AS t(id, pro_id, base, ubps, ebps, price, dist, s, sd, sr, sra, sf, exp)",
        lead_id,
        batch,
        now,
        &offers.iter().map(|o| o.id).collect::<Vec<_>>(),
        &offers.iter().map(|o| o.pro_id).collect::<Vec<_>>(),
        &offers.iter().map(|o| o.base_cents).collect::<Vec<_>>(),
        &offers.iter().map(|o| o.urgency_bps).collect::<Vec<_>>(),
        &offers.iter().map(|o| o.exclusive_bps).collect::<Vec<_>>(),
        &offers.iter().map(|o| o.price_cents).collect::<Vec<_>>(),
        &col(|o| o.distance_miles),
        &col(|o| o.score),
        &col(|o| o.score_distance),
        &col(|o| o.score_responsiveness),
        &col(|o| o.score_rating),
        &col(|o| o.score_fairness),
        &offers.iter().map(|o| o.expires_at).collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Expires the lead's pending offers whose time is up (all of them when `all`); returns the
/// closed offers with their pros.
pub async fn expire(
    conn: &mut PgConnection,
    lead_id: Uuid,
    now: OffsetDateTime,
    all: bool,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    let rows = sqlx::query!(
        "UPDATE offers SET status = 'expired', decided_at = LEAST(expires_at, $2)
         WHERE lead_id = $1 AND status = 'pending' AND ($3 OR expires_at <= $2)
         RETURNING id, pro_id",
        lead_id,
        now,
        all
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.pro_id)).collect())
}

/// The lead's offers still claimable, and the last batch number so far.
pub async fn live_and_last_batch(
    conn: &mut PgConnection,
    lead_id: Uuid,
    now: OffsetDateTime,
) -> Result<(i64, i32), sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'pending' AND expires_at > $2) AS "live!",
                  coalesce(max(batch), 0) AS "last_batch!"
           FROM offers WHERE lead_id = $1"#,
        lead_id,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok((r.live, r.last_batch))
}

/// When the lead's next live offer expires, if any is live.
pub async fn next_expiry(conn: &mut PgConnection, lead_id: Uuid) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    sqlx::query_scalar!("SELECT min(expires_at) FROM offers WHERE lead_id = $1 AND status = 'pending'", lead_id)
        .fetch_one(conn)
        .await
}

/// An offer as its pro sees it: the lead's facts but not the homeowner's contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub pro_id: Uuid,
    pub status: OfferStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub category: String,
    pub urgency: String,
    pub exclusive: bool,
    pub zip: String,
    pub city: String,
    pub description: String,
    pub distance_miles: f32,
    pub base_cents: i64,
    pub urgency_bps: i32,
    pub exclusive_bps: i32,
    pub price_cents: i64,
    pub max_buyers: i32,
    pub buyers: i32,
    pub lead_status: LeadStatus,
    pub score: f32,
    pub score_distance: f32,
    pub score_responsiveness: f32,
    pub score_rating: f32,
    pub score_fairness: f32,
}

/// A pro's offers, newest first: the live ones (`status` None), or those in one state.
/// `before`: the last id of the previous page.
pub async fn list_for_pro(
    conn: &mut PgConnection,
    pro_id: Uuid,
    status: Option<OfferStatus>,
    now: OffsetDateTime,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Offer>, sqlx::Error> {
    sqlx::query_as!(
        Offer,
        r#"SELECT o.id, o.lead_id, o.pro_id, o.status AS "status!: OfferStatus", o.created_at, o.expires_at,
                  l.category, l.urgency, coalesce(l.exclusive, false) AS "exclusive!", l.zip, z.city, l.description,
                  o.distance_miles, o.base_cents, o.urgency_bps, o.exclusive_bps, o.price_cents,
                  coalesce(l.max_buyers, 0) AS "max_buyers!", l.buyers, l.status AS "lead_status!: LeadStatus",
                  o.score, o.score_distance, o.score_responsiveness, o.score_rating, o.score_fairness
           FROM offers o JOIN leads l ON l.id = o.lead_id JOIN zip_codes z ON z.zip = l.zip
           WHERE o.pro_id = $1
             AND CASE WHEN $2::offer_status IS NULL
                      THEN o.status = 'pending' AND o.expires_at > $3 AND l.buyers < coalesce(l.max_buyers, 0)
                      ELSE o.status = $2 END
             AND ($4::uuid IS NULL OR o.id < $4)
           ORDER BY o.id DESC
           LIMIT $5"#,
        pro_id,
        status as Option<OfferStatus>,
        now,
        before,
        limit
    )
    .fetch_all(conn)
    .await
}

/// One of a pro's offers; `lock` holds its row until the transaction ends (claims and declines
/// of one offer queue up).
pub async fn get_for_pro(conn: &mut PgConnection, offer_id: Uuid, pro_id: Uuid) -> Result<Option<Offer>, sqlx::Error> {
    sqlx::query_as!(
        Offer,
        r#"SELECT o.id, o.lead_id, o.pro_id, o.status AS "status!: OfferStatus", o.created_at, o.expires_at,
                  l.category, l.urgency, coalesce(l.exclusive, false) AS "exclusive!", l.zip, z.city, l.description,
                  o.distance_miles, o.base_cents, o.urgency_bps, o.exclusive_bps, o.price_cents,
                  coalesce(l.max_buyers, 0) AS "max_buyers!", l.buyers, l.status AS "lead_status!: LeadStatus",
                  o.score, o.score_distance, o.score_responsiveness, o.score_rating, o.score_fairness
           FROM offers o JOIN leads l ON l.id = o.lead_id JOIN zip_codes z ON z.zip = l.zip
           WHERE o.id = $1 AND o.pro_id = $2"#,
        offer_id,
        pro_id
    )
    .fetch_optional(conn)
    .await
}

/// Locks one offer's row (after its lead's: the one lock order every writer keeps).
pub async fn lock(conn: &mut PgConnection, offer_id: Uuid) -> Result<Option<OfferStatus>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT status AS "status!: OfferStatus" FROM offers WHERE id = $1 FOR NO KEY UPDATE"#,
        offer_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn decide(
    conn: &mut PgConnection,
    offer_id: Uuid,
    status: OfferStatus,
    reason: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE offers SET status = $2, decided_at = $3, decline_reason = $4 WHERE id = $1 AND status = 'pending'",
        offer_id,
        status as OfferStatus,
        now,
        reason
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The live offers of this lead with their pros (told when a buyer claims it).
pub async fn live_holders(
    conn: &mut PgConnection,
    lead_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, pro_id FROM offers WHERE lead_id = $1 AND status = 'pending' AND expires_at > $2",
        lead_id,
        now
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.pro_id)).collect())
}

/// The pro's offers still open to a claim (any lead).
pub async fn live_for_pro(
    conn: &mut PgConnection,
    pro_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM offers WHERE pro_id = $1 AND status = 'pending' AND expires_at > $2 ORDER BY id",
        pro_id,
        now
    )
    .fetch_all(conn)
    .await
}
