//! Stripe-style idempotency keys: the first outcome for a key is stored with a hash of its
//! request and replayed for later requests with the same key. Claiming a key happens inside the
//! request's own transaction, so a concurrent retry waits for the first to commit and then
//! replays it, and a request that fails leaves no key behind.

use sqlx::PgConnection;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours to answer: store the outcome before committing.
    New,
    /// Answered before, for the same request: this outcome again.
    Replay(serde_json::Value),
    /// The key was used for a different request.
    Mismatch,
}

pub async fn claim(
    conn: &mut PgConnection,
    principal: &str,
    key: &str,
    request_hash: &[u8],
    now: OffsetDateTime,
    expired_before: OffsetDateTime,
) -> Result<Claim, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO idempotency_keys (principal, key, request_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (principal, key) DO NOTHING",
        principal,
        key,
        request_hash,
        now
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let row = sqlx::query!(
        "SELECT request_hash, outcome, created_at FROM idempotency_keys
         WHERE principal = $1 AND key = $2 FOR UPDATE",
        principal,
        key
    )
    .fetch_one(&mut *conn)
    .await?;
    if row.created_at < expired_before {
        // Older than the replay window: the key is free again.
        sqlx::query!(
            "UPDATE idempotency_keys SET request_hash = $3, outcome = NULL, created_at = $4
             WHERE principal = $1 AND key = $2",
            principal,
            key,
            request_hash,
            now
        )
        .execute(&mut *conn)
        .await?;
        return Ok(Claim::New);
    }
    if row.request_hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    // A claim is stored with its outcome in one commit, so a visible key has one.
    Ok(Claim::Replay(row.outcome.unwrap_or_default()))
}

/// A look without a lock, before any work: `None` when the key is unknown or expired.
pub async fn lookup(
    conn: &mut PgConnection,
    principal: &str,
    key: &str,
    request_hash: &[u8],
    expired_before: OffsetDateTime,
) -> Result<Option<Claim>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT request_hash, outcome FROM idempotency_keys
         WHERE principal = $1 AND key = $2 AND created_at >= $3",
        principal,
        key,
        expired_before
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        if r.request_hash == request_hash { Claim::Replay(r.outcome.unwrap_or_default()) } else { Claim::Mismatch }
    }))
}

pub async fn store(
    conn: &mut PgConnection,
    principal: &str,
    key: &str,
    outcome: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE idempotency_keys SET outcome = $3 WHERE principal = $1 AND key = $2", principal, key, outcome)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes keys past their replay window (run periodically).
pub async fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM idempotency_keys WHERE created_at < $1", before).execute(conn).await?.rows_affected())
}
