//! The PACC document (`/.well-known/user-agent-configuration.json`) for a domain.
//!
//! PACC names only a host per mail protocol and means implicit TLS on the standard port, so only
//! endpoints that are exactly that are published: IMAP 993, POP3 995, SMTP 465, each with SSL.

use signpost_protocol::pacc::{
    Authentication, Document, Help, Host, Info, OAuthPublic, Protocols, Provider, Url,
};

use crate::model::{
    AuthMethod, Domain, Encryption, Endpoint, ProtocolKind, expand_host_for_domain,
};

fn standard_port(kind: ProtocolKind) -> u16 {
    match kind {
        ProtocolKind::Imap => 993,
        ProtocolKind::Pop => 995,
        _ => 465,
    }
}

fn pacc_endpoint(domain: &Domain, kind: ProtocolKind) -> Option<&Endpoint> {
    let setting = domain.protocols.get(kind);
    if !setting.enabled {
        return None;
    }
    setting
        .endpoints()
        .find(|e| e.encryption == Encryption::Ssl && e.port == standard_port(kind))
}

/// The document for `domain`, as asked for under `asked_domain` (the domain or an alias, which
/// `%EMAILDOMAIN%` in host names stands for).
pub fn pacc_document(domain: &Domain, asked_domain: &str) -> Document {
    let published: Vec<(ProtocolKind, &Endpoint)> = ProtocolKind::MAIL
        .into_iter()
        .filter_map(|kind| pacc_endpoint(domain, kind).map(|e| (kind, e)))
        .collect();
    let host = |kind: ProtocolKind| {
        published
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, e)| Host {
                host: expand_host_for_domain(domain.host_of(e), asked_domain),
            })
    };
    let uses = |method: fn(AuthMethod) -> bool| {
        published
            .iter()
            .any(|(_, e)| e.authentication.iter().any(|m| method(*m)))
    };
    Document {
        protocols: Protocols {
            imap: host(ProtocolKind::Imap),
            pop3: host(ProtocolKind::Pop),
            smtp: host(ProtocolKind::Smtp),
            caldav: domain.caldav_url.clone().map(|url| Url { url }),
            carddav: domain.carddav_url.clone().map(|url| Url { url }),
        },
        authentication: Authentication {
            password: uses(AuthMethod::uses_password)
                || (published.is_empty()
                    && (domain.caldav_url.is_some() || domain.carddav_url.is_some())),
            oauth_public: domain
                .oauth2
                .as_ref()
                .filter(|_| uses(|m| m == AuthMethod::OAuth2))
                .map(|o| OAuthPublic {
                    issuer: format!("https://{}", o.issuer),
                }),
        },
        info: Info {
            provider: Provider {
                name: domain.shown_name().to_string(),
                short_name: (!domain.short_name.is_empty()).then(|| domain.short_name.clone()),
            },
            help: domain.documentation.first().map(|d| Help {
                documentation: d.url.clone(),
            }),
        },
    }
}

/// The body as served, and the `_ua-auto-config` TXT record value that vouches for it.
pub fn pacc_answer(domain: &Domain, asked_domain: &str) -> (String, String) {
    let body = signpost_protocol::pacc::write(&pacc_document(domain, asked_domain));
    let txt = signpost_protocol::pacc::txt_record(body.as_bytes());
    (body, txt)
}
