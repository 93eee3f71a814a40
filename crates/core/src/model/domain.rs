//! A hosted domain: the seed's Options card (hostname), its Autodiscover card (protocols), its
//! custom answers, and what other clients need to know (aliases, names, links, CalDAV, OAuth2).

use serde::{Deserialize, Serialize};

use super::protocol::{
    Encryption, Endpoint, EndpointChange, ProtocolChange, ProtocolKind, ProtocolSettings,
};
use crate::validate::{self, ValidationError};

/// Whether autodiscover asks for the user's password before answering.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
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
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OverrideKind {
    /// Outlook and every non-ActiveSync client.
    Desktop,
    /// Exchange ActiveSync.
    Mobile,
}

impl OverrideKind {
    pub const ALL: [Self; 2] = [Self::Desktop, Self::Mobile];

    /// The name used in paths, files and the command line.
    pub fn key(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Mobile => "mobile",
        }
    }

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

/// Which account an Apple configuration profile sets up.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AppleAccount {
    /// An IMAP (or POP) mail account with SMTP.
    #[default]
    Mail,
    /// An Exchange ActiveSync account, when the domain offers it.
    Eas,
}

impl AppleAccount {
    pub fn key(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Eas => "eas",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.to_ascii_lowercase().as_str() {
            "mail" | "imap" => Ok(Self::Mail),
            "eas" | "activesync" => Ok(Self::Eas),
            _ => Err(ValidationError::new(
                "apple_account",
                format!("'{value}' is not one of mail, eas"),
            )),
        }
    }
}

/// A help page for setting up mail, with descriptions in several languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DocumentationLink {
    pub url: String,
    #[serde(default)]
    pub descriptions: Vec<Description>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Description {
    /// Two-letter language code; `None` for the default text.
    pub lang: Option<String>,
    pub text: String,
}

/// The OAuth2 issuer clients use for this domain's servers (autoconfig `<oAuth2>`, PACC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OAuth2Settings {
    pub issuer: String,
    pub scope: String,
    pub auth_url: String,
    pub token_url: String,
}

/// Which certificates Signpost obtains for a domain from the ACME CA.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct AcmeSettings {
    /// Obtain and renew a certificate for `autodiscover.` and `autoconfig.` the domain and its
    /// aliases.
    pub enabled: bool,
    /// Include the mail hostname.
    #[serde(default)]
    pub hostname: bool,
    /// Include `ua-auto-config.` names for PACC clients.
    #[serde(default)]
    pub pacc: bool,
}

/// A hosted mail domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Domain {
    /// The address domain, lowercase ASCII (IDNs in punycode).
    pub name: String,
    /// More address domains served by the same settings.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The name returned to clients (the seed's Options card "Hostname").
    pub hostname: String,
    /// Shown by clients as the provider's name; empty means the domain name.
    pub display_name: String,
    /// A short form of the display name (autoconfig `displayShortName`); may be empty.
    #[serde(default)]
    pub short_name: String,
    pub auth: AuthPolicy,
    /// Send every client of this domain to the same local part at another domain.
    pub redirect_to: Option<String>,
    pub protocols: ProtocolSettings,
    pub desktop_override: XmlOverride,
    pub mobile_override: XmlOverride,
    #[serde(default)]
    pub documentation: Vec<DocumentationLink>,
    #[serde(default)]
    pub webmail_url: Option<String>,
    #[serde(default)]
    pub caldav_url: Option<String>,
    #[serde(default)]
    pub carddav_url: Option<String>,
    #[serde(default)]
    pub oauth2: Option<OAuth2Settings>,
    #[serde(default)]
    pub apple_account: AppleAccount,
    #[serde(default)]
    pub acme: AcmeSettings,
}

/// A change to a domain's own settings; `None` leaves a field as it is, and an empty string
/// clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DomainChange {
    pub hostname: Option<String>,
    pub display_name: Option<String>,
    pub short_name: Option<String>,
    pub auth: Option<AuthPolicy>,
    pub redirect_to: Option<String>,
    #[serde(default)]
    pub add_aliases: Vec<String>,
    #[serde(default)]
    pub remove_aliases: Vec<String>,
    /// Replaces the documentation links when given.
    pub documentation_urls: Option<Vec<String>>,
    pub webmail_url: Option<String>,
    pub caldav_url: Option<String>,
    pub carddav_url: Option<String>,
    /// `Some(None)` removes the OAuth2 settings.
    pub oauth2: Option<Option<OAuth2Settings>>,
    pub apple_account: Option<AppleAccount>,
    pub acme: Option<bool>,
    pub acme_hostname: Option<bool>,
    pub acme_pacc: Option<bool>,
}

