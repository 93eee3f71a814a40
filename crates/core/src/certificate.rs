//! What a certificate says about itself: the names it covers, its validity and its issuer.
//! Used to index certificates by name, to list them, and to check them.

use der::{Decode, Encode};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// The facts Signpost needs about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// DNS names from the subject alternative names (lowercase; `*.example.com` for wildcards),
    /// or the subject common name when there are none.
    pub names: Vec<String>,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub issuer: String,
    pub subject: String,
    /// Hex, for telling two certificates for the same names apart.
    pub serial: String,
    /// The kind of key it certifies (which clients can use it depends on it).
    pub key_type: KeyType,
}

/// The public key algorithm of a certificate. Old Windows (SChannel on Windows 7, 8.1 and
/// Windows Phone 8.1, so IE 11 and Outlook 2010/2013 there) offers AES-GCM with ECDHE only for
/// ECDSA keys, and RSA keys only with CBC suites, which rustls does not have: those clients need
/// an ECDSA certificate; a few very old or restricted clients need RSA.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Ecdsa,
    Rsa,
    Ed25519,
    Other,
}

impl KeyType {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ecdsa => "ECDSA",
            Self::Rsa => "RSA",
            Self::Ed25519 => "Ed25519",
            Self::Other => "other",
        }
    }

    fn of_algorithm(oid: &der::asn1::ObjectIdentifier) -> Self {
        const EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
            der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
        const RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
            der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
        const ED25519: der::asn1::ObjectIdentifier =
            der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");
        match *oid {
            EC_PUBLIC_KEY => Self::Ecdsa,
            RSA_ENCRYPTION => Self::Rsa,
            ED25519 => Self::Ed25519,
            _ => Self::Other,
        }
    }
}

impl CertificateInfo {
    /// Whether this certificate is valid for `host` (exactly, or by a one-label wildcard).
    pub fn covers(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.names.iter().any(|name| name_matches(name, &host))
    }

    /// Whole days from `now` until expiry (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }
}

/// `name` (possibly `*.example.com`) matches `host` as TLS clients match them: a wildcard stands
/// for exactly one left-most label.
pub fn name_matches(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => name == host,
    }
}

/// Why a certificate could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("no PEM certificate found")]
    Empty,
    #[error("bad PEM: {0}")]
    Pem(String),
    #[error("bad certificate: {0}")]
    Der(String),
}

/// The DER certificates of a PEM chain, leaf first.
pub fn chain_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertificateError::Pem(e.to_string()))?;
    if chain.is_empty() {
        return Err(CertificateError::Empty);
    }
    Ok(chain)
}

/// Reads the facts of one DER certificate.
pub fn inspect(der: &[u8]) -> Result<CertificateInfo, CertificateError> {
    let certificate =
        Certificate::from_der(der).map_err(|e| CertificateError::Der(e.to_string()))?;
    let tbs = &certificate.tbs_certificate;
    let mut names = Vec::new();
    if let Ok(Some((_, san))) = certificate.tbs_certificate.get::<SubjectAltName>() {
        for name in san.0 {
            if let GeneralName::DnsName(dns) = name {
                let dns = dns.as_str().trim_end_matches('.').to_ascii_lowercase();
                if !dns.is_empty() && !names.contains(&dns) {
                    names.push(dns);
                }
            }
        }
    }
    if names.is_empty() {
        // Old certificates name their host only in the subject's common name.
        if let Some(cn) = common_name(&tbs.subject) {
            names.push(cn.to_ascii_lowercase());
        }
    }
    let validity = &tbs.validity;
    Ok(CertificateInfo {
        names,
        not_before: unix_seconds(validity.not_before.to_unix_duration()),
        not_after: unix_seconds(validity.not_after.to_unix_duration()),
        issuer: tbs.issuer.to_string(),
        subject: tbs.subject.to_string(),
        serial: crate::hex(tbs.serial_number.as_bytes()),
        key_type: KeyType::of_algorithm(&tbs.subject_public_key_info.algorithm.oid),
    })
}

/// The key type of a PEM chain's leaf (`Other` when it cannot be read).
pub fn key_type_of_chain(chain_pem: &str) -> KeyType {
    chain_from_pem(chain_pem.as_bytes())
        .ok()
        .and_then(|chain| chain.first().and_then(|leaf| inspect(leaf).ok()))
        .map_or(KeyType::Other, |info| info.key_type)
}

fn unix_seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    const COMMON_NAME: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0.iter().flat_map(|rdn| rdn.0.iter()).find_map(|atv| {
        if atv.oid != COMMON_NAME {
            return None;
        }
        let bytes = atv.value.to_der().ok()?;
        let any = der::asn1::Any::from_der(&bytes).ok()?;
        std::str::from_utf8(any.value()).ok().map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.example.com", "mail.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(name_matches("example.com", "example.com"));
        assert!(!name_matches("example.com", "mail.example.com"));
    }

    #[test]
    fn refuses_non_certificates() {
        assert_eq!(
            chain_from_pem(b"nothing here"),
            Err(CertificateError::Empty)
        );
        assert!(inspect(b"\x30\x03\x02\x01\x01").is_err());
    }
}

/// Where a stored certificate came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CertificateSource {
    /// Added by an administrator (`signpost cert add`).
    File,
    /// Obtained by Signpost from an ACME CA.
    Acme,
}

impl CertificateSource {
    pub fn key(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Acme => "acme",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "file" => Some(Self::File),
            "acme" => Some(Self::Acme),
            _ => None,
        }
    }
}

/// A certificate chain and its key as kept in the store.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    pub id: i64,
    pub source: CertificateSource,
    pub chain_pem: String,
    pub key_pem: String,
    pub info: CertificateInfo,
    /// Set by `signpost cert renew`: an ACME certificate to be ordered again now.
    pub renew_requested: bool,
}

impl std::fmt::Debug for StoredCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCertificate")
            .field("id", &self.id)
            .field("source", &self.source)
            .field("info", &self.info)
            .field("key_pem", &"<hidden>")
            .finish()
    }
}
