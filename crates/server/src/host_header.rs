//! One host per request: two `Host` headers, or a request target naming another host than its
//! `Host`, are refused (RFC 9110 §7.2, RFC 9112 §3.2, RFC 9113 §8.3.1) before anything reads the
//! host name; a target's host, when it gives one, is the `Host` every later step sees.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use signpost_core::validate;

use crate::responses;

/// The 400 answer when the request names its host ambiguously; otherwise `None`, with the
/// target's host (if it gives one) in `Host`.
pub fn settle(request: &mut Request) -> Option<Response> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let first = hosts.next().cloned();
    if hosts.next().is_some() {
        return Some(refuse("A request has one Host header\n"));
    }
    let authority = request.uri().authority()?.as_str().to_string();
    match first {
        Some(host) if !same_host(host.as_bytes(), authority.as_bytes()) => Some(refuse(
            "The request's target names another host than its Host header\n",
        )),
        Some(_) => None,
        None => {
            if let Ok(value) = HeaderValue::from_str(&authority) {
                request.headers_mut().insert(header::HOST, value);
            }
            None
        }
    }
}

/// The request's host name (from `Host`, or the URI authority in HTTP/2), lowercase, no port.
pub fn request_host(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let raw = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.host())?;
    if raw.starts_with('[') {
        // An IPv6 literal: never a domain.
        return None;
    }
    let host = raw.rsplit_once(':').map(|(h, _)| h).unwrap_or(raw);
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    validate::domain_name("host", host).ok()
}

fn same_host(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn refuse(why: &'static str) -> Response {
    responses::text(StatusCode::BAD_REQUEST, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, hosts: &[&str]) -> Request {
        let mut builder = Request::builder().uri(uri);
        for host in hosts {
            builder = builder.header(header::HOST, *host);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn one_host_or_a_refusal() {
        assert!(settle(&mut request("/x", &["a.example"])).is_none());
        assert!(settle(&mut request("/x", &[])).is_none());
        let two = settle(&mut request("/x", &["a.example", "b.example"]));
        assert_eq!(two.map(|r| r.status()), Some(StatusCode::BAD_REQUEST));
        let other = settle(&mut request("http://b.example/x", &["a.example"]));
        assert_eq!(other.map(|r| r.status()), Some(StatusCode::BAD_REQUEST));
        assert!(settle(&mut request("http://A.example/x", &["a.EXAMPLE"])).is_none());
        let mut target_only = request("http://b.example:8080/x", &[]);
        assert!(settle(&mut target_only).is_none());
        assert_eq!(target_only.headers()[header::HOST], "b.example:8080");
    }
}
