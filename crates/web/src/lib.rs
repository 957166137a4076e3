//! The HTTP surface. Handlers are thin: parse at the edge, call `store`/`domain`, render.

mod assets;
pub mod auth;
pub mod client_ip;
mod encoded;
mod health;
pub mod intake;
mod json;
mod metrics_route;
mod middleware;
mod pages;
pub mod partners;
pub mod pro_profile;
pub mod problem;
pub mod rate_limit;
mod router;
mod serve;
pub mod signing;
mod state;

pub use assets::Assets;
pub use problem::{ApiError, FieldError, Problem};
pub use router::{router, router_with};
pub use serve::serve;
pub use state::{AppState, RedisCheck};

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn metrics_handle() -> metrics_exporter_prometheus::PrometheusHandle {
    metrics_route::handle()
}
