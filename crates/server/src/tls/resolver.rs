//! Choosing the certificate for each TLS handshake by SNI, from an index swapped whole on reload,
//! and answering ACME TLS-ALPN-01 validations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::{ACME_TLS_ALPN, CertificateIndex};

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
            .resolve(name.as_deref(), crate::clock::now())
            .map(|c| c.key.clone())
    }
}
