//! The live feed across app instances. A change writes its `pro_events` rows in its own
//! transaction; after the commit, [`Feed::publish`] names the pros it concerns. One task per
//! node sends those names as coalesced PostgreSQL NOTIFYs (never inside the business
//! transaction, which would serialise commits), and one listens and hands them to this node's
//! open streams, each of which then reads its own pro's new rows. A stream that misses a
//! notification (a lagging receiver, a reconnect) loses nothing: the rows are the truth.

use crate::Ctx;
use futures::future::BoxFuture;
use sqlx::postgres::PgListener;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const CHANNEL: &str = "pro_feed";
/// Pro ids per NOTIFY: well under PostgreSQL's 8,000-byte payload limit.
const IDS_PER_NOTIFY: usize = 200;

pub struct Feed {
    pending: Mutex<Vec<Uuid>>,
    wake: Notify,
    local: broadcast::Sender<Arc<Vec<Uuid>>>,
}

impl Default for Feed {
    fn default() -> Self {
        Self { pending: Mutex::default(), wake: Notify::new(), local: broadcast::channel(1024).0 }
    }
}

impl Feed {
    /// After a commit: these pros have new events.
    pub fn publish(&self, pros: impl IntoIterator<Item = Uuid>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.extend(pros);
        }
        self.wake.notify_one();
    }

    /// Names of pros with new events, as NOTIFYs from any node arrive here; an empty list wakes
    /// every stream (the listener has just (re)connected and may have missed some).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Uuid>>> {
        self.local.subscribe()
    }
}

/// Sends this node's coalesced NOTIFYs until `shutdown`.
pub fn run_sender(ctx: Ctx, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    Box::pin(run_sender_inner(ctx, shutdown))
}

async fn run_sender_inner(ctx: Ctx, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = ctx.feed.wake.notified() => {}
        }
        let mut ids = match ctx.feed.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => continue,
        };
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(IDS_PER_NOTIFY) {
            let payload = chunk.iter().map(Uuid::to_string).collect::<Vec<_>>().join(",");
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&ctx.pool).await
            {
                // Streams still see the rows at their next wake or reconnect.
                tracing::warn!(error = %e, "could not notify the live feed");
            }
        }
    }
}

/// Listens for every node's NOTIFYs and hands them to this node's streams until `shutdown`.
/// After (re)connecting it wakes every stream, as something may have been missed while deaf;
/// a listener that cannot connect retries every `retry_every` (streams still catch up on their
/// next wake or reconnect meanwhile).
pub fn run_listener(ctx: Ctx, retry_every: std::time::Duration, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    Box::pin(run_listener_inner(ctx, retry_every, shutdown))
}

async fn run_listener_inner(ctx: Ctx, retry_every: std::time::Duration, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let mut listener = match PgListener::connect_with(&ctx.pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "live feed: cannot listen; retrying");
                let _ = tokio::time::timeout(retry_every, shutdown.cancelled()).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "live feed: LISTEN failed; retrying");
            let _ = tokio::time::timeout(retry_every, shutdown.cancelled()).await;
            continue;
        }
        // No receiver (no open stream on this node) is not an error.
        let _ = ctx.feed.local.send(Arc::new(Vec::new()));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                n = listener.recv() => match n {
                    Ok(n) => {
                        let ids: Vec<Uuid> = n.payload().split(',').filter_map(|s| Uuid::parse_str(s).ok()).collect();
                        let _ = ctx.feed.local.send(Arc::new(ids));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live feed: connection lost; listening again");
                        break;
                    }
                }
            }
        }
    }
}

/// Everything new for one pro, as the stream sends it.
pub fn since<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    after: i64,
) -> BoxFuture<'a, Result<Vec<store::pro_events::ProEvent>, crate::ServiceError>> {
    Box::pin(since_inner(ctx, pro, after))
}

async fn since_inner(
    ctx: &Ctx,
    pro: Uuid,
    after: i64,
) -> Result<Vec<store::pro_events::ProEvent>, crate::ServiceError> {
    // A reconnecting client gets what it missed in the last ten minutes (PRODUCT.md: at least).
    let not_before = ctx.clock.now() - time::Duration::minutes(10);
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::pro_events::since(&mut conn, pro, after, not_before, 500).await?)
}

pub fn latest<'a>(ctx: &'a Ctx, pro: Uuid) -> BoxFuture<'a, Result<i64, crate::ServiceError>> {
    Box::pin(latest_inner(ctx, pro))
}

async fn latest_inner(ctx: &Ctx, pro: Uuid) -> Result<i64, crate::ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::pro_events::latest(&mut conn, pro).await?)
}

/// The kinds of event a pro's stream carries.
pub const OFFER_CREATED: &str = "offer.created";
pub const OFFER_TAKEN: &str = "offer.taken";
pub const OFFER_CLOSED: &str = "offer.closed";
pub const WALLET_CHANGED: &str = "wallet.changed";

/// Records `kind` for each (offer, pro); returns the pros, for [`Feed::publish`] after commit.
pub fn record<'a>(
    tx: &'a mut sqlx::PgConnection,
    offers: &'a [(Uuid, Uuid)],
    kind: &'a str,
    data: serde_json::Value,
    now: time::OffsetDateTime,
) -> BoxFuture<'a, Result<Vec<Uuid>, sqlx::Error>> {
    Box::pin(record_inner(tx, offers, kind, data, now))
}

async fn record_inner(
    tx: &mut sqlx::PgConnection,
    offers: &[(Uuid, Uuid)],
    kind: &str,
    data: serde_json::Value,
    now: time::OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let rows: Vec<(Uuid, Option<Uuid>)> = offers.iter().map(|&(offer, pro)| (pro, Some(offer))).collect();
    store::pro_events::record(tx, &rows, kind, &data, now).await?;
    Ok(offers.iter().map(|o| o.1).collect())
}

/// Records a pro's new wallet balance.
pub fn wallet_changed<'a>(
    tx: &'a mut sqlx::PgConnection,
    pro: Uuid,
    balance_cents: i64,
    now: time::OffsetDateTime,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(wallet_changed_inner(tx, pro, balance_cents, now))
}

async fn wallet_changed_inner(
    tx: &mut sqlx::PgConnection,
    pro: Uuid,
    balance_cents: i64,
    now: time::OffsetDateTime,
) -> Result<(), sqlx::Error> {
    store::pro_events::record(
        tx,
        &[(pro, None)],
        WALLET_CHANGED,
        &serde_json::json!({ "balance_cents": balance_cents }),
        now,
    )
    .await
}
