//! The leads a pro bought: list, outcome, why (or why not), missed, disputes.

use super::{ListQuery, PurchaseView, Why, answer, failed, parse_limit, round3};
use crate::AppState;
use crate::auth::sessions::ApiPro;
use crate::json::json_body;
use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use services::market::{self, Page};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

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
