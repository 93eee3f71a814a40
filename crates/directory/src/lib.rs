//! Authenticating a domain's users where they already are: an SQL database, an LDAP directory,
//! or the domain's own IMAP server. What a directory says becomes a [`User`] for the answer
//! (display name, login name, service access); Signpost never writes to a directory.

mod imap;
mod ldap;
pub mod placeholders;
mod sql;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use signpost_core::model::UserSource;
use signpost_core::{Domain, Snapshot, User, validate};
use signpost_diagnostics::dns::Dns;
use signpost_diagnostics::tls::Roots;

pub use placeholders::Subject;

/// How long one directory question may take before the client is told to try again later.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a directory said about a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The directory checked the password itself (an LDAP bind, an IMAP login).
    Verified(User),
    /// The directory gave the stored hash: the caller checks the password against it.
    HashToCheck(User, String),
    /// No such user, a disabled one, or a wrong password. The reason is for the administrator
    /// (`signpost user test`, debug logs), never for the client.
    Refused(String),
    /// The directory could not be asked (down, slow, misconfigured, untrusted certificate).
    Unavailable(String),
}

/// Directory questions in flight at once; more wait (within [`LOOKUP_TIMEOUT`]), so a flood of
/// new logins cannot open a connection each to somebody's LDAP or IMAP server.
pub const MAX_CONCURRENT_LOOKUPS: usize = 32;
/// Questions in flight to one directory; more wait their turn (within [`LOOKUP_TIMEOUT`]) without
/// taking a place from other directories, so one slow or dead directory cannot hold up the rest.
pub const MAX_LOOKUPS_PER_DIRECTORY: usize = 8;
/// Directories whose queues are kept; beyond, they start afresh.
const MAX_COUNTED_DIRECTORIES: usize = 1024;

/// The connections to every configured directory.
pub struct Directories {
    sql: sql::Pools,
    dns: Dns,
    roots: Roots,
    permits: tokio::sync::Semaphore,
    /// One queue per directory (by kind and where it is).
    per_directory: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl Directories {
    /// `dns` resolves the IMAP servers to log in to; `roots` are trusted for every directory
    /// without a `ca_file` of its own.
    pub fn new(dns: Dns, roots: Roots) -> Self {
        Self {
            sql: sql::Pools::default(),
            dns,
            roots,
            permits: tokio::sync::Semaphore::new(MAX_CONCURRENT_LOOKUPS),
            per_directory: Default::default(),
        }
    }

    /// Reached with the system's resolver and trusted CAs (each directory may add its own CA).
    pub fn with_system_defaults() -> anyhow::Result<Self> {
        let dns = Dns::new(None).or_else(|_| Dns::new(Some(([127, 0, 0, 1], 53).into())))?;
        Ok(Self::new(dns, Roots::load(&[])?))
    }

    /// Asks `source` (one of `domain`'s) whether `password` is `subject`'s; `origin` is the
    /// address the person asked from, passed on where a directory can use it.
    pub async fn authenticate(
        &self,
        source: &UserSource,
        domain: &Domain,
        subject: &Subject,
        password: &str,
        origin: Option<std::net::IpAddr>,
    ) -> Answer {
        if password.is_empty() {
            // An LDAP bind with an empty password is an anonymous bind, which succeeds.
            return Answer::Refused("an empty password is never accepted".into());
        }
        let own_queue = self.directory_queue(source, domain);
        let asked = async {
            // This directory's turn first, then one of all directories' places: a slow
            // directory's questions wait in its own queue, not in front of the others.
            let _own_permit = match own_queue {
                Some(queue) => match queue.acquire_owned().await {
                    Ok(permit) => Some(permit),
                    Err(_) => return Answer::Unavailable("shutting down".into()),
                },
                None => None,
            };
            let Ok(_permit) = self.permits.acquire().await else {
                return Answer::Unavailable("shutting down".into());
            };
            match source {
                UserSource::Builtin => Answer::Unavailable(
                    "the domain's users are built in, not in a directory".into(),
                ),
                UserSource::Sql(settings) => self.sql.look_up(settings, subject).await,
                UserSource::Ldap(settings) => match self.roots_for(settings.ca_file.as_deref()) {
                    Ok(roots) => ldap::authenticate(settings, subject, password, &roots).await,
                    Err(why) => Answer::Unavailable(why),
                },
                UserSource::Imap(settings) => match self.roots_for(settings.ca_file.as_deref()) {
                    Ok(roots) => {
                        imap::authenticate(
                            settings,
                            domain,
                            subject,
                            password,
                            origin,
                            (&self.dns, &roots),
                        )
                        .await
                    }
                    Err(why) => Answer::Unavailable(why),
                },
            }
        };
        tokio::time::timeout(LOOKUP_TIMEOUT, asked)
            .await
            .unwrap_or_else(|_| {
                Answer::Unavailable(format!(
                    "the {} directory did not answer within {} seconds",
                    source.kind(),
                    LOOKUP_TIMEOUT.as_secs()
                ))
            })
    }

    /// The queue of questions to the directory `source` names.
    fn directory_queue(
        &self,
        source: &UserSource,
        domain: &Domain,
    ) -> Option<Arc<tokio::sync::Semaphore>> {
        let place = match source {
            UserSource::Builtin => return None,
            UserSource::Sql(sql) => format!("sql {}", sql.url),
            UserSource::Ldap(ldap) => format!("ldap {}", ldap.url),
            UserSource::Imap(imap) => {
                format!("imap {}", imap.host.as_deref().unwrap_or(&domain.name))
            }
        };
        let mut queues = self.per_directory.lock().ok()?;
        if queues.len() >= MAX_COUNTED_DIRECTORIES && !queues.contains_key(&place) {
            queues.clear();
        }
        Some(
            queues
                .entry(place)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(MAX_LOOKUPS_PER_DIRECTORY)))
                .clone(),
        )
    }

    fn roots_for(&self, ca_file: Option<&str>) -> Result<Roots, String> {
        match ca_file {
            None => Ok(self.roots.clone()),
            Some(path) => Roots::load(&[PathBuf::from(path)]).map_err(|e| format!("{e:#}")),
        }
    }
}

