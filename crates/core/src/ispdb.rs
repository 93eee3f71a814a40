//! Turning a Thunderbird ISPDB file (or any `config-v1.1.xml`) into a Signpost domain.
//!
//! Everything that fits the model is kept exactly (servers with their host patterns, ports,
//! socket types, user name patterns and authentication methods, in order); everything else is
//! dropped with a warning that names it.

use signpost_protocol::autoconfig::{ParsedConfig, Server};

use crate::model::{
    AuthMethod, Description, DocumentationLink, Domain, Encryption, Endpoint, MAX_DISPLAY_NAME,
    MAX_SHORT_NAME, OAuth2Settings, ProtocolKind, ProtocolSetting,
};
use crate::validate::{self, ValidationError};

/// A domain ready to store, and what could not be carried over.
#[derive(Debug, Clone)]
pub struct Imported {
    pub domain: Domain,
    pub warnings: Vec<String>,
}

/// Builds a domain from a parsed configuration file.
pub fn domain_from_config(parsed: &ParsedConfig) -> Result<Imported, ValidationError> {
    let config = &parsed.config;
    let mut warnings: Vec<String> = Vec::new();

    let mut names: Vec<String> = Vec::new();
    for raw in &config.domains {
        match validate::domain_name("domain", raw) {
            Ok(name) if names.contains(&name) => {
                warnings.push(format!("domain {name} is listed twice; kept once"))
            }
            Ok(name) => names.push(name),
            Err(e) => warnings.push(format!("dropped domain: {e}")),
        }
    }
    let Some(name) = names.first().cloned() else {
        return Err(ValidationError::new(
            "domain",
            "the file lists no usable <domain>",
        ));
    };

    let mut endpoints: Vec<(ProtocolKind, Endpoint)> = Vec::new();
    for server in config.incoming.iter().chain(&config.outgoing) {
        let kind = match server.kind.to_ascii_lowercase().as_str() {
            "imap" => ProtocolKind::Imap,
            "pop3" => ProtocolKind::Pop,
            "smtp" => ProtocolKind::Smtp,
            other => {
                warnings.push(format!(
                    "dropped server of type '{other}' (only imap, pop3 and smtp are served over autoconfig)"
                ));
                continue;
            }
        };
        match endpoint_from_server(server, kind, &mut warnings) {
            Some(endpoint) => {
                let duplicate = endpoints.iter().any(|(k, e)| *k == kind && *e == endpoint);
                if duplicate {
                    warnings.push(format!(
                        "{} server {}:{} is listed twice; kept once",
                        kind.label(),
                        endpoint.host.as_deref().unwrap_or(""),
                        endpoint.port
                    ));
                } else {
                    endpoints.push((kind, endpoint));
                }
            }
            None => continue,
        }
    }
    // The hostname clients are told about when nothing more specific applies: the first server
    // with a plain name, else the domain itself. Every imported endpoint names its own host.
    let hostname = endpoints
        .iter()
        .filter_map(|(_, e)| e.host.as_deref())
        .find(|h| !h.contains('%'))
        .map(str::to_string)
        .unwrap_or_else(|| name.clone());
    let mut domain = Domain::new(&name, &hostname)?;
    domain.aliases = names[1..].to_vec();
    for kind in ProtocolKind::MAIL {
        let mut of_kind = endpoints
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, e)| e.clone());
        *domain.protocols.get_mut(kind) = match of_kind.next() {
            Some(primary) => ProtocolSetting {
                enabled: true,
                primary,
                extra: of_kind.collect(),
            },
            None => ProtocolSetting {
                enabled: false,
                ..kind.default_setting()
            },
        };
    }

    if let Some(display) = &config.display_name {
        domain.display_name = shortened("displayName", display, MAX_DISPLAY_NAME, &mut warnings);
    }
    if let Some(short) = &config.short_name {
        domain.short_name = shortened("displayShortName", short, MAX_SHORT_NAME, &mut warnings);
    }
    for doc in &config.documentation {
        match validate::web_url("documentation", &doc.url) {
            Ok(url) => domain.documentation.push(DocumentationLink {
                url,
                descriptions: doc
                    .descriptions
                    .iter()
                    .filter_map(
                        |(lang, text)| match validate::bounded_text("descr", text, 1024) {
                            Ok(text) => Some(Description {
                                lang: lang.clone(),
                                text,
                            }),
                            Err(e) => {
                                warnings.push(format!("dropped documentation text: {e}"));
                                None
                            }
                        },
                    )
                    .collect(),
            }),
            Err(e) => warnings.push(format!("dropped documentation link: {e}")),
        }
    }
    if let Some(url) = &config.webmail_url {
        match validate::web_url("webmail", url) {
            Ok(url) => domain.webmail_url = Some(url),
            Err(e) => warnings.push(format!("dropped webmail link: {e}")),
        }
    }
    if let Some(oauth2) = &config.oauth2 {
        let checked = (|| -> Result<OAuth2Settings, ValidationError> {
            Ok(OAuth2Settings {
                issuer: validate::domain_name("oauth2 issuer", &oauth2.issuer)?,
                scope: validate::bounded_text("oauth2 scope", &oauth2.scope, 1024)?,
                auth_url: validate::https_url("oauth2 authURL", &oauth2.auth_url)?,
                token_url: validate::https_url("oauth2 tokenURL", &oauth2.token_url)?,
            })
        })();
        match checked {
            Ok(settings) => domain.oauth2 = Some(settings),
            Err(e) => warnings.push(format!("dropped OAuth2 settings: {e}")),
        }
    }
    domain.caldav_url = first_dav_url("calendar", &config.calendars, &mut warnings);
    domain.carddav_url = first_dav_url("addressbook", &config.address_books, &mut warnings);

    let mut ignored: Vec<&String> = parsed.ignored.iter().collect();
    ignored.dedup();
    for part in ignored {
        warnings.push(format!("dropped <{part}> (not represented in Signpost)"));
    }
    Ok(Imported { domain, warnings })
}

