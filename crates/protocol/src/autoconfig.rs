//! Thunderbird's autoconfig format (`config-v1.1.xml`, draft-ietf-mailmaint-autoconfig): the
//! writer Signpost answers with, and a tolerant reader for importing ISPDB files.
//!
//! The writer keeps what real parsers demand: same-named siblings adjacent (io-pim-discovery
//! rejects the document otherwise), `oAuth2`, `webMail`, `calendar` and `addressbook` at the
//! top level, and only the element values the clients know.

use crate::xml_reader::{self, Element, Limits, XmlError};
use crate::xml_writer::XmlWriter;

/// One `incomingServer`, `outgoingServer`, `calendar` or `addressbook` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Server {
    /// `imap`, `pop3`, `smtp`, `caldav`, `carddav`, ...
    pub kind: String,
    pub hostname: Option<String>,
    pub port: Option<u16>,
    /// `SSL`, `STARTTLS` or `plain`.
    pub socket_type: Option<String>,
    pub url: Option<String>,
    pub username: Option<String>,
    /// In order of preference.
    pub authentication: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Documentation {
    pub url: String,
    /// `(lang, text)`; `lang` is `None` for text without a language.
    pub descriptions: Vec<(Option<String>, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuth2 {
    pub issuer: String,
    pub scope: String,
    pub auth_url: String,
    pub token_url: String,
}

/// A whole configuration document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// `emailProvider id`: hostname syntax, as io-pim-discovery requires.
    pub provider_id: String,
    pub domains: Vec<String>,
    pub display_name: Option<String>,
    pub short_name: Option<String>,
    pub incoming: Vec<Server>,
    pub outgoing: Vec<Server>,
    pub documentation: Vec<Documentation>,
    pub oauth2: Option<OAuth2>,
    pub webmail_url: Option<String>,
    pub calendars: Vec<Server>,
    pub address_books: Vec<Server>,
}

fn write_server(w: &mut XmlWriter, element: &'static str, server: &Server) {
    w.open_with(element, &[("type", &server.kind)]);
    if let Some(url) = &server.url {
        w.text("url", url);
    }
    if let Some(hostname) = &server.hostname {
        w.text("hostname", hostname);
    }
    if let Some(port) = server.port {
        w.number("port", i64::from(port));
    }
    if let Some(socket_type) = &server.socket_type {
        w.text("socketType", socket_type);
    }
    if let Some(username) = &server.username {
        w.text("username", username);
    }
    for method in &server.authentication {
        w.text("authentication", method);
    }
    w.close();
}

/// Writes a `clientConfig version="1.1"` document.
pub fn write(config: &ClientConfig) -> String {
    let mut w = XmlWriter::new();
    w.open_with("clientConfig", &[("version", "1.1")]);
    w.open_with("emailProvider", &[("id", &config.provider_id)]);
    for domain in &config.domains {
        w.text("domain", domain);
    }
    if let Some(name) = &config.display_name {
        w.text("displayName", name);
    }
    if let Some(name) = &config.short_name {
        w.text("displayShortName", name);
    }
    for server in &config.incoming {
        write_server(&mut w, "incomingServer", server);
    }
    for server in &config.outgoing {
        write_server(&mut w, "outgoingServer", server);
    }
    for doc in &config.documentation {
        w.open_with("documentation", &[("url", &doc.url)]);
        for (lang, text) in &doc.descriptions {
            match lang {
                Some(lang) => w.text_with("descr", &[("lang", lang)], text),
                None => w.text("descr", text),
            };
        }
        w.close();
    }
    w.close();
    if let Some(oauth2) = &config.oauth2 {
        w.open("oAuth2")
            .text("issuer", &oauth2.issuer)
            .text("scope", &oauth2.scope)
            .text("authURL", &oauth2.auth_url)
            .text("tokenURL", &oauth2.token_url)
            .close();
    }
    if let Some(url) = &config.webmail_url {
        w.open("webMail")
            .empty("loginPage", &[("url", url)])
            .close();
    }
    for server in &config.calendars {
        write_server(&mut w, "calendar", server);
    }
    for server in &config.address_books {
        write_server(&mut w, "addressbook", server);
    }
    w.finish()
}

/// A document read from a file, with the parts Signpost does not represent named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedConfig {
    pub config: ClientConfig,
    /// Where each ignored element was, e.g. `emailProvider/enable`.
    pub ignored: Vec<String>,
}

