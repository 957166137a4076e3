//! A pro's offers: list, claim, decline.

use super::{USD, Why, answer, failed, parse_limit, private, round3};
use crate::AppState;
use crate::auth::sessions::ApiPro;
use crate::json::json_body;
use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::market::{OfferStatus, PurchaseStatus};
use serde::{Deserialize, Serialize};
use services::market::{self, Page};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    /// Live offers when absent; otherwise `claimed`, `declined` or `expired`.
    status: Option<String>,
    cursor: Option<String>,
    /// Items per page, 1–100 (default 25).
    limit: Option<String>,
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
