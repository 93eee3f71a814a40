//! HTTPS: certificates chosen by SNI, from the store and from a directory of PEM files, swapped
//! without a restart; TLS 1.2 and 1.3 only, ALPN h2 and http/1.1.

mod certificate_index;
mod loading;
mod resolver;

pub use certificate_index::{CertificateIndex, ClientKeys, LoadedCertificate};
pub use loading::{DirectoryFingerprint, certified_key, load_directory, load_stored};
pub use resolver::SniResolver;

use std::sync::Arc;

/// ALPN protocol of ACME TLS-ALPN-01 validation connections (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The rustls server configuration every TLS listener uses.
pub fn server_config(resolver: Arc<SniResolver>) -> anyhow::Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    Ok(config)
}
