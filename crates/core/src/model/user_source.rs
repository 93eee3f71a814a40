//! Where a domain's users are authenticated: Signpost's own store, or the directory the mail
//! server already uses (an SQL database, LDAP, or a login to the domain's IMAP server).

use serde::{Deserialize, Serialize};

use super::protocol::{Encryption, ProtocolKind};
use crate::validate::{self, ValidationError};

/// Shown instead of a secret (a database password, an LDAP bind password) in every answer.
pub const REDACTED: &str = "********";

/// A domain's user source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum UserSource {
    /// Users kept by Signpost (`signpost user add`, `user import`).
    #[default]
    Builtin,
    Sql(SqlSource),
    Ldap(Box<LdapSource>),
    Imap(ImapSource),
}

/// A read-only connection to an existing user database and the query that finds one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlSource {
    /// `postgres://USER:PASSWORD@HOST/DB`, `mysql://...` (MariaDB too) or `sqlite://PATH`.
    pub url: String,
    /// One SELECT returning at most one row. As in Dovecot, `%u` is the user name (the address
    /// when the login is one), `%n` its part before the `@` and `%d` the domain; they are passed
    /// as bound parameters, never pasted into the text, and quotes around them, as in a Dovecot
    /// query, are dropped. Columns read by name: `password` (the hash,
    /// required), and when present `display_name`, `login_name`, `active`, and `allow_imap`,
    /// `allow_pop`, `allow_smtp`, `allow_ews`, `allow_eas`.
    pub query: String,
}

/// An LDAP directory: the password is checked by binding as the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapSource {
    /// `ldap://HOST[:PORT]` or `ldaps://HOST[:PORT]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before sending any password.
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the CA that signed the directory's certificate (else the public CAs of
    /// Mozilla's list, built in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// How the user's entry is found before binding as it.
    pub lookup: LdapLookup,
    /// Attribute holding the display name.
    #[serde(default = "default_display_name_attribute")]
    pub display_name_attribute: String,
    /// Attribute holding the name the mail server expects at login (else the address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_attribute: Option<String>,
    /// Multi-valued attribute naming the services a user may use (iRedMail's `enabledService`:
    /// `imap`, `pop3`, `smtp`, `ews`, `activesync`...). When set, a protocol not named is denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services_attribute: Option<String>,
    /// The user is active only when this attribute holds `active_value` (e.g. `accountStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_value: Option<String>,
}

/// How an LDAP user's entry is found. Placeholders `%u`, `%n`, `%d` as for SQL, escaped for
/// where they land (RFC 4515 in filters, RFC 4514 in DNs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum LdapLookup {
    /// Search under `base` with `filter` (bound as `bind_dn`, or anonymously), then bind as the
    /// one entry found.
    Search {
        base: String,
        /// E.g. `(&(objectClass=inetOrgPerson)(mail=%u))`.
        filter: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bind_dn: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bind_password: Option<String>,
    },
    /// Bind directly as the DN the template gives, e.g. `uid=%n,ou=people,dc=example,dc=com`.
    Template { dn: String },
}

/// The password is checked by logging in to the domain's IMAP server over TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapSource {
    /// The server to log in to; else the domain's IMAP host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Else the domain's IMAP port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `ssl` or `starttls`; else the domain's IMAP encryption (which must not be none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// PEM file of the CA that signed the server's certificate (else the public CAs of
    /// Mozilla's list, built in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Also log in to the domain's POP3 server: a refused POP3 login means POP is denied.
    #[serde(default)]
    pub check_pop: bool,
    /// The POP3 server `check_pop` logs in to; else `host`, else the domain's POP3 host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pop_host: Option<String>,
    /// Else the domain's POP3 port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pop_port: Option<u16>,
    /// `ssl` or `starttls`; else the domain's POP3 encryption (which must not be none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pop_encryption: Option<Encryption>,
}

fn default_display_name_attribute() -> String {
    "displayName".to_string()
}

/// The column of the SQL answer that allows or denies each protocol.
pub fn sql_access_column(kind: ProtocolKind) -> &'static str {
    match kind {
        ProtocolKind::Imap => "allow_imap",
        ProtocolKind::Pop => "allow_pop",
        ProtocolKind::Smtp => "allow_smtp",
        ProtocolKind::Ews => "allow_ews",
        ProtocolKind::Eas => "allow_eas",
    }
}

