//! Accepting connections (plain and TLS, PROXY protocol from trusted balancers) and serving
//! HTTP/1.1 and HTTP/2 on them, with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use signpost_store::Store;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use crate::config::ServerConfig;
use crate::connection::ClientConnection;
use crate::deadline::{CoarseClock, ConnectionDeadline};
use crate::state::{AppState, SharedState};
use crate::{acme, app, certificates, proxy, snapshot_reload, tls};

/// The addresses each kind of listener is bound to.
#[derive(Debug, Clone, Default)]
pub struct BoundAddresses {
    pub http: Vec<SocketAddr>,
    pub https: Vec<SocketAddr>,
    /// Listeners for the administration surface alone.
    pub admin: Vec<SocketAddr>,
    pub admin_tls: Vec<SocketAddr>,
    /// Where to create the first administrator, while there is none.
    pub setup_link: Option<String>,
}

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const PROXY_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Makes the setup link on the first of the given base URLs, while there is no administrator.
pub type SetupLink = Box<dyn FnOnce(&[String]) -> Option<String> + Send>;

/// The administration surface, made by its own crate over the prepared server's state: served
/// beside the discovery endpoints, or alone on `config.admin.listen` when that is set.
pub struct Administration {
    pub router: axum::Router,
    pub setup_link: SetupLink,
}

/// A server with its configuration loaded, not yet listening.
pub struct Prepared {
    store: Arc<dyn Store>,
    config: ServerConfig,
    state: SharedState,
}

impl Prepared {
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// Loads the configuration and the certificates, and says in the store that this instance runs.
pub async fn prepare(store: Arc<dyn Store>, config: ServerConfig) -> anyhow::Result<Prepared> {
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
    let state: SharedState = Arc::new(AppState::new(config.clone(), snapshot)?);
    crate::freed_memory::give_back();
    state.sign_ins.known.attach(store.clone());
    certificates::reload(&state, store.as_ref()).await?;
    crate::instance::register(&state, store.as_ref()).await;
    Ok(Prepared {
        store,
        config,
        state,
    })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to the grace period).
///
/// `on_ready` is called with the bound addresses once every listener accepts connections.
pub async fn serve(
    prepared: Prepared,
    administration: Option<Administration>,
    on_ready: impl FnOnce(&BoundAddresses),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Prepared {
        store,
        config,
        state,
    } = prepared;
    let admin_enabled = administration.is_some();
    let separate_admin = admin_enabled && config.admin.is_separate();

    let mut bound = BoundAddresses::default();
    let mut listeners = Vec::new();
    for address in &config.listen {
        let listener = bind(address).await?;
        bound.http.push(listener.local_addr()?);
        listeners.push((listener, None, false));
    }
    if admin_enabled {
        for address in &config.admin.listen {
            let listener = bind(address).await?;
            bound.admin.push(listener.local_addr()?);
            listeners.push((listener, None, true));
        }
    }
    let admin_tls = if admin_enabled {
        config.admin.listen_tls.as_slice()
    } else {
        &[]
    };
    if !config.listen_tls.is_empty() || !admin_tls.is_empty() {
        let acceptor = TlsAcceptor::from(Arc::new(tls::server_config(state.certificates.clone())?));
        for address in &config.listen_tls {
            let listener = bind(address).await?;
            bound.https.push(listener.local_addr()?);
            listeners.push((listener, Some(acceptor.clone()), false));
        }
        for address in admin_tls {
            let listener = bind(address).await?;
            bound.admin_tls.push(listener.local_addr()?);
            listeners.push((listener, Some(acceptor.clone()), true));
        }
    }
    for address in &bound.http {
        info!(%address, "listening for HTTP");
    }
    for address in &bound.https {
        info!(%address, "listening for HTTPS");
    }
    for address in &bound.admin {
        info!(%address, "listening for administration (HTTP)");
    }
    for address in &bound.admin_tls {
        info!(%address, "listening for administration (HTTPS)");
    }
    if !bound.https.is_empty() && state.certificates.index().is_empty() {
        warn!(
            "HTTPS is on but there is no certificate yet: add one with `signpost cert add` or turn on ACME"
        );
    }

    let mut background = vec![
        tokio::spawn(snapshot_reload::follow_store(state.clone(), store.clone())),
        tokio::spawn(snapshot_reload::watch_health(state.clone(), store.clone())),
        tokio::spawn(certificates::watch(state.clone(), store.clone())),
    ];
    background.push(tokio::spawn(crate::audit_retention::prune(
        store.clone(),
        config.audit_retention,
    )));
    if store.is_shared() && config.recent_requests > 0 {
        background.push(tokio::spawn(crate::recent_share::share(
            state.clone(),
            store.clone(),
        )));
    }
    if let Some(settings) = config.acme.clone() {
        background.push(tokio::spawn(acme::run(
            state.clone(),
            store.clone(),
            settings,
        )));
    }
    let (admin_routes, setup_link) = match administration {
        Some(Administration { router, setup_link }) => (Some(router), Some(setup_link)),
        None => (None, None),
    };
    if let Some(setup_link) = setup_link {
        let bases: Vec<String> = if separate_admin {
            bound
                .admin_tls
                .iter()
                .map(|a| format!("https://{a}"))
                .chain(bound.admin.iter().map(|a| format!("http://{a}")))
                .collect()
        } else {
            bound
                .https
                .iter()
                .map(|a| format!("https://{a}"))
                .chain(bound.http.iter().map(|a| format!("http://{a}")))
                .take(1)
                .collect()
        };
        bound.setup_link = setup_link(&bases);
    }
    on_ready(&bound);

    let router = app::router(
        state.clone(),
        if separate_admin {
            None
        } else {
            admin_routes.clone()
        },
    );
    let admin_router = admin_routes.map(|routes| app::admin_only_router(state.clone(), routes));
    let (stop_tx, stop_rx) = watch::channel(false);
    let graceful = Arc::new(GracefulShutdown::new());
    let clock = CoarseClock::start();
    let mut accept_tasks = Vec::new();
    for (listener, acceptor, admin_only) in listeners {
        let app = match (&admin_router, admin_only) {
            (Some(admin_router), true) => admin_router.clone(),
            _ => router.clone(),
        };
        accept_tasks.push(tokio::spawn(accept_loop(
            listener,
            Role {
                acceptor,
                admin_only,
            },
            app,
            state.clone(),
            graceful.clone(),
            clock.clone(),
            stop_rx.clone(),
        )));
    }

    shutdown.await;
    info!("shutting down: no new connections, finishing requests in flight");
    let _ = stop_tx.send(true);
    for task in accept_tasks {
        let _ = task.await;
    }
    for task in background {
        task.abort();
    }
    crate::instance::deregister(&state, store.as_ref()).await;
    // The accept loops have ended, so this is the last handle; connections hold watchers.
    let graceful = Arc::try_unwrap(graceful).unwrap_or_else(|_| GracefulShutdown::new());
    tokio::select! {
        _ = graceful.shutdown() => info!("all connections closed"),
        _ = tokio::time::sleep(config.shutdown_grace) => warn!("grace period over; closing remaining connections"),
    }
    Ok(())
}

async fn bind(address: &SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).await.with_context(|| {
        if address.port() < 1024 {
            format!(
                "cannot listen on {address} (ports below 1024 need root or CAP_NET_BIND_SERVICE; see the README)"
            )
        } else {
            format!("cannot listen on {address}")
        }
    })
}

