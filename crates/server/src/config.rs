//! Server-wide settings (the CLI fills these from flags, environment and the config file).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use signpost_core::answers::AnswerOptions;

use crate::profile_signing::ProfileSigner;
use crate::proxy::IpNetwork;
pub use signpost_core::auth_limiter::LimiterSettings;

/// Where certificates come from besides the store.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// A directory of `NAME.pem` chains (keys inside or in `NAME.key`), watched for changes.
    pub certificate_directory: Option<std::path::PathBuf>,
    /// The name whose certificate clients without SNI get.
    pub default_name: Option<String>,
}

/// ACME client settings; ACME runs for domains that turn it on.
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    pub directory_url: String,
    /// An extra CA to trust for the directory's HTTPS (a test CA such as Pebble's).
    pub directory_ca: Option<std::path::PathBuf>,
    pub contact_email: Option<String>,
    pub challenge: AcmeChallenge,
    /// How often the certificates are looked over.
    pub check_interval: Duration,
    /// Also order an RSA certificate for each set of names (ECDSA P-256 is always ordered):
    /// for clients that offer only RSA signatures.
    pub rsa: bool,
}

/// Which ACME challenge proves control of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcmeChallenge {
    /// A file on the HTTP listener (port 80 in production).
    Http01,
    /// A special certificate on the HTTPS listener (port 443 in production).
    TlsAlpn01,
}

impl AcmeChallenge {
    /// The challenge's name in RFC 8555 and RFC 8737.
    pub fn name(self) -> &'static str {
        match self {
            Self::Http01 => "http-01",
            Self::TlsAlpn01 => "tls-alpn-01",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Http01, Self::TlsAlpn01]
            .into_iter()
            .find(|challenge| challenge.name().eq_ignore_ascii_case(name))
    }
}

pub const LETS_ENCRYPT_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Which certificate signs whose configuration profiles.
#[derive(Debug, Clone, Default)]
pub struct ProfileSigning {
    /// For every domain without its own.
    pub default: Option<Arc<ProfileSigner>>,
    /// By domain name.
    pub per_domain: HashMap<String, Arc<ProfileSigner>>,
}

impl ProfileSigning {
    pub fn for_domain(&self, domain: &str) -> Option<&ProfileSigner> {
        self.per_domain
            .get(domain)
            .or(self.default.as_ref())
            .map(Arc::as_ref)
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Plain HTTP listeners.
    pub listen: Vec<SocketAddr>,
    /// HTTPS listeners.
    pub listen_tls: Vec<SocketAddr>,
    pub tls: TlsSettings,
    /// Redirect plain HTTP to https (on by itself when there are HTTPS listeners; also wanted
    /// when TLS ends at a proxy in front).
    pub redirect_http: bool,
    /// The https port clients see, for redirect locations (default: the first HTTPS listener's).
    pub public_https_port: Option<u16>,
    /// Proxies whose `X-Forwarded-*` headers and PROXY protocol headers are believed.
    pub trusted_proxies: Vec<IpNetwork>,
    /// Clients `/metrics` answers without a token (others need an administrator's API token).
    pub metrics_allow: Vec<IpNetwork>,
    /// Expect a PROXY protocol header on connections from trusted proxies.
    pub proxy_protocol: bool,
    pub acme: Option<AcmeSettings>,
    /// Answer nothing but redirects of autodiscover to this https base URL (for a company
    /// website's host, instead of a rewrite rule).
    pub redirect_only: Option<String>,
    pub answers: AnswerOptions,
    /// How long a verified address and password are remembered.
    pub credential_cache_ttl: Duration,
    /// At most this many remembered credentials.
    pub credential_cache_entries: usize,
    /// How often the store is asked whether anything changed.
    pub reload_interval: Duration,
    /// The realm of `WWW-Authenticate: Basic`.
    pub realm: String,
    /// At most this many password hashes computed at once (each argon2 check takes ~19 MiB).
    pub concurrent_password_checks: usize,
    /// Verify weak password schemes (plain text, unsalted digests, salted SHA-1) of imported
    /// users too.
    pub allow_weak_password_schemes: bool,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    pub profile_signing: ProfileSigning,
    /// Failed-login limits.
    pub auth_limits: LimiterSettings,
    /// A file that gets one line per failed login, for fail2ban.
    pub auth_failure_log: Option<std::path::PathBuf>,
    /// The longest a client may take to send a request body (slow clients get 408).
    pub request_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Answers (and parsed requests) remembered for the next identical question; 0 turns the
    /// memo off.
    pub answer_memo_entries: usize,
    /// How many discovery requests the recent-requests log keeps.
    pub recent_requests: usize,
    /// Where the administration surface (made by `signpost-admin`) is served.
    pub admin: AdminListeners,
    /// How long the audit log keeps what.
    pub audit_retention: AuditRetention,
}

/// The audit log keeps changes for `days`, and at most `entries` of them.
#[derive(Debug, Clone, Copy)]
pub struct AuditRetention {
    pub days: u32,
    pub entries: usize,
}

impl Default for AuditRetention {
    fn default() -> Self {
        Self {
            days: 365,
            entries: 100_000,
        }
    }
}

/// Where the administration surface is served: beside the discovery endpoints, or, when `listen`
/// is set, only on those listeners (e.g. 127.0.0.1:8443 or an internal address).
#[derive(Debug, Clone, Default)]
pub struct AdminListeners {
    pub listen: Vec<SocketAddr>,
    /// The same over HTTPS (certificates chosen by SNI like the discovery listeners'); a name
    /// served only here gets HSTS.
    pub listen_tls: Vec<SocketAddr>,
}

impl AdminListeners {
    /// Whether the administration has listeners of its own.
    pub fn is_separate(&self) -> bool {
        !self.listen.is_empty() || !self.listen_tls.is_empty()
    }
}

impl ServerConfig {
    /// Whether plain HTTP requests by name are sent to https.
    pub fn http_redirects_to_https(&self) -> bool {
        self.redirect_http || !self.listen_tls.is_empty()
    }

    /// `:port` for https URLs, empty for 443.
    pub fn https_port_suffix(&self) -> String {
        let port = self
            .public_https_port
            .or_else(|| self.listen_tls.first().map(SocketAddr::port))
            .unwrap_or(443);
        if port == 443 {
            String::new()
        } else {
            format!(":{port}")
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
            listen_tls: Vec::new(),
            tls: TlsSettings::default(),
            redirect_http: false,
            public_https_port: None,
            trusted_proxies: Vec::new(),
            metrics_allow: ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            proxy_protocol: false,
            acme: None,
            redirect_only: None,
            answers: AnswerOptions::default(),
            credential_cache_ttl: Duration::from_secs(15 * 60),
            credential_cache_entries: 100_000,
            reload_interval: Duration::from_millis(250),
            realm: "Signpost autodiscover".into(),
            concurrent_password_checks: 4,
            allow_weak_password_schemes: false,
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            profile_signing: ProfileSigning::default(),
            auth_limits: LimiterSettings::default(),
            auth_failure_log: None,
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
            answer_memo_entries: 4096,
            recent_requests: 1000,
            admin: AdminListeners::default(),
            audit_retention: AuditRetention::default(),
        }
    }
}
