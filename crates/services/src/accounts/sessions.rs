//! Sessions: who a browser's cookie or an API token stands for, checked on every request
//! against both limits (idle and absolute, from the settings) and against the database, so
//! logging out or ending a session elsewhere takes effect at once; refresh tokens; ending one.

use super::login::access_token;
use super::{LoggedIn, role_of};
use crate::audit::{self, Audit, AuditAction};
use crate::infra::tokens;
use crate::{Ctx, ServiceError};
use domain::account::{Role, SessionEnd};
use futures::future::BoxFuture;
use store::accounts::User;
use store::sessions::{RefreshUse, Session};
use time::OffsetDateTime;
use uuid::Uuid;

/// Writing `last_seen_at` on every request would cost a write per page; this often is enough.
const TOUCH_EVERY: time::Duration = time::Duration::seconds(30);

/// A live session and its account.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
}

impl SignedIn {
    pub fn role(&self) -> Option<Role> {
        Role::parse(&self.user.role)
    }
}

/// Within its idle and absolute limits at `now`.
pub fn is_live(ctx: &Ctx, s: &Session, now: OffsetDateTime) -> bool {
    now < live_until(ctx, s)
}

/// When the session stops being live unless it is used again: its absolute limit or its idle
/// limit, whichever comes first.
pub fn live_until(ctx: &Ctx, s: &Session) -> OffsetDateTime {
    let idle = time::Duration::try_from(ctx.settings.sessions.idle_timeout).unwrap_or(time::Duration::MINUTE * 30);
    s.expires_at.min(s.last_seen_at + idle)
}

/// Whether the session is still open (not logged out or ended by its owner); read without
/// counting as a use, so a long-lived reader does not keep it alive.
pub fn still_open<'a>(ctx: &'a Ctx, session_id: Uuid) -> BoxFuture<'a, Result<bool, ServiceError>> {
    Box::pin(still_open_inner(ctx, session_id))
}

async fn still_open_inner(ctx: &Ctx, session_id: Uuid) -> Result<bool, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::sessions::find_open(&mut conn, session_id).await?.is_some())
}

/// How a session is asked for: a browser brings its secret (we keep only its hash), an access
/// token names its session's id.
pub enum SessionKey<'a> {
    Secret(&'a str),
    Id(Uuid),
}

/// The open, live session for `key` and its user; expired ones are closed on the way. Read from
/// the Redis copy when there is a current one (see `infra::session_cache`).
pub fn find_session<'a>(ctx: &'a Ctx, key: SessionKey<'a>) -> BoxFuture<'a, Result<Option<SignedIn>, ServiceError>> {
    Box::pin(find_session_inner(ctx, key))
}

async fn find_session_inner(ctx: &Ctx, key: SessionKey<'_>) -> Result<Option<SignedIn>, ServiceError> {
    let now = ctx.clock.now();
    let hash;
    let (find, cache_key) = match key {
        SessionKey::Secret(secret) => {
            hash = tokens::secret_hash(secret);
            (Find::Secret(&hash), hex::encode(&hash))
        }
        SessionKey::Id(id) => (Find::Id(id), format!("id:{id}")),
    };
    if let Some((mut session, user, generation)) = ctx.session_cache.get(&cache_key).await
        && is_live(ctx, &session, now)
    {
        if now - session.last_seen_at >= TOUCH_EVERY {
            let mut conn = ctx.pool.acquire().await?;
            store::sessions::touch(&mut conn, session.id, now).await?;
            session.last_seen_at = now;
            ctx.session_cache.put(&cache_key, generation, &session, &user).await;
        }
        return Ok(Some(SignedIn { user, session }));
    }
    let Some(found) = from_db(ctx, &find, now).await? else { return Ok(None) };
    if ctx.session_cache.enabled()
        && let Some(generation) = ctx.session_cache.generation(found.user.id).await
    {
        // Read again after taking the generation: a change committed in between is either in
        // what we read now, or has bumped the generation past the stamp.
        if let Some(fresh) = from_db(ctx, &find, now).await? {
            ctx.session_cache.put(&cache_key, generation, &fresh.session, &fresh.user).await;
            return Ok(Some(fresh));
        }
        return Ok(None);
    }
    Ok(Some(found))
}