/// The names a `services_attribute` value may give a protocol (compared ignoring case).
pub fn ldap_service_names(kind: ProtocolKind) -> &'static [&'static str] {
    match kind {
        ProtocolKind::Imap => &["imap", "imapsecured"],
        ProtocolKind::Pop => &["pop3", "pop", "pop3secured"],
        ProtocolKind::Smtp => &["smtp", "smtpsecured", "submission"],
        ProtocolKind::Ews => &["ews"],
        ProtocolKind::Eas => &["activesync", "eas"],
    }
}

const MAX_QUERY_LEN: usize = 4096;
const MAX_SETTING_LEN: usize = 1024;

impl UserSource {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Sql(_) => "sql",
            Self::Ldap(_) => "ldap",
            Self::Imap(_) => "imap",
        }
    }

    /// What the source is, in a few words for people.
    pub fn describe(&self) -> String {
        match self {
            Self::Builtin => "built-in users".into(),
            Self::Sql(_) => "an SQL database".into(),
            Self::Ldap(ldap) => format!("LDAP at {}", ldap.url),
            Self::Imap(imap) => match &imap.host {
                Some(host) => format!("IMAP logins at {host}"),
                None => "IMAP logins at the domain's IMAP server".into(),
            },
        }
    }

    pub fn is_builtin(&self) -> bool {
        matches!(self, Self::Builtin)
    }

    /// Checks every setting; the error names the field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Self::Builtin => Ok(()),
            Self::Sql(sql) => sql.validate(),
            Self::Ldap(ldap) => ldap.validate(),
            Self::Imap(imap) => imap.validate(),
        }
    }

    /// A copy safe to show: passwords in URLs and bind passwords replaced by [`REDACTED`].
    pub fn redacted(&self) -> Self {
        let mut shown = self.clone();
        match &mut shown {
            Self::Sql(sql) => sql.url = redact_url_password(&sql.url),
            Self::Ldap(ldap) => {
                if let LdapLookup::Search {
                    bind_password: Some(password),
                    ..
                } = &mut ldap.lookup
                {
                    *password = REDACTED.to_string();
                }
            }
            Self::Builtin | Self::Imap(_) => {}
        }
        shown
    }

    /// `self` with redacted secrets taken from `previous`, so a redacted copy sent back (by the
    /// web UI or a script) keeps the real secrets. Only while the secret would go to the same
    /// place: a stored password is never sent to a host, user or bind DN it was not given for.
    pub fn keeping_secrets_of(mut self, previous: &UserSource) -> Result<Self, ValidationError> {
        match &mut self {
            Self::Sql(new) if url_password(&new.url) == Some(REDACTED) => match previous {
                Self::Sql(old) if redact_url_password(&old.url) == new.url => {
                    new.url = old.url.clone();
                }
                _ => {
                    return Err(ValidationError::new(
                        "url",
                        "******** stands for the stored password, kept only while the rest of the URL stays the same: enter the password again",
                    ));
                }
            },
            Self::Ldap(new) => {
                let url = new.url.clone();
                if let LdapLookup::Search {
                    bind_dn,
                    bind_password: Some(password),
                    ..
                } = &mut new.lookup
                    && password == REDACTED
                {
                    let stored = match previous {
                        Self::Ldap(old) if old.url == url => match &old.lookup {
                            LdapLookup::Search {
                                bind_dn: old_dn,
                                bind_password: Some(secret),
                                ..
                            } if old_dn == bind_dn => Some(secret.clone()),
                            _ => None,
                        },
                        _ => None,
                    };
                    match stored {
                        Some(secret) => *password = secret,
                        None => {
                            return Err(ValidationError::new(
                                "bind_password",
                                "******** stands for the stored password, kept only while the URL and bind DN stay the same: enter the password again",
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(self)
    }

    /// [`Self::validate`], and what only the domain can tell: an IMAP login needs TLS, from the
    /// source or from the domain's own IMAP endpoint.
    pub fn validate_for(&self, domain: &super::domain::Domain) -> Result<(), ValidationError> {
        self.validate()?;
        if let Self::Imap(imap) = self
            && imap.encryption.is_none()
            && domain.protocols.imap.primary.encryption == Encryption::None
        {
            return Err(ValidationError::new(
                "encryption",
                "the domain's IMAP endpoint is unencrypted and passwords are only sent over TLS: set encryption to ssl or starttls",
            ));
        }
        Ok(())
    }
}

/// The password in a URL's `USER:PASSWORD@` part, as written.
pub fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let credentials = authority.rsplit_once('@')?.0;
    credentials.split_once(':').map(|(_, password)| password)
}

fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        // A password in the query (refused when saved) would be shown: show nothing instead.
        Ok(parsed) if query_has_password(&parsed) => REDACTED.to_string(),
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some(REDACTED));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparsable: show nothing of it rather than risk showing a password.
        Err(_) => REDACTED.to_string(),
    }
}

fn query_has_password(url: &url::Url) -> bool {
    url.query_pairs()
        .any(|(key, _)| key.to_ascii_lowercase().contains("password"))
}

fn required(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "it is empty"));
    }
    validate::bounded_text(field, value, MAX_SETTING_LEN).map(|_| ())
}

