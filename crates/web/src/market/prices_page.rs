//! `/staff/prices`: staff set each category's base price and buyers per lead, and the
//! multipliers (a sensitive action: asks for password and code again after five minutes).

use crate::AppState;
use crate::auth::sessions::StaffPage;
use crate::auth::staff_pages::confirm_first;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, CsrfToken, DoneQuery, SignedForm, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::FieldError;
use domain::pricing::show_multiplier;
use serde::Deserialize;
use services::ServiceError;
use services::accounts::{self, SignedIn};
use services::market::prices::{self, PriceInput};
use std::collections::HashMap;

struct Row {
    slug: String,
    name: String,
    base: String,
    max: String,
}

#[derive(Template)]
#[template(path = "staff_prices.html")]
struct PricesPage<'a> {
    chrome: Chrome<'a>,
    rows: Vec<Row>,
    emergency: String,
    within_48h: String,
    flexible: String,
    exclusive: String,
    errors: &'a [FieldError],
    notice: Option<&'a str>,
    csrf: &'a str,
}

/// The form: `csrf`, `base_<slug>`, `max_<slug>` per category, and the four multipliers.
#[derive(Debug, Default, Deserialize)]
pub struct PriceForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

impl CsrfToken for PriceForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn show(State(state): State<AppState>, StaffPage(s): StaffPage, Query(q): Query<DoneQuery>) -> Response {
    let notice = q.done().map(|_| "Prices saved. New offers use them; offers already made keep theirs.");
    render(&state, &s, None, &[], notice, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    typed: Option<&PriceForm>,
    errors: &[FieldError],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let (categories, m) = match prices::list(state).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let field = |name: String, saved: String| typed.and_then(|t| t.fields.get(&name).cloned()).unwrap_or(saved);
    let rows = categories
        .into_iter()
        .map(|c| Row {
            base: field(format!("base_{}", c.slug), format!("{:.2}", c.base_price.0 as f64 / 100.0)),
            max: field(format!("max_{}", c.slug), c.max_buyers.to_string()),
            slug: c.slug,
            name: c.name,
        })
        .collect();
    let page = PricesPage {
        chrome: Chrome::signed_in(state, s),
        rows,
        emergency: field("emergency".into(), show_multiplier(m.emergency_bps)),
        within_48h: field("within_48h".into(), show_multiplier(m.within_48h_bps)),
        flexible: field("flexible".into(), show_multiplier(m.flexible_bps)),
        exclusive: field("exclusive".into(), show_multiplier(m.exclusive_bps)),
        errors,
        notice,
        csrf: &s.session.csrf_token,
    };
    html(&page, status)
}

pub async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffPage(s): StaffPage,
    SignedForm(form): SignedForm<PriceForm>,
) -> Response {
    if !accounts::recently_confirmed(&state, &s) {
        return confirm_first("/staff/prices");
    }
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let categories = form
        .fields
        .keys()
        .filter_map(|k| k.strip_prefix("base_"))
        .map(|slug| (slug.to_owned(), get(&format!("base_{slug}")), get(&format!("max_{slug}"))))
        .collect();
    let input = PriceInput {
        categories,
        emergency: get("emergency"),
        within_48h: get("within_48h"),
        flexible: get("flexible"),
        exclusive: get("exclusive"),
    };
    match prices::update(&state, s.user.id, &ip.to_string(), &input).await {
        Ok(()) => Redirect::to("/staff/prices?done=saved").into_response(),
        Err(ServiceError::Invalid(errors)) => {
            render(&state, &s, Some(&form), &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
