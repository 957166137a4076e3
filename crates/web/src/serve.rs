//! Serving with graceful shutdown: on the signal, stop accepting, let in-flight requests finish
//! (up to the grace period), then return.

use axum::Router;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    grace: Duration,
) -> std::io::Result<()> {
    // Answers go out as soon as they are written, not held back to be merged with the next.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        res = &mut server => return res,
        () = shutdown.cancelled() => tracing::info!("shutting down: finishing in-flight requests"),
    }
    match tokio::time::timeout(grace, server).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests did not finish within the grace period");
            Ok(())
        }
    }
}