/// What a listener is: TLS or not, and whether it serves the administration alone.
struct Role {
    acceptor: Option<TlsAcceptor>,
    admin_only: bool,
}

async fn accept_loop(
    listener: TcpListener,
    role: Role,
    router: crate::app::App,
    state: SharedState,
    graceful: Arc<GracefulShutdown>,
    clock: Arc<CoarseClock>,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The header timeout is enforced by `deadline`, not by hyper (see there).
    builder
        .http1()
        .max_headers(64)
        // Request line and headers beyond 16 KiB are refused (431).
        .max_buf_size(16 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64);
    let builder = Arc::new(builder);
    let slots = Arc::new(tokio::sync::Semaphore::new(
        state.config.max_connections.max(1),
    ));
    loop {
        // At the connection limit, wait for one to end before accepting another.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (mut stream, direct_peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Running out of file descriptors must not spin the loop.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let state = state.clone();
        let acceptor = role.acceptor.clone();
        let admin_only = role.admin_only;
        let builder = builder.clone();
        let graceful = graceful.watcher();
        let deadline = ConnectionDeadline::new(clock.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let mut peer = direct_peer;
            let config = &state.config;
            if config.proxy_protocol && proxy::is_trusted(&config.trusted_proxies, direct_peer.ip())
            {
                match proxy::read_proxy_header(&mut stream, PROXY_HEADER_TIMEOUT).await {
                    Ok(Some(client)) => peer = client,
                    Ok(None) => {}
                    Err(e) => {
                        debug!(%direct_peer, error = %e, "connection without a usable PROXY header");
                        return;
                    }
                }
            }
            let connection = ClientConnection {
                peer,
                direct_peer,
                secure: acceptor.is_some(),
                admin_only,
            };
            match acceptor {
                None => {
                    serve_connection(
                        stream, connection, router, &state, &builder, graceful, deadline,
                    )
                    .await
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    let tls_stream = match handshake {
                        Ok(Ok(tls_stream)) => tls_stream,
                        Ok(Err(e)) => {
                            debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    if tls_stream.get_ref().1.alpn_protocol() == Some(tls::ACME_TLS_ALPN) {
                        // A TLS-ALPN-01 validation: the handshake itself was the answer.
                        return;
                    }
                    serve_connection(
                        tls_stream, connection, router, &state, &builder, graceful, deadline,
                    )
                    .await;
                }
            }
        });
    }
}

async fn serve_connection<S>(
    stream: S,
    connection: ClientConnection,
    router: crate::app::App,
    state: &SharedState,
    builder: &auto::Builder<TokioExecutor>,
    graceful: Watcher,
    deadline: Arc<ConnectionDeadline>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let request_state = state.clone();
    let request_deadline = deadline.clone();
    let service = tower::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let busy = request_deadline.request_started();
        let request = crate::in_process::prepare(request, connection, &request_state);
        let answering = router.clone().oneshot(request);
        async move {
            let answer = answering.await;
            drop(busy);
            answer
        }
    });
    let served = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .into_owned();
    tokio::select! {
        ended = graceful.watch(served) => {
            if let Err(e) = ended {
                debug!(peer = %connection.peer, error = %e, "connection ended with an error");
            }
        }
        _ = deadline.expired(state.config.header_read_timeout) => {
            debug!(peer = %connection.peer, "closing a connection that sent no request in time");
        }
    }
}
