//! The HTTP foundation as a client sees it: every error is a problem document, headers are set,
//! request ids are kept or made, assets are cache-busted, metrics are recorded.

use axum::Json;
use axum::Router;
use axum::routing::{get, post};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use testkit::TestApp;
use web::{ApiError, AppState, Problem};

type R = anyhow::Result<()>;

/// Probe routes that exercise the machinery the real endpoints will rely on.
fn probes() -> Router<AppState> {
    Router::new()
        .route("/probe/echo", post(|Json(v): Json<Value>| async move { Json(v) }))
        .route(
            "/probe/panic",
            get(|| async {
                if true {
                    panic!("secret internals: password=hunter2")
                }
            }),
        )
        .route("/probe/hang", get(std::future::pending::<()>))
        .route("/probe/limited", get(|| async { ApiError::RateLimited { retry_after_secs: 30 } }))
        .route("/probe/db-conflict", get(|| async { ApiError::from(sqlx::Error::PoolTimedOut) }))
}

async fn problem(res: reqwest::Response) -> anyhow::Result<(StatusCode, Problem)> {
    let status = res.status();
    let ct = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(ct, "application/problem+json", "status {status}");
    let body: Problem = res.json().await?;
    assert_eq!(body.status, status.as_u16());
    assert!(!body.title.is_empty());
    Ok((status, body))
}

#[tokio::test]
async fn health_reports_components_and_live_answers_ok() -> R {
    let app = TestApp::spawn().await?;
    let res = app.get("/health").send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await?;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["components"]["postgres"]["status"], "ok");
    assert!(body["components"].get("redis").is_none(), "redis is not configured");

    let live: Value = app.get("/health/live").send().await?.json().await?;
    assert_eq!(live["status"], "ok");
    Ok(())
}

#[tokio::test]
async fn health_checks_redis_when_configured() -> R {
    let up = TestApp::builder().setting("REDIS_URL", "redis://127.0.0.1:6379/0").spawn().await?;
    let body: Value = up.get("/health").send().await?.json().await?;
    assert_eq!(body["components"]["redis"]["status"], "ok", "{body}");

    // Nothing listens on port 1: Redis is configured but unreachable, so the node is unhealthy.
    let down = TestApp::builder().setting("REDIS_URL", "redis://127.0.0.1:1/0").spawn().await?;
    let res = down.get("/health").send().await?;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await?;
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["components"]["postgres"]["status"], "ok");
    assert_eq!(body["components"]["redis"]["status"], "unavailable");
    Ok(())
}

#[tokio::test]
async fn every_error_status_is_a_problem_document() -> R {
    let app = TestApp::builder()
        .routes(probes())
        .setting("PLUMBERLEADS_BODY_LIMIT_BYTES", "1024")
        .setting("PLUMBERLEADS_REQUEST_TIMEOUT", "20ms")
        .spawn()
        .await?;

    let (s, p) = problem(app.get("/no/such/page").send().await?).await?;
    assert_eq!((s, p.type_.as_str(), p.title.as_str()), (StatusCode::NOT_FOUND, "about:blank", "Not Found"));

    let res = app.request(reqwest::Method::DELETE, "/health").send().await?;
    let allow = res.headers().get("allow").cloned();
    let (s, _) = problem(res).await?;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow.as_ref().and_then(|v| v.to_str().ok()), Some("GET,HEAD"));

    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(4096));
    let res = app.post("/probe/echo").header(CONTENT_TYPE, "application/json").body(big).send().await?;
    assert_eq!(problem(res).await?.0, StatusCode::PAYLOAD_TOO_LARGE);

    // A body that is streamed (no Content-Length) is cut off at the limit all the same.
    let chunks = futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let res = app
        .post("/probe/echo")
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await?;
    assert_eq!(problem(res).await?.0, StatusCode::PAYLOAD_TOO_LARGE);

    let res = app.post("/probe/echo").header(CONTENT_TYPE, "text/plain").body("{}").send().await?;
    assert_eq!(problem(res).await?.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let res = app.post("/probe/echo").header(CONTENT_TYPE, "application/json").body("{not json").send().await?;
    let (s, p) = problem(res).await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(p.detail.unwrap_or_default().contains("JSON"), "the client is told what was wrong");

    let (s, p) = problem(app.get("/probe/panic").send().await?).await?;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!serde_json::to_string(&p)?.contains("hunter2"), "5xx never shows internals");

    let (s, _) = problem(app.get("/probe/hang").send().await?).await?;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);

    let res = app.get("/probe/limited").send().await?;
    assert_eq!(res.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("30"));
    assert_eq!(problem(res).await?.0, StatusCode::TOO_MANY_REQUESTS);

    let (s, _) = problem(app.get("/probe/db-conflict").send().await?).await?;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);

    // A valid request still works through the same stack.
    let ok: Value = app.post("/probe/echo").json(&serde_json::json!({"a": 1})).send().await?.json().await?;
    assert_eq!(ok["a"], 1);
    Ok(())
}

