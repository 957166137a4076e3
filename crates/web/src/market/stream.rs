//! `GET /api/v1/pro/stream`: the pro's live feed as server-sent events. Each event carries its
//! `id:`; a client reconnecting with `Last-Event-ID` gets what it missed in the last ten
//! minutes. A comment every 15 s keeps proxies from closing a quiet stream. A stream ends when
//! the access it was opened with runs out (the access token's expiry, the session's limits) or
//! its session is ended (logout, ended by its owner): the client reconnects with fresh access.

use super::api::OfferView;
use crate::AppState;
use crate::auth::sessions::ApiProUntil;
use crate::problem::ApiError;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use services::market::feed;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use store::pro_events::ProEvent;
use time::OffsetDateTime;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;
use uuid::Uuid;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How often an open stream checks that its session was not ended meanwhile, when nothing wakes it.
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// Who a stream is for and how long it may run.
pub struct Grant {
    pub pro: Uuid,
    pub session: Uuid,
    pub until: OffsetDateTime,
}

struct Reader {
    state: AppState,
    pro: Uuid,
    session: Uuid,
    until: OffsetDateTime,
    /// `until` on the runtime's timer, and when the session is next checked.
    deadline: Instant,
    next_check: Instant,
    after: i64,
    woken: broadcast::Receiver<Arc<Vec<Uuid>>>,
    ready: VecDeque<Event>,
    caught_up: bool,
}

/// Your live feed: `offer.created`, `offer.taken`, `offer.closed`, `wallet.changed`.
#[utoipa::path(
    get,
    path = "/api/v1/pro/stream",
    tag = "pro",
    operation_id = "proStream",
    security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The last event id you received: what came after it is sent first")),
    responses((status = 200, description = "Server-sent events, each with an `id:`; `data:` is JSON \
        (`offer.created`: the offer as `GET /api/v1/pro/offers` lists it; `offer.taken`: `{offer_id, buyers}`; \
        `offer.closed`: `{offer_id, reason}` with `expired`, `sold_out` or `declined`; `wallet.changed`: `{balance_cents, currency}`). \
        The stream ends when the access token expires or the session ends: reconnect with a fresh token and `Last-Event-ID`",
        content_type = "text/event-stream", body = String))
)]
pub async fn stream(State(state): State<AppState>, ApiProUntil(s, until): ApiProUntil, headers: HeaderMap) -> Response {
    events_for(state, Grant { pro: s.user.id, session: s.session.id, until }, &headers).await
}

/// The feed of `grant.pro`, for the API (Bearer) and for the portal's inbox (its session cookie).
pub async fn events_for(state: AppState, grant: Grant, headers: &HeaderMap) -> Response {
    let Grant { pro, session, until } = grant;
    // Subscribe before reading where to start, so nothing falls between the two.
    let woken = state.feed.subscribe();
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let after = match last {
        Some(id) => id.max(0),
        None => match feed::latest(&state, pro).await {
            Ok(id) => id,
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    let deadline = Instant::now() + (until - state.clock.now()).try_into().unwrap_or(Duration::ZERO);
    let next_check = Instant::now() + SESSION_CHECK;
    let reader = Reader {
        state,
        pro,
        session,
        until,
        deadline,
        next_check,
        after,
        woken,
        ready: VecDeque::new(),
        caught_up: false,
    };
    let events = futures::stream::unfold(reader, |mut r| async move {
        loop {
            if let Some(event) = r.ready.pop_front() {
                return Some((Ok::<_, Infallible>(event), r));
            }
            if r.caught_up {
                // Woken by news for this pro, or by the timer: access running out, or the next
                // check of the session.
                tokio::select! {
                    woken = r.woken.recv() => match woken {
                        Ok(pros) if !pros.is_empty() && !pros.contains(&r.pro) => continue,
                        // Lagged: some wake-ups were dropped; the rows tell what they were.
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    },
                    () = tokio::time::sleep_until(r.next_check.min(r.deadline)) => {}
                }
            }
            if r.state.clock.now() >= r.until || Instant::now() >= r.deadline {
                return None;
            }
            if !services::accounts::still_open(&r.state, r.session).await.ok()? {
                return None;
            }
            r.next_check = Instant::now() + SESSION_CHECK;
            r.caught_up = true;
            // On a database error the stream ends; the client reconnects with its Last-Event-ID.
            let rows = feed::since(&r.state, r.pro, r.after).await.ok()?;
            for row in rows {
                r.after = row.id;
                if let Some(event) = render(&r.state, r.pro, row).await {
                    r.ready.push_back(event);
                }
            }
        }
    });
    let mut res = Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies (nginx) pass each event on at once rather than buffering.
    res.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

async fn render(state: &AppState, pro: Uuid, row: ProEvent) -> Option<Event> {
    let data = match (row.kind.as_str(), row.offer_id) {
        (feed::OFFER_CREATED, Some(offer)) => {
            let mut conn = state.pool.acquire().await.ok()?;
            let offer = store::offers::get_for_pro(&mut conn, offer, pro).await.ok()??;
            serde_json::to_value(OfferView::from(offer)).ok()?
        }
        (_, Some(offer)) => {
            let mut data = row.data;
            data.as_object_mut()?.insert("offer_id".into(), offer.to_string().into());
            data
        }
        (_, None) => {
            let mut data = row.data;
            data.as_object_mut()?.insert("currency".into(), "USD".into());
            data
        }
    };
    Some(Event::default().id(row.id.to_string()).event(row.kind).data(data.to_string()))
}
