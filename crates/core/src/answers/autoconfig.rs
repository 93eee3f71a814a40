//! The autoconfig (`config-v1.1.xml`) answer for a domain. It never depends on who asks or on
//! whether the address exists: placeholders stand where the address goes, and clients fill them.

use signpost_protocol::autoconfig::{ClientConfig, Documentation, OAuth2, Server};

use crate::model::{AuthMethod, Domain, Encryption, Endpoint, ProtocolKind};

fn socket_type(encryption: Encryption) -> &'static str {
    match encryption {
        Encryption::Ssl => "SSL",
        Encryption::Starttls => "STARTTLS",
        Encryption::None => "plain",
    }
}

fn wire_name(kind: ProtocolKind) -> &'static str {
    match kind {
        ProtocolKind::Imap => "imap",
        ProtocolKind::Pop => "pop3",
        _ => "smtp",
    }
}

/// Every endpoint of `kind` if it is on, implicit TLS first, then STARTTLS, then plain (the order
/// within each group is the administrator's).
fn servers(domain: &Domain, kind: ProtocolKind) -> Vec<Server> {
    let setting = domain.protocols.get(kind);
    if !setting.enabled {
        return Vec::new();
    }
    let mut endpoints: Vec<&Endpoint> = setting.endpoints().collect();
    endpoints.sort_by_key(|e| e.encryption.preference());
    endpoints
        .into_iter()
        .map(|endpoint| Server {
            kind: wire_name(kind).to_string(),
            hostname: Some(domain.host_of(endpoint).to_string()),
            port: Some(endpoint.port),
            socket_type: Some(socket_type(endpoint.encryption).to_string()),
            username: endpoint.username.clone(),
            authentication: endpoint
                .authentication
                .iter()
                .map(|m| AuthMethod::key(*m).to_string())
                .collect(),
            url: None,
        })
        .collect()
}

fn dav(kind: &str, url: &Option<String>) -> Vec<Server> {
    url.iter()
        .map(|url| Server {
            kind: kind.to_string(),
            url: Some(url.clone()),
            username: Some(crate::model::DEFAULT_USERNAME.to_string()),
            authentication: vec!["http-basic".to_string()],
            ..Server::default()
        })
        .collect()
}

/// Why a domain has no autoconfig answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Neither IMAP nor POP3 is on.
    NoIncoming,
    /// SMTP is off: Thunderbird and K-9 reject a configuration without it.
    NoOutgoing,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoIncoming => "neither IMAP nor POP3 is on",
            Self::NoOutgoing => {
                "SMTP is off, and autoconfig clients refuse a configuration without it"
            }
        })
    }
}

/// The configuration document for `domain`.
pub fn client_config(domain: &Domain) -> Result<ClientConfig, Unusable> {
    let mut incoming = servers(domain, ProtocolKind::Imap);
    incoming.extend(servers(domain, ProtocolKind::Pop));
    let outgoing = servers(domain, ProtocolKind::Smtp);
    if incoming.is_empty() {
        return Err(Unusable::NoIncoming);
    }
    if outgoing.is_empty() {
        return Err(Unusable::NoOutgoing);
    }
    Ok(ClientConfig {
        provider_id: domain.name.clone(),
        domains: domain.all_names().map(str::to_string).collect(),
        display_name: Some(domain.shown_name().to_string()),
        short_name: (!domain.short_name.is_empty()).then(|| domain.short_name.clone()),
        incoming,
        outgoing,
        documentation: domain
            .documentation
            .iter()
            .map(|doc| Documentation {
                url: doc.url.clone(),
                descriptions: doc
                    .descriptions
                    .iter()
                    .map(|d| (d.lang.clone(), d.text.clone()))
                    .collect(),
            })
            .collect(),
        oauth2: domain.oauth2.as_ref().map(|o| OAuth2 {
            issuer: o.issuer.clone(),
            scope: o.scope.clone(),
            auth_url: o.auth_url.clone(),
            token_url: o.token_url.clone(),
        }),
        webmail_url: domain.webmail_url.clone(),
        calendars: dav("caldav", &domain.caldav_url),
        address_books: dav("carddav", &domain.carddav_url),
    })
}

/// The answer body.
pub fn autoconfig_answer(domain: &Domain) -> Result<String, Unusable> {
    client_config(domain).map(|config| signpost_protocol::autoconfig::write(&config))
}
