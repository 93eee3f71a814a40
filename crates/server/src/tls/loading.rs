//! Turning PEM certificate chains and keys into certificates rustls can serve.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use rustls::sign::CertifiedKey;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use signpost_core::certificate::{self, StoredCertificate};
use tracing::warn;

use super::LoadedCertificate;

/// Parses a chain and its key, checking that the key belongs to the leaf.
pub fn certified_key(
    chain_pem: &[u8],
    key_pem: &[u8],
) -> anyhow::Result<(CertifiedKey, certificate::CertificateInfo)> {
    let chain = certificate::chain_from_pem(chain_pem)?;
    let info = certificate::inspect(chain[0].as_ref())?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| anyhow!("no usable private key: {e}"))?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| anyhow!("unsupported private key: {e}"))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified
        .keys_match()
        .map_err(|_| anyhow!("the private key does not belong to the certificate"))?;
    Ok((certified, info))
}

/// The certificates kept in the store; one that cannot be used is reported and skipped.
pub fn load_stored(stored: &[StoredCertificate]) -> Vec<LoadedCertificate> {
    stored
        .iter()
        .filter_map(
            |c| match certified_key(c.chain_pem.as_bytes(), c.key_pem.as_bytes()) {
                Ok((key, info)) => Some(LoadedCertificate {
                    info,
                    key: Arc::new(key),
                    origin: format!("store #{}", c.id),
                }),
                Err(e) => {
                    warn!(id = c.id, error = %e, "stored certificate unusable; skipped");
                    None
                }
            },
        )
        .collect()
}

/// What the directory held when last read: file names, sizes and modification times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryFingerprint(Vec<(PathBuf, u64, Option<std::time::SystemTime>)>);

impl DirectoryFingerprint {
    pub fn of(directory: &Path) -> Self {
        let mut entries: Vec<_> = std::fs::read_dir(directory)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let metadata = entry.metadata().ok()?;
                metadata
                    .is_file()
                    .then(|| (entry.path(), metadata.len(), metadata.modified().ok()))
            })
            .collect();
        entries.sort();
        Self(entries)
    }
}

/// Certificates from a directory: each `NAME.pem` or `NAME.crt` holds a chain, and its key is in
/// the same file or in `NAME.key`.
pub fn load_directory(directory: &Path) -> Vec<LoadedCertificate> {
    let mut loaded = Vec::new();
    let Ok(entries) = std::fs::read_dir(directory) else {
        warn!(directory = %directory.display(), "certificate directory unreadable");
        return loaded;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem" || e == "crt"))
        .collect();
    files.sort();
    for file in files {
        match load_file(&file) {
            Ok(Some(certificate)) => loaded.push(certificate),
            Ok(None) => {}
            Err(e) => {
                warn!(file = %file.display(), error = %format!("{e:#}"), "certificate file skipped")
            }
        }
    }
    loaded
}

fn load_file(file: &Path) -> anyhow::Result<Option<LoadedCertificate>> {
    let chain = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if certificate::chain_from_pem(&chain).is_err() {
        // A key file or something else that merely ends in .pem.
        return Ok(None);
    }
    let key_file = file.with_extension("key");
    let key = if key_file.exists() {
        std::fs::read(&key_file).with_context(|| format!("cannot read {}", key_file.display()))?
    } else {
        chain.clone()
    };
    let (key, info) = certified_key(&chain, &key)?;
    Ok(Some(LoadedCertificate {
        info,
        key: Arc::new(key),
        origin: file.display().to_string(),
    }))
}