enum Find<'a> {
    Secret(&'a [u8]),
    Id(Uuid),
}

async fn from_db(ctx: &Ctx, find: &Find<'_>, now: OffsetDateTime) -> Result<Option<SignedIn>, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    let session = match find {
        Find::Secret(hash) => store::sessions::find_open_by_secret(&mut conn, hash).await?,
        Find::Id(id) => store::sessions::find_open(&mut conn, *id).await?,
    };
    let Some(session) = session else { return Ok(None) };
    if !is_live(ctx, &session, now) {
        store::sessions::end(&mut conn, session.user_id, session.id, SessionEnd::Expired.as_str(), now).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        store::sessions::touch(&mut conn, session.id, now).await?;
    }
    let Some(user) = store::accounts::find(&mut conn, session.user_id).await? else { return Ok(None) };
    Ok(Some(SignedIn { user, session }))
}

/// Trades a refresh token for a new pair. A token used twice ends its whole session.
pub fn refresh<'a>(ctx: &'a Ctx, refresh_token: &'a str) -> BoxFuture<'a, Result<LoggedIn, ServiceError>> {
    Box::pin(refresh_inner(ctx, refresh_token))
}

async fn refresh_inner(ctx: &Ctx, refresh_token: &str) -> Result<LoggedIn, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let session_id = match store::sessions::use_refresh_token(&mut tx, &tokens::secret_hash(refresh_token), now).await?
    {
        RefreshUse::Fresh(id) => id,
        RefreshUse::Reused(id) => {
            let owner = store::sessions::find_open(&mut tx, id).await?;
            if let Some(s) = &owner {
                store::sessions::end(&mut tx, s.user_id, id, SessionEnd::RefreshTokenReused.as_str(), now).await?;
                audit::record(
                    &mut tx,
                    ctx,
                    Audit::about(AuditAction::RefreshTokenReused, s.user_id).detail(serde_json::json!({"session": id})),
                )
                .await?;
            }
            tx.commit().await?;
            if let Some(s) = owner {
                ctx.session_cache.bump(s.user_id).await;
            }
            return Err(ServiceError::SessionEnded);
        }
        RefreshUse::Unknown => return Err(ServiceError::SessionEnded),
    };
    let Some(session) = store::sessions::find_open(&mut tx, session_id).await? else {
        return Err(ServiceError::SessionEnded);
    };
    if !is_live(ctx, &session, now) {
        store::sessions::end(&mut tx, session.user_id, session.id, SessionEnd::Expired.as_str(), now).await?;
        tx.commit().await?;
        return Err(ServiceError::SessionEnded);
    }
    let Some(user) = store::accounts::find(&mut tx, session.user_id).await? else {
        return Err(ServiceError::SessionEnded);
    };
    let role = role_of(&user)?;
    store::sessions::touch(&mut tx, session.id, now).await?;
    let (refresh, refresh_hash) = tokens::new_secret();
    store::sessions::insert_refresh_token(&mut tx, &refresh_hash, session.id, now).await?;
    let access = access_token(ctx, user.id, session.id, role, now)?;
    tx.commit().await?;
    Ok(LoggedIn { user_id: user.id, role, session_id: session.id, secret: refresh, access_token: Some(access) })
}

/// Ends one of the user's own sessions (logout, or "end that session" from the list).
pub fn end_session<'a>(
    ctx: &'a Ctx,
    user_id: Uuid,
    session_id: Uuid,
    reason: SessionEnd,
    ip: &'a str,
) -> BoxFuture<'a, Result<bool, ServiceError>> {
    Box::pin(end_session_inner(ctx, user_id, session_id, reason, ip))
}

async fn end_session_inner(
    ctx: &Ctx,
    user_id: Uuid,
    session_id: Uuid,
    reason: SessionEnd,
    ip: &str,
) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let ended = store::sessions::end(&mut tx, user_id, session_id, reason.as_str(), now).await?;
    if ended {
        let action = if reason == SessionEnd::Logout { AuditAction::Logout } else { AuditAction::SessionEnded };
        audit::record(
            &mut tx,
            ctx,
            Audit::own(user_id, action, Some(ip)).detail(serde_json::json!({"session": session_id})),
        )
        .await?;
    }
    tx.commit().await?;
    ctx.session_cache.bump(user_id).await;
    Ok(ended)
}
