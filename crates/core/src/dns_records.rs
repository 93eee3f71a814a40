//! Every DNS record a hosted domain needs, as zone-file lines or data: the host names clients
//! try (autodiscover, autoconfig, PACC), Outlook's `_autodiscover._tcp` SRV record as the seed
//! shows it, RFC 6186/8314 mail service records, RFC 6764 CalDAV/CardDAV records and the PACC
//! digest.

use std::net::IpAddr;

use serde::Serialize;

use crate::answers::pacc;
use crate::model::{Domain, Encryption, Endpoint, ProtocolKind, expand_host_for_domain};

/// Where the service names point.
#[derive(Debug, Clone, Default)]
pub struct DnsTarget {
    /// The server's public addresses (A and AAAA records).
    pub addresses: Vec<IpAddr>,
    /// A name to alias the service names to instead (CNAME records); used when set.
    pub cname: Option<String>,
    pub ttl: u32,
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DnsRecord {
    /// Fully qualified, with the trailing dot.
    pub name: String,
    pub ttl: u32,
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// The record data as a zone file writes it.
    pub value: String,
    /// Why the record is there.
    pub purpose: String,
}

impl DnsRecord {
    /// `name ttl IN TYPE value`.
    pub fn zone_line(&self) -> String {
        format!(
            "{} {} IN {} {}",
            self.name, self.ttl, self.record_type, self.value
        )
    }
}

/// The RFC 6186 / RFC 8314 services of each protocol: (implicit TLS, plain or STARTTLS).
const SERVICES: [(ProtocolKind, &str, &str); 3] = [
    (ProtocolKind::Imap, "_imaps", "_imap"),
    (ProtocolKind::Pop, "_pop3s", "_pop3"),
    (ProtocolKind::Smtp, "_submissions", "_submission"),
];

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// A TXT value in quotes, escaped, split into 255-byte strings.
fn txt_value(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    escaped
        .as_bytes()
        .chunks(255)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every record `domain` needs, for each of its names (the domain and its aliases).
pub fn records(domain: &Domain, target: &DnsTarget) -> Vec<DnsRecord> {
    let mut records = Vec::new();
    for name in domain.all_names() {
        records.extend(records_for_name(domain, name, target));
    }
    records
}

fn records_for_name(domain: &Domain, name: &str, target: &DnsTarget) -> Vec<DnsRecord> {
    let ttl = target.ttl;
    let mut records = Vec::new();
    let record =
        |name: String, record_type: &'static str, value: String, purpose: &str| DnsRecord {
            name,
            ttl,
            record_type,
            value,
            purpose: purpose.to_string(),
        };
    let (pacc_body, pacc_txt) = pacc::pacc_answer(domain, name);
    let pacc_served = pacc_body.contains("\"host\"") || pacc_body.contains("\"url\"");
    let mut hosts = vec![
        (
            "autodiscover",
            "Outlook, Windows Mail and ActiveSync devices try this name",
        ),
        (
            "autoconfig",
            "Thunderbird and other autoconfig clients try this name",
        ),
    ];
    if pacc_served {
        hosts.push((
            "ua-auto-config",
            "PACC clients fetch their configuration here",
        ));
    }
    for (prefix, purpose) in hosts {
        let host = fqdn(&format!("{prefix}.{name}"));
        match &target.cname {
            Some(cname) => records.push(record(host, "CNAME", fqdn(cname), purpose)),
            None => {
                for address in &target.addresses {
                    let kind = if address.is_ipv4() { "A" } else { "AAAA" };
                    records.push(record(host.clone(), kind, address.to_string(), purpose));
                }
            }
        }
    }
    records.push(record(
        fqdn(&format!("_autodiscover._tcp.{name}")),
        "SRV",
        format!("0 0 443 {}", fqdn(&domain.hostname)),
        "Outlook's fallback when autodiscover.<domain> fails; its certificate must cover the target",
    ));
    for (kind, tls_service, plain_service) in SERVICES {
        let setting = domain.protocols.get(kind);
        let pick = |want_tls: bool| -> Option<&Endpoint> {
            setting.enabled.then_some(())?;
            setting
                .endpoints()
                .find(|e| (e.encryption == Encryption::Ssl) == want_tls)
        };
        for (service, want_tls, priority) in [(tls_service, true, 0), (plain_service, false, 10)] {
            let srv_name = fqdn(&format!("{service}._tcp.{name}"));
            let value = match pick(want_tls) {
                Some(endpoint) => format!(
                    "{priority} 1 {} {}",
                    endpoint.port,
                    fqdn(&expand_host_for_domain(domain.host_of(endpoint), name))
                ),
                // RFC 6186: target "." says the service is decidedly not offered.
                None => "0 0 0 .".to_string(),
            };
            let purpose = if value.ends_with(" .") {
                format!("{} is not offered this way (RFC 6186)", kind.label())
            } else {
                format!(
                    "{} for clients that look up RFC 6186/8314 records",
                    kind.label()
                )
            };
            records.push(record(srv_name, "SRV", value, &purpose));
        }
    }
    for (service, url, label) in [
        ("_caldavs", &domain.caldav_url, "CalDAV"),
        ("_carddavs", &domain.carddav_url, "CardDAV"),
    ] {
        let Some(parsed) = url.as_deref().and_then(|u| url::Url::parse(u).ok()) else {
            continue;
        };
        let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
            continue;
        };
        let srv_name = fqdn(&format!("{service}._tcp.{name}"));
        records.push(record(
            srv_name.clone(),
            "SRV",
            format!("0 1 {port} {}", fqdn(host)),
            &format!("{label} server (RFC 6764)"),
        ));
        records.push(record(
            srv_name,
            "TXT",
            txt_value(&format!("path={}", parsed.path())),
            &format!("{label} context path (RFC 6764)"),
        ));
    }
    if pacc_served {
        records.push(record(
            fqdn(&format!("_ua-auto-config.{name}")),
            "TXT",
            txt_value(&pacc_txt),
            "the digest PACC clients check the configuration against; update it when settings change",
        ));
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DomainChange, ProtocolChange};

