//! Layered settings: command-line flag, then environment variable (both through clap), then the
//! TOML configuration file, then the built-in default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use std::sync::Arc;

use signpost_admin::AdminSettings;
use signpost_server::ServerConfig;
use signpost_server::config::{AcmeChallenge, AcmeSettings, ProfileSigning};
use signpost_server::profile_signing::ProfileSigner;

use crate::cli::{GlobalOptions, ServeArgs};

/// The configuration file's shape. Unknown keys are errors, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database: Option<String>,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub dns: DnsSection,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default)]
    pub diagnostics: DiagnosticsSection,
}

/// `[admin]`: the web interface and API.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub enabled: Option<bool>,
    pub listen: Option<Vec<SocketAddr>>,
    pub session_seconds: Option<u64>,
    pub recent_requests: Option<usize>,
}

/// `[diagnostics]`: how the web interface's checks look at the deployment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsSection {
    pub resolver: Option<SocketAddr>,
    #[serde(default)]
    pub ca: Vec<PathBuf>,
    pub http_port: Option<u16>,
    pub https_port: Option<u16>,
}

/// `[dns]`: where the service names point, for `signpost dns` and `signpost check`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSection {
    #[serde(default)]
    pub public_addresses: Vec<std::net::IpAddr>,
    pub cname: Option<String>,
    pub ttl: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen: Option<Vec<SocketAddr>>,
    pub listen_tls: Option<Vec<SocketAddr>>,
    pub cert_dir: Option<PathBuf>,
    pub default_cert_name: Option<String>,
    pub redirect_http: Option<bool>,
    pub public_https_port: Option<u16>,
    pub trusted_proxies: Option<Vec<String>>,
    pub proxy_protocol: Option<bool>,
    #[serde(default)]
    pub acme: AcmeSection,
    pub ttl_hours: Option<u32>,
    pub culture: Option<String>,
    pub realm: Option<String>,
    pub credential_cache_seconds: Option<u64>,
    pub credential_cache_entries: Option<usize>,
    pub concurrent_password_checks: Option<usize>,
    pub allow_weak_password_schemes: Option<bool>,
    pub reload_interval_ms: Option<u64>,
    pub auth_failures_per_client: Option<usize>,
    pub auth_failures_per_account: Option<usize>,
    pub auth_failure_window: Option<u64>,
    pub auth_failure_log: Option<PathBuf>,
    pub header_timeout: Option<u64>,
    pub shutdown_grace: Option<u64>,
    pub request_timeout: Option<u64>,
    pub max_connections: Option<usize>,
    pub answer_cache_entries: Option<usize>,
    #[serde(default)]
    pub profile_signing: ProfileSigningSection,
}

/// `[server.acme]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeSection {
    pub directory: Option<String>,
    pub ca: Option<PathBuf>,
    pub email: Option<String>,
    pub challenge: Option<String>,
    pub check_seconds: Option<u64>,
}

/// `[server.profile_signing]`: a certificate for every domain, and per-domain ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSigningSection {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    #[serde(default)]
    pub domains: std::collections::BTreeMap<String, SigningFiles>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message().trim()))
    }
}

pub const DEFAULT_DATA_DIR: &str = "./signpost-data";

/// Where the store is, after layering.
pub struct StorePlace {
    pub data_dir: PathBuf,
    pub database: Option<String>,
}