fn endpoint_from_server(
    server: &Server,
    kind: ProtocolKind,
    warnings: &mut Vec<String>,
) -> Option<Endpoint> {
    let label = kind.label();
    let Some(hostname) = server.hostname.as_deref() else {
        warnings.push(format!("dropped a {label} server without <hostname>"));
        return None;
    };
    let host = match validate::host_pattern("hostname", hostname) {
        Ok(host) => host,
        Err(e) => {
            warnings.push(format!("dropped a {label} server: {e}"));
            return None;
        }
    };
    let encryption = match server
        .socket_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("ssl") | Some("tls") => Encryption::Ssl,
        Some("starttls") => Encryption::Starttls,
        Some("plain") => Encryption::None,
        other => {
            warnings.push(format!(
                "{label} server {host}: socketType {} read as plain",
                other.unwrap_or("missing")
            ));
            Encryption::None
        }
    };
    let Some(port) = server.port else {
        warnings.push(format!("dropped {label} server {host}: no <port>"));
        return None;
    };
    let username = match server.username.as_deref() {
        None => None,
        Some(pattern) => match validate::username_pattern("username", pattern) {
            Ok(pattern) => {
                if pattern.matches('%').count() % 2 == 1 {
                    warnings.push(format!(
                        "{label} server {host}: username '{pattern}' has an unpaired %; clients use it literally"
                    ));
                }
                Some(pattern)
            }
            Err(e) => {
                warnings.push(format!("{label} server {host}: dropped username: {e}"));
                None
            }
        },
    };
    let mut authentication = Vec::new();
    for method in &server.authentication {
        match AuthMethod::parse(method) {
            Ok(method) if !authentication.contains(&method) => authentication.push(method),
            Ok(_) => {}
            Err(e) => warnings.push(format!("{label} server {host}: dropped {e}")),
        }
    }
    Some(Endpoint {
        host: Some(host),
        port,
        encryption,
        username,
        authentication,
    })
}

