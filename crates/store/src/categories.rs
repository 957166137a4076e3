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
