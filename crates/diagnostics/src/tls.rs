//! TLS as clients see it: the server's certificate checked against trusted roots for the exact
//! name, with the reason when it fails and the certificate itself for the report.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use rustls_pki_types::pem::PemObject;
use signpost_core::certificate::{self, CertificateInfo};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The CAs a check trusts: the public ones (Mozilla's list) and any given as files.
#[derive(Clone)]
pub struct Roots {
    store: Arc<RootCertStore>,
}

impl Roots {
    pub fn load(extra: &[PathBuf]) -> anyhow::Result<Self> {
        let mut store = RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for file in extra {
            let pem =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut added = 0;
            for certificate in CertificateDer::pem_slice_iter(&pem) {
                let certificate =
                    certificate.with_context(|| format!("{} is not PEM", file.display()))?;
                store.add(certificate).with_context(|| {
                    format!("{} holds an unusable CA certificate", file.display())
                })?;
                added += 1;
            }
            if added == 0 {
                anyhow::bail!("{} holds no certificate", file.display());
            }
        }
        Ok(Self {
            store: Arc::new(store),
        })
    }
}

impl Roots {
    /// A client configuration that refuses any certificate these roots do not vouch for.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_root_certificates(self.store.clone())
                .with_no_client_auth(),
        ))
    }
}

/// What the handshake showed about the server's certificate.
#[derive(Debug, Clone)]
pub struct CertificateVerdict {
    pub certificate: Option<CertificateInfo>,
    /// `Err` with a sentence a person can act on.
    pub verified: Result<(), String>,
}

/// Verifies like a client would, but records the result and lets the handshake finish, so a
/// report can say what is wrong with the certificate and show it.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<CertificateVerdict>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let info = certificate::inspect(end_entity.as_ref()).ok();
        let verified = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ())
            .map_err(|e| explain(&e, server_name, info.as_ref()));
        if let Ok(mut verdict) = self.verdict.lock() {
            *verdict = Some(CertificateVerdict {
                certificate: info,
                verified,
            });
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn explain(error: &rustls::Error, name: &ServerName<'_>, info: Option<&CertificateInfo>) -> String {
    let covers = info
        .map(|i| i.names.join(", "))
        .unwrap_or_else(|| "unknown names".into());
    let name = name.to_str();
    match error {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        | rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            format!("the certificate is not valid for {name} (it covers {covers})")
        }
        rustls::Error::InvalidCertificate(CertificateError::Expired)
        | rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "the certificate has expired".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidYet)
        | rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext { .. }) => {
            "the certificate is not valid yet".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the certificate is not signed by a trusted CA (self-signed, or the chain is incomplete)".into()
        }
        other => format!("the certificate was refused: {other}"),
    }
}

/// Connects TLS over `stream` for `name` (sent as SNI), with `alpn` offered.
pub async fn handshake(
    stream: TcpStream,
    name: &str,
    roots: &Roots,
    alpn: &[&[u8]],
) -> Result<(TlsStream<TcpStream>, CertificateVerdict), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(roots.store.clone(), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let recording = Arc::new(Recording {
        inner,
        verdict: Mutex::new(None),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let server_name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(server_name, stream)
        .await
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let verdict = recording
        .verdict
        .lock()
        .ok()
        .and_then(|mut v| v.take())
        .unwrap_or(CertificateVerdict {
            certificate: None,
            verified: Err("the server sent no certificate".into()),
        });
    Ok((tls, verdict))
}
