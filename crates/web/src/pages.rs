//! Server-rendered pages (askama: compile-time templates, HTML-escaped by default).

use crate::auth::sessions::MaybeSignedIn;
use crate::html::{Chrome, html};
use crate::{AppState, problem::ApiError};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use store::categories::Category;

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    chrome: Chrome<'a>,
    categories: &'a [Category],
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome<'a>,
    status: u16,
    title: &'a str,
    detail: &'a str,
}

pub async fn home(
    State(state): State<AppState>,
    MaybeSignedIn(who): MaybeSignedIn,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Someone signed in sees their own header; everyone else shares one cached rendering (and a
    // visitor without a session cookie costs no session look-up).
    if let Some(who) = &who {
        let categories = state.categories().await?;
        return Ok(html(&Home { chrome: Chrome::signed_in(&state, who), categories: &categories }, StatusCode::OK));
    }
    let page = state
        .cached_page("home", || async {
            let categories = state.categories().await?;
            let page = Home { chrome: Chrome::of(&state), categories: &categories };
            page.render().map_err(|e| ApiError::Internal(e.into()))
        })
        .await?;
    Ok(page.response(&headers, HeaderValue::from_static("text/html; charset=utf-8")))
}

/// The friendly page a browser gets instead of a problem document.
pub fn error_page(state: &AppState, status: StatusCode) -> Response {
    let (title, detail) = match status {
        StatusCode::NOT_FOUND => ("We couldn't find that page", "The link may be old or mistyped."),
        StatusCode::TOO_MANY_REQUESTS => {
            ("Slow down a little", "You've tried that a lot just now. Please wait a minute and try again.")
        }
        s if s.is_server_error() => (
            "Something went wrong on our side",
            "Please try again in a minute. If water is coming in, turn off the main water valve now.",
        ),
        _ => ("That didn't work", "Please go back and try again."),
    };
    let page = ErrorPage { chrome: Chrome::of(state), status: status.as_u16(), title, detail };
    render(&page, status).unwrap_or_else(|_| status.into_response())
}

fn render(page: &impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| ApiError::Internal(e.into()))?;
    Ok((status, Html(html)).into_response())
}
