//! Every setting of `signpost serve`, declared once: its flag, environment variable, file key
//! (the field's name in its section), default and meaning are all on the one field below. The
//! configuration file's sections are these structs; `--help`, the file's parser, the layering
//! (flag, then environment, then file, then default) and the README's table all read them.
//!
//! A flag's clap id is its file key with its section's prefix ([`crate::settings::layering`]
//! maps one to the other): `admin_listen` is `listen` in `[admin]`, `acme_directory` is
//! `directory` in `[server.acme]`, and a setting of `[server]` has no prefix.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{ArgAction, Args};
use serde::{Deserialize, Serialize};

/// Built-in defaults, in code: `--help` shows them and the layering falls back to them.
pub mod defaults {
    pub const LISTEN: &str = "127.0.0.1:8080";
    pub const TTL_HOURS: u32 = 1;
    pub const CULTURE: &str = "en:us";
    pub const REALM: &str = "Signpost autodiscover";
    pub const CREDENTIAL_CACHE_SECONDS: u64 = 15 * 60;
    pub const CREDENTIAL_CACHE_ENTRIES: usize = 100_000;
    pub const CONCURRENT_PASSWORD_CHECKS: usize = 4;
    pub const RELOAD_INTERVAL_MS: u64 = 250;
    pub const AUTH_FAILURES_PER_CLIENT: usize = 10;
    pub const AUTH_FAILURES_PER_ACCOUNT: usize = 20;
    pub const AUTH_FAILURES_KNOWN_NETWORK: usize = 10;
    pub const AUTH_FAILURE_WINDOW: u64 = 15 * 60;
    pub const HEADER_TIMEOUT: u64 = 10;
    pub const SHUTDOWN_GRACE: u64 = 10;
    pub const REQUEST_TIMEOUT: u64 = 30;
    pub const MAX_CONNECTIONS: usize = 4096;
    pub const ANSWER_CACHE_ENTRIES: usize = 4096;
    pub const ACME_CHECK_SECONDS: u64 = 60;
    pub const ADMIN_SESSION_SECONDS: u64 = 8 * 3600;
    pub const RECENT_REQUESTS: usize = 1000;
    pub const AUDIT_DAYS: u32 = 365;
    pub const AUDIT_ENTRIES: usize = 100_000;
    pub const HEALTH_MINUTES: u64 = 60;
    pub const DNS_TTL: u32 = 3600;
    pub const CHECK_HTTPS_PORT: u16 = 443;
    pub const CHECK_HTTP_PORT: u16 = 80;
}

/// `signpost serve`: the settings, and what to do with them.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerSection,
    #[command(flatten)]
    pub admin: AdminSection,
    #[command(flatten)]
    pub dns: DnsSection,
    #[command(flatten)]
    pub diagnostics: DiagnosticsSection,
    /// Check the configuration (file, flags, signing certificates, store) and exit without serving
    #[arg(long)]
    #[serde(skip)]
    pub check_config: bool,
}

