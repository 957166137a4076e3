//! A pro's wallet: balance, entries, top-ups.

use super::{ListQuery, USD, answer, failed, parse_limit};
use crate::AppState;
use crate::auth::sessions::ApiPro;
use crate::json::json_body;
use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::market::ledger::TransferKind;
use serde::{Deserialize, Serialize};
use services::market::{self, Page};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct Wallet {
    balance_cents: i64,
    currency: &'static str,
}

/// Your wallet's balance.
#[utoipa::path(
    get,
    path = "/api/v1/pro/wallet",
    tag = "pro",
    operation_id = "getWallet",
    security(("bearer" = [])),
    responses((status = 200, description = "The balance", body = Wallet))
)]
pub async fn wallet(State(state): State<AppState>, ApiPro(s): ApiPro) -> Response {
    match market::wallet::balance(&state, s.user.id).await {
        Ok(b) => answer(StatusCode::OK, &Wallet { balance_cents: b.0, currency: USD }),
        Err(e) => failed(e),
    }
}

/// One movement of your wallet, signed from your side.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    id: String,
    kind: TransferKind,
    amount_cents: i64,
    balance_after_cents: i64,
    /// The top-up's or the purchase's id.
    reference: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryList {
    items: Vec<EntryView>,
    next_cursor: Option<String>,
}

/// Your wallet's entries, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/pro/wallet/entries",
    tag = "pro",
    operation_id = "listWalletEntries",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of entries", body = EntryList))
)]
pub async fn wallet_entries(State(state): State<AppState>, ApiPro(s): ApiPro, Query(q): Query<ListQuery>) -> Response {
    let limit = match parse_limit(q.limit.as_deref()) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    match market::wallet::entries(&state, s.user.id, q.cursor.as_deref(), limit).await {
        Ok(Page { items, next_cursor }) => {
            let items = items
                .into_iter()
                .map(|e| EntryView {
                    id: e.id.to_string(),
                    kind: e.kind,
                    amount_cents: e.amount_cents,
                    balance_after_cents: e.balance_after_cents,
                    reference: e.reference,
                    created_at: e.created_at,
                })
                .collect();
            answer(StatusCode::OK, &EntryList { items, next_cursor })
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpRequest {
    /// 2500 to 500000 (USD cents).
    #[schema(minimum = 2500, maximum = 500000)]
    amount_cents: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopUpView {
    id: Uuid,
    /// `succeeded` at once with the sandbox provider; `pending` until the provider confirms.
    status: String,
    amount_cents: i64,
    /// Where to pay.
    checkout_url: Option<String>,
}

/// Add money to your wallet. With the sandbox payments provider it succeeds at once.
#[utoipa::path(
    post,
    path = "/api/v1/pro/wallet/top-ups",
    tag = "pro",
    operation_id = "createTopUp",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key answer the same top-up")),
    request_body(content = TopUpRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The top-up", body = TopUpView),
        (status = 422, description = "The amount is outside 25.00–5,000.00 (`/problems/validation-error`), \
            or the Idempotency-Key was used with another body (`/problems/idempotency-key-reused`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_top_up(
    State(state): State<AppState>,
    ApiPro(s): ApiPro,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match json_body::<TopUpRequest>(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    let idem = match crate::json::idempotency_key(&headers, || format!("pro:{}:top-up", s.user.id), &body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    match market::wallet::top_up(&state, s.user.id, req.amount_cents, idem.as_ref()).await {
        Ok(t) => answer(
            StatusCode::CREATED,
            &TopUpView { id: t.id, status: t.status, amount_cents: t.amount_cents, checkout_url: t.checkout_url },
        ),
        Err(e) => failed(e),
    }
}