pub fn store_place(global: &GlobalOptions, file: &FileConfig) -> StorePlace {
    StorePlace {
        data_dir: global
            .data
            .clone()
            .or_else(|| file.data.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        database: global.database.clone().or_else(|| file.database.clone()),
    }
}

/// What `signpost serve` runs: the server, and its administration surface unless turned off.
pub struct ServeSettings {
    pub server: ServerConfig,
    pub admin: Option<AdminSettings>,
}

pub fn server_config(args: &ServeArgs, file: &FileConfig) -> anyhow::Result<ServeSettings> {
    let defaults = ServerConfig::default();
    let section = &file.server;
    let mut config = ServerConfig {
        listen: if !args.listen.is_empty() {
            args.listen.clone()
        } else {
            section.listen.clone().unwrap_or(defaults.listen.clone())
        },
        ..defaults.clone()
    };
    config.listen_tls = if !args.listen_tls.is_empty() {
        args.listen_tls.clone()
    } else {
        section.listen_tls.clone().unwrap_or_default()
    };
    if !args.listen_tls.is_empty() && args.listen.is_empty() && section.listen.is_none() {
        // Only HTTPS asked for on the command line: no default plain listener beside it.
        config.listen.clear();
    }
    if config.listen.is_empty() && config.listen_tls.is_empty() {
        anyhow::bail!(
            "no listen address: give --listen or --listen-tls ADDR:PORT, or server.listen in the configuration file"
        );
    }
    config.tls.certificate_directory = args.cert_dir.clone().or_else(|| section.cert_dir.clone());
    config.tls.default_name = args
        .default_cert_name
        .clone()
        .or_else(|| section.default_cert_name.clone())
        .map(|n| signpost_core::validate::domain_name("default_cert_name", &n))
        .transpose()?;
    config.redirect_http = args.redirect_http || section.redirect_http.unwrap_or(false);
    config.public_https_port = args.public_https_port.or(section.public_https_port);
    config.trusted_proxies = if !args.trusted_proxy.is_empty() {
        args.trusted_proxy.clone()
    } else {
        section
            .trusted_proxies
            .iter()
            .flatten()
            .map(|n| {
                n.parse()
                    .map_err(|e: String| anyhow::anyhow!("server.trusted_proxies: {e}"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    config.proxy_protocol = args.proxy_protocol || section.proxy_protocol.unwrap_or(false);
    config.acme = acme_settings(args, &section.acme, !config.listen.is_empty())?;
    let limits = &mut config.auth_limits;
    if let Some(n) = args
        .auth_failures_per_client
        .or(section.auth_failures_per_client)
    {
        limits.per_client = n.max(1);
    }
    if let Some(n) = args
        .auth_failures_per_account
        .or(section.auth_failures_per_account)
    {
        limits.per_account = n.max(1);
    }
    if let Some(seconds) = args.auth_failure_window.or(section.auth_failure_window) {
        limits.window = Duration::from_secs(seconds.max(1));
    }
    config.auth_failure_log = args
        .auth_failure_log
        .clone()
        .or_else(|| section.auth_failure_log.clone());
    if let Some(seconds) = args.shutdown_grace.or(section.shutdown_grace) {
        config.shutdown_grace = Duration::from_secs(seconds);
    }
    if let Some(seconds) = args.header_timeout.or(section.header_timeout) {
        config.header_read_timeout = Duration::from_secs(seconds.max(1));
    }
    if let Some(seconds) = args.request_timeout.or(section.request_timeout) {
        config.request_timeout = Duration::from_secs(seconds.max(1));
    }
    if let Some(n) = args.answer_cache_entries.or(section.answer_cache_entries) {
        config.answer_memo_entries = n;
    }
    if let Some(n) = args.max_connections.or(section.max_connections) {
        config.max_connections = n.max(1);
    }
    config.redirect_only = args
        .redirect_only
        .as_deref()
        .map(|url| signpost_core::validate::https_url("redirect-only", url))
        .transpose()?;
    config.answers.ttl_hours = args
        .ttl_hours
        .or(section.ttl_hours)
        .unwrap_or(defaults.answers.ttl_hours);
    if let Some(culture) = args.culture.clone().or_else(|| section.culture.clone()) {
        config.answers.culture = culture;
    }
    if let Some(realm) = args.realm.clone().or_else(|| section.realm.clone()) {
        config.realm = realm;
    }
    if let Some(seconds) = args
        .credential_cache_seconds
        .or(section.credential_cache_seconds)
    {
        config.credential_cache_ttl = Duration::from_secs(seconds);
    }
    if let Some(entries) = args
        .credential_cache_entries
        .or(section.credential_cache_entries)
    {
        config.credential_cache_entries = entries;
    }
    if let Some(checks) = args
        .concurrent_password_checks
        .or(section.concurrent_password_checks)
    {
        config.concurrent_password_checks = checks.max(1);
    }
    if let Some(ms) = args.reload_interval_ms.or(section.reload_interval_ms) {
        config.reload_interval = Duration::from_millis(ms.max(10));
    }
    config.allow_weak_password_schemes =
        args.allow_weak_password_schemes || section.allow_weak_password_schemes.unwrap_or(false);
    if config.allow_weak_password_schemes {
        tracing::warn!(
            "weak password schemes are allowed: users imported with plain or unsalted hashes can sign in; ask them for new passwords"
        );
    }
    config.profile_signing = profile_signing(args, &section.profile_signing)?;
    let admin = admin_settings(args, file, &mut config)?;
    Ok(ServeSettings {
        server: config,
        admin,
    })
}

fn admin_settings(
    args: &ServeArgs,
    file: &FileConfig,
    config: &mut ServerConfig,
) -> anyhow::Result<Option<AdminSettings>> {
    let section = &file.admin;
    let enabled = !args.no_admin && section.enabled.unwrap_or(true);
    config.admin.listen = if !args.admin_listen.is_empty() {
        args.admin_listen.clone()
    } else {
        section.listen.clone().unwrap_or_default()
    };
    if let Some(n) = args.recent_requests.or(section.recent_requests) {
        config.recent_requests = n;
    }
    let mut admin = AdminSettings::default();
    admin.operations.answers = config.answers.clone();
    if let Some(seconds) = args.admin_session_seconds.or(section.session_seconds) {
        admin.session_lifetime = Duration::from_secs(seconds.max(1));
    }
    let operations = &mut admin.operations;
    let diagnostics = &file.diagnostics;
    operations.diagnostics.resolver = args.check_resolver.or(diagnostics.resolver);
    operations.diagnostics.ca = if args.check_ca.is_empty() {
        diagnostics.ca.clone()
    } else {
        args.check_ca.clone()
    };
    if let Some(port) = args.check_https_port.or(diagnostics.https_port) {
        operations.diagnostics.ports.https = port;
    }
    if let Some(port) = args.check_http_port.or(diagnostics.http_port) {
        operations.diagnostics.ports.http = port;
    }
    operations.dns.addresses = if args.public_addresses.is_empty() {
        file.dns.public_addresses.clone()
    } else {
        args.public_addresses.clone()
    };
    operations.dns.cname = file
        .dns
        .cname
        .as_deref()
        .map(|c| signpost_core::validate::domain_name("dns.cname", c))
        .transpose()?;
    if let Some(ttl) = file.dns.ttl {
        operations.dns.ttl = ttl;
    }
    Ok(enabled.then_some(admin))
}

fn acme_settings(
    args: &ServeArgs,
    section: &AcmeSection,
    has_http_listener: bool,
) -> anyhow::Result<Option<AcmeSettings>> {
    let Some(directory_url) = args
        .acme_directory
        .clone()
        .or_else(|| section.directory.clone())
    else {
        return Ok(None);
    };
    let challenge = match (args.acme_challenge, section.challenge.as_deref()) {
        (Some(challenge), _) => challenge,
        (None, Some(name)) => AcmeChallenge::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("server.acme.challenge '{name}' is not one of http-01, tls-alpn-01")
        })?,
        (None, None) if has_http_listener => AcmeChallenge::Http01,
        (None, None) => AcmeChallenge::TlsAlpn01,
    };
    if challenge == AcmeChallenge::Http01 && !has_http_listener {
        anyhow::bail!(
            "ACME http-01 needs an HTTP listener (--listen 0.0.0.0:80); or use --acme-challenge tls-alpn-01"
        );
    }
    Ok(Some(AcmeSettings {
        directory_url,
        directory_ca: args.acme_ca.clone().or_else(|| section.ca.clone()),
        contact_email: args.acme_email.clone().or_else(|| section.email.clone()),
        challenge,
        check_interval: Duration::from_secs(
            args.acme_check_seconds
                .or(section.check_seconds)
                .unwrap_or(60)
                .max(1),
        ),
    }))
}

/// Loads every signing certificate now, so a bad file stops the server with a clear error
/// instead of failing on the first download.
fn profile_signing(
    args: &ServeArgs,
    section: &ProfileSigningSection,
) -> anyhow::Result<ProfileSigning> {
    let default_files = match (&args.profile_signing_cert, &args.profile_signing_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => match (&section.cert, &section.key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (None, None) => None,
            _ => anyhow::bail!("[server.profile_signing] needs both cert and key"),
        },
    };
    let mut signing = ProfileSigning::default();
    if let Some((cert, key)) = default_files {
        signing.default = Some(Arc::new(ProfileSigner::from_pem_files(&cert, &key)?));
    }
    for (domain, files) in &section.domains {
        let name = signpost_core::validate::domain_name("profile_signing domain", domain)?;
        signing.per_domain.insert(
            name,
            Arc::new(ProfileSigner::from_pem_files(&files.cert, &files.key)?),
        );
    }
    Ok(signing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    /// Serve flags as clap parses them (environment variables included, as in real use).
    fn serve_args(flags: &[&str]) -> ServeArgs {
        Serve::parse_from(std::iter::once("serve").chain(flags.iter().copied())).args
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<FileConfig>("[server]\nlisten = [\"127.0.0.1:1\"]\nlisen = 1\n")
            .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let file: FileConfig = toml::from_str(
            "[server]\nlisten = [\"127.0.0.1:9000\"]\nttl_hours = 4\nrealm = \"R\"\n",
        )
        .unwrap();
        let args = serve_args(&["--ttl-hours", "2"]);
        let config = server_config(&args, &file).unwrap().server;
        assert_eq!(config.listen, vec!["127.0.0.1:9000".parse().unwrap()]);
        assert_eq!(config.answers.ttl_hours, 2);
        assert_eq!(config.realm, "R");
        assert_eq!(config.answers.culture, "en:us");
    }
}