/// The service names clients put before a mail domain.
pub const SERVICE_PREFIXES: [&str; 3] = ["autodiscover", "autoconfig", "ua-auto-config"];

/// The longest display name autoconfig clients are meant to show.
pub const MAX_DISPLAY_NAME: usize = 30;
/// The longest short display name.
pub const MAX_SHORT_NAME: usize = 12;

fn optional_url(field: &'static str, value: &str) -> Result<Option<String>, ValidationError> {
    match value.trim() {
        "" => Ok(None),
        url => validate::https_url(field, url).map(Some),
    }
}

impl Domain {
    /// A new domain with the default protocol settings, validated.
    pub fn new(name: &str, hostname: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            name: validate::domain_name("name", name)?,
            aliases: Vec::new(),
            hostname: validate::domain_name("hostname", hostname)?,
            display_name: String::new(),
            short_name: String::new(),
            auth: AuthPolicy::default(),
            redirect_to: None,
            protocols: ProtocolSettings::default(),
            desktop_override: XmlOverride::default(),
            mobile_override: XmlOverride::default(),
            documentation: Vec::new(),
            webmail_url: None,
            caldav_url: None,
            carddav_url: None,
            oauth2: None,
            apple_account: AppleAccount::default(),
            acme: AcmeSettings::default(),
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

    /// The name and every alias.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Every host name clients reach Signpost under for this domain, and so the names its
    /// certificates must cover: the domain and aliases with their `autodiscover.`, `autoconfig.`
    /// and `ua-auto-config.` names, and the mail hostname.
    pub fn served_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for name in self.all_names() {
            names.push(name.to_string());
            for prefix in SERVICE_PREFIXES {
                names.push(format!("{prefix}.{name}"));
            }
        }
        names.push(self.hostname.clone());
        names.dedup();
        names
    }

    /// The names to order from the ACME CA, when ACME is on for this domain.
    pub fn acme_names(&self) -> Vec<String> {
        if !self.acme.enabled {
            return Vec::new();
        }
        let mut names = Vec::new();
        for name in self.all_names() {
            names.push(format!("autodiscover.{name}"));
            names.push(format!("autoconfig.{name}"));
            if self.acme.pacc {
                names.push(format!("ua-auto-config.{name}"));
            }
        }
        if self.acme.hostname && !names.contains(&self.hostname) {
            names.push(self.hostname.clone());
        }
        names
    }

    /// The host of an endpoint, before placeholders are expanded.
    pub fn host_of<'a>(&'a self, endpoint: &'a Endpoint) -> &'a str {
        endpoint.host.as_deref().unwrap_or(&self.hostname)
    }

    /// The host clients connect to for `kind`'s primary endpoint (placeholders not expanded).
    pub fn host_for(&self, kind: ProtocolKind) -> &str {
        self.host_of(&self.protocols.get(kind).primary)
    }

    pub fn override_for(&self, kind: OverrideKind) -> &XmlOverride {
        match kind {
            OverrideKind::Desktop => &self.desktop_override,
            OverrideKind::Mobile => &self.mobile_override,
        }
    }

    /// Which answers the domain's saved overrides replace now.
    pub fn active_overrides(&self) -> Vec<OverrideKind> {
        OverrideKind::ALL
            .into_iter()
            .filter(|kind| self.override_for(*kind).active_text().is_some())
            .collect()
    }

    pub fn override_for_mut(&mut self, kind: OverrideKind) -> &mut XmlOverride {
        match kind {
            OverrideKind::Desktop => &mut self.desktop_override,
            OverrideKind::Mobile => &mut self.mobile_override,
        }
    }

    /// Applies `change` to protocol `kind` (its switch and primary endpoint), refusing what the
    /// protocol cannot do; a refused change leaves the domain as it was.
    pub fn change_protocol(
        &mut self,
        kind: ProtocolKind,
        change: &ProtocolChange,
    ) -> Result<(), ValidationError> {
        let setting = self.protocols.get_mut(kind);
        let mut primary = setting.primary.clone();
        change.endpoint.apply(kind, &mut primary)?;
        setting.primary = primary;
        if let Some(enabled) = change.enabled {
            setting.enabled = enabled;
        }
        Ok(())
    }

    /// Adds a further endpoint to a mail protocol (SMTP on 465 beside 587, say).
    pub fn add_endpoint(
        &mut self,
        kind: ProtocolKind,
        change: &EndpointChange,
    ) -> Result<(), ValidationError> {
        if kind.is_https_only() {
            return Err(ValidationError::new(
                "protocol",
                format!("{} has a single https endpoint", kind.label()),
            ));
        }
        let port = change
            .port
            .ok_or_else(|| ValidationError::new("port", "an extra endpoint needs a port"))?;
        let mut endpoint = Endpoint::new(port, change.encryption.unwrap_or(Encryption::Ssl));
        change.apply(kind, &mut endpoint)?;
        let setting = self.protocols.get_mut(kind);
        if setting.endpoints().any(|e| {
            e.host == endpoint.host
                && e.port == endpoint.port
                && e.encryption == endpoint.encryption
        }) {
            return Err(ValidationError::new(
                "endpoint",
                format!(
                    "{} already has an endpoint on port {} with {}",
                    kind.label(),
                    endpoint.port,
                    endpoint.encryption
                ),
            ));
        }
        setting.extra.push(endpoint);
        Ok(())
    }