fn attribute_name(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!(
                "'{value}' is not an LDAP attribute name (a letter, then letters, digits or '-')"
            ),
        ))
    }
}

impl SqlSource {
    fn validate(&self) -> Result<(), ValidationError> {
        required("url", &self.url)?;
        let scheme = self.url.split_once("://").map(|(s, _)| s).unwrap_or("");
        if !matches!(
            scheme,
            "postgres" | "postgresql" | "mysql" | "mariadb" | "sqlite"
        ) {
            return Err(ValidationError::new(
                "url",
                "use postgres://USER:PASSWORD@HOST/DATABASE, mysql://USER:PASSWORD@HOST/DATABASE or sqlite://PATH",
            ));
        }
        if self.query.trim().is_empty() {
            return Err(ValidationError::new("query", "it is empty"));
        }
        validate::bounded_text(
            "query",
            &self.query.replace(['\n', '\r', '\t'], " "),
            MAX_QUERY_LEN,
        )?;
        let first = self
            .query
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if first != "select" && first != "with" {
            return Err(ValidationError::new(
                "query",
                "it must be a SELECT (the connection is read-only)",
            ));
        }
        if !["%u", "%n", "%d"].iter().any(|p| self.query.contains(p)) {
            return Err(ValidationError::new(
                "query",
                "it never uses %u (the address), %n or %d, so it cannot find one user",
            ));
        }
        // Between quotes a placeholder can only be a parameter when it is alone ('%u').
        for literal in self.query.split('\'').skip(1).step_by(2) {
            let alone = literal.len() == 2 && literal.starts_with('%');
            if !alone && ["%u", "%n", "%d"].iter().any(|p| literal.contains(p)) {
                return Err(ValidationError::new(
                    "query",
                    format!(
                        "'{literal}': a placeholder inside a longer text cannot be passed as a parameter; build the text in SQL (e.g. CONCAT(%n, '@', %d), or %n || '@' || %d)"
                    ),
                ));
            }
        }
        if url::Url::parse(&self.url).is_ok_and(|url| query_has_password(&url)) {
            return Err(ValidationError::new(
                "url",
                "put the password in the URL's USER:PASSWORD@ part, where Signpost keeps it hidden",
            ));
        }
        Ok(())
    }
}

impl LdapSource {
    fn validate(&self) -> Result<(), ValidationError> {
        required("url", &self.url)?;
        let secure = self.url.starts_with("ldaps://");
        if !secure && !self.url.starts_with("ldap://") {
            return Err(ValidationError::new(
                "url",
                "use ldap://HOST[:PORT] (with starttls) or ldaps://HOST[:PORT]",
            ));
        }
        if secure && self.starttls {
            return Err(ValidationError::new(
                "starttls",
                "ldaps:// is already encrypted; StartTLS is for ldap://",
            ));
        }
        let host = self
            .url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""))
            .unwrap_or("");
        if host.contains('@') {
            return Err(ValidationError::new(
                "url",
                "the URL names no user: put the search account in lookup.bind_dn and bind_password",
            ));
        }
        let loopback = ["127.0.0.1", "[::1]", "localhost"]
            .iter()
            .any(|name| host == *name || host.starts_with(&format!("{name}:")));
        if !secure && !self.starttls && !loopback {
            return Err(ValidationError::new(
                "starttls",
                "users' passwords would cross the network in clear: use ldaps:// or starttls (plain ldap:// is accepted only to this machine)",
            ));
        }
        if let Some(path) = &self.ca_file {
            required("ca_file", path)?;
        }
        match &self.lookup {
            LdapLookup::Search {
                base,
                filter,
                bind_dn,
                bind_password,
            } => {
                required("base", base)?;
                required("filter", filter)?;
                if !(filter.starts_with('(') && filter.ends_with(')')) {
                    return Err(ValidationError::new(
                        "filter",
                        "an LDAP filter is written in parentheses, e.g. (mail=%u)",
                    ));
                }
                if !["%u", "%n", "%d"].iter().any(|p| filter.contains(p)) {
                    return Err(ValidationError::new(
                        "filter",
                        "it never uses %u (the address), %n or %d, so it cannot find one user",
                    ));
                }
                if let Some(dn) = bind_dn {
                    required("bind_dn", dn)?;
                }
                if bind_password.is_some() && bind_dn.is_none() {
                    return Err(ValidationError::new(
                        "bind_password",
                        "a bind password needs a bind DN",
                    ));
                }
            }
            LdapLookup::Template { dn } => {
                required("dn", dn)?;
                if !["%u", "%n", "%d"].iter().any(|p| dn.contains(p)) {
                    return Err(ValidationError::new(
                        "dn",
                        "it never uses %u, %n or %d, so every user would bind as the same entry",
                    ));
                }
            }
        }
        attribute_name("display_name_attribute", &self.display_name_attribute)?;
        for (field, value) in [
            ("login_attribute", &self.login_attribute),
            ("services_attribute", &self.services_attribute),
            ("active_attribute", &self.active_attribute),
        ] {
            if let Some(value) = value {
                attribute_name(field, value)?;
            }
        }
        if self.active_attribute.is_some() != self.active_value.is_some() {
            return Err(ValidationError::new(
                "active_value",
                "active_attribute and active_value go together",
            ));
        }
        Ok(())
    }
}

