//! `/pro/offers`: the plumber's working view — live offers with the price large and the time
//! left counting down, one-tap claim, the wallet, and the leads bought with the homeowner's
//! contact. The page keeps itself current over the live feed (`/pro/offers/events`): any event
//! fetches the live part again (`?part=live`), so offers appear, buyer counts move and sold-out
//! offers leave without a reload; without JavaScript, a reload shows the same.

use crate::AppState;
use crate::auth::sessions::ProPage;
use crate::html::{Chrome, CsrfForm, SignedForm, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Cents;
use serde::Deserialize;
use services::market::{self, Page};
use services::{Refusal, ServiceError};
use time::OffsetDateTime;
use uuid::Uuid;

/// An offer as the inbox shows it.
struct OfferCard {
    id: Uuid,
    title: String,
    place: String,
    distance: String,
    description: String,
    price: String,
    exclusive: bool,
    emergency: bool,
    taken: i32,
    max: i32,
    /// RFC 3339, for the countdown.
    expires_at: String,
    minutes_left: i64,
}

struct LeadCard {
    title: String,
    place: String,
    description: String,
    price: String,
    name: String,
    tel: String,
    phone: String,
    email: Option<String>,
    status: &'static str,
    /// What the homeowner added later (asked again, then tapped "Add this").
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "inbox_live.html")]
struct Live<'a> {
    offers: &'a [OfferCard],
    balance: String,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct Inbox<'a> {
    chrome: Chrome<'a>,
    inbox_js: &'a str,
    /// The live part, rendered by its own template (also served alone for the page's refresh).
    live: String,
    leads: &'a [LeadCard],
    notice: Option<&'a str>,
    csrf: &'a str,
    /// The top-up amount as typed, kept when it was refused.
    amount: &'a str,
    amount_invalid: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InboxQuery {
    part: String,
    done: String,
}

fn category_name(categories: &[store::categories::Category], slug: &str) -> String {
    categories.iter().find(|c| c.slug == slug).map_or_else(|| slug.to_owned(), |c| c.name.clone())
}

async fn live_part(state: &AppState, pro: Uuid, now: OffsetDateTime) -> Result<(Vec<OfferCard>, String), ServiceError> {
    let Page { items, .. } = market::offers::list(state, pro, None, None, Some(market::MAX_PAGE)).await?;
    let categories = state.categories().await?;
    let cards = items
        .into_iter()
        .map(|o| OfferCard {
            id: o.id,
            title: category_name(&categories, &o.category),
            place: format!("{} {}", o.city, o.zip),
            distance: format!("{:.1} mi away", o.distance_miles),
            description: o.description,
            price: Cents(o.price_cents).to_string(),
            exclusive: o.exclusive,
            emergency: o.urgency == "emergency",
            taken: o.buyers,
            max: o.max_buyers,
            expires_at: o.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            minutes_left: (o.expires_at - now).whole_minutes().max(0),
        })
        .collect();
    let balance = market::wallet::balance(state, pro).await?.to_string();
    Ok((cards, balance))
}

pub async fn page(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<InboxQuery>) -> Response {
    let notice = match q.done.as_str() {
        "claimed" => Some("It's yours. The homeowner's number is below — call them now."),
        "declined" => Some("Passed. It goes to the next plumber."),
        "topped_up" => Some("Added to your wallet."),
        _ => None,
    };
    render(&state, &s, notice, StatusCode::OK, q.part == "live").await
}

async fn render(
    state: &AppState,
    s: &services::accounts::SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    live_only: bool,
) -> Response {
    render_with(state, s, notice, status, live_only, None).await
}

/// The page; `refused_amount`: a top-up amount that was refused, shown as typed.
async fn render_with(
    state: &AppState,
    s: &services::accounts::SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    live_only: bool,
    refused_amount: Option<&str>,
) -> Response {
    let now = state.clock.now();
    let (offers, balance) = match live_part(state, s.user.id, now).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let live = Live { offers: &offers, balance, csrf: &s.session.csrf_token };
    if live_only {
        return html(&live, status);
    }
    let leads = match leads(state, s.user.id).await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let live = match live.render() {
        Ok(h) => h,
        Err(e) => return ApiError::Internal(e.into()).into_response(),
    };
    let chrome = Chrome::signed_in(state, s);
    let page = Inbox {
        chrome,
        inbox_js: state.assets.url("inbox.js"),
        live,
        leads: &leads,
        notice,
        csrf: &s.session.csrf_token,
        amount: refused_amount.unwrap_or("100"),
        amount_invalid: if refused_amount.is_some() { "true" } else { "false" },
    };
    html(&page, status)
}