    fn find<'a>(records: &'a [DnsRecord], name: &str, kind: &str) -> Vec<&'a DnsRecord> {
        records
            .iter()
            .filter(|r| r.name == name && r.record_type == kind)
            .collect()
    }

    #[test]
    fn records_follow_the_protocols() {
        let mut domain = Domain::new("example.com", "mail.example.com").unwrap();
        domain
            .apply(&DomainChange {
                caldav_url: Some("https://dav.example.com/cal/".into()),
                ..Default::default()
            })
            .unwrap();
        domain
            .change_protocol(
                ProtocolKind::Pop,
                &ProtocolChange {
                    enabled: Some(false),
                    ..Default::default()
                },
            )
            .unwrap();
        let target = DnsTarget {
            addresses: vec![
                "192.0.2.10".parse().unwrap(),
                "2001:db8::10".parse().unwrap(),
            ],
            cname: None,
            ttl: 3600,
        };
        let records = records(&domain, &target);
        assert_eq!(
            find(&records, "autodiscover.example.com.", "A")[0].value,
            "192.0.2.10"
        );
        assert_eq!(
            find(&records, "autoconfig.example.com.", "AAAA")[0].value,
            "2001:db8::10"
        );
        assert_eq!(
            find(&records, "_autodiscover._tcp.example.com.", "SRV")[0].zone_line(),
            "_autodiscover._tcp.example.com. 3600 IN SRV 0 0 443 mail.example.com."
        );
        assert_eq!(
            find(&records, "_imaps._tcp.example.com.", "SRV")[0].value,
            "0 1 993 mail.example.com."
        );
        assert_eq!(
            find(&records, "_imap._tcp.example.com.", "SRV")[0].value,
            "0 0 0 ."
        );
        assert_eq!(
            find(&records, "_pop3s._tcp.example.com.", "SRV")[0].value,
            "0 0 0 ."
        );
        assert_eq!(
            find(&records, "_submission._tcp.example.com.", "SRV")[0].value,
            "10 1 587 mail.example.com."
        );
        assert_eq!(
            find(&records, "_caldavs._tcp.example.com.", "TXT")[0].value,
            "\"path=/cal/\""
        );
        assert!(
            find(&records, "_ua-auto-config.example.com.", "TXT")[0]
                .value
                .starts_with("\"v=UAAC1; a=sha256; d=")
        );

        let cname = DnsTarget {
            cname: Some("signpost.example.net".into()),
            ttl: 300,
            ..Default::default()
        };
        let records = super::records(&domain, &cname);
        assert_eq!(
            find(&records, "autoconfig.example.com.", "CNAME")[0].value,
            "signpost.example.net."
        );
    }
}
