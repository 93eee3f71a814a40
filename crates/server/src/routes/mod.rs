//! One module per family of endpoints, and what they share: reading query strings and Host.

pub mod autoconfig;
pub mod autodiscover_json;
pub mod autodiscover_xml;
pub mod health;
pub mod mobileconfig;
pub mod pacc;

use signpost_core::{Domain, Snapshot};

/// The first value of any of `names` in a query string, names matched ignoring ASCII case.
///
/// Values are percent-decoded, but `+` stays `+`: clients send addresses raw as well as encoded,
/// and `john+tag@example.com` must not become `john tag@example.com`.
pub fn query_value(query: Option<&str>, names: &[&str]) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key)?;
            names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&key))
                .then(|| percent_decode(value))
                .flatten()
        })
        .find(|value| !value.trim().is_empty())
}

/// `%XX` decoding into UTF-8; `None` for malformed escapes or bytes that are not UTF-8.
pub(crate) fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub use crate::host_header::request_host;

/// The hosted domain a host name stands for: `<prefix>.<domain>`, the domain (or an alias)
/// itself, or the one domain whose mail hostname it is. Returns the domain and the name it was
/// found under.
pub fn domain_for_host<'s>(
    snapshot: &'s Snapshot,
    host: &str,
    prefix: &str,
) -> Option<(&'s Domain, String)> {
    let under_prefix = host.strip_prefix(prefix).and_then(|r| r.strip_prefix('.'));
    if let Some((rest, domain)) = under_prefix.and_then(|r| Some((r, snapshot.domain(r)?))) {
        return Some((domain, rest.to_string()));
    }
    if let Some(domain) = snapshot.domain(host) {
        return Some((domain, host.to_string()));
    }
    let mut by_hostname = snapshot.domains().filter(|d| d.hostname == host);
    match (by_hostname.next(), by_hostname.next()) {
        (Some(only), None) => Some((only, only.name.clone())),
        _ => None,
    }
}

pub use signpost_core::validate::domain_of;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, Uri, header};

    #[test]
    fn query_values_ignore_case_and_keep_plus() {
        let q = Some("protocol=ActiveSync&EMAIL=jo%40x.y&x=1&e2=a+b@x.y");
        assert_eq!(query_value(q, &["Email"]).as_deref(), Some("jo@x.y"));
        assert_eq!(query_value(q, &["Protocol"]).as_deref(), Some("ActiveSync"));
        assert_eq!(query_value(q, &["e2"]).as_deref(), Some("a+b@x.y"));
        assert_eq!(query_value(q, &["missing"]), None);
        assert_eq!(query_value(None, &["Email"]), None);
        assert_eq!(query_value(Some("email="), &["Email"]), None);
        assert_eq!(query_value(Some("email=%zz"), &["Email"]), None);
    }

    #[test]
    fn hosts_lose_ports_and_case() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "AutoConfig.Example.COM:8443".parse().unwrap());
        let uri: Uri = "/".parse().unwrap();
        assert_eq!(
            request_host(&headers, &uri).as_deref(),
            Some("autoconfig.example.com")
        );
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            request_host(&headers, &uri),
            None,
            "an address is not a name"
        );
        headers.insert(header::HOST, "[::1]:8080".parse().unwrap());
        assert_eq!(request_host(&headers, &uri), None);
    }
}
