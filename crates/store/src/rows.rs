//! Domains and users from rows, by column position, the same whichever driver read the rows:
//! sqlx's `Any` rows for everyday reads, and SQLite's own rows (rusqlite) when a whole large
//! snapshot is read at start. Each SELECT below fixes the columns' order for its parser.

use std::collections::HashMap;

use signpost_core::model::{
    AcmeSettings, AppleAccount, AuthMethod, DocumentationLink, Endpoint, OAuth2Settings,
};
use signpost_core::{
    AuthPolicy, Domain, Encryption, ProtocolKind, ProtocolSettings, ServiceAccess, UserRef,
    XmlOverride,
};

use crate::{Result, StoreError};

/// The columns of a row, by position.
pub trait Columns {
    fn text(&self, i: usize) -> Result<&str>;
    fn optional_text(&self, i: usize) -> Result<Option<&str>>;
    fn integer(&self, i: usize) -> Result<i64>;
    /// A yes/no column: BOOLEAN in PostgreSQL, 0/1 in SQLite.
    fn flag(&self, i: usize) -> Result<bool>;
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The columns of an sqlx row; `$flag` reads a yes/no column.
macro_rules! sqlx_columns {
    ($row:ty, $flag:expr) => {
        impl Columns for $row {
            fn text(&self, i: usize) -> Result<&str> {
                Ok(sqlx::Row::try_get(self, i)?)
            }

            fn optional_text(&self, i: usize) -> Result<Option<&str>> {
                Ok(sqlx::Row::try_get(self, i)?)
            }

            fn integer(&self, i: usize) -> Result<i64> {
                Ok(sqlx::Row::try_get(self, i)?)
            }

            fn flag(&self, i: usize) -> Result<bool> {
                $flag(self, i)
            }
        }
    };
}

/// BOOLEAN in PostgreSQL, 0/1 in SQLite: told apart by the value's type, without a failed
/// decode per row.
fn any_row_flag(row: &sqlx::any::AnyRow, i: usize) -> Result<bool> {
    use sqlx::{TypeInfo, ValueRef};
    let is_bool =
        sqlx::Row::try_get_raw(row, i).is_ok_and(|raw| raw.type_info().name() == "BOOLEAN");
    if is_bool {
        Ok(sqlx::Row::try_get(row, i)?)
    } else {
        Ok(row.integer(i)? != 0)
    }
}

fn pg_row_flag(row: &sqlx::postgres::PgRow, i: usize) -> Result<bool> {
    Ok(sqlx::Row::try_get(row, i)?)
}

sqlx_columns!(sqlx::any::AnyRow, any_row_flag);
sqlx_columns!(sqlx::postgres::PgRow, pg_row_flag);

impl Columns for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<&str> {
        self.get_ref(i)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map_err(corrupt)
    }

    fn optional_text(&self, i: usize) -> Result<Option<&str>> {
        self.get_ref(i)
            .and_then(|v| v.as_str_or_null().map_err(Into::into))
            .map_err(corrupt)
    }

    fn integer(&self, i: usize) -> Result<i64> {
        self.get_ref(i)
            .and_then(|v| v.as_i64().map_err(Into::into))
            .map_err(corrupt)
    }

    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.integer(i)? != 0)
    }
}

/// The domains' own columns, in the order [`domain`] reads them.
pub const DOMAIN_COLUMNS: &str = "name, hostname, display_name, short_name, auth_policy,
    redirect_to, desktop_override_enabled, desktop_override_text, mobile_override_enabled,
    mobile_override_text, webmail_url, caldav_url, carddav_url, apple_account, oauth2_issuer,
    oauth2_scope, oauth2_auth_url, oauth2_token_url, acme_enabled, acme_hostname, acme_pacc";
pub const ALIAS_COLUMNS: &str = "domain, alias";
pub const PROTOCOL_COLUMNS: &str = "domain, protocol, enabled";
pub const ENDPOINT_COLUMNS: &str =
    "domain, protocol, position, host, port, encryption, username, authentication";
pub const DOCUMENTATION_COLUMNS: &str = "domain, position, url, descriptions";
pub const USER_COLUMNS: &str = "address, password_hash, display_name, login_name, legacy_dn,
    allow_imap, allow_pop, allow_smtp, allow_ews, allow_eas";

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_string)
}

