//! Protocols a domain offers and how clients reach each: the seed's Autodiscover card, with room
//! for more than one way to reach a protocol (SMTP on 465 and 587, say).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError};

/// A protocol a domain can offer and a user can be allowed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolKind {
    Imap,
    Pop,
    Smtp,
    /// Exchange Web Services.
    Ews,
    /// Exchange ActiveSync.
    Eas,
}

impl ProtocolKind {
    /// Every protocol, in the order answers list them (IMAP before POP3, as clients prefer).
    pub const ALL: [ProtocolKind; 5] = [Self::Imap, Self::Pop, Self::Smtp, Self::Ews, Self::Eas];
    /// The protocols of mail clients proper, which autoconfig and Apple profiles describe.
    pub const MAIL: [ProtocolKind; 3] = [Self::Imap, Self::Pop, Self::Smtp];

    /// The name used on the command line and in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Imap => "imap",
            Self::Pop => "pop",
            Self::Smtp => "smtp",
            Self::Ews => "ews",
            Self::Eas => "eas",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Imap => "IMAP",
            Self::Pop => "POP3",
            Self::Smtp => "SMTP",
            Self::Ews => "EWS",
            Self::Eas => "ActiveSync",
        }
    }

    /// Parses `pop`, `pop3`, `imap`, `smtp`, `ews`, `eas` or `activesync`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.to_ascii_lowercase().as_str() {
            "imap" => Ok(Self::Imap),
            "pop" | "pop3" => Ok(Self::Pop),
            "smtp" => Ok(Self::Smtp),
            "ews" => Ok(Self::Ews),
            "eas" | "activesync" => Ok(Self::Eas),
            _ => Err(ValidationError::new(
                "protocol",
                format!("'{value}' is not one of pop, imap, smtp, ews, eas"),
            )),
        }
    }

    /// EWS and ActiveSync run over HTTPS on 443 and nothing else.
    pub fn is_https_only(self) -> bool {
        matches!(self, Self::Ews | Self::Eas)
    }

    /// Where a new domain starts: IMAP 993 ssl, POP3 995 ssl, SMTP 587 starttls; EWS and
    /// ActiveSync https on 443 but off until the administrator has an Exchange-compatible server.
    pub fn default_setting(self) -> ProtocolSetting {
        let (enabled, port, encryption) = match self {
            Self::Imap => (true, 993, Encryption::Ssl),
            Self::Pop => (true, 995, Encryption::Ssl),
            Self::Smtp => (true, 587, Encryption::Starttls),
            Self::Ews | Self::Eas => (false, 443, Encryption::Ssl),
        };
        ProtocolSetting {
            enabled,
            primary: Endpoint::new(port, encryption),
            extra: Vec::new(),
        }
    }
}

impl std::fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// How a protocol is protected on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// Implicit TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465, HTTPS).
    Ssl,
    /// Plain connection upgraded by STARTTLS (IMAP 143, POP3 110, submission 587).
    Starttls,
    /// No encryption.
    None,
}

impl Encryption {
    pub fn key(self) -> &'static str {
        match self {
            Self::Ssl => "ssl",
            Self::Starttls => "starttls",
            Self::None => "none",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.to_ascii_lowercase().as_str() {
            "ssl" | "tls" => Ok(Self::Ssl),
            "starttls" => Ok(Self::Starttls),
            "none" | "plain" => Ok(Self::None),
            _ => Err(ValidationError::new(
                "encryption",
                format!("'{value}' is not one of ssl, starttls, none"),
            )),
        }
    }

    /// Clients should see implicit TLS first, then STARTTLS, then plain.
    pub fn preference(self) -> u8 {
        match self {
            Self::Ssl => 0,
            Self::Starttls => 1,
            Self::None => 2,
        }
    }
}

