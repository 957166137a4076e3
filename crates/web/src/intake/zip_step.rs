//! The request form's ZIP step, answered as it is typed (htmx) and on every re-rendered form:
//! the town, and whether plumbers on PlumberLeads take this kind of job there. When none does the
//! homeowner is told before sending (the request is still taken: it is demand we can show
//! plumbers), and for an emergency, what to do right now.

use crate::AppState;
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use domain::Zip;
use serde::Deserialize;

/// What the ZIP step says (`zip_place.html`).
#[derive(Debug, Clone, Default)]
pub struct ZipAnswer {
    /// "Minneapolis, MN" for a ZIP we know.
    pub place: Option<String>,
    /// The chosen job, as a sentence names it ("water heater repair").
    pub job: Option<String>,
    /// How many plumbers take that job there (known once both are).
    pub taking: Option<i64>,
    pub emergency: bool,
    /// Whether a whole ZIP was looked up: only then does the live answer replace the ZIP's
    /// error (a half-typed ZIP, or a change of job before any ZIP, leaves it as it was).
    pub looked_up: bool,
    /// The ZIP's own error, when the live look-up has one to give.
    pub error: Option<String>,
}

/// The answer for what the form holds now.
pub async fn zip_answer(state: &AppState, zip: &str, category: &str, urgency: &str) -> Result<ZipAnswer, ApiError> {
    let mut answer = ZipAnswer { emergency: urgency == "emergency", ..ZipAnswer::default() };
    let zip = zip.trim();
    if zip.len() < 5 {
        return Ok(answer);
    }
    answer.looked_up = true;
    let known = match Zip::parse(zip) {
        Ok(z) => state.zip(&z).await.map_err(ApiError::from)?.filter(|z| z.active),
        Err(_) => None,
    };
    let Some(z) = known else {
        answer.error = Some(format!("We couldn't find ZIP {zip} — check the 5 digits?"));
        return Ok(answer);
    };
    answer.place = Some(format!("{}, {}", z.city, z.state));
    let categories = state.categories().await.map_err(ApiError::from)?;
    if let Some(c) = categories.iter().find(|c| c.slug == category) {
        answer.job = Some(c.name.to_lowercase());
        answer.taking = Some(services::intake::coverage(state, zip, &c.slug).await?);
    }
    Ok(answer)
}

#[derive(Template)]
#[template(path = "zip_lookup.html")]
struct ZipLookup {
    zip: ZipAnswer,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ZipQuery {
    zip: String,
    category: String,
    urgency: String,
}

/// htmx: the ZIP step's answer as the homeowner types (or picks another job or urgency).
pub async fn zip_lookup(State(state): State<AppState>, Query(q): Query<ZipQuery>) -> Result<Response, ApiError> {
    let zip = zip_answer(&state, &q.zip, &q.category, &q.urgency).await?;
    let html = ZipLookup { zip }.render().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}