/// `[server]`: listening, answering, and protecting logins.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on for HTTP (repeatable); without this and without --listen-tls,
    /// 127.0.0.1:8080
    #[arg(
        long,
        value_name = "ADDR:PORT",
        env = "SIGNPOST_LISTEN",
        value_delimiter = ','
    )]
    pub listen: Vec<SocketAddr>,
    /// Address to listen on for HTTPS (repeatable); certificates are chosen by SNI
    #[arg(
        long,
        value_name = "ADDR:PORT",
        env = "SIGNPOST_LISTEN_TLS",
        value_delimiter = ','
    )]
    pub listen_tls: Vec<SocketAddr>,
    /// Directory of certificate chains (NAME.pem, key inside or in NAME.key), watched for changes
    #[arg(long, env = "SIGNPOST_CERT_DIR", value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// The name whose certificate clients that send no SNI get
    #[arg(long, env = "SIGNPOST_DEFAULT_CERT_NAME", value_name = "NAME")]
    pub default_cert_name: Option<String>,
    /// Redirect plain HTTP requests to https even without an HTTPS listener (TLS ends at a proxy)
    #[arg(long, env = "SIGNPOST_REDIRECT_HTTP")]
    pub redirect_http: bool,
    /// The https port clients see, for redirects (default: the first HTTPS listener's)
    #[arg(long, env = "SIGNPOST_PUBLIC_HTTPS_PORT", value_name = "PORT")]
    pub public_https_port: Option<u16>,
    /// Proxy whose X-Forwarded-* and PROXY protocol headers are believed (IP or CIDR; repeatable)
    #[arg(long = "trusted-proxy", env = "SIGNPOST_TRUSTED_PROXY", value_name = "NETWORK", value_delimiter = ',', value_parser = network)]
    pub trusted_proxies: Vec<String>,
    /// Clients /metrics answers without a token (IP or CIDR; repeatable); others need an
    /// administrator's API token (Authorization: Bearer) and otherwise get 404
    #[arg(long = "metrics-allow", env = "SIGNPOST_METRICS_ALLOW", value_name = "NETWORK", value_delimiter = ',', value_parser = network, default_values = ["127.0.0.0/8", "::1/128"])]
    pub metrics_allow: Vec<String>,
    /// Expect a PROXY protocol (v1 or v2) header on connections from trusted proxies
    #[arg(long, env = "SIGNPOST_PROXY_PROTOCOL")]
    pub proxy_protocol: bool,
    /// Only redirect autodiscover to this https URL (run on a company website's host)
    #[arg(long, env = "SIGNPOST_REDIRECT_ONLY", value_name = "URL")]
    pub redirect_only: Option<String>,
    /// Hours Outlook may cache an answer
    #[arg(long, env = "SIGNPOST_TTL_HOURS", default_value_t = defaults::TTL_HOURS)]
    pub ttl_hours: u32,
    /// Culture of ActiveSync answers
    #[arg(long, env = "SIGNPOST_CULTURE", default_value = defaults::CULTURE)]
    pub culture: String,
    /// Realm of the Basic authentication challenge
    #[arg(long, env = "SIGNPOST_REALM", default_value = defaults::REALM)]
    pub realm: String,
    /// Seconds a verified password is remembered
    #[arg(long, env = "SIGNPOST_CREDENTIAL_CACHE_SECONDS", default_value_t = defaults::CREDENTIAL_CACHE_SECONDS)]
    pub credential_cache_seconds: u64,
    /// At most this many remembered passwords
    #[arg(long, env = "SIGNPOST_CREDENTIAL_CACHE_ENTRIES", default_value_t = defaults::CREDENTIAL_CACHE_ENTRIES)]
    pub credential_cache_entries: usize,
    /// At most this many password hashes computed at once
    #[arg(long, env = "SIGNPOST_CONCURRENT_PASSWORD_CHECKS", default_value_t = defaults::CONCURRENT_PASSWORD_CHECKS)]
    pub concurrent_password_checks: usize,
    /// Verify weak password schemes of imported users too ({PLAIN}, {SHA}, {SSHA}, ...)
    #[arg(long, env = "SIGNPOST_ALLOW_WEAK_PASSWORD_SCHEMES")]
    pub allow_weak_password_schemes: bool,
    /// Milliseconds between looks at the store for changes
    #[arg(long, env = "SIGNPOST_RELOAD_INTERVAL_MS", default_value_t = defaults::RELOAD_INTERVAL_MS)]
    pub reload_interval_ms: u64,
    /// Failed logins from one client address within the window before 429
    #[arg(long, env = "SIGNPOST_AUTH_FAILURES_PER_CLIENT", value_name = "N", default_value_t = defaults::AUTH_FAILURES_PER_CLIENT)]
    pub auth_failures_per_client: usize,
    /// Failed logins for one account within the window before 429, counted from networks
    /// the account has not signed in from in the last 30 days
    #[arg(long, env = "SIGNPOST_AUTH_FAILURES_PER_ACCOUNT", value_name = "N", default_value_t = defaults::AUTH_FAILURES_PER_ACCOUNT)]
    pub auth_failures_per_account: usize,
    /// The same for the networks (/24, /64) the account signed in from in the last 30 days,
    /// counted apart: failures from elsewhere never lock those out
    #[arg(long, env = "SIGNPOST_AUTH_FAILURES_KNOWN_NETWORK", value_name = "N", default_value_t = defaults::AUTH_FAILURES_KNOWN_NETWORK)]
    pub auth_failures_known_network: usize,
    /// The failed-login window in seconds
    #[arg(long, env = "SIGNPOST_AUTH_FAILURE_WINDOW", value_name = "SECONDS", default_value_t = defaults::AUTH_FAILURE_WINDOW)]
    pub auth_failure_window: u64,
    /// Append one line per failed login to FILE, for fail2ban (see contrib/fail2ban)
    #[arg(long, env = "SIGNPOST_AUTH_FAILURE_LOG", value_name = "FILE")]
    pub auth_failure_log: Option<PathBuf>,
    /// Seconds a client may take to send its request headers
    #[arg(long, env = "SIGNPOST_HEADER_TIMEOUT", value_name = "SECONDS", default_value_t = defaults::HEADER_TIMEOUT)]
    pub header_timeout: u64,
    /// Seconds requests in flight may take to finish when stopping (SIGTERM)
    #[arg(long, env = "SIGNPOST_SHUTDOWN_GRACE", value_name = "SECONDS", default_value_t = defaults::SHUTDOWN_GRACE)]
    pub shutdown_grace: u64,
    /// Seconds a client may take to send a request body
    #[arg(long, env = "SIGNPOST_REQUEST_TIMEOUT", value_name = "SECONDS", default_value_t = defaults::REQUEST_TIMEOUT)]
    pub request_timeout: u64,
    /// Connections served at once
    #[arg(long, env = "SIGNPOST_MAX_CONNECTIONS", value_name = "N", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Outlook answers remembered for the next identical question (about 3 KiB each; 0: off)
    #[arg(long, env = "SIGNPOST_ANSWER_CACHE_ENTRIES", value_name = "N", default_value_t = defaults::ANSWER_CACHE_ENTRIES)]
    pub answer_cache_entries: usize,
    #[command(flatten)]
    pub acme: AcmeSection,
    #[command(flatten)]
    pub profile_signing: ProfileSigningSection,
}

