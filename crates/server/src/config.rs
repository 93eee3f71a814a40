//! Server-wide settings (the CLI fills these from flags, environment and the config file).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use signpost_core::answers::AnswerOptions;

use crate::profile_signing::ProfileSigner;

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
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    pub profile_signing: ProfileSigning,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
            answers: AnswerOptions::default(),
            credential_cache_ttl: Duration::from_secs(15 * 60),
            credential_cache_entries: 100_000,
            reload_interval: Duration::from_millis(250),
            realm: "Signpost autodiscover".into(),
            concurrent_password_checks: 4,
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            profile_signing: ProfileSigning::default(),
        }
    }
}
