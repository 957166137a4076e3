//! `/api/docs`: the API reference, drawn in the browser by the vendored Swagger UI from
//! `/api/v1/openapi.json`. Everything it loads is served by us (works with no network).

use crate::AppState;
use crate::html::{self, Chrome};
use askama::Template;
use axum::extract::State;
use axum::response::Response;

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage<'a> {
    chrome: Chrome<'a>,
    swagger_css: &'a str,
    swagger_js: &'a str,
    start_js: &'a str,
}

pub async fn page(State(state): State<AppState>) -> Response {
    let a = &state.assets;
    let page = DocsPage {
        chrome: Chrome::of(&state),
        swagger_css: a.url("vendor/swagger-ui/swagger-ui.css"),
        swagger_js: a.url("vendor/swagger-ui/swagger-ui-bundle.js"),
        start_js: a.url("api-docs.js"),
    };
    html::public(&page, "public, max-age=300")
}
