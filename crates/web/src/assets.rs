//! Static assets, embedded in the binary and named by content hash (`app.3f2a9c1b.css`), so a
//! deploy never serves a stale stylesheet and caches may keep them. No CDN, nothing fetched.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

use crate::AppState;
use crate::encoded::Encoded;

struct Source {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// Compressed ahead of time (`gzip -9 -n`), for files too large to compress at every start.
    gzip: Option<&'static [u8]>,
}

const JS: &str = "text/javascript; charset=utf-8";

const SOURCES: &[Source] = &[
    Source {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../static/app.css"),
        gzip: None,
    },
    Source { name: "app.js", content_type: JS, body: include_bytes!("../static/app.js"), gzip: None },
    Source {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../static/favicon.svg"),
        gzip: None,
    },
    Source {
        name: "vendor/htmx.min.js",
        content_type: JS,
        body: include_bytes!("../static/vendor/htmx.min.js"),
        gzip: None,
    },
    Source { name: "api-docs.js", content_type: JS, body: include_bytes!("../static/api-docs.js"), gzip: None },
    Source { name: "inbox.js", content_type: JS, body: include_bytes!("../static/inbox.js"), gzip: None },
    Source {
        name: "vendor/swagger-ui/swagger-ui-bundle.js",
        content_type: JS,
        body: include_bytes!("../static/vendor/swagger-ui/swagger-ui-bundle.js"),
        gzip: Some(include_bytes!("../static/vendor/swagger-ui/swagger-ui-bundle.js.gz")),
    },
    Source {
        name: "vendor/swagger-ui/swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../static/vendor/swagger-ui/swagger-ui.css"),
        gzip: Some(include_bytes!("../static/vendor/swagger-ui/swagger-ui.css.gz")),
    },
];

#[derive(Debug)]
pub struct Assets {
    /// Served name (hashed and plain) → (content type, body in every encoding).
    by_path: HashMap<String, (&'static str, Arc<Encoded>)>,
    /// Plain name → URL with the hash.
    urls: HashMap<&'static str, String>,
}

impl Assets {
    /// Built (hashed and compressed) once per process.
    pub fn shared() -> Arc<Self> {
        static SHARED: std::sync::OnceLock<Arc<Assets>> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| Arc::new(Self::embedded())).clone()
    }

    fn embedded() -> Self {
        let mut by_path = HashMap::new();
        let mut urls = HashMap::new();
        for s in SOURCES {
            // The smaller form names the content as well as the whole does, and costs less to hash.
            let hash = hex::encode(&Sha256::digest(s.gzip.unwrap_or(s.body))[..4]);
            let hashed = match s.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", s.name),
            };
            let body = Arc::new(match s.gzip {
                Some(gz) => Encoded::precompressed(Bytes::from_static(s.body), Bytes::from_static(gz)),
                None => Encoded::new(Bytes::from_static(s.body)),
            });
            by_path.insert(s.name.to_owned(), (s.content_type, body.clone()));
            by_path.insert(hashed.clone(), (s.content_type, body));
            urls.insert(s.name, format!("/static/{hashed}"));
        }
        Self { by_path, urls }
    }

    /// The cache-busted URL of an asset, e.g. `url("app.css")` → `/static/app.3f2a9c1b.css`.
    pub fn url(&self, name: &str) -> &str {
        self.urls.get(name).map_or("/static/missing", String::as_str)
    }
}

pub async fn serve_asset(State(state): State<AppState>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some((content_type, body)) = state.assets.by_path.get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let max_age = state.settings.http.static_max_age.as_secs();
    let cache =
        HeaderValue::from_str(&format!("public, max-age={max_age}")).unwrap_or(HeaderValue::from_static("no-cache"));
    let mut res = body.response(&headers, HeaderValue::from_static(content_type));
    res.headers_mut().insert(header::CACHE_CONTROL, cache);
    res
}
