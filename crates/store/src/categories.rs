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
