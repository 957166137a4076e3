//! Plumbing categories and their prices.

use domain::Cents;
use sqlx::PgConnection;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub base_price: Cents,
    pub max_buyers: i32,
}

/// Active categories in display order.
pub async fn list_active(conn: &mut PgConnection) -> Result<Vec<Category>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT slug, name, description, base_price_cents, max_buyers FROM categories WHERE active ORDER BY sort_order, slug"
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Category {
            slug: r.slug,
            name: r.name,
            description: r.description,
            base_price: Cents(r.base_price_cents),
            max_buyers: r.max_buyers,
        })
        .collect())
}

/// The price multipliers staff set (one row).
pub async fn multipliers(conn: &mut PgConnection) -> Result<domain::pricing::Multipliers, sqlx::Error> {
    let r = sqlx::query!("SELECT emergency_bps, within_48h_bps, flexible_bps, exclusive_bps FROM price_multipliers")
        .fetch_one(conn)
        .await?;
    Ok(domain::pricing::Multipliers {
        emergency_bps: r.emergency_bps.into(),
        within_48h_bps: r.within_48h_bps.into(),
        flexible_bps: r.flexible_bps.into(),
        exclusive_bps: r.exclusive_bps.into(),
    })
}

/// Every category, active or not, for staff's price list.
pub async fn list_all(conn: &mut PgConnection) -> Result<Vec<Category>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT slug, name, description, base_price_cents, max_buyers FROM categories ORDER BY sort_order, slug"
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Category {
            slug: r.slug,
            name: r.name,
            description: r.description,
            base_price: Cents(r.base_price_cents),
            max_buyers: r.max_buyers,
        })
        .collect())
}

pub async fn set_price(
    conn: &mut PgConnection,
    slug: &str,
    base_price_cents: i64,
    max_buyers: i32,
    now: time::OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE categories SET base_price_cents = $2, max_buyers = $3, updated_at = $4 WHERE slug = $1",
        slug,
        base_price_cents,
        max_buyers,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_multipliers(
    conn: &mut PgConnection,
    m: &domain::pricing::Multipliers,
    now: time::OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let bps = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    sqlx::query!(
        "UPDATE price_multipliers SET emergency_bps = $1, within_48h_bps = $2, flexible_bps = $3, exclusive_bps = $4, updated_at = $5",
        bps(m.emergency_bps),
        bps(m.within_48h_bps),
        bps(m.flexible_bps),
        bps(m.exclusive_bps),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
