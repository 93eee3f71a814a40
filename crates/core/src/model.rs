//! Domains, their protocol settings, and users with their service access, as the seed's
//! Domains -> Options / Autodiscover cards and user Service Access settings describe them.

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError};

/// A protocol a domain can offer and a user can be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
            host: None,
            port,
            encryption,
        }
    }
}

impl std::fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// How a protocol is protected on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl std::fmt::Display for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// One protocol's row on the seed's Autodiscover card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolSetting {
    pub enabled: bool,
    /// The server clients connect to; `None` means the domain's hostname.
    pub host: Option<String>,
    pub port: u16,
    pub encryption: Encryption,
}

/// The five protocol settings of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Whether autodiscover asks for the user's password before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthPolicy {
    /// Every answer needs a valid address and password (the seed's product behaves so).
    #[default]
    Required,
    /// Credentials are checked when sent; without them the domain's settings are given.
    Optional,
    /// Credentials are never asked for nor checked.
    Off,
}

impl AuthPolicy {
    pub fn key(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Off => "off",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.to_ascii_lowercase().as_str() {
            "required" => Ok(Self::Required),
            "optional" => Ok(Self::Optional),
            "off" => Ok(Self::Off),
            _ => Err(ValidationError::new(
                "auth",
                format!("'{value}' is not one of required, optional, off"),
            )),
        }
    }
}

/// A custom answer that replaces the generated one, with the seed's semantics: it counts only when
/// enabled *and* some text was saved; saved empty text gives an empty answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct XmlOverride {
    pub enabled: bool,
    /// `None` until text is first saved.
    pub text: Option<String>,
}

impl XmlOverride {
    /// The text to send instead of the generated answer, if any.
    pub fn active_text(&self) -> Option<&str> {
        if self.enabled {
            self.text.as_deref()
        } else {
            None
        }
    }
}

/// Which of the two custom answers of a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverrideKind {
    /// Outlook and every non-ActiveSync client.
    Desktop,
    /// Exchange ActiveSync.
    Mobile,
}

impl OverrideKind {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.to_ascii_lowercase().as_str() {
            "desktop" => Ok(Self::Desktop),
            "mobile" => Ok(Self::Mobile),
            _ => Err(ValidationError::new(
                "override",
                format!("'{value}' is not one of desktop, mobile"),
            )),
        }
    }
}

/// A hosted mail domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The address domain, lowercase ASCII (IDNs in punycode).
    pub name: String,
    /// The name returned to clients (the seed's Options card "Hostname").
    pub hostname: String,
    /// Shown by clients as the provider's name; empty means the domain name.
    pub display_name: String,
    pub auth: AuthPolicy,
    /// Send every client of this domain to the same local part at another domain.
    pub redirect_to: Option<String>,
    pub protocols: ProtocolSettings,
    pub desktop_override: XmlOverride,
    pub mobile_override: XmlOverride,
}

/// A change to one protocol's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolChange {
    pub enabled: Option<bool>,
    /// `Some("")` resets the host to the domain's hostname.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub encryption: Option<Encryption>,
}