#[tokio::test]
async fn browsers_get_a_friendly_page_instead_of_json() -> R {
    let app = TestApp::spawn().await?;
    let res = app.get("/no/such/page").header(ACCEPT, "text/html,application/xhtml+xml").send().await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers()[CONTENT_TYPE].to_str()?.starts_with("text/html"));
    let html = res.text().await?;
    assert!(html.contains("find that page"), "{html}");
    // The API never answers with HTML, whatever the client accepts.
    let res = app.get("/api/v1/nothing-here").header(ACCEPT, "text/html").send().await?;
    assert_eq!(problem(res).await?.0, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn security_headers_are_on_every_response() -> R {
    let app = TestApp::spawn().await?;
    for path in ["/", "/health", "/does-not-exist"] {
        let res = app.get(path).send().await?;
        let h = res.headers();
        assert!(h["strict-transport-security"].to_str()?.starts_with("max-age="), "{path}");
        let csp = h["content-security-policy"].to_str()?;
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn request_ids_are_honoured_when_plain_and_made_otherwise() -> R {
    let app = TestApp::spawn().await?;
    let res = app.get("/health/live").header("x-request-id", "lb-7f3a9c").send().await?;
    assert_eq!(res.headers()["x-request-id"], "lb-7f3a9c");
    let res = app.get("/health/live").header("x-request-id", "evil\" injected=1").send().await?;
    let made = res.headers()["x-request-id"].to_str()?.to_owned();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    let res = app.get("/health/live").send().await?;
    assert!(uuid::Uuid::parse_str(res.headers()["x-request-id"].to_str()?).is_ok());
    Ok(())
}

#[tokio::test]
async fn home_page_lists_categories_and_links_cache_busted_assets() -> R {
    let app = TestApp::spawn().await?;
    let res = app.get("/").header("accept-encoding", "gzip").send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip", "pages are compressed");
    let html = reqwest::Client::new().get(format!("{}/", app.url)).send().await?.text().await?;
    assert!(html.contains("Burst pipe or emergency leak") && html.contains("/request?category=water-heater-repair"));
    assert!(!html.contains("<script>") && !html.contains("style=\""), "no inline script or style (CSP)");

    let css =
        html.split("href=\"/static/app.").nth(1).and_then(|s| s.split('"').next()).map(|s| format!("/static/app.{s}"));
    let css = css.ok_or_else(|| anyhow::anyhow!("no stylesheet link"))?;
    assert!(css.len() > "/static/app..css".len() + 7, "hashed name: {css}");
    let res = app.get(&css).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "public, max-age=7200");
    let js = html.split("src=\"").filter_map(|s| s.split('"').next()).filter(|s| s.starts_with("/static/")).count();
    assert_eq!(js, 2, "htmx and our script, both served by us");
    assert_eq!(app.get("/static/vendor/htmx.min.js").send().await?.status(), StatusCode::OK);
    assert_eq!(problem(app.get("/static/../Cargo.toml").send().await?).await?.0, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_for_monitoring_only() -> R {
    let app = TestApp::spawn().await?;
    app.get("/health").send().await?;
    app.signup_pro("metrics@example.com", "+16125550199").await?;
    let lead = serde_json::json!({
        "name": "Pat Lee", "phone": "+16125550198", "zip": "55401", "category": "drain-cleaning",
        "urgency": "flexible", "description": "The kitchen sink drains slowly since Monday", "consent": true
    });
    assert_eq!(app.post("/api/v1/leads").json(&lead).send().await?.status(), StatusCode::CREATED);
    app.get("/no/such/page/1").send().await?;
    app.get("/no/such/page/2").send().await?;
    let res = app.get("/metrics").send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[CONTENT_TYPE].to_str()?.starts_with("text/plain; version=0.0.4"));
    let text = res.text().await?;
    // Each series by its exact name and labels, and its value: a count is checked as a count.
    let value =
        |series: &str| text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse::<f64>().ok());
    for (series, expected) in [
        ("http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}", 1.0),
        ("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}", 2.0),
        ("http_requests_total{method=\"POST\",route=\"/api/v1/leads\",status=\"201\"}", 1.0),
        ("http_request_duration_seconds_count{method=\"GET\",route=\"/health\",status=\"200\"}", 1.0),
        ("http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",status=\"200\",le=\"+Inf\"}", 1.0),
        ("alert_threshold{name=\"response_time_seconds\"}", 0.5),
        // What deploy/monitoring's rules and dashboards read.
        ("health_component_up{component=\"postgres\"}", 1.0),
        ("accounts_registered_total{role=\"pro\"}", 1.0),
        ("leads_submitted_total{source=\"web\"}", 1.0),
    ] {
        assert_eq!(value(series), Some(expected), "{series}");
    }
    for series in [
        "jobs_queue_depth{state=\"due\"}",
        "db_pool_connections",
        "jobs_oldest_due_age_seconds",
        "process_resident_memory_bytes",
    ] {
        assert!(text.lines().any(|l| l.starts_with(series)), "missing {series}");
    }
    assert!(value("process_resident_memory_bytes").is_some_and(|b| b > 1e6), "a real figure");
    assert!(!text.contains("/no/such/page"), "unmatched paths never become labels");

    // Relayed by the load balancer = from the internet: not shown.
    let res = app.get("/metrics").header("x-forwarded-for", "203.0.113.9").send().await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A scraper outside the allowed ranges is not shown either.
    let closed = TestApp::builder().setting("PLUMBERLEADS_METRICS_ALLOW", "10.0.0.0/8").spawn().await?;
    assert_eq!(closed.get("/metrics").send().await?.status(), StatusCode::NOT_FOUND);
    Ok(())
}
