//! The HTTP surface. Handlers are thin: parse at the edge, call one use case in `services`,
//! render.

mod api_docs;
mod assets;
pub mod auth;
pub mod client_ip;
mod encoded;
mod health;
mod html;
mod info_pages;
pub mod intake;
mod json;
pub mod market;
mod metrics_route;
mod middleware;
pub mod openapi;
mod pages;
pub mod pro_profile;
pub mod problem;
pub mod problem_types;
mod router;
mod serve;
mod sms_webhook;
mod state;

pub use assets::Assets;
pub use problem::{ApiError, FieldError, Problem};
pub use router::{probes_router, router, router_with};
pub use serve::serve;
pub use state::AppState;

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn metrics_handle() -> metrics_exporter_prometheus::PrometheusHandle {
    metrics_route::handle()
}