impl Domain {
    /// A new domain with the default protocol settings, validated.
    pub fn new(name: &str, hostname: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            name: validate::domain_name("name", name)?,
            hostname: validate::domain_name("hostname", hostname)?,
            display_name: String::new(),
            auth: AuthPolicy::default(),
            redirect_to: None,
            protocols: ProtocolSettings::default(),
            desktop_override: XmlOverride::default(),
            mobile_override: XmlOverride::default(),
        })
    }

    /// The provider name clients show.
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.name
        } else {
            &self.display_name
        }
    }

    /// The host clients connect to for `kind`.
    pub fn host_for(&self, kind: ProtocolKind) -> &str {
        self.protocols
            .get(kind)
            .host
            .as_deref()
            .unwrap_or(&self.hostname)
    }

    pub fn override_for(&self, kind: OverrideKind) -> &XmlOverride {
        match kind {
            OverrideKind::Desktop => &self.desktop_override,
            OverrideKind::Mobile => &self.mobile_override,
        }
    }

    pub fn override_for_mut(&mut self, kind: OverrideKind) -> &mut XmlOverride {
        match kind {
            OverrideKind::Desktop => &mut self.desktop_override,
            OverrideKind::Mobile => &mut self.mobile_override,
        }
    }

    /// Applies `change` to protocol `kind`, refusing what the protocol cannot do.
    pub fn change_protocol(
        &mut self,
        kind: ProtocolKind,
        change: &ProtocolChange,
    ) -> Result<(), ValidationError> {
        if kind.is_https_only() {
            if let Some(encryption) = change.encryption.filter(|e| *e != Encryption::Ssl) {
                return Err(ValidationError::new(
                    "encryption",
                    format!(
                        "{} always uses https (ssl); it cannot be set to {encryption}",
                        kind.label()
                    ),
                ));
            }
            if let Some(port) = change.port.filter(|p| *p != 443) {
                return Err(ValidationError::new(
                    "port",
                    format!(
                        "{} always uses https on port 443; it cannot be set to {port}",
                        kind.label()
                    ),
                ));
            }
        }
        let host = match change.host.as_deref() {
            Some("") => Some(None),
            Some(host) => Some(Some(validate::domain_name("host", host)?)),
            None => None,
        };
        let port = change.port.map(|p| validate::port("port", p)).transpose()?;
        let setting = self.protocols.get_mut(kind);
        if let Some(enabled) = change.enabled {
            setting.enabled = enabled;
        }
        if let Some(host) = host {
            setting.host = host;
        }
        if let Some(port) = port {
            setting.port = port;
        }
        if let Some(encryption) = change.encryption {
            setting.encryption = encryption;
        }
        Ok(())
    }
}

/// A change to a domain's own settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainChange {
    pub hostname: Option<String>,
    pub display_name: Option<String>,
    pub auth: Option<AuthPolicy>,
    /// `Some(None)` stops redirecting.
    pub redirect_to: Option<Option<String>>,
}

impl Domain {
    /// Validates every field of `change`, then applies it; a refused change leaves `self` as it
    /// was.
    pub fn apply(&mut self, change: &DomainChange) -> Result<(), ValidationError> {
        let hostname = change
            .hostname
            .as_deref()
            .map(|h| validate::domain_name("hostname", h))
            .transpose()?;
        let display_name = change
            .display_name
            .as_deref()
            .map(|d| validate::display_name("display_name", d))
            .transpose()?;
        let redirect_to = match &change.redirect_to {
            Some(Some(target)) => {
                let target = validate::domain_name("redirect_to", target)?;
                if target == self.name {
                    return Err(ValidationError::new(
                        "redirect_to",
                        "a domain cannot redirect to itself",
                    ));
                }
                Some(Some(target))
            }
            Some(None) => Some(None),
            None => None,
        };
        if let Some(hostname) = hostname {
            self.hostname = hostname;
        }
        if let Some(display_name) = display_name {
            self.display_name = display_name;
        }
        if let Some(auth) = change.auth {
            self.auth = auth;
        }
        if let Some(redirect_to) = redirect_to {
            self.redirect_to = redirect_to;
        }
        Ok(())
    }
}

/// Which protocols a user may use (the seed's per-user Service Access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccess {
    pub imap: bool,
    pub pop: bool,
    pub smtp: bool,
    pub ews: bool,
    pub eas: bool,
}

impl Default for ServiceAccess {
    fn default() -> Self {
        Self::ALL
    }
}

impl ServiceAccess {
    pub const ALL: Self = Self {
        imap: true,
        pop: true,
        smtp: true,
        ews: true,
        eas: true,
    };

    pub fn allows(&self, kind: ProtocolKind) -> bool {
        match kind {
            ProtocolKind::Imap => self.imap,
            ProtocolKind::Pop => self.pop,
            ProtocolKind::Smtp => self.smtp,
            ProtocolKind::Ews => self.ews,
            ProtocolKind::Eas => self.eas,
        }
    }

    pub fn set(&mut self, kind: ProtocolKind, allowed: bool) {
        match kind {
            ProtocolKind::Imap => self.imap = allowed,
            ProtocolKind::Pop => self.pop = allowed,
            ProtocolKind::Smtp => self.smtp = allowed,
            ProtocolKind::Ews => self.ews = allowed,
            ProtocolKind::Eas => self.eas = allowed,
        }
    }

