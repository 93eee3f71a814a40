//! Choosing the certificate for each TLS handshake by SNI, from an index swapped whole on reload,
//! and answering ACME TLS-ALPN-01 validations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use rustls::{CipherSuite, SignatureScheme};

use super::certificate_index::ClientKeys;
use super::{ACME_TLS_ALPN, CertificateIndex};

/// Which kinds of key `hello` can take: a signature scheme for the key, and a cipher suite
/// rustls can use with it (any TLS 1.3 suite, or an ECDHE AEAD suite of TLS 1.2 for the key).
fn client_keys(hello: &ClientHello<'_>) -> ClientKeys {
    let schemes = hello.signature_schemes();
    let suites = hello.cipher_suites();
    let tls13 = suites.iter().any(|s| {
        matches!(
            s,
            CipherSuite::TLS13_AES_128_GCM_SHA256
                | CipherSuite::TLS13_AES_256_GCM_SHA384
                | CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        )
    });
    let ecdsa_suite = tls13
        || suites.iter().any(|s| {
            matches!(
                s,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                    | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                    | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            )
        });
    let rsa_suite = tls13
        || suites.iter().any(|s| {
            matches!(
                s,
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                    | CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
                    | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
            )
        });
    let ecdsa_scheme = schemes.iter().any(|s| {
        matches!(
            s,
            SignatureScheme::ECDSA_NISTP256_SHA256
                | SignatureScheme::ECDSA_NISTP384_SHA384
                | SignatureScheme::ECDSA_NISTP521_SHA512
        )
    });
    let rsa_scheme = schemes.iter().any(|s| {
        matches!(
            s,
            SignatureScheme::RSA_PSS_SHA256
                | SignatureScheme::RSA_PSS_SHA384
                | SignatureScheme::RSA_PSS_SHA512
                | SignatureScheme::RSA_PKCS1_SHA256
                | SignatureScheme::RSA_PKCS1_SHA384
                | SignatureScheme::RSA_PKCS1_SHA512
        )
    });
    ClientKeys {
        ecdsa: ecdsa_scheme && ecdsa_suite,
        rsa: rsa_scheme && rsa_suite,
    }
}

#[derive(Debug, Default)]
pub struct SniResolver {
    index: ArcSwap<CertificateIndex>,
    /// TLS-ALPN-01 validation certificates by name, while an order is in progress.
    acme_challenges: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl SniResolver {
    pub fn index(&self) -> arc_swap::Guard<Arc<CertificateIndex>> {
        self.index.load()
    }

    /// Serves `index` to every new handshake; connections already open keep theirs.
    pub fn replace(&self, index: CertificateIndex) {
        self.index.store(Arc::new(index));
    }

    pub fn set_acme_challenge(&self, name: &str, key: Arc<CertifiedKey>) {
        if let Ok(mut challenges) = self.acme_challenges.lock() {
            challenges.insert(name.to_ascii_lowercase(), key);
        }
    }

    pub fn clear_acme_challenge(&self, name: &str) {
        if let Ok(mut challenges) = self.acme_challenges.lock() {
            challenges.remove(&name.to_ascii_lowercase());
        }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name().map(str::to_string);
        let wants_acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if wants_acme {
            let challenges = self.acme_challenges.lock().ok()?;
            return challenges.get(&name?.to_ascii_lowercase()).cloned();
        }
        self.index
            .load()
            .resolve(name.as_deref(), crate::clock::now(), client_keys(&hello))
            .map(|c| c.key.clone())
    }
}
