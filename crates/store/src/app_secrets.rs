//! Secrets the application generates for itself (a development install's signing key).

use sqlx::PgPool;

/// The secret named `name`: the one kept, or `fresh`, kept now. Two nodes starting at once both
/// read back whichever was written first.
pub async fn get_or_create(pool: &PgPool, name: &str, fresh: &str) -> Result<String, sqlx::Error> {
    sqlx::query!("INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, fresh)
        .execute(pool)
        .await?;
    sqlx::query_scalar!("SELECT value FROM app_secrets WHERE name = $1", name).fetch_one(pool).await
}
