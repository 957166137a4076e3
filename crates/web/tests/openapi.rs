//! The API's description of itself: the OpenAPI document lists exactly the routes there are, is
//! served cacheably, its docs page loads nothing from elsewhere, and every problem type it can
//! answer has its page.

use reqwest::{Method, StatusCode, header};
use serde_json::Value;
use std::collections::BTreeSet;
use testkit::TestApp;
use web::problem_types::ProblemType;

type R = anyhow::Result<()>;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn documented() -> Vec<(String, Method)> {
    let doc = serde_json::to_value(&web::openapi::document().doc).unwrap_or_default();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.push((path.clone(), m.to_uppercase().parse().unwrap_or(Method::GET)));
            }
        }
    }
    ops
}

/// A documented path with its parameters filled (a fresh id: the route matches, the thing is absent).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { seg.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_every_routed_method_documented() -> R {
    let app = TestApp::spawn().await?;
    let ops = documented();
    assert!(ops.len() >= 19, "{ops:?}");
    let paths: BTreeSet<&str> = ops.iter().map(|(p, _)| p.as_str()).collect();
    for path in paths {
        let url = concrete(path);
        let mine: Vec<&Method> = ops.iter().filter(|(p, _)| p == path).map(|(_, m)| m).collect();
        for m in METHODS {
            let method: Method = m.to_uppercase().parse()?;
            let status = app.request(method.clone(), &url).send().await?.status();
            if mine.contains(&&method) {
                // Routed: whatever it says, it is not "no such route" (405 or, on a path without
                // parameters, 404).
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
                if !path.contains('{') {
                    assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path} is documented but not routed");
                }
            } else {
                // The path is routed (else 404) and this method on it is not (else the document
                // lacks an operation).
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: undocumented method or path");
            }
        }
    }
    Ok(())
}

/// The router cannot be listed at run time, so this holds the other half: `/api/v1` routes are
/// added only through `openapi::routes` (`routes!` takes each path from the handler's own
/// `#[utoipa::path]`, so a route there is a documented route).
#[test]
fn api_routes_are_added_only_where_they_are_documented() -> R {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)?;
                for (n, line) in text.lines().enumerate() {
                    let squashed: String = line.split_whitespace().collect();
                    if squashed.contains("route(\"/api/v1") || squashed.contains("nest(\"/api") {
                        offenders.push(format!("{}:{}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "an /api/v1 route added outside openapi::routes: {offenders:?}");
    Ok(())
}

#[tokio::test]
async fn the_document_is_openapi_3_1_served_with_an_etag_and_revalidated() -> R {
    let app = TestApp::spawn().await?;
    let res = app.get("/api/v1/openapi.json").send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get(header::ETAG).cloned().expect("an ETag");
    assert!(res.headers()[header::CACHE_CONTROL].to_str()?.contains("max-age"));
    let doc: Value = res.json().await?;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Two answer types of one name would share one schema (utoipa keeps the last): each of these
    // operations must still describe its own answer.
    let schema_of = |path: &str| {
        let r = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        doc["components"]["schemas"][r].clone()
    };
    assert!(schema_of("/api/v1/leads/{id}")["properties"].get("verified_at").is_some(), "a lead's own answer");
    assert!(schema_of("/api/v1/pro/leads")["properties"].get("next_cursor").is_some(), "a bought-lead page");
    // Every operation answers its own success and the shared failures.
    for (path, method) in documented() {
        let op = &doc["paths"][&path][method.as_str().to_lowercase()];
        let codes: Vec<&String> = op["responses"].as_object().map(|r| r.keys().collect()).unwrap_or_default();
        assert!(codes.iter().any(|c| c.starts_with('2')), "{method} {path}: no success answer");
        for shared in ["429", "500", "503"] {
            assert!(codes.iter().any(|c| *c == shared), "{method} {path}: {shared} missing");
        }
        if op.get("requestBody").is_some() {
            assert!(codes.iter().any(|c| *c == "422"), "{method} {path}: 422 missing");
        }
    }
    let again = app.get("/api/v1/openapi.json").header(header::IF_NONE_MATCH, etag.clone()).send().await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers().get(header::ETAG), Some(&etag));
    let stale = app.get("/api/v1/openapi.json").header(header::IF_NONE_MATCH, "\"not-it\"").send().await?;
    assert_eq!(stale.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn the_docs_page_loads_only_our_own_scripts_and_styles() -> R {
    let app = TestApp::spawn().await?;
    let res = app.get("/api/docs").send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str()?.to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = res.text().await?;
    assert!(!html.contains("<script>"), "no inline script under the CSP");
    let mut loaded = 0;
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap_or_default();
            assert!(!url.contains("//"), "{url} is not ours");
            if url.starts_with("/static/") {
                let asset = app.get(url).header(header::ACCEPT_ENCODING, "gzip").send().await?;
                assert_eq!(asset.status(), StatusCode::OK, "{url}");
                assert!(!asset.bytes().await?.is_empty(), "{url}");
                loaded += 1;
            }
        }
    }
    assert!(html.contains("swagger-ui-bundle") && loaded >= 5, "{html}");
    Ok(())
}

#[tokio::test]
async fn every_problem_type_has_a_page_and_unknown_ones_do_not() -> R {
    let app = TestApp::spawn().await?;
    for kind in ProblemType::ALL {
        let uri = kind.uri();
        let res = app.get(&uri).send().await?;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        let html = res.text().await?;
        assert!(html.contains(&askama_escape(kind.title())), "{uri} names its title");
    }
    let index = app.get("/problems").send().await?.text().await?;
    assert_eq!(index.matches("href=\"/problems/").count(), ProblemType::ALL.len());
    assert_eq!(app.get("/problems/no-such-thing").send().await?.status(), StatusCode::NOT_FOUND);
    Ok(())
}

/// The handful of characters askama escapes, as the page will show them.
fn askama_escape(s: &str) -> String {
    s.replace('&', "&#38;").replace('\'', "&#39;").replace('"', "&#34;").replace('<', "&#60;").replace('>', "&#62;")
}

#[tokio::test]
async fn a_problem_the_api_answers_points_at_its_page() -> R {
    let app = TestApp::spawn().await?;
    let res = app.post("/api/v1/leads").json(&serde_json::json!({})).send().await?;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await?;
    let page = problem["type"].as_str().unwrap_or_default().to_owned();
    assert_eq!(page, "/problems/validation-error");
    assert_eq!(app.get(&page).send().await?.status(), StatusCode::OK);
    Ok(())
}