/// Why a configuration file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the root element is <{0}>, not <clientConfig>")]
    WrongRoot(String),
    #[error("there is no <emailProvider>")]
    NoProvider,
    #[error("{0}")]
    Invalid(String),
}

/// Reads a `config-v1.1.xml` (an ISPDB file, say). Everything Signpost does not model is listed
/// in [`ParsedConfig::ignored`] rather than refused.
pub fn parse(input: &[u8]) -> Result<ParsedConfig, ParseError> {
    let limits = Limits {
        max_depth: 16,
        max_elements: 10_000,
        max_attributes: 16,
        max_text_bytes: 64 * 1024,
    };
    let root = xml_reader::parse(input, limits)?;
    if root.name != "clientConfig" {
        return Err(ParseError::WrongRoot(root.name.chars().take(64).collect()));
    }
    let mut parsed = ParsedConfig::default();
    let mut providers = root.children_named("emailProvider");
    let provider = providers.next().ok_or(ParseError::NoProvider)?;
    if providers.next().is_some() {
        parsed.ignored.push("a second emailProvider".into());
    }
    let config = &mut parsed.config;
    config.provider_id = provider.attribute("id").unwrap_or_default().to_string();
    for child in &provider.children {
        match child.name.as_str() {
            "domain" => config.domains.push(child.text.trim().to_string()),
            "displayName" => config.display_name = Some(child.text.trim().to_string()),
            "displayShortName" => config.short_name = Some(child.text.trim().to_string()),
            "incomingServer" => config
                .incoming
                .push(read_server(child, &mut parsed.ignored)?),
            "outgoingServer" => config
                .outgoing
                .push(read_server(child, &mut parsed.ignored)?),
            "documentation" => config
                .documentation
                .push(read_documentation(child, &mut parsed.ignored)),
            other => parsed.ignored.push(format!("emailProvider/{other}")),
        }
    }
    for child in &root.children {
        match child.name.as_str() {
            "emailProvider" => {}
            "oAuth2" => {
                let field = |name: &str| child.child_text(name).unwrap_or_default().to_string();
                config.oauth2 = Some(OAuth2 {
                    issuer: field("issuer"),
                    scope: field("scope"),
                    auth_url: field("authURL"),
                    token_url: field("tokenURL"),
                });
            }
            "webMail" => {
                for part in &child.children {
                    match (part.name.as_str(), part.attribute("url")) {
                        ("loginPage", Some(url)) => {
                            config.webmail_url = Some(url.trim().to_string())
                        }
                        (other, _) => parsed.ignored.push(format!("webMail/{other}")),
                    }
                }
            }
            "calendar" => config
                .calendars
                .push(read_server(child, &mut parsed.ignored)?),
            "addressbook" | "addressBook" => config
                .address_books
                .push(read_server(child, &mut parsed.ignored)?),
            other => parsed.ignored.push(other.to_string()),
        }
    }
    Ok(parsed)
}

fn read_server(element: &Element, ignored: &mut Vec<String>) -> Result<Server, ParseError> {
    let kind = element
        .attribute("type")
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut server = Server {
        kind: kind.clone(),
        ..Server::default()
    };
    for child in &element.children {
        let text = child.text.trim().to_string();
        match child.name.as_str() {
            "hostname" => server.hostname = Some(text),
            "port" => {
                let port = text
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| {
                        ParseError::Invalid(format!("{} server port '{text}' is not 1-65535", kind))
                    })?;
                server.port = Some(port);
            }
            "socketType" => server.socket_type = Some(text),
            "url" => server.url = Some(text),
            "username" => server.username = Some(text),
            "authentication" => server.authentication.push(text),
            other => ignored.push(format!("{}({kind})/{other}", element.name)),
        }
    }
    Ok(server)
}

