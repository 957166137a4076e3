//! Sessions of browsers (a cookie) and API clients (a refresh-token family). Only hashes of
//! their secrets are stored. Whether a session is still within its idle and absolute limits is
//! decided by the caller, with the clock and the settings.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// When the second factor was given (staff); None for sessions that need none or lack it.
    pub mfa_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub secret_hash: &'a [u8],
    pub user_id: Uuid,
    pub kind: &'a str,
    pub csrf_token: &'a str,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub mfa_at: Option<OffsetDateTime>,
}

pub async fn insert(conn: &mut PgConnection, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO identity.sessions (id, secret_hash, user_id, kind, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, mfa_at)
         VALUES ($1, $2, $3, ($4::text)::identity.session_kind, $5, $6, $6, $7, $8, $9, $10)",
        s.id,
        s.secret_hash,
        s.user_id,
        s.kind,
        s.csrf_token,
        s.now,
        s.expires_at,
        s.ip,
        s.user_agent,
        s.mfa_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A privilege step (the second factor given, or given again): the session goes on under a new
/// secret and CSRF token, so a copy of the old cookie opens nothing.
pub async fn step_up(
    conn: &mut PgConnection,
    id: Uuid,
    secret_hash: &[u8],
    csrf_token: &str,
    mfa_at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.sessions SET secret_hash = $2, csrf_token = $3, mfa_at = $4 WHERE id = $1 AND ended_at IS NULL",
        id,
        secret_hash,
        csrf_token,
        mfa_at
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many sessions the account has had, and whether one came from this user agent (the same
/// "device", as far as a server can tell).
pub async fn device_history(
    conn: &mut PgConnection,
    user_id: Uuid,
    user_agent: Option<&str>,
) -> Result<(i64, bool), sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "sessions!", coalesce(bool_or(user_agent IS NOT DISTINCT FROM $2), false) AS "seen!"
           FROM identity.sessions WHERE user_id = $1"#,
        user_id,
        user_agent
    )
    .fetch_one(conn)
    .await?;
    Ok((row.sessions, row.seen))
}

/// A session not ended, by the hash of its secret.
pub async fn find_open_by_secret(conn: &mut PgConnection, secret_hash: &[u8]) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as!(
        Session,
        r#"SELECT id, user_id, kind::text AS "kind!", csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, mfa_at
           FROM identity.sessions WHERE secret_hash = $1 AND ended_at IS NULL"#,
        secret_hash
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_open(conn: &mut PgConnection, id: Uuid) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as!(
        Session,
        r#"SELECT id, user_id, kind::text AS "kind!", csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, mfa_at
           FROM identity.sessions WHERE id = $1 AND ended_at IS NULL"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The owner's sessions not ended, newest first.
pub async fn list_open(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Session>, sqlx::Error> {
    sqlx::query_as!(
        Session,
        r#"SELECT id, user_id, kind::text AS "kind!", csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, mfa_at
           FROM identity.sessions WHERE user_id = $1 AND ended_at IS NULL ORDER BY created_at DESC, id DESC"#,
        user_id
    )
    .fetch_all(conn)
    .await
}

pub async fn touch(conn: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE identity.sessions SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL AND last_seen_at < $2",
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends one session of `user_id`; false if there is no such open session of theirs.
pub async fn end(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.sessions SET ended_at = $4, ended_reason = $3
         WHERE id = $1 AND user_id = $2 AND ended_at IS NULL",
        id,
        user_id,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every open session of `user_id` except `keep`; returns how many.
pub async fn end_all(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.sessions SET ended_at = $4, ended_reason = $3
         WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $2",
        user_id,
        keep,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn insert_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    session_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO identity.refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
        token_hash,
        session_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// First use: it is now spent.
    Fresh(Uuid),
    /// Already spent: a copy is in someone else's hands.
    Reused(Uuid),
    Unknown,
}

/// Spends a refresh token, atomically: of two simultaneous uses, one is `Fresh`, one `Reused`.
pub async fn use_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<RefreshUse, sqlx::Error> {
    let spent = sqlx::query_scalar!(
        "UPDATE identity.refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL RETURNING session_id",
        token_hash,
        now
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(session) = spent {
        return Ok(RefreshUse::Fresh(session));
    }
    let known = sqlx::query_scalar!("SELECT session_id FROM identity.refresh_tokens WHERE token_hash = $1", token_hash)
        .fetch_optional(conn)
        .await?;
    Ok(known.map_or(RefreshUse::Unknown, RefreshUse::Reused))
}

/// Removes sessions that ended (or expired) before `before`, with their tokens.
pub async fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM identity.sessions WHERE coalesce(ended_at, expires_at) < $1", before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
