//! One HTTP request at a time, the way a mail client makes it: names resolved through the chosen
//! DNS, TLS verified for the exact name, no redirect followed (callers decide), bounded bodies.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use signpost_core::certificate::CertificateInfo;
use tokio::net::TcpStream;
use url::Url;

use crate::Ports;
use crate::dns::Dns;
use crate::tls::{self, Roots};

const MAX_BODY: usize = 1024 * 1024;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
    /// The certificate the server presented (https only).
    pub certificate: Option<CertificateInfo>,
    pub address: SocketAddr,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{0} does not resolve: {1}")]
    Dns(String, String),
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, String),
    #[error("{0}")]
    Tls(String, Option<Box<CertificateInfo>>),
    #[error("HTTP error: {0}")]
    Http(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// Makes requests through one DNS and one set of trusted roots.
#[derive(Clone)]
pub struct Fetcher {
    pub dns: Arc<Dns>,
    pub roots: Roots,
    pub ports: Ports,
    pub timeout: Duration,
}

impl Fetcher {
    pub fn new(dns: Arc<Dns>, roots: Roots, ports: Ports) -> Self {
        Self {
            dns,
            roots,
            ports,
            timeout: Duration::from_secs(10),
        }
    }

    /// The address a URL's host and port come to: the URL's own port, else the standard one
    /// (as changed by [`Ports`]).
    pub async fn resolve(&self, url: &Url) -> Result<SocketAddr, FetchError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port().unwrap_or(match url.scheme() {
            "https" => self.ports.https,
            _ => self.ports.http,
        });
        let ip = match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => ip,
            Err(_) => *self
                .dns
                .addresses(host)
                .await
                .map_err(|e| FetchError::Dns(host.to_string(), e.to_string()))?
                .first()
                .ok_or_else(|| FetchError::Dns(host.to_string(), "no address".into()))?,
        };
        Ok(SocketAddr::new(ip, port))
    }

    pub async fn fetch(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.fetch_inner(method, url, headers, body))
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }

    async fn fetch_inner(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Fetched, FetchError> {
        let address = self.resolve(url).await?;
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| FetchError::Connect(address, e.to_string()))?;
        let host = url.host_str().unwrap_or_default().to_string();
        let request = build_request(method, url, &host, headers, body)?;
        if url.scheme() == "https" {
            let (tls, verdict) = tls::handshake(stream, &host, &self.roots, &[b"http/1.1"])
                .await
                .map_err(|e| FetchError::Tls(e, None))?;
            if let Err(why) = verdict.verified {
                return Err(FetchError::Tls(why, verdict.certificate.map(Box::new)));
            }
            let mut fetched = exchange(tls, request, address).await?;
            fetched.certificate = verdict.certificate;
            Ok(fetched)
        } else {
            exchange(stream, request, address).await
        }
    }
}

fn build_request(
    method: &str,
    url: &Url,
    host: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<hyper::Request<Full<Bytes>>, FetchError> {
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let host_header = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", host_header)
        .header("user-agent", "Signpost-Probe/1")
        .header("content-length", body.len());
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| FetchError::Http(e.to_string()))
}

async fn exchange<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
    address: SocketAddr,
) -> Result<Fetched, FetchError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| FetchError::Http(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| FetchError::Http(e.to_string()))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| FetchError::Http(format!("reading the body: {e}")))?
        .to_bytes()
        .to_vec();
    driver.abort();
    Ok(Fetched {
        status,
        headers,
        body,
        certificate: None,
        address,
    })
}
