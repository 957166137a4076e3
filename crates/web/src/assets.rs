//! Static assets, embedded in the binary and named by content hash (`app.3f2a9c1b.css`), so a
//! deploy never serves a stale stylesheet and caches may keep them. No CDN, nothing fetched.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

use crate::AppState;

struct Source {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const SOURCES: &[Source] = &[
    Source {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../static/app.css"),
    },
    Source {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/app.js"),
    },
    Source {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../static/favicon.svg"),
    },
    Source {
        name: "vendor/htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/vendor/htmx.min.js"),
    },
];

#[derive(Debug)]
pub struct Assets {
    /// Served name (hashed and plain) → (content type, body).
    by_path: HashMap<String, (&'static str, &'static [u8])>,
    /// Plain name → URL with the hash.
    urls: HashMap<&'static str, String>,
}

impl Assets {
    pub fn embedded() -> Self {
        let mut by_path = HashMap::new();
        let mut urls = HashMap::new();
        for s in SOURCES {
            let hash = hex::encode(&Sha256::digest(s.body)[..4]);
            let hashed = match s.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", s.name),
            };
            by_path.insert(s.name.to_owned(), (s.content_type, s.body));
            by_path.insert(hashed.clone(), (s.content_type, s.body));
            urls.insert(s.name, format!("/static/{hashed}"));
        }
        Self { by_path, urls }
    }

    /// The cache-busted URL of an asset, e.g. `url("app.css")` → `/static/app.3f2a9c1b.css`.
    pub fn url(&self, name: &str) -> &str {
        self.urls
            .get(name)
            .map_or("/static/missing", String::as_str)
    }
}

pub async fn serve_asset(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let Some((content_type, body)) = state.assets.by_path.get(&path).copied() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let max_age = state.settings.http.static_max_age.as_secs();
    let cache = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}
