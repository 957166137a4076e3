//! `/metrics` in Prometheus text format: HTTP traffic by route and status (recorded by
//! `middleware::observe`), the DB pool, the job queue, the audit log's head, process memory and
//! the alert thresholds.

use crate::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// Latency buckets (seconds) around the seed's 500 ms alert and our own p99 targets (fine below
/// 10 ms, where matching a lead must stay under 5).
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = || {
                PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                    .unwrap_or_else(|_| PrometheusBuilder::new())
            };
            // Another recorder may already be installed (a host process); then keep ours private.
            builder().install_recorder().unwrap_or_else(|_| builder().build_recorder().handle())
        })
        .clone()
}

pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    // Only monitoring scrapes this, directly: a request relayed by the load balancer is from outside.
    let allowed = state.settings.http.metrics_allow.iter().any(|net| net.contains(&peer.ip()))
        && !headers.contains_key("x-forwarded-for");
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    record_gauges(&state).await;
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        state.metrics.render(),
    )
        .into_response()
}

async fn record_gauges(state: &AppState) {
    let pool = &state.pool;
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size()));
    metrics::gauge!("db_pool_idle_connections").set(pool.num_idle() as f64);
    metrics::gauge!("db_pool_max_connections").set(f64::from(state.settings.database.max_connections));
    match state.queue.stats().await {
        Ok(s) => {
            for (st, n) in [("due", s.due), ("scheduled", s.scheduled), ("running", s.running), ("dead", s.dead)] {
                metrics::gauge!("jobs_queue_depth", "state" => st).set(n as f64);
            }
            metrics::gauge!("jobs_oldest_due_age_seconds").set(s.oldest_due_age.as_secs_f64());
        }
        Err(e) => tracing::warn!(error = %e, "could not read the job queue for /metrics"),
    }
    if let Err(e) = services::audit::publish_head(&state.ctx).await {
        tracing::warn!(error = %e, "could not read the audit log's head for /metrics");
    }
    if let Some(rss) = resident_memory_bytes() {
        metrics::gauge!("process_resident_memory_bytes").set(rss as f64);
    }
    let a = &state.settings.alerts;
    for (name, value) in [
        ("cpu_percent", a.cpu_percent),
        ("memory_percent", a.memory_percent),
        ("disk_percent", a.disk_percent),
        ("response_time_seconds", a.response_time.as_secs_f64()),
        ("error_rate_percent", a.error_rate_percent),
        ("db_connection_errors", f64::from(a.db_connection_errors)),
        ("window_seconds", a.window.as_secs_f64()),
    ] {
        metrics::gauge!("alert_threshold", "name" => name).set(value);
    }
}

/// Resident set size from `/proc/self/status` (Linux); `None` elsewhere.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
