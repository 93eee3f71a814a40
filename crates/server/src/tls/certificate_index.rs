//! Certificates indexed by the names they cover, and the choice among them for one name.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::sign::CertifiedKey;
use signpost_core::certificate::{CertificateInfo, KeyType};

/// Which kinds of key a client can be served, from its ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKeys {
    pub ecdsa: bool,
    pub rsa: bool,
}

impl ClientKeys {
    /// A client that takes either (when nothing is known about it).
    pub const ANY: Self = Self {
        ecdsa: true,
        rsa: true,
    };

    /// How well a key suits the client: ECDSA first (smaller, faster, and the only kind old
    /// Windows pairs with AES-GCM), then RSA, then what it cannot use.
    fn fit(self, key: KeyType) -> u8 {
        match key {
            KeyType::Ecdsa if self.ecdsa => 2,
            KeyType::Rsa if self.rsa => 1,
            _ => 0,
        }
    }
}

/// A certificate ready to serve, with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedCertificate {
    pub info: CertificateInfo,
    pub key: Arc<CertifiedKey>,
    /// `store #3`, or the file it was read from.
    pub origin: String,
}

/// Every certificate Signpost can serve, looked up by name.
#[derive(Debug, Default)]
pub struct CertificateIndex {
    certificates: Vec<LoadedCertificate>,
    exact: HashMap<String, Vec<usize>>,
    /// `*.example.com` is indexed under `example.com`.
    wildcard: HashMap<String, Vec<usize>>,
    /// For clients that send no SNI.
    default: Option<usize>,
}

impl CertificateIndex {
    /// Indexes `certificates`; `default_name` picks the certificate for clients without SNI
    /// (else the one covering the most names).
    pub fn new(certificates: Vec<LoadedCertificate>, default_name: Option<&str>, now: i64) -> Self {
        let mut index = Self {
            certificates,
            ..Self::default()
        };
        for (i, certificate) in index.certificates.iter().enumerate() {
            for name in &certificate.info.names {
                match name.strip_prefix("*.") {
                    Some(parent) => index
                        .wildcard
                        .entry(parent.to_string())
                        .or_default()
                        .push(i),
                    None => index.exact.entry(name.clone()).or_default().push(i),
                }
            }
        }
        index.default = match default_name {
            Some(name) => index.best_for(name, now, ClientKeys::ANY),
            None => (0..index.certificates.len()).max_by_key(|&i| {
                let c = &index.certificates[i];
                (
                    is_current(&c.info, now),
                    c.info.names.len(),
                    c.info.not_after,
                )
            }),
        };
        index
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    pub fn certificates(&self) -> &[LoadedCertificate] {
        &self.certificates
    }

    /// The certificate for `name`: among those covering it (exactly or by wildcard), a currently
    /// valid one of the key type that suits the client best, expiring last.
    fn best_for(&self, name: &str, now: i64, client: ClientKeys) -> Option<usize> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let exact = self.exact.get(&name).into_iter().flatten();
        let wildcard = name
            .split_once('.')
            .and_then(|(_, parent)| self.wildcard.get(parent))
            .into_iter()
            .flatten();
        exact.chain(wildcard).copied().max_by_key(|&i| {
            let info = &self.certificates[i].info;
            (
                is_current(info, now),
                client.fit(info.key_type),
                info.not_after,
            )
        })
    }

    /// The certificate to present for an SNI name (or none sent) to a client that can use
    /// `client`'s kinds of key.
    pub fn resolve(
        &self,
        server_name: Option<&str>,
        now: i64,
        client: ClientKeys,
    ) -> Option<&LoadedCertificate> {
        let chosen = match server_name {
            Some(name) => self.best_for(name, now, client).or(self.default),
            None => self.default,
        };
        chosen.map(|i| &self.certificates[i])
    }
}

fn is_current(info: &CertificateInfo, now: i64) -> bool {
    info.not_before <= now && now <= info.not_after
}
