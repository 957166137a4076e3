//! Partners: who is behind an API key.

use crate::infra::partner_keys;
use crate::{Ctx, ServiceError};
use futures::future::BoxFuture;
use uuid::Uuid;

/// The active partner whose key this is, or `BadCredentials` for a key that is malformed,
/// unknown or revoked.
pub fn authenticate<'a>(ctx: &'a Ctx, key: &'a str) -> BoxFuture<'a, Result<Uuid, ServiceError>> {
    Box::pin(authenticate_inner(ctx, key))
}

async fn authenticate_inner(ctx: &Ctx, key: &str) -> Result<Uuid, ServiceError> {
    let Some((prefix, secret)) = partner_keys::split_key(key.trim()) else { return Err(ServiceError::BadCredentials) };
    let mut conn = ctx.pool.acquire().await?;
    match store::partners::find_active_by_prefix(&mut conn, prefix).await? {
        Some((p, hash)) if partner_keys::secret_matches(secret, &hash) => Ok(p.id),
        _ => Err(ServiceError::BadCredentials),
    }
}

/// A partner and its API key: (id, the full key, shown once; only its hash is kept).
pub fn create<'a>(ctx: &'a Ctx, name: &'a str) -> BoxFuture<'a, Result<(Uuid, String), ServiceError>> {
    Box::pin(create_inner(ctx, name))
}

async fn create_inner(ctx: &Ctx, name: &str) -> Result<(Uuid, String), ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        let message = "A partner's name is 1 to 200 characters.".to_owned();
        return Err(ServiceError::Invalid(vec![domain::FieldError { field: "name", message }]));
    }
    let (prefix, _, full, hash) = partner_keys::new_key();
    let id = Uuid::now_v7();
    let mut conn = ctx.pool.acquire().await?;
    store::partners::create(&mut conn, id, name, &prefix, &hash, ctx.clock.now()).await?;
    Ok((id, full))
}