async fn leads(state: &AppState, pro: Uuid) -> Result<Vec<LeadCard>, ServiceError> {
    let Page { items, .. } = market::purchases::list(state, pro, None, Some(market::MAX_PAGE)).await?;
    let categories = state.categories().await?;
    let ids: Vec<Uuid> = items.iter().map(|p| p.lead_id).collect();
    let mut conn = state.pool.acquire().await?;
    let mut notes: std::collections::HashMap<Uuid, Vec<String>> = std::collections::HashMap::new();
    for n in store::lead_notes::added_to(&mut conn, &ids).await? {
        notes.entry(n.lead_id).or_default().push(n.body);
    }
    Ok(items
        .into_iter()
        .map(|p| {
            let phone = domain::lead::UsPhone::parse(&p.phone).ok();
            LeadCard {
                title: category_name(&categories, &p.category),
                place: p.zip.clone(),
                description: p.description,
                price: Cents(p.price_cents).to_string(),
                name: p.name,
                tel: p.phone.clone(),
                phone: phone.map_or(p.phone, |ph| ph.national()),
                email: p.email,
                status: p.status.as_str(),
                notes: notes.remove(&p.lead_id).unwrap_or_default(),
            }
        })
        .collect())
}

/// The inbox's live feed, signed in by the session cookie (EventSource sends no headers).
pub async fn events(State(state): State<AppState>, ProPage(s): ProPage, headers: HeaderMap) -> Response {
    let until = services::accounts::live_until(&state, &s.session);
    super::stream::events_for(state, super::stream::Grant { pro: s.user.id, session: s.session.id, until }, &headers)
        .await
}

fn refusal_text(r: Refusal) -> &'static str {
    match r {
        Refusal::SoldOut => "Other plumbers bought this lead first. Nothing was charged.",
        Refusal::Expired => "This offer has expired. Nothing was charged.",
        Refusal::Declined => "You passed on this offer, so it can't be bought now.",
        Refusal::CapReached => "That would go past your daily cap or weekly budget. Nothing was charged.",
        Refusal::InsufficientBalance => "Your wallet doesn't cover this lead. Top up, then claim it while it's live.",
    }
}

pub async fn claim(
    State(state): State<AppState>,
    ProPage(s): ProPage,
    Path(id): Path<Uuid>,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match market::claim::claim(&state, s.user.id, id).await {
        Ok(_) => Redirect::to("/pro/offers?done=claimed#leads").into_response(),
        Err(ServiceError::Refused(r)) => render(&state, &s, Some(refusal_text(r)), StatusCode::CONFLICT, false).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn decline(
    State(state): State<AppState>,
    ProPage(s): ProPage,
    Path(id): Path<Uuid>,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match market::decline::decline(&state, s.user.id, id, None).await {
        Ok(()) => Redirect::to("/pro/offers?done=declined").into_response(),
        Err(ServiceError::Refused(r)) => render(&state, &s, Some(refusal_text(r)), StatusCode::CONFLICT, false).await,
        Err(ServiceError::Conflict(_)) => Redirect::to("/pro/offers#leads").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TopUpForm {
    csrf: String,
    amount: String,
}

impl crate::html::CsrfToken for TopUpForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Adds money to the wallet. With the sandbox provider it is there at once; with a real one the
/// pro is sent to its checkout and the money arrives with the provider's confirmation.
pub async fn top_up(
    State(state): State<AppState>,
    ProPage(s): ProPage,
    SignedForm(form): SignedForm<TopUpForm>,
) -> Response {
    let refused = "Your wallet was not topped up: see the amount below.";
    let cents = match domain::account::profile::parse_dollars(&form.amount) {
        Ok(Some(c)) => c.0,
        _ => {
            return render_with(&state, &s, Some(refused), StatusCode::UNPROCESSABLE_ENTITY, false, Some(&form.amount))
                .await;
        }
    };
    match market::wallet::top_up(&state, s.user.id, cents, None).await {
        Ok(t) if t.status == "succeeded" => Redirect::to("/pro/offers?done=topped_up").into_response(),
        Ok(t) => Redirect::to(t.checkout_url.as_deref().unwrap_or("/pro/offers")).into_response(),
        Err(ServiceError::Invalid(_)) => {
            render_with(&state, &s, Some(refused), StatusCode::UNPROCESSABLE_ENTITY, false, Some(&form.amount)).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