impl std::fmt::Display for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// How a client proves who it is to a mail server (the autoconfig `<authentication>` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AuthMethod {
    /// SASL PLAIN/LOGIN or the protocol's own login, protected by TLS.
    #[serde(rename = "password-cleartext")]
    PasswordCleartext,
    /// CRAM-MD5, DIGEST-MD5 and the like.
    #[serde(rename = "password-encrypted")]
    PasswordEncrypted,
    #[serde(rename = "OAuth2")]
    OAuth2,
    #[serde(rename = "NTLM")]
    Ntlm,
    #[serde(rename = "client-IP-address")]
    ClientIpAddress,
    #[serde(rename = "TLS-client-cert")]
    TlsClientCert,
    #[serde(rename = "none")]
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 7] = [
        Self::PasswordCleartext,
        Self::PasswordEncrypted,
        Self::OAuth2,
        Self::Ntlm,
        Self::ClientIpAddress,
        Self::TlsClientCert,
        Self::None,
    ];

    /// The autoconfig spelling.
    pub fn key(self) -> &'static str {
        match self {
            Self::PasswordCleartext => "password-cleartext",
            Self::PasswordEncrypted => "password-encrypted",
            Self::OAuth2 => "OAuth2",
            Self::Ntlm => "NTLM",
            Self::ClientIpAddress => "client-IP-address",
            Self::TlsClientCert => "TLS-client-cert",
            Self::None => "none",
        }
    }

    /// Parses the autoconfig spelling, ignoring case.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|m| m.key().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| {
                ValidationError::new(
                    "authentication",
                    format!(
                        "'{value}' is not one of {}",
                        Self::ALL.map(|m| m.key()).join(", ")
                    ),
                )
            })
    }

    /// Whether the client sends the user's password (so an address and a password suffice).
    pub fn uses_password(self) -> bool {
        matches!(
            self,
            Self::PasswordCleartext | Self::PasswordEncrypted | Self::Ntlm
        )
    }
}

/// The user name pattern clients get when nothing more specific is known.
pub const DEFAULT_USERNAME: &str = "%EMAILADDRESS%";

/// One way to reach a protocol's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Endpoint {
    /// The server; `None` means the domain's hostname. May contain `%EMAILDOMAIN%`.
    pub host: Option<String>,
    pub port: u16,
    pub encryption: Encryption,
    /// The login name pattern (`%EMAILADDRESS%`, `%EMAILLOCALPART%`, ...); `None` says nothing.
    #[serde(default = "default_username")]
    pub username: Option<String>,
    /// In order of preference; clients take the first they support.
    #[serde(default = "default_authentication")]
    pub authentication: Vec<AuthMethod>,
}

fn default_username() -> Option<String> {
    Some(DEFAULT_USERNAME.to_string())
}

fn default_authentication() -> Vec<AuthMethod> {
    vec![AuthMethod::PasswordCleartext]
}

impl Endpoint {
    /// On the domain's hostname, with the address as login and a password.
    pub fn new(port: u16, encryption: Encryption) -> Self {
        Self {
            host: None,
            port,
            encryption,
            username: default_username(),
            authentication: default_authentication(),
        }
    }
}

/// One protocol's row on the seed's Autodiscover card, plus any further endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProtocolSetting {
    pub enabled: bool,
    /// The endpoint Outlook, Apple devices and PACC clients are given.
    #[serde(flatten)]
    pub primary: Endpoint,
    /// More endpoints, offered to clients that take a list (autoconfig).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<Endpoint>,
}

impl ProtocolSetting {
    /// The primary endpoint, then the extra ones.
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        std::iter::once(&self.primary).chain(self.extra.iter())
    }
}

/// The five protocol settings of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProtocolSettings {
    pub imap: ProtocolSetting,
    pub pop: ProtocolSetting,
    pub smtp: ProtocolSetting,
    pub ews: ProtocolSetting,
    pub eas: ProtocolSetting,
}

impl Default for ProtocolSettings {
    fn default() -> Self {
        Self {
            imap: ProtocolKind::Imap.default_setting(),
            pop: ProtocolKind::Pop.default_setting(),
            smtp: ProtocolKind::Smtp.default_setting(),
            ews: ProtocolKind::Ews.default_setting(),
            eas: ProtocolKind::Eas.default_setting(),
        }
    }
}