    /// Removes extra endpoint number `position` (1 is the first extra one).
    pub fn remove_endpoint(
        &mut self,
        kind: ProtocolKind,
        position: usize,
    ) -> Result<(), ValidationError> {
        let setting = self.protocols.get_mut(kind);
        if position == 0 || position > setting.extra.len() {
            return Err(ValidationError::new(
                "endpoint",
                format!(
                    "{} has {} extra endpoint(s); there is no number {position}",
                    kind.label(),
                    setting.extra.len()
                ),
            ));
        }
        setting.extra.remove(position - 1);
        Ok(())
    }

    /// Validates every field of `change`, then applies it; a refused change leaves `self` as it
    /// was.
    pub fn apply(&mut self, change: &DomainChange) -> Result<(), ValidationError> {
        let mut next = self.clone();
        if let Some(hostname) = &change.hostname {
            next.hostname = validate::domain_name("hostname", hostname)?;
        }
        if let Some(display_name) = &change.display_name {
            next.display_name =
                validate::bounded_text("display_name", display_name, MAX_DISPLAY_NAME)?;
        }
        if let Some(short_name) = &change.short_name {
            next.short_name = validate::bounded_text("short_name", short_name, MAX_SHORT_NAME)?;
        }
        if let Some(auth) = change.auth {
            next.auth = auth;
        }
        if let Some(target) = &change.redirect_to {
            next.redirect_to = match target.trim() {
                "" => None,
                target => {
                    let target = validate::domain_name("redirect_to", target)?;
                    if next.all_names().any(|n| n == target) {
                        return Err(ValidationError::new(
                            "redirect_to",
                            "a domain cannot redirect to itself",
                        ));
                    }
                    Some(target)
                }
            };
        }
        for alias in &change.remove_aliases {
            let alias = validate::domain_name("alias", alias)?;
            if !next.aliases.contains(&alias) {
                return Err(ValidationError::new(
                    "alias",
                    format!("'{alias}' is not an alias of {}", next.name),
                ));
            }
            next.aliases.retain(|a| *a != alias);
        }
        for alias in &change.add_aliases {
            let alias = validate::domain_name("alias", alias)?;
            if alias == next.name {
                return Err(ValidationError::new(
                    "alias",
                    "a domain cannot be an alias of itself",
                ));
            }
            if !next.aliases.contains(&alias) {
                next.aliases.push(alias);
            }
        }
        if let Some(urls) = &change.documentation_urls {
            next.documentation = urls
                .iter()
                .map(|url| {
                    Ok(DocumentationLink {
                        url: validate::web_url("documentation", url)?,
                        descriptions: Vec::new(),
                    })
                })
                .collect::<Result<_, ValidationError>>()?;
        }
        if let Some(url) = &change.webmail_url {
            next.webmail_url = match url.trim() {
                "" => None,
                url => Some(validate::web_url("webmail_url", url)?),
            };
        }
        if let Some(url) = &change.caldav_url {
            next.caldav_url = optional_url("caldav_url", url)?;
        }
        if let Some(url) = &change.carddav_url {
            next.carddav_url = optional_url("carddav_url", url)?;
        }
        if let Some(oauth2) = &change.oauth2 {
            next.oauth2 = oauth2.as_ref().map(validate_oauth2).transpose()?;
        }
        if let Some(account) = change.apple_account {
            next.apple_account = account;
        }
        if let Some(enabled) = change.acme {
            next.acme.enabled = enabled;
        }
        if let Some(hostname) = change.acme_hostname {
            next.acme.hostname = hostname;
        }
        if let Some(pacc) = change.acme_pacc {
            next.acme.pacc = pacc;
        }
        *self = next;
        Ok(())
    }
}

fn validate_oauth2(settings: &OAuth2Settings) -> Result<OAuth2Settings, ValidationError> {
    Ok(OAuth2Settings {
        issuer: validate::domain_name("oauth2_issuer", &settings.issuer)?,
        scope: validate::bounded_text("oauth2_scope", &settings.scope, 1024)?,
        auth_url: validate::https_url("oauth2_auth_url", &settings.auth_url)?,
        token_url: validate::https_url("oauth2_token_url", &settings.token_url)?,
    })
}
