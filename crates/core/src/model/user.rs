//! Users and their service access (the seed's per-user Service Access settings).

use serde::{Deserialize, Serialize};

use super::protocol::ProtocolKind;
use crate::validate::{self, ValidationError};

/// Which protocols a user may use (the seed's per-user Service Access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
        self.view().domain()
    }

    pub fn shown_name(&self) -> &str {
        self.view().shown_name()
    }

    pub fn login(&self) -> &str {
        self.view().login()
    }

    pub fn legacy_dn(&self) -> String {
        self.view().legacy_dn_or_derived()
    }

    /// The user as the request path reads users: borrowed, as the snapshot keeps them.
    pub fn view(&self) -> UserRef<'_> {
        UserRef {
            address: &self.address,
            password_hash: &self.password_hash,
            display_name: &self.display_name,
            login_name: self.login_name.as_deref(),
            legacy_dn: self.legacy_dn.as_deref(),
            access: self.access,
        }
    }
}

/// A user borrowed from where it is kept (the snapshot's packed table, or a [`User`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRef<'a> {
    pub address: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub login_name: Option<&'a str>,
    pub legacy_dn: Option<&'a str>,
    pub access: ServiceAccess,
}

impl<'a> UserRef<'a> {
    /// The domain part of the address.
    pub fn domain(&self) -> &'a str {
        self.address
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or_default()
    }

    pub fn shown_name(&self) -> &'a str {
        if self.display_name.is_empty() {
            self.address
        } else {
            self.display_name
        }
    }

    pub fn login(&self) -> &'a str {
        self.login_name.unwrap_or(self.address)
    }

    pub fn legacy_dn_or_derived(&self) -> String {
        self.legacy_dn
            .map(str::to_string)
            .unwrap_or_else(|| derived_legacy_dn(self.address))
    }

    pub fn to_user(&self) -> User {
        User {
            address: self.address.to_string(),
            password_hash: self.password_hash.to_string(),
            display_name: self.display_name.to_string(),
            login_name: self.login_name.map(str::to_string),
            legacy_dn: self.legacy_dn.map(str::to_string),
            access: self.access,
        }
    }
}

/// A change to a user; `None` leaves a field as it is, and an empty login name or LegacyDN goes
/// back to the derived one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
