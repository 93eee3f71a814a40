//! The administration surface: a REST API under `/api/v1` (described at `/api/openapi.json`) and
//! the web interface under `/admin`, both for signed-in administrators only.

mod api;
mod auth;
mod error;
mod openapi;
mod ui;
pub use api::{IssuedToken, issue_token};
pub use error::ApiError;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use signpost_core::dns_records::DnsTarget;
use signpost_diagnostics::Ports;
use signpost_store::Store;
use tracing::{info, warn};

use crate::auth_limiter::{FailureLimiter, LimiterSettings};
use crate::listener::ClientConnection;
use crate::state::SharedState;

pub use openapi::document as openapi_document;

/// How the administration surface is offered.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// Whether `/api` and `/admin` are served at all.
    pub enabled: bool,
    /// Listeners only for the administration surface (e.g. 127.0.0.1:8443 or an internal
    /// address); when set, the public listeners do not serve it.
    pub listen: Vec<SocketAddr>,
    /// How long a browser session lasts after signing in.
    pub session_lifetime: Duration,
    /// Where the domains' service names should point, for the DNS page and checks.
    pub dns: DnsTarget,
    /// How checks and probes look at the deployment from outside.
    pub diagnostics: DiagnosticsSettings,
    /// Failed sign-ins allowed per client and per name within the window.
    pub login_limits: LimiterSettings,
}

#[derive(Debug, Clone, Default)]
pub struct DiagnosticsSettings {
    /// A DNS server to ask instead of the system's.
    pub resolver: Option<SocketAddr>,
    /// Extra CA certificates to trust.
    pub ca: Vec<PathBuf>,
    pub ports: Ports,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: Vec::new(),
            session_lifetime: Duration::from_secs(8 * 3600),
            dns: DnsTarget {
                addresses: Vec::new(),
                cname: None,
                ttl: 3600,
            },
            diagnostics: DiagnosticsSettings::default(),
            login_limits: LimiterSettings {
                per_client: 10,
                per_account: 10,
                ..LimiterSettings::default()
            },
        }
    }
}

/// What the administration handlers share.
pub struct AdminState {
    pub app: SharedState,
    pub store: Arc<dyn Store>,
    pub settings: AdminSettings,
    /// The one-time token of the setup link, while there is no administrator.
    setup_token: Mutex<Option<String>>,
    login_limiter: FailureLimiter,
}

impl AdminState {
    /// Prepares the surface; with no administrator yet, makes the one-time setup token.
    pub async fn new(app: SharedState, store: Arc<dyn Store>) -> anyhow::Result<Arc<Self>> {
        let settings = app.config.admin.clone();
        let no_administrator = store.administrators().await?.is_empty();
        let setup_token = (settings.enabled && no_administrator).then(auth::random_secret);
        Ok(Arc::new(Self {
            login_limiter: FailureLimiter::new(settings.login_limits),
            app,
            store,
            settings,
            setup_token: Mutex::new(setup_token),
        }))
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
            .is_some_and(|t| auth::same_secret(t, offered));
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

/// The administration routes: API, OpenAPI document and web pages.
pub fn router(admin: Arc<AdminState>) -> Router {
    if !admin.settings.enabled {
        return Router::new();
    }
    info!(
        separate = !admin.settings.listen.is_empty(),
        "administration surface at /admin and /api/v1"
    );
    openapi::api_router()
        .merge(ui::router())
        .with_state(admin)
        .layer(axum::middleware::from_fn(security_headers))
}

/// Administrative pages are never cached or framed; on https, browsers are told to stay there.
async fn security_headers(request: Request, next: Next) -> Response {
    let secure = request
        .extensions()
        .get::<ClientConnection>()
        .is_some_and(|c| c.secure);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
