//! `/health` for the load balancer (probed every 10 s, 5 s timeout) and `/health/live` for the
//! process supervisor. Component checks run concurrently, each bounded well under the probe's
//! timeout, so the answer is always prompt: 200 when everything answers, 503 otherwise.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Serialize)]
struct Component {
    status: &'static str,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    components: BTreeMap<&'static str, Component>,
}

async fn timed<F: Future<Output = Result<(), String>>>(check: F) -> Component {
    let started = Instant::now();
    let result = check.await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000.0 * 100.0).round() / 100.0;
    match result {
        Ok(()) => Component { status: "ok", latency_ms, error: None },
        Err(e) => Component { status: "unavailable", latency_ms, error: Some(e) },
    }
}

pub async fn health(State(state): State<AppState>) -> Response {
    let budget = state.settings.health.component_timeout;
    let pg = timed(store::ping(&state.pool, budget));
    let redis = async {
        match &state.redis {
            None => None,
            Some(r) => Some(
                timed(async {
                    tokio::time::timeout(budget, r.ping()).await.unwrap_or_else(|_| Err("timed out".into()))
                })
                .await,
            ),
        }
    };
    let (pg, redis) = tokio::join!(pg, redis);
    let mut components = BTreeMap::from([("postgres", pg)]);
    if let Some(r) = redis {
        components.insert("redis", r);
    }
    let healthy = components.values().all(|c| c.status == "ok");
    metrics::gauge!("health_status").set(if healthy { 1.0 } else { 0.0 });
    for (name, c) in &components {
        metrics::gauge!("health_component_up", "component" => *name).set(if c.status == "ok" { 1.0 } else { 0.0 });
    }
    if components.get("postgres").is_some_and(|c| c.status != "ok") {
        metrics::counter!("db_connection_errors_total").increment(1);
    }
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body =
        Health { status: if healthy { "ok" } else { "unavailable" }, version: env!("CARGO_PKG_VERSION"), components };
    no_store((status, Json(body)).into_response())
}

/// The process is up and serving; touches nothing else.
pub async fn live() -> Response {
    no_store((StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))).into_response())
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