/// Cuts text to `max` characters, never through a `%PLACEHOLDER%`.
fn shortened(field: &str, text: &str, max: usize, warnings: &mut Vec<String>) -> String {
    let text = text.trim();
    if text.chars().count() <= max && !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    let mut cut: String = clean.chars().take(max).collect();
    let cut_mid_word = clean.chars().nth(max).is_some_and(|c| !c.is_whitespace());
    if let Some(space) = cut.rfind(char::is_whitespace).filter(|_| cut_mid_word) {
        cut.truncate(space);
    }
    if let Some(open) = cut.rfind('%').filter(|_| cut.matches('%').count() % 2 == 1) {
        cut.truncate(open);
    }
    let cut = cut.trim_end().to_string();
    warnings.push(format!(
        "{field} '{text}' is longer than the {max} characters clients show; shortened to '{cut}'"
    ));
    cut
}

fn first_dav_url(
    kind: &'static str,
    servers: &[Server],
    warnings: &mut Vec<String>,
) -> Option<String> {
    let mut urls = servers.iter().filter_map(|s| s.url.as_deref());
    let first = urls
        .next()
        .and_then(|url| match validate::https_url(kind, url) {
            Ok(url) => Some(url),
            Err(e) => {
                warnings.push(format!("dropped {kind}: {e}"));
                None
            }
        });
    if urls.next().is_some() {
        warnings.push(format!("only the first <{kind}> is kept"));
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_servers_in_order_and_names_what_it_drops() {
        let parsed = signpost_protocol::autoconfig::parse(
            br#"<clientConfig version="1.1"><emailProvider id="x">
            <domain>Example.com</domain><domain>example.net</domain><domain>example.net</domain>
            <displayName>An Exceedingly Long Provider Display Name</displayName>
            <displayShortName>%EMAILDOMAIN%</displayShortName>
            <incomingServer type="imap"><hostname>imap.%EMAILDOMAIN%</hostname><port>143</port><socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username><authentication>OAuth2</authentication><authentication>password-cleartext</authentication></incomingServer>
            <incomingServer type="imap"><hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType><authentication>GSSAPI</authentication></incomingServer>
            <incomingServer type="ews"><url>https://x/EWS</url></incomingServer>
            <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>465</port><socketType>SSL</socketType><username>%EMAILADDRESS</username><authentication>password-cleartext</authentication></outgoingServer>
            <enable visiturl="https://x/"/>
            </emailProvider></clientConfig>"#,
        )
        .unwrap();
        let imported = domain_from_config(&parsed).unwrap();
        let d = &imported.domain;
        assert_eq!(d.name, "example.com");
        assert_eq!(d.aliases, ["example.net"]);
        assert_eq!(d.hostname, "imap.example.com");
        let imap = &d.protocols.imap;
        assert_eq!(imap.primary.host.as_deref(), Some("imap.%EMAILDOMAIN%"));
        assert_eq!(imap.primary.username.as_deref(), Some("%EMAILLOCALPART%"));
        assert_eq!(
            imap.primary.authentication,
            [AuthMethod::OAuth2, AuthMethod::PasswordCleartext]
        );
        assert_eq!(imap.extra[0].port, 993);
        assert!(imap.extra[0].username.is_none() && imap.extra[0].authentication.is_empty());
        assert!(!d.protocols.pop.enabled);
        assert_eq!(
            d.protocols.smtp.primary.username.as_deref(),
            Some("%EMAILADDRESS")
        );
        assert_eq!(d.short_name, "");
        let joined = imported.warnings.join("\n");
        for expected in [
            "example.net is listed twice",
            "dropped server of type 'ews'",
            "dropped invalid authentication: 'GSSAPI'",
            "unpaired %",
            "shortened to 'An Exceedingly Long Provider'",
            "dropped <emailProvider/enable>",
        ] {
            assert!(
                joined.contains(expected),
                "missing '{expected}' in:\n{joined}"
            );
        }
    }
}
