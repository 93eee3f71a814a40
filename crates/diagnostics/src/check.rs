//! The seed's troubleshooting list, automated: DNS names and SRV records, certificates for the
//! exact names, the website redirect, Outlook's http step, and real answers through it all.

use std::net::IpAddr;

use serde::Serialize;
use signpost_core::Domain;
use signpost_core::dns_records::DnsRecord;
use signpost_protocol::{autoconfig, pox};
use tokio::net::TcpStream;
use url::Url;

use crate::Status;
use crate::dns::DnsError;
use crate::http::{FetchError, Fetcher};
use crate::tls;

/// One line of the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckResult {
    pub check: String,
    pub status: Status,
    pub detail: String,
    /// What to do about it, when something is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn result(
    check: &str,
    status: Status,
    detail: impl Into<String>,
    fix: Option<String>,
) -> CheckResult {
    CheckResult {
        check: check.to_string(),
        status,
        detail: detail.into(),
        fix,
    }
}

/// Certificates this close to expiry are reported as a warning (three weeks: time to notice
/// and renew before clients complain).
pub const EXPIRY_WARNING_DAYS: i64 = 21;

/// Runs every check for `domain`. `expected` are the records `signpost dns` prints for it;
/// `public_addresses` this server's addresses, when known.
pub async fn run(
    domain: &Domain,
    expected: &[DnsRecord],
    public_addresses: &[IpAddr],
    fetcher: &Fetcher,
) -> Vec<CheckResult> {
    let mut results = dns(domain, expected, public_addresses, fetcher).await;
    results.extend(certificates(domain, fetcher).await);
    results.push(website_redirect(domain, fetcher).await);
    results.push(outlook_http_redirect(domain, fetcher).await);
    results.push(pox_answer(domain, fetcher).await);
    results.push(autoconfig_answer(domain, fetcher).await);
    results
}

/// The DNS part: the discovery names resolve (to this server, when its addresses are known),
/// and the SRV records clients look for are there.
pub async fn dns(
    domain: &Domain,
    expected: &[DnsRecord],
    public_addresses: &[IpAddr],
    fetcher: &Fetcher,
) -> Vec<CheckResult> {
    let name = &domain.name;
    let mut results = Vec::new();
    for prefix in ["autodiscover", "autoconfig"] {
        results.push(resolves(&format!("{prefix}.{name}"), public_addresses, fetcher).await);
    }
    results.push(autodiscover_srv(name, fetcher).await);
    results.extend(mail_srv(expected, fetcher).await);
    results
}

/// The TLS part: a valid certificate for each name clients open over https, not close to expiry.
pub async fn certificates(domain: &Domain, fetcher: &Fetcher) -> Vec<CheckResult> {
    let mut https_names = vec![
        domain.hostname.clone(),
        format!("autodiscover.{}", domain.name),
    ];
    https_names.dedup();
    let mut results = Vec::new();
    for host in &https_names {
        results.push(certificate(host, fetcher).await);
    }
    results
}