impl ImapSource {
    fn validate(&self) -> Result<(), ValidationError> {
        for (field, host) in [("host", &self.host), ("pop_host", &self.pop_host)] {
            if let Some(host) = host {
                server_name(field, host)?;
            }
        }
        for (field, port) in [("port", self.port), ("pop_port", self.pop_port)] {
            if let Some(port) = port {
                validate::port(field, port)?;
            }
        }
        for (field, encryption) in [
            ("encryption", self.encryption),
            ("pop_encryption", self.pop_encryption),
        ] {
            if encryption == Some(Encryption::None) {
                return Err(ValidationError::new(
                    field,
                    "passwords are only sent over TLS: use ssl or starttls",
                ));
            }
        }
        if !self.check_pop {
            for (field, given) in [
                ("pop_host", self.pop_host.is_some()),
                ("pop_port", self.pop_port.is_some()),
                ("pop_encryption", self.pop_encryption.is_some()),
            ] {
                if given {
                    return Err(ValidationError::new(
                        field,
                        "only used with \"check_pop\": true, which is not set",
                    ));
                }
            }
        }
        if let Some(path) = &self.ca_file {
            required("ca_file", path)?;
        }
        Ok(())
    }
}

/// A host name or an IP address.
fn server_name(field: &'static str, host: &str) -> Result<(), ValidationError> {
    if validate::domain_name(field, host).is_ok() || host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    Err(ValidationError::new(
        field,
        format!("'{host}' is not a host name or IP address"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldap_search(password: Option<&str>) -> UserSource {
        UserSource::Ldap(Box::new(LdapSource {
            url: "ldap://127.0.0.1:389".into(),
            starttls: true,
            ca_file: None,
            lookup: LdapLookup::Search {
                base: "dc=example,dc=com".into(),
                filter: "(mail=%u)".into(),
                bind_dn: Some("cn=reader,dc=example,dc=com".into()),
                bind_password: password.map(str::to_string),
            },
            display_name_attribute: "cn".into(),
            login_attribute: None,
            services_attribute: None,
            active_attribute: None,
            active_value: None,
        }))
    }

    #[test]
    fn secrets_are_redacted_and_kept_when_sent_back() {
        let sql = UserSource::Sql(SqlSource {
            url: "postgres://reader:s3cr%40t@db.example.com/postfix".into(),
            query: "SELECT password FROM mailbox WHERE username = '%u'".into(),
        });
        let shown = sql.redacted();
        let UserSource::Sql(shown_sql) = &shown else {
            panic!()
        };
        assert!(!shown_sql.url.contains("s3cr"), "{}", shown_sql.url);
        assert!(shown_sql.url.contains(REDACTED) || shown_sql.url.contains("%2A"));
        let back = shown.clone().keeping_secrets_of(&sql).unwrap();
        assert_eq!(back, sql);
        // Never to another host with the stored password.
        let UserSource::Sql(mut elsewhere) = shown.clone() else {
            panic!()
        };
        elsewhere.url = elsewhere.url.replace("db.example.com", "evil.example");
        assert_eq!(
            UserSource::Sql(elsewhere)
                .keeping_secrets_of(&sql)
                .unwrap_err()
                .field,
            "url"
        );
        assert_eq!(
            shown
                .clone()
                .keeping_secrets_of(&UserSource::Builtin)
                .unwrap_err()
                .field,
            "url"
        );

        let ldap = ldap_search(Some("hunter2"));
        let shown = ldap.redacted();
        assert!(!format!("{shown:?}").contains("hunter2"));
        assert_eq!(shown.clone().keeping_secrets_of(&ldap).unwrap(), ldap);
        let UserSource::Ldap(mut moved) = shown else {
            panic!()
        };
        moved.url = "ldaps://evil.example".into();
        assert_eq!(
            UserSource::Ldap(moved)
                .keeping_secrets_of(&ldap)
                .unwrap_err()
                .field,
            "bind_password"
        );
        // A new secret is taken as sent.
        let changed = ldap_search(Some("new")).keeping_secrets_of(&ldap).unwrap();
        assert_eq!(changed, ldap_search(Some("new")));
        assert_eq!(redact_url_password("not a url"), REDACTED);
        assert_eq!(
            redact_url_password("postgres://reader@db/x?password=s3cret"),
            REDACTED
        );
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |source: UserSource| source.validate().unwrap_err().field;
        assert_eq!(
            bad(UserSource::Sql(SqlSource {
                url: "oracle://x".into(),
                query: "SELECT 1".into()
            })),
            "url"
        );
        assert_eq!(
            bad(UserSource::Sql(SqlSource {
                url: "sqlite:///tmp/x.db".into(),
                query: "DELETE FROM mailbox WHERE username = %u".into()
            })),
            "query"
        );
        assert_eq!(
            bad(UserSource::Sql(SqlSource {
                url: "sqlite:///tmp/x.db".into(),
                query: "SELECT password FROM mailbox".into()
            })),
            "query"
        );
        assert!(ldap_search(Some("x")).validate().is_ok());
        let UserSource::Ldap(mut ldap) = ldap_search(None) else {
            panic!()
        };
        ldap.display_name_attribute = "cn)(x".into();
        assert_eq!(bad(UserSource::Ldap(ldap)), "display_name_attribute");
        assert_eq!(
            bad(UserSource::Imap(ImapSource {
                encryption: Some(Encryption::None),
                ..Default::default()
            })),
            "encryption"
        );
        assert_eq!(
            bad(UserSource::Imap(ImapSource {
                check_pop: true,
                pop_encryption: Some(Encryption::None),
                ..Default::default()
            })),
            "pop_encryption"
        );
        assert_eq!(
            bad(UserSource::Imap(ImapSource {
                check_pop: true,
                pop_host: Some("not a host".into()),
                ..Default::default()
            })),
            "pop_host"
        );
        assert_eq!(
            bad(UserSource::Imap(ImapSource {
                pop_port: Some(10995),
                ..Default::default()
            })),
            "pop_port"
        );
        let sql = |url: &str, query: &str| {
            UserSource::Sql(SqlSource {
                url: url.into(),
                query: query.into(),
            })
        };
        assert_eq!(
            bad(sql(
                "postgres://u@db/x?password=p",
                "SELECT password FROM m WHERE u = %u"
            )),
            "url"
        );
        assert_eq!(
            bad(sql(
                "postgres://u@db/x",
                "SELECT password FROM m WHERE u = '%n@%d'"
            )),
            "query"
        );
        assert!(
            sql(
                "postgres://u@db/x",
                "SELECT password FROM m WHERE u = '%n' AND d = '%d' AND x = 'y'"
            )
            .validate()
            .is_ok()
        );
        let UserSource::Ldap(mut plain) = ldap_search(None) else {
            panic!()
        };
        plain.starttls = false;
        plain.url = "ldap://ldap.example.com".into();
        assert_eq!(bad(UserSource::Ldap(plain.clone())), "starttls");
        plain.url = "ldap://127.0.0.1:3890".into();
        assert!(UserSource::Ldap(plain).validate().is_ok());
    }

    #[test]
    fn reads_the_json_an_administrator_writes() {
        let source: UserSource = serde_json::from_str(
            r#"{"kind":"ldap","url":"ldaps://ldap.example.com","lookup":{"mode":"template","dn":"uid=%n,ou=people,dc=example,dc=com"}}"#,
        )
        .unwrap();
        let UserSource::Ldap(ldap) = &source else {
            panic!("{source:?}")
        };
        assert_eq!(ldap.display_name_attribute, "displayName");
        assert!(source.validate().is_ok());
        let unknown = serde_json::from_str::<UserSource>(r#"{"kind":"imap","hostname":"x"}"#);
        assert!(unknown.is_err());
    }
}