    /// The allowed protocols as `imap,smtp,...` for tables.
    pub fn summary(&self) -> String {
        let allowed: Vec<&str> = ProtocolKind::ALL
            .iter()
            .filter(|k| self.allows(**k))
            .map(|k| k.key())
            .collect();
        if allowed.is_empty() {
            "none".into()
        } else {
            allowed.join(",")
        }
    }
}

/// A mailbox user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The address, lowercase, its domain in punycode.
    pub address: String,
    /// A PHC string (argon2id for passwords set by Signpost).
    pub password_hash: String,
    /// Empty means the address.
    pub display_name: String,
    /// The name the mail server expects at login; `None` means the address.
    pub login_name: Option<String>,
    /// Exchange-style distinguished name; `None` derives one from the address.
    pub legacy_dn: Option<String>,
    pub access: ServiceAccess,
}

impl User {
    /// The domain part of the address.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or_default()
    }

    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.address
        } else {
            &self.display_name
        }
    }

    pub fn login(&self) -> &str {
        self.login_name.as_deref().unwrap_or(&self.address)
    }

    pub fn legacy_dn(&self) -> String {
        self.legacy_dn
            .clone()
            .unwrap_or_else(|| derived_legacy_dn(&self.address))
    }
}

/// A change to a user; `None` leaves a field as it is, and an empty login name or LegacyDN goes
/// back to the derived one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub login_name: Option<String>,
    pub legacy_dn: Option<String>,
    #[serde(default)]
    pub deny: Vec<ProtocolKind>,
    #[serde(default)]
    pub allow: Vec<ProtocolKind>,
}

impl User {
    /// A new user with a freshly hashed password and full service access, then `change` applied.
    pub fn new(
        address: &str,
        password: &str,
        change: &UserChange,
    ) -> Result<Self, ValidationError> {
        let address = validate::address("address", address)?;
        validate::password(password)?;
        let mut user = Self {
            address,
            password_hash: String::new(),
            display_name: String::new(),
            login_name: None,
            legacy_dn: None,
            access: ServiceAccess::ALL,
        };
        user.apply(change)?;
        user.password_hash = crate::password::hash_password(password)?;
        Ok(user)
    }

    /// Validates every field of `change`, then applies it.
    pub fn apply(&mut self, change: &UserChange) -> Result<(), ValidationError> {
        let display_name = change
            .display_name
            .as_deref()
            .map(|d| validate::display_name("display_name", d))
            .transpose()?;
        let login_name = match change.login_name.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(login) => Some(Some(validate::login_name("login_name", login)?)),
            None => None,
        };
        let legacy_dn = match change.legacy_dn.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(dn) => Some(Some(validate::login_name("legacy_dn", dn)?)),
            None => None,
        };
        if let Some(kind) = change.deny.iter().find(|k| change.allow.contains(k)) {
            return Err(ValidationError::new(
                "access",
                format!("{kind} is both allowed and denied"),
            ));
        }
        if let Some(display_name) = display_name {
            self.display_name = display_name;
        }
        if let Some(login_name) = login_name {
            // The address itself is the default; storing it again would only shadow it.
            self.login_name = login_name.filter(|l| !l.eq_ignore_ascii_case(&self.address));
        }
        if let Some(legacy_dn) = legacy_dn {
            self.legacy_dn = legacy_dn;
        }
        for kind in &change.deny {
            self.access.set(*kind, false);
        }
        for kind in &change.allow {
            self.access.set(*kind, true);
        }
        Ok(())
    }

    /// Replaces the password with a fresh argon2id hash.
    pub fn set_password(&mut self, password: &str) -> Result<(), ValidationError> {
        self.password_hash = crate::password::hash_password(password)?;
        Ok(())
    }
}

const LEGACY_DN_PREFIX: &str = "/o=Signpost/ou=";
const LEGACY_DN_RECIPIENTS: &str = "/cn=Recipients/cn=";