/// A domain from a row of [`DOMAIN_COLUMNS`]; its aliases, protocols and links come after.
pub fn domain(row: &impl Columns) -> Result<Domain> {
    let oauth2 = match row.optional_text(14)? {
        Some(issuer) => Some(OAuth2Settings {
            issuer: issuer.to_string(),
            scope: row.optional_text(15)?.unwrap_or_default().to_string(),
            auth_url: row.optional_text(16)?.unwrap_or_default().to_string(),
            token_url: row.optional_text(17)?.unwrap_or_default().to_string(),
        }),
        None => None,
    };
    Ok(Domain {
        name: row.text(0)?.to_string(),
        aliases: Vec::new(),
        hostname: row.text(1)?.to_string(),
        display_name: row.text(2)?.to_string(),
        short_name: row.text(3)?.to_string(),
        auth: AuthPolicy::parse(row.text(4)?).map_err(corrupt)?,
        redirect_to: owned(row.optional_text(5)?),
        protocols: ProtocolSettings::default(),
        desktop_override: XmlOverride {
            enabled: row.flag(6)?,
            text: owned(row.optional_text(7)?),
        },
        mobile_override: XmlOverride {
            enabled: row.flag(8)?,
            text: owned(row.optional_text(9)?),
        },
        documentation: Vec::new(),
        webmail_url: owned(row.optional_text(10)?),
        caldav_url: owned(row.optional_text(11)?),
        carddav_url: owned(row.optional_text(12)?),
        oauth2,
        apple_account: AppleAccount::parse(row.text(13)?).map_err(corrupt)?,
        acme: AcmeSettings {
            enabled: row.flag(18)?,
            hostname: row.flag(19)?,
            pacc: row.flag(20)?,
        },
    })
}

/// An endpoint from a row of [`ENDPOINT_COLUMNS`].
fn endpoint(row: &impl Columns) -> Result<Endpoint> {
    let port = row.integer(4)?;
    Ok(Endpoint {
        host: owned(row.optional_text(3)?),
        port: u16::try_from(port).map_err(|_| corrupt(format!("port {port}")))?,
        encryption: Encryption::parse(row.text(5)?).map_err(corrupt)?,
        username: owned(row.optional_text(6)?),
        authentication: row
            .text(7)?
            .split(',')
            .filter(|m| !m.is_empty())
            .map(|m| AuthMethod::parse(m).map_err(corrupt))
            .collect::<Result<_>>()?,
    })
}

/// A user from a row of [`USER_COLUMNS`], borrowed from the row.
pub fn user(row: &impl Columns) -> Result<UserRef<'_>> {
    Ok(UserRef {
        address: row.text(0)?,
        password_hash: row.text(1)?,
        display_name: row.text(2)?,
        login_name: row.optional_text(3)?,
        legacy_dn: row.optional_text(4)?,
        access: ServiceAccess {
            imap: row.flag(5)?,
            pop: row.flag(6)?,
            smtp: row.flag(7)?,
            ews: row.flag(8)?,
            eas: row.flag(9)?,
        },
    })
}

/// Domains read row by row: first their own rows, then their parts (each part row names its
/// domain in its first column; parts of a domain not read are ignored).
#[derive(Default)]
pub struct DomainsBuilder {
    domains: Vec<Domain>,
    index: HashMap<String, usize>,
}

impl DomainsBuilder {
    fn find(&mut self, row: &impl Columns) -> Result<Option<&mut Domain>> {
        let position = self.index.get(row.text(0)?).copied();
        Ok(position.and_then(|i| self.domains.get_mut(i)))
    }

    /// A row of [`DOMAIN_COLUMNS`].
    pub fn domain(&mut self, row: &impl Columns) -> Result<()> {
        let domain = domain(row)?;
        self.index.insert(domain.name.clone(), self.domains.len());
        self.domains.push(domain);
        Ok(())
    }

    /// A row of [`ALIAS_COLUMNS`].
    pub fn alias(&mut self, row: &impl Columns) -> Result<()> {
        let alias = row.text(1)?.to_string();
        if let Some(domain) = self.find(row)? {
            domain.aliases.push(alias);
        }
        Ok(())
    }

    /// A row of [`PROTOCOL_COLUMNS`].
    pub fn protocol(&mut self, row: &impl Columns) -> Result<()> {
        let kind = ProtocolKind::parse(row.text(1)?).map_err(corrupt)?;
        let enabled = row.flag(2)?;
        if let Some(domain) = self.find(row)? {
            domain.protocols.get_mut(kind).enabled = enabled;
        }
        Ok(())
    }

    /// A row of [`ENDPOINT_COLUMNS`] (rows of one protocol in order of position).
    pub fn endpoint(&mut self, row: &impl Columns) -> Result<()> {
        let kind = ProtocolKind::parse(row.text(1)?).map_err(corrupt)?;
        let position = row.integer(2)?;
        let endpoint = endpoint(row)?;
        if let Some(domain) = self.find(row)? {
            let setting = domain.protocols.get_mut(kind);
            if position == 0 {
                setting.primary = endpoint;
            } else {
                setting.extra.push(endpoint);
            }
        }
        Ok(())
    }

    /// A row of [`DOCUMENTATION_COLUMNS`] (in order of position).
    pub fn documentation(&mut self, row: &impl Columns) -> Result<()> {
        let link = DocumentationLink {
            url: row.text(2)?.to_string(),
            descriptions: serde_json::from_str(row.text(3)?)
                .map_err(|e| StoreError::Corrupt(format!("documentation: {e}")))?,
        };
        if let Some(domain) = self.find(row)? {
            domain.documentation.push(link);
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<Domain> {
        self.domains
    }
}
