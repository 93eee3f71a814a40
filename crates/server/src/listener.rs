//! Accepting connections and serving HTTP/1.1 and HTTP/2 on them, with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use signpost_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use crate::app;
use crate::config::ServerConfig;
use crate::snapshot_reload;
use crate::state::AppState;

/// Where a request came from, put in each request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientConnection {
    pub peer: SocketAddr,
    /// Whether the connection is TLS (so absolute links can say https).
    pub secure: bool,
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to the grace period).
///
/// `on_ready` is called with the bound addresses once every listener accepts connections.
pub async fn run(
    store: Arc<dyn Store>,
    config: ServerConfig,
    on_ready: impl FnOnce(&[SocketAddr]),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let snapshot = store
        .load_snapshot()
        .await
        .context("loading the configuration")?;
    info!(
        version = snapshot.version,
        domains = snapshot.domain_count(),
        users = snapshot.user_count(),
        "configuration loaded"
    );
    let state = Arc::new(AppState::new(config.clone(), snapshot)?);
    let reload = tokio::spawn(snapshot_reload::follow_store(state.clone(), store));

    let mut listeners = Vec::new();
    let mut bound = Vec::new();
    for address in &config.listen {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        bound.push(listener.local_addr()?);
        listeners.push(listener);
    }
    for address in &bound {
        info!(%address, "listening for HTTP");
    }
    on_ready(&bound);

    let router = app::router(state.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let graceful = Arc::new(GracefulShutdown::new());
    let mut accept_tasks = Vec::new();
    for listener in listeners {
        accept_tasks.push(tokio::spawn(accept_loop(
            listener,
            router.clone(),
            config.clone(),
            graceful.clone(),
            stop_rx.clone(),
        )));
    }

    shutdown.await;
    info!("shutting down: no new connections, finishing requests in flight");
    let _ = stop_tx.send(true);
    for task in accept_tasks {
        let _ = task.await;
    }
    reload.abort();
    let graceful = Arc::try_unwrap(graceful).unwrap_or_else(|_| GracefulShutdown::new());
    tokio::select! {
        _ = graceful.shutdown() => info!("all connections closed"),
        _ = tokio::time::sleep(config.shutdown_grace) => warn!("grace period over; closing remaining connections"),
    }
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    config: ServerConfig,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_headers(64);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Running out of file descriptors must not spin the loop.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request = request.map(axum::body::Body::new);
                    request.extensions_mut().insert(ClientConnection {
                        peer,
                        secure: false,
                    });
                    app::normalise_path(request)
                });
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