/// `/o=Signpost/ou=<domain>/cn=Recipients/cn=<local part>`: stable, and reversible by
/// [`address_from_derived_legacy_dn`] so a request that names only a LegacyDN can be answered.
pub fn derived_legacy_dn(address: &str) -> String {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    format!("{LEGACY_DN_PREFIX}{domain}{LEGACY_DN_RECIPIENTS}{local}")
}

/// The address a derived LegacyDN stands for.
pub fn address_from_derived_legacy_dn(legacy_dn: &str) -> Option<String> {
    let rest = strip_prefix_ignore_case(legacy_dn, LEGACY_DN_PREFIX)?;
    let lowered = rest.to_ascii_lowercase();
    let split = lowered.find(&LEGACY_DN_RECIPIENTS.to_ascii_lowercase())?;
    let domain = &rest[..split];
    let local = &rest[split + LEGACY_DN_RECIPIENTS.len()..];
    validate::address("LegacyDN", &format!("{local}@{domain}")).ok()
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_domain_has_the_issue_defaults() {
        let d = Domain::new("Example.COM", "mail.example.com").unwrap();
        assert_eq!(d.name, "example.com");
        let imap = d.protocols.get(ProtocolKind::Imap);
        assert!(imap.enabled && imap.port == 993 && imap.encryption == Encryption::Ssl);
        let pop = d.protocols.get(ProtocolKind::Pop);
        assert!(pop.enabled && pop.port == 995 && pop.encryption == Encryption::Ssl);
        let smtp = d.protocols.get(ProtocolKind::Smtp);
        assert!(smtp.enabled && smtp.port == 587 && smtp.encryption == Encryption::Starttls);
        assert!(!d.protocols.ews.enabled && !d.protocols.eas.enabled);
        assert_eq!(d.host_for(ProtocolKind::Imap), "mail.example.com");
    }

    #[test]
    fn ews_and_eas_refuse_other_encryption_and_ports() {
        let mut d = Domain::new("example.com", "mail.example.com").unwrap();
        let err = d
            .change_protocol(
                ProtocolKind::Eas,
                &ProtocolChange {
                    encryption: Some(Encryption::Starttls),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("always uses https"), "{err}");
        assert!(
            d.change_protocol(
                ProtocolKind::Ews,
                &ProtocolChange {
                    port: Some(8443),
                    ..Default::default()
                }
            )
            .is_err()
        );
        assert!(
            d.change_protocol(
                ProtocolKind::Ews,
                &ProtocolChange {
                    enabled: Some(true),
                    encryption: Some(Encryption::Ssl),
                    ..Default::default()
                }
            )
            .is_ok()
        );
        assert!(d.protocols.ews.enabled);
    }

    #[test]
    fn protocol_change_validates_before_writing() {
        let mut d = Domain::new("example.com", "mail.example.com").unwrap();
        let before = d.clone();
        let bad = ProtocolChange {
            enabled: Some(false),
            port: Some(0),
            ..Default::default()
        };
        assert!(d.change_protocol(ProtocolKind::Imap, &bad).is_err());
        assert_eq!(d, before, "a refused change must not half-apply");
        let bad_host = ProtocolChange {
            host: Some("bad host".into()),
            ..Default::default()
        };
        assert!(d.change_protocol(ProtocolKind::Imap, &bad_host).is_err());
    }

    #[test]
    fn legacy_dn_round_trips() {
        let dn = derived_legacy_dn("john@example.com");
        assert_eq!(dn, "/o=Signpost/ou=example.com/cn=Recipients/cn=john");
        assert_eq!(
            address_from_derived_legacy_dn(&dn.to_uppercase()).as_deref(),
            Some("john@example.com")
        );
        assert_eq!(address_from_derived_legacy_dn("/o=Other/cn=x"), None);
    }

    #[test]
    fn override_counts_only_when_enabled_and_saved() {
        let mut o = XmlOverride::default();
        assert_eq!(o.active_text(), None);
        o.enabled = true;
        assert_eq!(o.active_text(), None);
        o.text = Some(String::new());
        assert_eq!(o.active_text(), Some(""));
        o.enabled = false;
        assert_eq!(o.active_text(), None);
    }
}