/// A login that a domain's directory decides, with what it needs to ask.
pub struct DirectoryLogin<'s> {
    pub domain: &'s Domain,
    pub source: &'s std::sync::Arc<UserSource>,
    pub subject: Subject,
}

/// The directory deciding `login`: its own domain's when it is an address, else the domain of
/// the address asked about (`address_hint`), the login then standing for `login@domain`. `None`
/// when that domain's users are built in.
pub fn directory_for<'s>(
    snapshot: &'s Snapshot,
    login: &str,
    address_hint: Option<&str>,
) -> Option<DirectoryLogin<'s>> {
    let login = login.trim();
    let address = if login.contains('@') {
        validate::address("login", login).ok()?
    } else {
        // A bare login stands for that name at the domain asked about (Dovecot's %n@%d), never
        // for the address asked about: the answer must be the login's own.
        // It need not make a valid address (`*)(uid=*` does not): it is only ever compared with
        // the address asked about, and the directory gets the login itself, escaped.
        let login = validate::login_name("login", login).ok()?;
        let hint = validate::address("address", address_hint?).ok()?;
        let domain = hint.rsplit_once('@').map(|(_, d)| d)?;
        format!("{}@{domain}", login.to_lowercase())
    };
    let domain_name = address.rsplit_once('@').map(|(_, d)| d)?;
    let domain = snapshot.domain(domain_name)?;
    let source = snapshot.user_source(&domain.name)?;
    Some(DirectoryLogin {
        domain,
        source,
        subject: Subject {
            address,
            login: login.to_string(),
        },
    })
}

/// A user as a directory describes them, before service access is narrowed. The directory's
/// names are held to the rules for names typed into Signpost: a display name loses control
/// characters and is cut at 256 characters; a login name that breaks the rules (or is just the
/// address) is not used, and clients get the address.
fn directory_user(subject: &Subject, display_name: Option<&str>, login_name: Option<&str>) -> User {
    let display_name = display_name
        .map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(validate::MAX_NAME_LEN)
                .collect::<String>()
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    let login_name = login_name
        .and_then(|login| validate::login_name("login name", login).ok())
        .filter(|login| !login.eq_ignore_ascii_case(&subject.address));
    User {
        address: subject.address.clone(),
        password_hash: String::new(),
        display_name,
        login_name,
        legacy_dn: None,
        access: signpost_core::ServiceAccess::ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_follow_the_rules_for_typed_names() {
        let subject = Subject {
            address: "jo@example.com".into(),
            login: "jo@example.com".into(),
        };
        let user = directory_user(&subject, Some(" Jo\u{1}\u{7f} <Doe>\n"), Some("jo doe"));
        assert_eq!(user.display_name, "Jo <Doe>");
        assert_eq!(user.login_name, None, "a login with a space is not usable");
        let user = directory_user(&subject, None, Some("JO@example.com"));
        assert_eq!((user.display_name.as_str(), user.login_name), ("", None));
        let user = directory_user(&subject, None, Some("jdoe"));
        assert_eq!(user.login_name.as_deref(), Some("jdoe"));
    }
}
