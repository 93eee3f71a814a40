//! The administration surface: a REST API under `/api/v1` (described at `/api/openapi.json`) and
//! the web interface under `/admin`, both thin adapters over the operations layer
//! (`signpost-operations`), served by the discovery server beside its endpoints or on listeners
//! of their own.

mod api;
mod auth;
mod csrf;
mod error;
pub mod health;
mod openapi;
mod ui;

pub use openapi::document as openapi_document;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use signpost_core::Snapshot;
use signpost_operations::{Live, OpResult, Operations, PasswordVerifier};
use signpost_server::connection::ClientConnection;
use signpost_server::{Administration, Prepared, SharedState};
use signpost_store::Store;
use tracing::{info, warn};

/// How the administration surface behaves (where it listens is the server's
/// `config.admin.listen`).
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// How long a browser session lasts after signing in.
    pub session_lifetime: Duration,
    /// What the operations need: DNS target, diagnostics, sign-in limits, answer options.
    pub operations: signpost_operations::Settings,
    /// How often every domain's health is checked in the background (`None`: only on demand).
    pub health_interval: Option<Duration>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            session_lifetime: Duration::from_secs(8 * 3600),
            operations: signpost_operations::Settings::default(),
            health_interval: Some(Duration::from_secs(3600)),
        }
    }
}

/// What the administration handlers share.
pub struct AdminState {
    pub app: SharedState,
    /// Read by the recent-requests view (shared through the store between instances).
    pub store: Arc<dyn Store>,
    pub ops: Operations,
    pub settings: AdminSettings,
    /// The latest health checks.
    pub health: health::Health,
    /// Messages from a change waiting for the page it returns to.
    flashes: ui::Flashes,
    /// The one-time token of the setup link, while there is no administrator.
    setup_token: Mutex<Option<String>>,
}

/// The running server as the operations see it: changes made here are served by this instance
/// before the request that made them is answered, and previews read what it serves.
struct ServedHere {
    app: SharedState,
    store: Arc<dyn Store>,
}

#[async_trait]
impl Live for ServedHere {
    async fn snapshot(&self) -> OpResult<Arc<Snapshot>> {
        Ok(self.app.snapshot.load_full())
    }

    async fn serve(&self, version: i64) {
        signpost_server::catch_up(&self.app, self.store.as_ref(), version).await;
    }
}

/// Administrators' passwords are checked by the server's own checker (off the executor, a
/// bounded number at a time, alongside client logins).
struct ServerPasswords(SharedState);

#[async_trait]
impl PasswordVerifier for ServerPasswords {
    async fn verify(&self, hash: Option<&str>, password: &str) -> bool {
        self.0.passwords.verify(hash, password).await
    }
}

impl AdminState {
    /// Prepares the surface; with no administrator yet, makes the one-time setup token.
    pub async fn new(
        app: SharedState,
        store: Arc<dyn Store>,
        settings: AdminSettings,
    ) -> anyhow::Result<Arc<Self>> {
        let no_administrator = store.administrators().await?.is_empty();
        let setup_token = no_administrator.then(signpost_operations::random_secret);
        let live = Arc::new(ServedHere {
            app: app.clone(),
            store: store.clone(),
        });
        let ops = Operations::new(store.clone(), live, settings.operations.clone());
        Ok(Arc::new(Self {
            app,
            store,
            ops,
            settings,
            health: health::Health::default(),
            flashes: ui::Flashes::default(),
            setup_token: Mutex::new(setup_token),
        }))
    }

    fn passwords(&self) -> ServerPasswords {
        ServerPasswords(self.app.clone())
    }

    /// The path of the setup link, if an administrator is still to be created.
    pub fn setup_path(&self) -> Option<String> {
        self.setup_token
            .lock()
            .ok()?
            .as_ref()
            .map(|token| format!("/admin/setup?token={token}"))
    }

    /// Takes the setup token if `offered` is it (it works once).
    fn take_setup_token(&self, offered: &str) -> bool {
        let Ok(mut token) = self.setup_token.lock() else {
            return false;
        };
        let matches = token
            .as_deref()
            .is_some_and(|t| signpost_operations::same_secret(t, offered));
        if matches {
            *token = None;
        }
        matches
    }

    /// The setup link on the first of `bases`, if an administrator is still to be created; the
    /// log says to look for it. (The link itself is not logged: logs travel further than the
    /// terminal of whoever started the server.)
    pub fn announce_setup(&self, bases: &[String]) -> Option<String> {
        let path = self.setup_path()?;
        warn!(
            "no administrator yet: open the setup link printed on standard output, or run `signpost admin add NAME --password-stdin`"
        );
        bases.first().map(|base| format!("{base}{path}"))
    }
}

/// The administration surface of a prepared server.
pub async fn surface(
    prepared: &Prepared,
    settings: AdminSettings,
) -> anyhow::Result<Administration> {
    let admin =
        AdminState::new(prepared.state().clone(), prepared.store().clone(), settings).await?;
    // `/metrics` answers requests with an administrator's API token from anywhere.
    let checking = admin.clone();
    let _ = prepared
        .state()
        .metrics_tokens
        .set(Arc::new(move |token: String| {
            let admin = checking.clone();
            Box::pin(async move { matches!(admin.ops.token_holder(&token).await, Ok(Some(_))) })
        }));
    if let Some(every) = admin.settings.health_interval {
        tokio::spawn(health::schedule(admin.clone(), every));
    }
    let announcing = admin.clone();
    Ok(Administration {
        router: router(admin),
        setup_link: Box::new(move |bases| announcing.announce_setup(bases)),
    })
}

/// The administration routes: API, OpenAPI document and web pages.
pub fn router(admin: Arc<AdminState>) -> Router {
    info!(
        separate = admin.app.config.admin.is_separate(),
        "administration surface at /admin and /api/v1"
    );
    // Pages, styles, scripts and API answers go out compressed to browsers that ask (pages
    // carry their CSRF token masked afresh each time, so compression gives no secret away).
    openapi::api_router()
        .merge(ui::router())
        .with_state(admin.clone())
        .layer(axum::middleware::from_fn_with_state(
            admin,
            security_headers,
        ))
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
}

/// Administrative pages are never cached or framed. HSTS binds a whole host name, so it is sent
/// only where no client ever discovers: over https, on a listener of the administration alone,
/// for a name that is not a discovery name (Outlook's plain-http step on `autodiscover.<domain>`
/// must keep working, and a domain's own name and mail hostname are used by clients too).
async fn security_headers(
    axum::extract::State(admin): axum::extract::State<Arc<AdminState>>,
    request: Request,
    next: Next,
) -> Response {
    let connection = request.extensions().get::<ClientConnection>().copied();
    let admin_only_https = connection.is_some_and(|c| c.secure && c.admin_only);
    let secure = admin_only_https
        && signpost_server::host_header::request_host(request.headers(), request.uri())
            .is_some_and(|host| !admin.app.snapshot.load().serves(&host));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Pages and answers are never cached; the stylesheet, script and icon say how they may be.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}
