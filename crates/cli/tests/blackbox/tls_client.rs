//! A TLS client for the tests, on rustls: handshakes with or without SNI, reports the certificate
//! the server chose, and speaks enough HTTP/1.1 to read an answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use rustls_pki_types::pem::PemObject;

pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_pem: &str) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("add root");
    }
    roots
}

/// A client that trusts `ca_pem` and checks names as browsers and mail clients do.
pub fn trusting(ca_pem: &str) -> Arc<ClientConfig> {
    let roots = roots(ca_pem);
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// [`trusting`], for a client that offers only RSA signatures in its handshake (as some embedded
/// and old Java clients do).
pub fn trusting_rsa_only(ca_pem: &str) -> Arc<ClientConfig> {
    let roots = roots(ca_pem);
    let mut provider = rustls::crypto::ring::default_provider();
    let rsa: Vec<_> = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .filter(|(scheme, _)| format!("{scheme:?}").starts_with("RSA"))
        .copied()
        .collect();
    provider.signature_verification_algorithms.mapping = Box::leak(rsa.into_boxed_slice());
    Arc::new(
        ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A client that accepts any certificate, to see what a server presents when no name fits.
pub fn accepting_anything() -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything))
            .with_no_client_auth(),
    )
}

/// Connects and completes the handshake. `sni` `None` sends no server name.
pub fn connect(
    config: Arc<ClientConfig>,
    server: SocketAddr,
    sni: Option<&str>,
) -> Result<TlsStream, String> {
    let name = match sni {
        Some(name) => ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(server.ip().into()),
    };
    let connection = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(server).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut stream = StreamOwned::new(connection, tcp);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|e| e.to_string())?;
    }
    Ok(stream)
}

/// The DNS names of the certificate the server presented.
pub fn presented_names(stream: &TlsStream) -> Vec<String> {
    let leaf = &stream.conn.peer_certificates().expect("a certificate")[0];
    signpost_core::certificate::inspect(leaf.as_ref())
        .expect("parse certificate")
        .names
}

/// One HTTP/1.1 request on an open stream (kept alive); returns status and body.
pub fn request(
    stream: &mut TlsStream,
    method: &str,
    host: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nContent-Type: text/xml\r\n\r\n{body}",
        body.len()
    );
    let (status, _, body) = exchange(stream, &request);
    (status, body)
}

/// Sends a whole raw request; the status, the head (status line and headers) and the body.
pub fn exchange(stream: &mut TlsStream, request: &str) -> (u16, String, String) {
    stream.write_all(request.as_bytes()).expect("write request");
    stream.flush().expect("flush");
    read_response(stream)
}

fn read_response(stream: &mut TlsStream) -> (u16, String, String) {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let n = stream.read(&mut buffer).expect("read response");
        assert!(n > 0, "connection closed before the answer was complete");
        data.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                return (
                    status,
                    head.to_string(),
                    text[end + 4..end + 4 + length].to_string(),
                );
            }
        }
    }
}

#[derive(Debug)]
struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