fn read_documentation(element: &Element, ignored: &mut Vec<String>) -> Documentation {
    let mut doc = Documentation {
        url: element
            .attribute("url")
            .unwrap_or_default()
            .trim()
            .to_string(),
        descriptions: Vec::new(),
    };
    for child in &element.children {
        if child.name == "descr" {
            doc.descriptions.push((
                child.attribute("lang").map(str::to_string),
                child.text.trim().to_string(),
            ));
        } else {
            ignored.push(format!("documentation/{}", child.name));
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ClientConfig {
        ClientConfig {
            provider_id: "example.com".into(),
            domains: vec!["example.com".into(), "example.net".into()],
            display_name: Some("Example <Mail>".into()),
            short_name: Some("Example".into()),
            incoming: vec![Server {
                kind: "imap".into(),
                hostname: Some("imap.example.com".into()),
                port: Some(993),
                socket_type: Some("SSL".into()),
                username: Some("%EMAILADDRESS%".into()),
                authentication: vec!["OAuth2".into(), "password-cleartext".into()],
                ..Server::default()
            }],
            outgoing: vec![Server {
                kind: "smtp".into(),
                hostname: Some("smtp.example.com".into()),
                port: Some(465),
                socket_type: Some("SSL".into()),
                username: None,
                authentication: vec!["password-cleartext".into()],
                ..Server::default()
            }],
            documentation: vec![Documentation {
                url: "https://example.com/help?a=1&b=2".into(),
                descriptions: vec![(Some("en".into()), "Help".into()), (None, "Hilfe".into())],
            }],
            oauth2: Some(OAuth2 {
                issuer: "login.example.com".into(),
                scope: "mail".into(),
                auth_url: "https://login.example.com/auth".into(),
                token_url: "https://login.example.com/token".into(),
            }),
            webmail_url: Some("https://webmail.example.com/".into()),
            calendars: vec![Server {
                kind: "caldav".into(),
                url: Some("https://dav.example.com/cal/".into()),
                username: Some("%EMAILADDRESS%".into()),
                authentication: vec!["http-basic".into()],
                ..Server::default()
            }],
            address_books: Vec::new(),
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let written = write(&sample());
        assert!(written.contains("<displayName>Example &lt;Mail&gt;</displayName>"));
        assert!(written.contains("url=\"https://example.com/help?a=1&amp;b=2\""));
        let parsed = parse(written.as_bytes()).unwrap();
        assert_eq!(parsed.config, sample());
        assert!(parsed.ignored.is_empty(), "{:?}", parsed.ignored);
    }

    #[test]
    fn unknown_parts_are_listed_not_refused() {
        let parsed = parse(
            br#"<clientConfig version="1.1"><emailProvider id="x.org"><domain>x.org</domain>
            <incomingServer type="pop3"><hostname>pop.x.org</hostname><port>995</port><pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3></incomingServer>
            <enable visiturl="https://x.org/"/></emailProvider><webMail><loginPage url="https://w.x.org/"/><loginPageInfo url="https://w.x.org/"/></webMail></clientConfig>"#,
        )
        .unwrap();
        assert_eq!(
            parsed.ignored,
            [
                "incomingServer(pop3)/pop3",
                "emailProvider/enable",
                "webMail/loginPageInfo"
            ]
        );
        assert_eq!(
            parsed.config.webmail_url.as_deref(),
            Some("https://w.x.org/")
        );
        assert_eq!(
            parse(b"<other/>"),
            Err(ParseError::WrongRoot("other".into()))
        );
        assert!(matches!(
            parse(b"<clientConfig><emailProvider><incomingServer type=\"imap\"><port>0</port></incomingServer></emailProvider></clientConfig>"),
            Err(ParseError::Invalid(_))
        ));
    }
}
