//! Signpost's whole request handling without sockets: what every connection runs, from the
//! request's arrival to its answer. The listener uses it for each connection; benchmarks and
//! embedders call it directly.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use signpost_core::Snapshot;
use tower::ServiceExt;

use crate::app;
use crate::config::ServerConfig;
use crate::connection::ClientConnection;
use crate::proxy;
use crate::state::{AppState, SharedState};

/// Prepares a request as it arrives on a connection: who sent it, the forwarded headers a
/// trusted proxy added, and the path normalised for routing.
pub(crate) fn prepare<B>(
    request: hyper::Request<B>,
    connection: ClientConnection,
    state: &AppState,
) -> axum::extract::Request
where
    B: hyper::body::Body<Data = hyper::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let mut request = request.map(Body::new);
    let connection = proxy::apply_forwarded_headers(
        request.headers_mut(),
        connection,
        &state.config.trusted_proxies,
    );
    request.extensions_mut().insert(connection);
    app::normalise_path(request)
}

/// The router and its state, answering requests handed to it in memory.
pub struct InProcess {
    state: SharedState,
    router: crate::app::App,
}

impl InProcess {
    /// A server for `snapshot` with `config`; nothing is bound and no background task runs.
    pub fn new(config: ServerConfig, snapshot: Snapshot) -> anyhow::Result<Self> {
        let state: SharedState = Arc::new(AppState::new(config, snapshot)?);
        let router = app::router(state.clone(), None);
        Ok(Self { state, router })
    }

    /// Answers `request` as if it came over plain HTTP from `peer`.
    pub async fn handle(&self, request: hyper::Request<Body>, peer: SocketAddr) -> Response {
        let connection = ClientConnection {
            peer,
            direct_peer: peer,
            secure: false,
            admin_only: false,
        };
        let request = prepare(request, connection, &self.state);
        match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}