/// `[server.acme]`: certificates from an ACME CA for the domains that turn ACME on.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcmeSection {
    /// ACME directory URL; setting it turns the ACME client on for domains with `--acme on`
    /// (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory)
    #[arg(
        id = "acme_directory",
        long = "acme-directory",
        env = "SIGNPOST_ACME_DIRECTORY",
        value_name = "URL"
    )]
    pub directory: Option<String>,
    /// Extra CA certificate (PEM) to trust for the ACME directory (a private CA: Pebble, step-ca)
    #[arg(
        id = "acme_ca",
        long = "acme-ca",
        env = "SIGNPOST_ACME_CA",
        value_name = "FILE"
    )]
    pub ca: Option<PathBuf>,
    /// Contact address for the ACME account
    #[arg(
        id = "acme_email",
        long = "acme-email",
        env = "SIGNPOST_ACME_EMAIL",
        value_name = "ADDRESS"
    )]
    pub email: Option<String>,
    /// How names are proved to the CA: http-01 (needs the HTTP listener on port 80) or
    /// tls-alpn-01 (needs the HTTPS listener on 443); default http-01 when there is an HTTP listener
    #[arg(id = "acme_challenge", long = "acme-challenge", env = "SIGNPOST_ACME_CHALLENGE", value_parser = ["http-01", "tls-alpn-01"])]
    pub challenge: Option<String>,
    /// Seconds between looks at which certificates are due
    #[arg(id = "acme_check_seconds", long = "acme-check-seconds", env = "SIGNPOST_ACME_CHECK_SECONDS", value_name = "SECONDS", default_value_t = defaults::ACME_CHECK_SECONDS)]
    pub check_seconds: u64,
    /// Also order an RSA certificate for each set of names, beside the ECDSA P-256 one always
    /// ordered (for clients that offer only RSA signatures)
    #[arg(id = "acme_rsa", long = "acme-rsa", env = "SIGNPOST_ACME_RSA")]
    pub rsa: bool,
}

/// `[server.profile_signing]`: the certificate that signs every domain's Apple profiles, and
/// per-domain ones (`[server.profile_signing.domains."example.com"]` with `cert` and `key`, in
/// the file only).
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileSigningSection {
    /// Certificate chain (PEM, leaf first) that signs Apple profiles of every domain
    #[arg(
        id = "profile_signing_cert",
        long = "profile-signing-cert",
        env = "SIGNPOST_PROFILE_SIGNING_CERT",
        value_name = "FILE",
        requires = "profile_signing_key"
    )]
    pub cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 P-256) of the profile signing certificate
    #[arg(
        id = "profile_signing_key",
        long = "profile-signing-key",
        env = "SIGNPOST_PROFILE_SIGNING_KEY",
        value_name = "FILE",
        requires = "profile_signing_cert"
    )]
    pub key: Option<PathBuf>,
    #[arg(skip)]
    pub domains: std::collections::BTreeMap<String, SigningFiles>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// `[admin]`: the web interface and the API.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    /// Serve the web interface and the API (`--no-admin` turns them off; the CLI still works)
    #[arg(id = "admin_enabled", long = "no-admin", env = "SIGNPOST_NO_ADMIN", action = ArgAction::SetFalse)]
    pub enabled: bool,
    /// Serve the administration surface (/admin and /api) only on this address (repeatable),
    /// e.g. 127.0.0.1:8081; without it, every listener serves it
    #[arg(
        id = "admin_listen",
        long = "admin-listen",
        value_name = "ADDR:PORT",
        env = "SIGNPOST_ADMIN_LISTEN",
        value_delimiter = ','
    )]
    pub listen: Vec<SocketAddr>,
    /// The same over HTTPS (repeatable; certificates by SNI); a name served only here, and
    /// not a discovery name, gets HSTS
    #[arg(
        id = "admin_listen_tls",
        long = "admin-listen-tls",
        value_name = "ADDR:PORT",
        env = "SIGNPOST_ADMIN_LISTEN_TLS",
        value_delimiter = ','
    )]
    pub listen_tls: Vec<SocketAddr>,
    /// Seconds an administrator's browser session lasts
    #[arg(id = "admin_session_seconds", long = "admin-session-seconds", env = "SIGNPOST_ADMIN_SESSION_SECONDS", value_name = "SECONDS", default_value_t = defaults::ADMIN_SESSION_SECONDS)]
    pub session_seconds: u64,
    /// Discovery requests kept for the recent-requests page
    #[arg(id = "admin_recent_requests", long = "recent-requests", env = "SIGNPOST_RECENT_REQUESTS", value_name = "N", default_value_t = defaults::RECENT_REQUESTS)]
    pub recent_requests: usize,
    /// Days the audit log keeps each change
    #[arg(id = "admin_audit_days", long = "audit-days", env = "SIGNPOST_AUDIT_DAYS", value_name = "DAYS", default_value_t = defaults::AUDIT_DAYS)]
    pub audit_days: u32,
    /// At most this many changes in the audit log (the oldest go first)
    #[arg(id = "admin_audit_entries", long = "audit-entries", env = "SIGNPOST_AUDIT_ENTRIES", value_name = "N", default_value_t = defaults::AUDIT_ENTRIES)]
    pub audit_entries: usize,
    /// Minutes between background health checks of every domain (DNS, TLS, answers, ACME,
    /// recent failures) for the dashboard and /metrics; 0 checks only on demand
    #[arg(id = "admin_health_minutes", long = "health-check-minutes", env = "SIGNPOST_HEALTH_CHECK_MINUTES", value_name = "MINUTES", default_value_t = defaults::HEALTH_MINUTES)]
    pub health_minutes: u64,
}

