//! Rendering a page: the frame's links (`Chrome`), the template, and the headers every personal
//! page carries.

use crate::{ApiError, AppState};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use domain::account::Role;
use services::accounts::SignedIn;

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Chrome<'a>,
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

/// A page the same for everyone (reference pages), which browsers and caches may keep a while.
pub fn public(page: &impl Template, cache_control: &'static str) -> Response {
    match page.render() {
        Ok(body) => {
            let mut res = Html(body).into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
            res
        }
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

/// What every page's frame (`base.html`) links: the stylesheet and scripts, by their
/// content-hashed URLs; and, on a page for someone signed in, whom the header greets.
#[derive(Debug, Clone, Copy)]
pub struct Chrome<'a> {
    pub css: &'a str,
    pub htmx: &'a str,
    pub js: &'a str,
    pub who: Option<Greeting<'a>>,
}

/// The signed-in header: the person's name linking to their home, and a log-out button.
#[derive(Debug, Clone, Copy)]
pub struct Greeting<'a> {
    pub name: &'a str,
    pub home: &'static str,
    pub csrf: &'a str,
}

impl<'a> Chrome<'a> {
    /// The frame as anyone sees it (also every page a cache may share).
    pub fn of(state: &'a AppState) -> Self {
        let a = &state.assets;
        Self { css: a.url("app.css"), htmx: a.url("vendor/htmx.min.js"), js: a.url("app.js"), who: None }
    }

    /// The frame of a page for `who`: never for a page a cache may share (it holds their CSRF token).
    pub fn signed_in(state: &'a AppState, who: &'a SignedIn) -> Self {
        let home = home_of(who);
        Self { who: Some(Greeting { name: &who.user.name, home, csrf: &who.session.csrf_token }), ..Self::of(state) }
    }
}

/// Where a signed-in person's own pages start: the back office for staff, the portal for pros.
pub fn home_of(who: &SignedIn) -> &'static str {
    match who.role() {
        Some(Role::Staff | Role::Admin) => "/staff",
        _ => "/pro",
    }
}

pub fn message(
    state: &AppState,
    status: StatusCode,
    title: &str,
    lines: &[String],
    link: Option<(&str, &str)>,
) -> Response {
    let chrome = Chrome::of(state);
    html(&MessagePage { chrome, title, lines, link }, status)
}
