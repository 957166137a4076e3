//! `/api/v1/pro/…`: offers, claims, leads, wallet. Another pro's offer or lead is a 404, never a
//! 403: ids are not confirmed to strangers.

use crate::AppState;
use crate::auth::sessions::ApiPro;
use crate::json::json_body;
use crate::problem::{ApiError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use domain::market::ledger::TransferKind;
use domain::market::{OfferStatus, PurchaseStatus};
use serde::{Deserialize, Serialize};
use services::intake::Idempotency;
use services::market::{self, Page};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const USD: &str = "USD";
const IDEMPOTENCY_KEY_MAX: usize = 255;

fn private(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn answer<T: Serialize>(status: StatusCode, body: &T) -> Response {
    private((status, Json(body)).into_response())
}

fn failed(e: services::ServiceError) -> Response {
    ApiError::from(e).into_response()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Where the previous page ended (its `next_cursor`).
    cursor: Option<String>,
    /// Items per page, 1–100 (default 25).
    limit: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    /// Live offers when absent; otherwise `claimed`, `declined` or `expired`.
    status: Option<String>,
    cursor: Option<String>,
    /// Items per page, 1–100 (default 25).
    limit: Option<String>,
}

fn parse_limit(limit: Option<&str>) -> Result<Option<i64>, ApiError> {
    match limit.filter(|l| !l.is_empty()) {
        None => Ok(None),
        Some(l) => l.parse::<i64>().map(Some).map_err(|_| {
            ApiError::Validation(vec![FieldError { field: "limit", message: "A page holds 1 to 100 items.".into() }])
        }),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Price {
    base_cents: i64,
    urgency_bps: i32,
    exclusive_bps: i32,
    total_cents: i64,
    currency: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Buyers {
    max: i32,
    taken: i32,
}

/// Why this offer came to you: the ranking's components, each 0–1.
#[derive(Debug, Serialize, ToSchema)]
pub struct Why {
    score: f32,
    distance: f32,
    responsiveness: f32,
    rating: f32,
    fairness: f32,
}

/// An offer: the job, the price and the time to claim it; no homeowner contact before the claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    id: Uuid,
    lead_id: Uuid,
    status: OfferStatus,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    category: String,
    urgency: String,
    exclusive: bool,
    zip: String,
    city: String,
    distance_miles: f32,
    description: String,
    price: Price,
    buyers: Buyers,
    why: Why,
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

impl From<store::offers::Offer> for OfferView {
    fn from(o: store::offers::Offer) -> Self {
        Self {
            id: o.id,
            lead_id: o.lead_id,
            status: o.status,
            expires_at: o.expires_at,
            category: o.category,
            urgency: o.urgency,
            exclusive: o.exclusive,
            zip: o.zip,
            city: o.city,
            distance_miles: (o.distance_miles * 10.0).round() / 10.0,
            description: o.description,
            price: Price {
                base_cents: o.base_cents,
                urgency_bps: o.urgency_bps,
                exclusive_bps: o.exclusive_bps,
                total_cents: o.price_cents,
                currency: USD,
            },
            buyers: Buyers { max: o.max_buyers, taken: o.buyers },
            why: Why {
                score: round3(o.score),
                distance: round3(o.score_distance),
                responsiveness: round3(o.score_responsiveness),
                rating: round3(o.score_rating),
                fairness: round3(o.score_fairness),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    items: Vec<OfferView>,
    next_cursor: Option<String>,
}

/// Your offers, newest first: the live ones, or those claimed, declined or expired.
#[utoipa::path(
    get,
    path = "/api/v1/pro/offers",
    tag = "pro",
    operation_id = "listOffers",
    security(("bearer" = [])),
    params(OfferQuery),
    responses((status = 200, description = "A page of offers", body = OfferList))
)]
pub async fn list_offers(State(state): State<AppState>, ApiPro(s): ApiPro, Query(q): Query<OfferQuery>) -> Response {
    let limit = match parse_limit(q.limit.as_deref()) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    match market::offers::list(&state, s.user.id, q.status.as_deref(), q.cursor.as_deref(), limit).await {
        Ok(Page { items, next_cursor }) => {
            answer(StatusCode::OK, &OfferList { items: items.into_iter().map(OfferView::from).collect(), next_cursor })
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Homeowner {
    name: String,
    phone: String,
    email: Option<String>,
}

/// A lead you bought, with the homeowner's contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseView {
    id: Uuid,
    lead_id: Uuid,
    status: PurchaseStatus,
    price_cents: i64,
    #[serde(with = "time::serde::rfc3339")]
    purchased_at: OffsetDateTime,
    homeowner: Homeowner,
    category: String,
    urgency: String,
    zip: String,
    description: String,
}

impl From<&store::purchases::Purchase> for PurchaseView {
    fn from(p: &store::purchases::Purchase) -> Self {
        Self {
            id: p.id,
            lead_id: p.lead_id,
            status: p.status,
            price_cents: p.price_cents,
            purchased_at: p.purchased_at,
            homeowner: Homeowner { name: p.name.clone(), phone: p.phone.clone(), email: p.email.clone() },
            category: p.category.clone(),
            urgency: p.urgency.clone(),
            zip: p.zip.clone(),
            description: p.description.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletBalance {
    balance_cents: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimAnswer {
    purchase: PurchaseView,
    wallet: WalletBalance,
}

/// Buy the lead behind a live offer. Repeating a successful claim answers the same purchase and
/// charges nothing more.
#[utoipa::path(
    post,
    path = "/api/v1/pro/offers/{id}/claim",
    tag = "pro",
    operation_id = "claimOffer",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "An offer's id")),
    responses(
        (status = 200, description = "Bought: the homeowner's contact and your balance", body = ClaimAnswer),
        (status = 402, description = "The wallet does not cover the price (`/problems/insufficient-balance`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No offer of yours has that id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sold out, expired, declined, or over your cap or budget \
            (`/problems/offer-sold-out`, `/problems/offer-expired`, `/problems/offer-declined`, `/problems/cap-reached`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn claim_offer(State(state): State<AppState>, ApiPro(s): ApiPro, Path(id): Path<Uuid>) -> Response {
    match market::claim::claim(&state, s.user.id, id).await {
        Ok(c) => answer(
            StatusCode::OK,
            &ClaimAnswer {
                purchase: PurchaseView::from(&c.purchase),
                wallet: WalletBalance { balance_cents: c.balance.0 },
            },
        ),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// Why, in a few words (optional; helps us send better offers).
    reason: Option<String>,
}

/// Pass on an offer; it goes to the next plumber.
#[utoipa::path(
    post,
    path = "/api/v1/pro/offers/{id}/decline",
    tag = "pro",
    operation_id = "declineOffer",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "An offer's id")),
    request_body(content = Option<DeclineRequest>, content_type = "application/json"),
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "No offer of yours has that id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already bought or expired (`/problems/offer-claimed`, `/problems/offer-expired`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline_offer(
    State(state): State<AppState>,
    ApiPro(s): ApiPro,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The body is optional: an empty one declines without a reason.
    let req = if body.is_empty() {
        DeclineRequest::default()
    } else {
        match json_body::<DeclineRequest>(&headers, &body) {
            Ok(r) => r,
            Err(res) => return res,
        }
    };
    match market::decline::decline(&state, s.user.id, id, req.reason.as_deref()).await {
        Ok(()) => private(StatusCode::NO_CONTENT.into_response()),
        Err(e) => failed(e),
    }
}

/// A bought lead with what came of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoughtLead {
    #[serde(flatten)]
    purchase: PurchaseView,
    quote_cents: Option<i64>,
    job_value_cents: Option<i64>,
    lost_reason: Option<String>,
    /// The lead's dispute, once opened.
    dispute: Option<DisputeView>,
}

/// A dispute of a bought lead.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeView {
    id: Uuid,
    /// `open`, `credited` or `denied`.
    status: String,
    credit_cents: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    decided_at: Option<OffsetDateTime>,
}

impl From<&store::purchases::Purchase> for BoughtLead {
    fn from(p: &store::purchases::Purchase) -> Self {
        Self {
            purchase: PurchaseView::from(p),
            quote_cents: p.quote_cents,
            job_value_cents: p.job_value_cents,
            lost_reason: p.lost_reason.clone(),
            dispute: p.dispute_id.map(|id| DisputeView {
                id,
                status: p.dispute_status.clone().unwrap_or_default(),
                credit_cents: p.dispute_credit_cents,
                decided_at: p.dispute_decided_at,
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoughtLeadList {
    items: Vec<BoughtLead>,
    next_cursor: Option<String>,
}

/// The leads you bought, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/pro/leads",
    tag = "pro",
    operation_id = "listPurchasedLeads",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of bought leads", body = BoughtLeadList))
)]
pub async fn list_leads(State(state): State<AppState>, ApiPro(s): ApiPro, Query(q): Query<ListQuery>) -> Response {
    let limit = match parse_limit(q.limit.as_deref()) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    match market::purchases::list(&state, s.user.id, q.cursor.as_deref(), limit).await {
        Ok(Page { items, next_cursor }) => {
            let items = items.iter().map(BoughtLead::from).collect();
            answer(StatusCode::OK, &BoughtLeadList { items, next_cursor })
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadUpdate {
    /// `contacted`, `quoted`, `won` or `lost`: forwards only.
    #[schema(required = true)]
    status: Option<String>,
    quote_cents: Option<i64>,
    job_value_cents: Option<i64>,
    lost_reason: Option<String>,
}

/// Say how a bought lead is going.
#[utoipa::path(
    patch,
    path = "/api/v1/pro/leads/{id}",
    tag = "pro",
    operation_id = "updatePurchasedLead",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A bought lead's purchase id")),
    request_body(content = LeadUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The lead as it now stands", body = BoughtLead),
        (status = 404, description = "No lead of yours has that id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The lifecycle does not allow that move (`/problems/invalid-transition`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_lead(
    State(state): State<AppState>,
    ApiPro(s): ApiPro,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match json_body::<LeadUpdate>(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    let input = market::purchases::OutcomeInput {
        status: req.status,
        quote_cents: req.quote_cents,
        job_value_cents: req.job_value_cents,
        lost_reason: req.lost_reason,
    };
    match market::purchases::record_outcome(&state, s.user.id, id, input).await {
        Ok(p) => answer(StatusCode::OK, &BoughtLead::from(&p)),
        Err(e) => failed(e),
    }
}

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
    let idem = match headers.get("idempotency-key").map(|v| v.to_str().map(str::trim)) {
        None => None,
        Some(Ok(key)) if !key.is_empty() && key.len() <= IDEMPOTENCY_KEY_MAX => Some(Idempotency {
            principal: format!("pro:{}:top-up", s.user.id),
            key: key.to_owned(),
            request_hash: Sha256::digest(&body).to_vec(),
        }),
        Some(_) => {
            return ApiError::Validation(vec![FieldError {
                field: "Idempotency-Key",
                message: "An Idempotency-Key is 1 to 255 visible characters.".into(),
            }])
            .into_response();
        }
    };
    match market::wallet::top_up(&state, s.user.id, req.amount_cents, idem.as_ref()).await {
        Ok(t) => answer(
            StatusCode::CREATED,
            &TopUpView { id: t.id, status: t.status, amount_cents: t.amount_cents, checkout_url: t.checkout_url },
        ),
        Err(e) => failed(e),
    }
}

/// Why you got a lead, or did not.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhyView {
    lead_id: Uuid,
    offered: bool,
    /// Your ranking's components, 0–1, when you were offered it.
    why: Option<Why>,
    distance_miles: Option<f32>,
    /// The first rule that left you out, when you were not (`outside_area`, `service_not_offered`,
    /// `paused`, `cap_reached`, `budget_reached`, `balance_too_low`, `price_above_max`, `closed_now`,
    /// `ranked_below`, …).
    rule: Option<String>,
}

/// Why you were offered a lead (your score's components) or not (the rule that left you out).
#[utoipa::path(
    get,
    path = "/api/v1/pro/leads/{id}/why",
    tag = "pro",
    operation_id = "whyLead",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A lead's id (`lead_id` of an offer or of a missed lead)")),
    responses(
        (status = 200, description = "The reason", body = WhyView),
        (status = 404, description = "You were not considered for that lead", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn why_lead(State(state): State<AppState>, ApiPro(s): ApiPro, Path(id): Path<Uuid>) -> Response {
    match market::why::why(&state, s.user.id, id).await {
        Ok(market::why::Why::Offered(r)) => answer(
            StatusCode::OK,
            &WhyView {
                lead_id: id,
                offered: true,
                why: Some(Why {
                    score: round3(r.score),
                    distance: round3(r.distance),
                    responsiveness: round3(r.responsiveness),
                    rating: round3(r.rating),
                    fairness: round3(r.fairness),
                }),
                distance_miles: Some((r.distance_miles * 10.0).round() / 10.0),
                rule: None,
            },
        ),
        Ok(market::why::Why::LeftOut(rule)) => answer(
            StatusCode::OK,
            &WhyView { lead_id: id, offered: false, why: None, distance_miles: None, rule: Some(rule) },
        ),
        Err(e) => failed(e),
    }
}

/// A recent lead in your area you did not get, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissedView {
    lead_id: Uuid,
    rule: String,
    category: String,
    urgency: String,
    zip: String,
    city: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MissedList {
    items: Vec<MissedView>,
    next_cursor: Option<String>,
}

/// Leads in your area in the last 30 days that you were not offered, each with the rule that
/// left you out, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/pro/missed",
    tag = "pro",
    operation_id = "listMissedLeads",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of missed leads", body = MissedList))
)]
pub async fn missed(State(state): State<AppState>, ApiPro(s): ApiPro, Query(q): Query<ListQuery>) -> Response {
    let limit = match parse_limit(q.limit.as_deref()) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    match market::why::missed(&state, s.user.id, q.cursor.as_deref(), limit).await {
        Ok(Page { items, next_cursor }) => {
            let items = items
                .into_iter()
                .map(|m| MissedView {
                    lead_id: m.lead_id,
                    rule: m.rule,
                    category: m.category,
                    urgency: m.urgency,
                    zip: m.zip,
                    city: m.city,
                    at: m.at,
                })
                .collect();
            answer(StatusCode::OK, &MissedList { items, next_cursor })
        }
        Err(e) => failed(e),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    /// `wrong_number`, `duplicate`, `outside_area`, `not_a_real_request` or `other`.
    #[schema(required = true)]
    reason: Option<String>,
    /// What happened, in your words (up to 2,000 characters).
    note: Option<String>,
}

/// Dispute a lead you bought, within 14 days. Credited at once when our own data shows it
/// (a duplicate of a request you bought, a ZIP outside your area); otherwise we decide.
#[utoipa::path(
    post,
    path = "/api/v1/pro/leads/{id}/disputes",
    tag = "pro",
    operation_id = "disputeLead",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A bought lead's purchase id")),
    request_body(content = DisputeRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The dispute", body = DisputeView),
        (status = 404, description = "No lead of yours has that id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Past 14 days (`/problems/dispute-window-closed`) or disputed before (`/problems/already-disputed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn dispute_lead(
    State(state): State<AppState>,
    ApiPro(s): ApiPro,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match json_body::<DisputeRequest>(&headers, &body) {
        Ok(r) => r,
        Err(res) => return res,
    };
    match market::disputes::open(&state, s.user.id, id, req.reason.as_deref(), req.note.as_deref()).await {
        Ok(d) => answer(
            StatusCode::CREATED,
            &DisputeView { id: d.id, status: d.status, credit_cents: d.credit_cents, decided_at: d.decided_at },
        ),
        Err(e) => failed(e),
    }
}