/// `[dns]`: where the domains' service names should point (the DNS page, checks, `signpost dns`).
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSection {
    /// This server's public address, for the A/AAAA records (repeatable)
    #[arg(
        id = "dns_public_addresses",
        long = "public-address",
        env = "SIGNPOST_PUBLIC_ADDRESS",
        value_name = "IP",
        value_delimiter = ','
    )]
    pub public_addresses: Vec<IpAddr>,
    /// A name to alias the service names to instead (CNAME records)
    #[arg(
        id = "dns_cname",
        long = "dns-cname",
        env = "SIGNPOST_DNS_CNAME",
        value_name = "NAME"
    )]
    pub cname: Option<String>,
    /// TTL of the records, in seconds
    #[arg(id = "dns_ttl", long = "dns-ttl", env = "SIGNPOST_DNS_TTL", value_name = "SECONDS", default_value_t = defaults::DNS_TTL)]
    pub ttl: u32,
}

/// `[diagnostics]`: how the web interface's live checks and probes look at the deployment.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiagnosticsSection {
    /// DNS server the checks and probes ask instead of the system's
    #[arg(
        id = "check_resolver",
        long = "check-resolver",
        env = "SIGNPOST_CHECK_RESOLVER",
        value_name = "IP:PORT"
    )]
    pub resolver: Option<SocketAddr>,
    /// Extra CA certificate (PEM) the checks trust (repeatable)
    #[arg(
        id = "check_ca",
        long = "check-ca",
        env = "SIGNPOST_CHECK_CA",
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub ca: Vec<PathBuf>,
    /// Port the checks use where clients use 443
    #[arg(id = "check_https_port", long = "check-https-port", env = "SIGNPOST_CHECK_HTTPS_PORT", value_name = "PORT", default_value_t = defaults::CHECK_HTTPS_PORT)]
    pub https_port: u16,
    /// Port the checks use where clients use 80
    #[arg(id = "check_http_port", long = "check-http-port", env = "SIGNPOST_CHECK_HTTP_PORT", value_name = "PORT", default_value_t = defaults::CHECK_HTTP_PORT)]
    pub http_port: u16,
}

/// A trusted proxy's network, checked as given and kept as written.
fn network(value: &str) -> Result<String, String> {
    value
        .parse::<signpost_server::proxy::IpNetwork>()
        .map(|_| value.trim().to_string())
}

/// A section with the built-in defaults (what clap gives when nothing is set, environment
/// variables aside): the file's sections start from these.
fn built_in<T: Args + clap::FromArgMatches>() -> T {
    let command =
        T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None::<&str>));
    let matches = command
        .try_get_matches_from(["defaults"])
        .unwrap_or_default();
    match T::from_arg_matches(&matches) {
        Ok(section) => section,
        // Every declared setting has a default or is optional; a test holds to that.
        Err(e) => panic!("a setting without a default: {e}"),
    }
}

macro_rules! defaults_from_declaration {
    ($($section:ty),*) => {
        $(impl Default for $section {
            fn default() -> Self {
                built_in()
            }
        })*
    };
}

defaults_from_declaration!(
    ServerSection,
    AcmeSection,
    ProfileSigningSection,
    AdminSection,
    DnsSection,
    DiagnosticsSection
);