impl ProtocolSettings {
    pub fn get(&self, kind: ProtocolKind) -> &ProtocolSetting {
        match kind {
            ProtocolKind::Imap => &self.imap,
            ProtocolKind::Pop => &self.pop,
            ProtocolKind::Smtp => &self.smtp,
            ProtocolKind::Ews => &self.ews,
            ProtocolKind::Eas => &self.eas,
        }
    }

    pub fn get_mut(&mut self, kind: ProtocolKind) -> &mut ProtocolSetting {
        match kind {
            ProtocolKind::Imap => &mut self.imap,
            ProtocolKind::Pop => &mut self.pop,
            ProtocolKind::Smtp => &mut self.smtp,
            ProtocolKind::Ews => &mut self.ews,
            ProtocolKind::Eas => &mut self.eas,
        }
    }
}

/// A change to one endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EndpointChange {
    /// `Some("")` resets the host to the domain's hostname.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub encryption: Option<Encryption>,
    /// `Some("")` removes the user name (clients then ask for one).
    pub username: Option<String>,
    /// Replaces the list when not empty.
    #[serde(default)]
    pub authentication: Vec<AuthMethod>,
}

/// A change to a protocol: on/off and its primary endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProtocolChange {
    pub enabled: Option<bool>,
    #[serde(flatten)]
    pub endpoint: EndpointChange,
}

impl EndpointChange {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Validates every field for protocol `kind`, then applies them to `endpoint`.
    pub fn apply(
        &self,
        kind: ProtocolKind,
        endpoint: &mut Endpoint,
    ) -> Result<(), ValidationError> {
        if kind.is_https_only() {
            if let Some(encryption) = self.encryption.filter(|e| *e != Encryption::Ssl) {
                return Err(ValidationError::new(
                    "encryption",
                    format!(
                        "{} always uses https (ssl); it cannot be set to {encryption}",
                        kind.label()
                    ),
                ));
            }
            if let Some(port) = self.port.filter(|p| *p != 443) {
                return Err(ValidationError::new(
                    "port",
                    format!(
                        "{} always uses https on port 443; it cannot be set to {port}",
                        kind.label()
                    ),
                ));
            }
        }
        let host = match self.host.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(host) => Some(Some(validate::host_pattern("host", host)?)),
            None => None,
        };
        let port = self.port.map(|p| validate::port("port", p)).transpose()?;
        let username = match self.username.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(pattern) => Some(Some(validate::username_pattern("username", pattern)?)),
            None => None,
        };
        if let Some(host) = host {
            endpoint.host = host;
        }
        if let Some(port) = port {
            endpoint.port = port;
        }
        if let Some(encryption) = self.encryption {
            endpoint.encryption = encryption;
        }
        if let Some(username) = username {
            endpoint.username = username;
        }
        if !self.authentication.is_empty() {
            let mut methods = Vec::new();
            for method in &self.authentication {
                if !methods.contains(method) {
                    methods.push(*method);
                }
            }
            endpoint.authentication = methods;
        }
        Ok(())
    }
}

/// Replaces the autoconfig placeholders of a user name or host pattern for one address.
pub fn expand_pattern<'p>(pattern: &'p str, address: &str) -> Cow<'p, str> {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    signpost_protocol::placeholders::replace(pattern, |name| match name {
        "EMAILADDRESS" => Some(Cow::Borrowed(address)),
        "EMAILLOCALPART" => Some(Cow::Borrowed(local)),
        "EMAILDOMAIN" => Some(Cow::Borrowed(domain)),
        _ => None,
    })
}

/// Replaces `%EMAILDOMAIN%` in a host pattern, for answers about a whole domain.
pub fn expand_host_for_domain(pattern: &str, domain: &str) -> String {
    signpost_protocol::placeholders::replace(pattern, |name| {
        (name == "EMAILDOMAIN").then_some(Cow::Borrowed(domain))
    })
    .into_owned()
}
