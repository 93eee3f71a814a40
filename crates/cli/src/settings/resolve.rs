//! The layered settings, checked and turned into what the server and its administration run
//! with: the one place each setting reaches the code that uses it.

use std::sync::Arc;
use std::time::Duration;

use signpost_admin::AdminSettings;
use signpost_core::validate;
use signpost_server::ServerConfig;
use signpost_server::config::{AcmeChallenge, AcmeSettings, ProfileSigning};
use signpost_server::profile_signing::ProfileSigner;

use super::declared::{AcmeSection, ProfileSigningSection, ServeArgs, defaults};

/// What `signpost serve` runs: the server, and its administration surface unless turned off.
pub struct ServeSettings {
    pub server: ServerConfig,
    pub admin: Option<AdminSettings>,
}

pub fn server_config(settings: &ServeArgs) -> anyhow::Result<ServeSettings> {
    let server = &settings.server;
    // Plain HTTP on loopback when nothing says where to listen; HTTPS alone when only it is given.
    let listen = if server.listen.is_empty() && server.listen_tls.is_empty() {
        vec![defaults::LISTEN.parse()?]
    } else {
        server.listen.clone()
    };
    let mut config = ServerConfig {
        listen,
        listen_tls: server.listen_tls.clone(),
        ..ServerConfig::default()
    };
    config.tls.certificate_directory = server.cert_dir.clone();
    config.tls.default_name = server
        .default_cert_name
        .as_deref()
        .map(|n| validate::domain_name("default_cert_name", n))
        .transpose()?;
    config.redirect_http = server.redirect_http;
    config.public_https_port = server.public_https_port;
    config.trusted_proxies = networks("trusted proxy", &server.trusted_proxies)?;
    config.metrics_allow = networks("metrics network", &server.metrics_allow)?;
    config.proxy_protocol = server.proxy_protocol;
    config.acme = acme_settings(&server.acme, !config.listen.is_empty())?;
    config.auth_limits.per_client = server.auth_failures_per_client.max(1);
    config.auth_limits.per_account = server.auth_failures_per_account.max(1);
    config.auth_limits.per_account_known = server.auth_failures_known_network.max(1);
    config.auth_limits.window = Duration::from_secs(server.auth_failure_window.max(1));
    config.auth_failure_log = server.auth_failure_log.clone();
    config.shutdown_grace = Duration::from_secs(server.shutdown_grace);
    config.header_read_timeout = Duration::from_secs(server.header_timeout.max(1));
    config.request_timeout = Duration::from_secs(server.request_timeout.max(1));
    config.answer_memo_entries = server.answer_cache_entries;
    config.max_connections = server.max_connections.max(1);
    config.redirect_only = server
        .redirect_only
        .as_deref()
        .map(|url| validate::https_url("redirect-only", url))
        .transpose()?;
    config.answers.ttl_hours = server.ttl_hours;
    config.answers.culture = server.culture.clone();
    config.realm = server.realm.clone();
    config.credential_cache_ttl = Duration::from_secs(server.credential_cache_seconds);
    config.credential_cache_entries = server.credential_cache_entries;
    config.concurrent_password_checks = server.concurrent_password_checks.max(1);
    config.reload_interval = Duration::from_millis(server.reload_interval_ms.max(10));
    config.allow_weak_password_schemes = server.allow_weak_password_schemes;
    if config.allow_weak_password_schemes {
        tracing::warn!(
            "weak password schemes are allowed: users imported with plain or unsalted hashes can sign in; ask them for new passwords"
        );
    }
    config.profile_signing = profile_signing(&server.profile_signing)?;

    let admin = &settings.admin;
    config.admin.listen = admin.listen.clone();
    config.admin.listen_tls = admin.listen_tls.clone();
    config.recent_requests = admin.recent_requests;
    config.audit_retention.days = admin.audit_days;
    config.audit_retention.entries = admin.audit_entries;
    let mut administration = AdminSettings {
        session_lifetime: Duration::from_secs(admin.session_seconds.max(1)),
        health_interval: (admin.health_minutes > 0)
            .then(|| Duration::from_secs(admin.health_minutes.saturating_mul(60))),
        ..AdminSettings::default()
    };
    let operations = &mut administration.operations;
    operations.answers = config.answers.clone();
    let diagnostics = &settings.diagnostics;
    operations.diagnostics.resolver = diagnostics.resolver;
    operations.diagnostics.ca = diagnostics.ca.clone();
    operations.diagnostics.ports.https = diagnostics.https_port;
    operations.diagnostics.ports.http = diagnostics.http_port;
    let dns = &settings.dns;
    operations.dns.addresses = dns.public_addresses.clone();
    operations.dns.cname = dns
        .cname
        .as_deref()
        .map(|c| validate::domain_name("dns.cname", c))
        .transpose()?;
    operations.dns.ttl = dns.ttl;
    Ok(ServeSettings {
        server: config,
        admin: admin.enabled.then_some(administration),
    })
}

fn acme_settings(
    section: &AcmeSection,
    has_http_listener: bool,
) -> anyhow::Result<Option<AcmeSettings>> {
    let Some(directory_url) = section.directory.clone() else {
        return Ok(None);
    };
    let challenge = match section.challenge.as_deref() {
        Some(name) => AcmeChallenge::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("ACME challenge '{name}' is not one of http-01, tls-alpn-01")
        })?,
        None if has_http_listener => AcmeChallenge::Http01,
        None => AcmeChallenge::TlsAlpn01,
    };
    if challenge == AcmeChallenge::Http01 && !has_http_listener {
        anyhow::bail!(
            "ACME http-01 needs an HTTP listener (--listen 0.0.0.0:80); or use --acme-challenge tls-alpn-01"
        );
    }
    Ok(Some(AcmeSettings {
        directory_url,
        directory_ca: section.ca.clone(),
        contact_email: section.email.clone(),
        challenge,
        check_interval: Duration::from_secs(section.check_seconds.max(1)),
        rsa: section.rsa,
    }))
}

/// Loads every signing certificate now, so a bad file stops the server with a clear error
/// instead of failing on the first download.
fn profile_signing(section: &ProfileSigningSection) -> anyhow::Result<ProfileSigning> {
    let mut signing = ProfileSigning::default();
    match (&section.cert, &section.key) {
        (Some(cert), Some(key)) => {
            signing.default = Some(Arc::new(ProfileSigner::from_pem_files(cert, key)?));
        }
        (None, None) => {}
        _ => anyhow::bail!("profile signing needs both a certificate and its key"),
    }
    for (domain, files) in &section.domains {
        let name = validate::domain_name("profile_signing domain", domain)?;
        signing.per_domain.insert(
            name,
            Arc::new(ProfileSigner::from_pem_files(&files.cert, &files.key)?),
        );
    }
    Ok(signing)
}

/// Parses a list of IP networks (`10.0.0.0/8`, `::1`), naming the bad one and what it is for.
fn networks(what: &str, list: &[String]) -> anyhow::Result<Vec<signpost_server::proxy::IpNetwork>> {
    list.iter()
        .map(|n| {
            n.parse()
                .map_err(|e: String| anyhow::anyhow!("{what} '{n}': {e}"))
        })
        .collect()
}
