//! Rendering a page: the template, its assets, and the headers every personal page carries.

use crate::{ApiError, AppState};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    asset_css: &'a str,
    asset_htmx: &'a str,
    asset_js: &'a str,
    title: &'a str,
    lines: &'a [String],
    link: Option<(&'a str, &'a str)>,
}

/// A page that is never cached (personal data, one-time tokens).
pub fn html(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(body) => {
            let mut res = (status, Html(body)).into_response();
            // Pages with personal data or one-time tokens are never cached.
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

pub fn assets(state: &AppState) -> (&str, &str, &str) {
    let a = &state.assets;
    (a.url("app.css"), a.url("vendor/htmx.min.js"), a.url("app.js"))
}

pub fn message(
    state: &AppState,
    status: StatusCode,
    title: &str,
    lines: &[String],
    link: Option<(&str, &str)>,
) -> Response {
    let (asset_css, asset_htmx, asset_js) = assets(state);
    html(&MessagePage { asset_css, asset_htmx, asset_js, title, lines, link }, status)
}