async fn resolves(host: &str, public: &[IpAddr], fetcher: &Fetcher) -> CheckResult {
    let check = format!("DNS {host}");
    match fetcher.dns.addresses(host).await {
        Ok(addresses) => {
            let shown = addresses
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            if !public.is_empty() && !addresses.iter().any(|a| public.contains(a)) {
                result(
                    &check,
                    Status::Warn,
                    format!("resolves to {shown}, not to this server"),
                    Some(format!(
                        "point {host} at {} (see: signpost dns)",
                        public
                            .iter()
                            .map(IpAddr::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                )
            } else {
                result(&check, Status::Pass, format!("resolves to {shown}"), None)
            }
        }
        Err(e) => result(
            &check,
            Status::Fail,
            format!("{host} does not resolve ({e})"),
            Some(format!(
                "add an A/AAAA (or CNAME) record for {host}; `signpost dns` prints it"
            )),
        ),
    }
}

async fn autodiscover_srv(name: &str, fetcher: &Fetcher) -> CheckResult {
    let srv_name = format!("_autodiscover._tcp.{name}");
    let check = format!("SRV {srv_name}");
    let records = match fetcher.dns.srv(&srv_name).await {
        Ok(records) => records,
        Err(DnsError::NotFound) => {
            return result(
                &check,
                Status::Fail,
                "there is no _autodiscover._tcp SRV record: Outlook's last fallback is missing",
                Some(format!(
                    "add `{srv_name}. IN SRV 0 0 443 <mail hostname>.` (signpost dns {name})"
                )),
            );
        }
        Err(e) => return result(&check, Status::Fail, e.to_string(), None),
    };
    let Some(srv) = records.iter().min_by_key(|r| r.priority) else {
        return result(&check, Status::Fail, "the SRV record is empty", None);
    };
    if srv.port != 443 {
        return result(
            &check,
            Status::Fail,
            format!(
                "the SRV record says port {}; Outlook connects to 443",
                srv.port
            ),
            Some(format!("set the port of {srv_name} to 443")),
        );
    }
    // The target's certificate must cover the target itself (the seed's "avoid certificate errors").
    match handshake(&srv.target, fetcher).await {
        Ok(verdict) => match verdict.verified {
            Ok(()) => result(
                &check,
                Status::Pass,
                format!("0 0 443 {}: its certificate covers it", srv.target),
                None,
            ),
            Err(why) => result(
                &check,
                Status::Fail,
                format!("target {}: {why}", srv.target),
                Some(format!(
                    "serve a certificate for {} there, or point the SRV record at a name the certificate covers",
                    srv.target
                )),
            ),
        },
        Err(why) => result(
            &check,
            Status::Fail,
            format!("target {}: {why}", srv.target),
            None,
        ),
    }
}

async fn mail_srv(expected: &[DnsRecord], fetcher: &Fetcher) -> Vec<CheckResult> {
    let mut results = Vec::new();
    let services = [
        "_imaps._tcp.",
        "_imap._tcp.",
        "_pop3s._tcp.",
        "_pop3._tcp.",
        "_submissions._tcp.",
        "_submission._tcp.",
    ];
    for record in expected
        .iter()
        .filter(|r| r.record_type == "SRV" && services.iter().any(|s| r.name.starts_with(s)))
    {
        let name = record.name.trim_end_matches('.');
        let check = format!("SRV {name}");
        let wanted: Vec<&str> = record.value.split_whitespace().collect();
        let (want_port, want_target) = (
            wanted.get(2).copied().unwrap_or(""),
            wanted.get(3).copied().unwrap_or("").trim_end_matches('.'),
        );
        let off = want_target.is_empty() || record.value.ends_with(" .");
        match fetcher.dns.srv(name).await {
            Err(DnsError::NotFound) if off => results.push(result(
                &check,
                Status::Pass,
                "absent, and the service is not offered",
                None,
            )),
            Err(DnsError::NotFound) => results.push(result(
                &check,
                Status::Warn,
                "missing (optional, RFC 6186)",
                Some(format!("add `{}`", record.zone_line())),
            )),
            Err(e) => results.push(result(&check, Status::Fail, e.to_string(), None)),
            Ok(found) => {
                let agrees = found.iter().any(|srv| {
                    if off {
                        srv.target == "."
                    } else {
                        srv.port.to_string() == want_port
                            && srv.target.eq_ignore_ascii_case(want_target)
                    }
                });
                if agrees {
                    results.push(result(
                        &check,
                        Status::Pass,
                        "agrees with the configured protocols",
                        None,
                    ));
                } else {
                    let shown = found
                        .iter()
                        .map(|s| format!("{} {} {} {}", s.priority, s.weight, s.port, s.target))
                        .collect::<Vec<_>>()
                        .join("; ");
                    results.push(result(
                        &check,
                        Status::Fail,
                        format!("says {shown}, but Signpost answers {}", record.value),
                        Some(format!("change it to `{}`", record.zone_line())),
                    ));
                }
            }
        }
    }
    results
}

async fn handshake(host: &str, fetcher: &Fetcher) -> Result<tls::CertificateVerdict, String> {
    let url = Url::parse(&format!("https://{host}/")).map_err(|e| e.to_string())?;
    let address = fetcher.resolve(&url).await.map_err(|e| e.to_string())?;
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    tls::handshake(stream, host, &fetcher.roots, &[b"http/1.1"])
        .await
        .map(|(_, verdict)| verdict)
}

async fn certificate(host: &str, fetcher: &Fetcher) -> CheckResult {
    let check = format!("HTTPS {host}");
    let verdict = match tokio::time::timeout(fetcher.timeout, handshake(host, fetcher)).await {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(why)) => {
            return result(
                &check,
                Status::Fail,
                why,
                Some(format!(
                    "serve HTTPS for {host} (signpost serve --listen-tls)"
                )),
            );
        }
        Err(_) => {
            return result(
                &check,
                Status::Fail,
                "no TLS handshake within the timeout",
                None,
            );
        }
    };
    match (verdict.verified, verdict.certificate) {
        (Err(why), _) => result(
            &check,
            Status::Fail,
            why,
            Some(format!(
                "install a certificate for {host} from a trusted CA (signpost cert add, or --acme on)"
            )),
        ),
        (Ok(()), Some(info)) => {
            let days = info.days_left(tls_now());
            let detail = format!("valid for {host}, {days} days left");
            if days < EXPIRY_WARNING_DAYS {
                result(
                    &check,
                    Status::Warn,
                    detail,
                    Some("renew the certificate".into()),
                )
            } else {
                result(&check, Status::Pass, detail, None)
            }
        }
        (Ok(()), None) => result(&check, Status::Pass, format!("valid for {host}"), None),
    }
}

fn tls_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn pox_body(address: &str) -> String {
    pox_request_body(address, pox::OUTLOOK_RESPONSE_NS)
}

pub fn pox_request_body(address: &str, schema: &str) -> String {
    let mut w = signpost_protocol::xml_writer::XmlWriter::new();
    w.open_with(
        "Autodiscover",
        &[(
            "xmlns",
            "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006",
        )],
    );
    w.open("Request")
        .text("EMailAddress", address)
        .text("AcceptableResponseSchema", schema);
    w.finish()
}

async fn website_redirect(domain: &Domain, fetcher: &Fetcher) -> CheckResult {
    let check = format!(
        "Website https://{}/autodiscover/autodiscover.xml",
        domain.name
    );
    let Ok(url) = Url::parse(&format!(
        "https://{}/autodiscover/autodiscover.xml",
        domain.name
    )) else {
        return result(&check, Status::Fail, "not a URL", None);
    };
    let body = pox_body(&format!("postmaster@{}", domain.name));
    let headers = [("content-type", "text/xml; charset=utf-8".to_string())];
    match fetcher.fetch("POST", &url, &headers, body.as_bytes()).await {
        Ok(answer) if matches!(answer.status, 301 | 302 | 303 | 307 | 308) => {
            let location = answer.header("location").unwrap_or_default().to_string();
            let ours = [
                domain.hostname.clone(),
                format!("autodiscover.{}", domain.name),
            ];
            let good = Url::parse(&location).is_ok_and(|l| {
                l.scheme() == "https"
                    && l.path()
                        .eq_ignore_ascii_case("/autodiscover/autodiscover.xml")
                    && l.host_str().is_some_and(|h| ours.iter().any(|o| o == h))
            });
            if good {
                result(
                    &check,
                    Status::Pass,
                    format!("redirects ({}) to {location}", answer.status),
                    None,
                )
            } else {
                result(
                    &check,
                    Status::Fail,
                    format!(
                        "redirects ({}) to {location}, not to this server",
                        answer.status
                    ),
                    Some(format!(
                        "redirect to https://{}/autodiscover/autodiscover.xml (signpost snippet {} --for apache|nginx|iis|caddy)",
                        domain.hostname, domain.name
                    )),
                )
            }
        }
        Ok(answer) if answer.status == 401 || pox::parse_answer(&answer.body).is_ok() => result(
            &check,
            Status::Pass,
            format!("answers autodiscover itself ({})", answer.status),
            None,
        ),
        Ok(answer) => result(
            &check,
            Status::Fail,
            format!(
                "answers {} without autodiscover and without a redirect; Outlook asks here first",
                answer.status
            ),
            Some(format!(
                "add the redirect on the website: signpost snippet {} --for apache|nginx|iis|caddy",
                domain.name
            )),
        ),
        Err(FetchError::Tls(why, _)) => result(
            &check,
            Status::Warn,
            format!("{why}; Outlook may show a certificate warning before going on"),
            Some(format!(
                "give https://{} a valid certificate, or stop serving https there",
                domain.name
            )),
        ),
        Err(e) => result(
            &check,
            Status::Pass,
            format!(
                "nothing answers ({e}); Outlook goes on to autodiscover.{}",
                domain.name
            ),
            None,
        ),
    }
}

async fn outlook_http_redirect(domain: &Domain, fetcher: &Fetcher) -> CheckResult {
    let host = format!("autodiscover.{}", domain.name);
    let check = format!("HTTP http://{host}/autodiscover/autodiscover.xml");
    let Ok(url) = Url::parse(&format!("http://{host}/autodiscover/autodiscover.xml")) else {
        return result(&check, Status::Fail, "not a URL", None);
    };
    match fetcher.fetch("GET", &url, &[], b"").await {
        Ok(answer) if answer.status == 302 => {
            let location = answer.header("location").unwrap_or_default();
            if location.starts_with("https://") {
                result(&check, Status::Pass, format!("302 to {location}"), None)
            } else {
                result(&check, Status::Fail, format!("302 to {location}, which is not https; Outlook refuses it"), None)
            }
        }
        Ok(answer) => result(&check, Status::Warn, format!("answers {} instead of Outlook's 302", answer.status),
            Some("serve plain HTTP on port 80 with Signpost (--listen 0.0.0.0:80 beside --listen-tls)".into())),
        Err(e) => result(&check, Status::Warn, format!("{e}"), Some("serve plain HTTP on port 80 with Signpost".into())),
    }
}

async fn pox_answer(domain: &Domain, fetcher: &Fetcher) -> CheckResult {
    let host = format!("autodiscover.{}", domain.name);
    let check = format!("Answer POST https://{host}/autodiscover/autodiscover.xml");
    let Ok(url) = Url::parse(&format!("https://{host}/autodiscover/autodiscover.xml")) else {
        return result(&check, Status::Fail, "not a URL", None);
    };
    let body = pox_body(&format!("postmaster@{}", domain.name));
    let headers = [("content-type", "text/xml; charset=utf-8".to_string())];
    match fetcher.fetch("POST", &url, &headers, body.as_bytes()).await {
        Ok(answer) if answer.status == 401 => {
            let basic = answer
                .header("www-authenticate")
                .is_some_and(|h| h.to_ascii_lowercase().starts_with("basic"));
            if basic {
                result(
                    &check,
                    Status::Pass,
                    "asks for the password with Basic, as Outlook expects",
                    None,
                )
            } else {
                result(&check, Status::Fail, "401 without a Basic challenge", None)
            }
        }
        Ok(answer) if answer.status == 200 => match pox::parse_answer(&answer.body) {
            Ok(pox::PoxAnswer::Error { code, message }) => result(
                &check,
                Status::Fail,
                format!("error {code}: {message}"),
                None,
            ),
            Ok(_) => result(
                &check,
                Status::Pass,
                "a well-formed autodiscover answer",
                None,
            ),
            Err(e) => result(
                &check,
                Status::Fail,
                format!("the answer is not autodiscover XML: {e}"),
                None,
            ),
        },
        Ok(answer) => result(
            &check,
            Status::Fail,
            format!("answers {}", answer.status),
            None,
        ),
        Err(e) => result(&check, Status::Fail, e.to_string(), None),
    }
}

async fn autoconfig_answer(domain: &Domain, fetcher: &Fetcher) -> CheckResult {
    let host = format!("autoconfig.{}", domain.name);
    let check = format!("Answer GET https://{host}/mail/config-v1.1.xml");
    let Ok(url) = Url::parse(&format!(
        "https://{host}/mail/config-v1.1.xml?emailaddress=postmaster%40{}",
        domain.name
    )) else {
        return result(&check, Status::Fail, "not a URL", None);
    };
    match fetcher.fetch("GET", &url, &[], b"").await {
        Ok(answer) if answer.status == 200 => {
            let content_type = answer
                .header("content-type")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !content_type.starts_with("text/xml") && !content_type.starts_with("application/xml")
            {
                return result(
                    &check,
                    Status::Fail,
                    format!("Content-Type is '{content_type}'; Thunderbird only reads text/xml"),
                    None,
                );
            }
            match autoconfig::parse(&answer.body) {
                Ok(parsed)
                    if !parsed.config.incoming.is_empty() && !parsed.config.outgoing.is_empty() =>
                {
                    result(
                        &check,
                        Status::Pass,
                        format!(
                            "{} incoming and {} outgoing servers",
                            parsed.config.incoming.len(),
                            parsed.config.outgoing.len()
                        ),
                        None,
                    )
                }
                Ok(_) => result(
                    &check,
                    Status::Fail,
                    "the configuration lacks an incoming or an outgoing server",
                    None,
                ),
                Err(e) => result(
                    &check,
                    Status::Fail,
                    format!("not a configuration document: {e}"),
                    None,
                ),
            }
        }
        Ok(answer) => result(
            &check,
            Status::Fail,
            format!("answers {}", answer.status),
            None,
        ),
        Err(e) => result(
            &check,
            Status::Fail,
            e.to_string(),
            Some(format!("serve HTTPS for {host}")),
        ),
    }
}
