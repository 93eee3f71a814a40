//! An immutable, indexed copy of every domain and user: what the request path reads.
//! A new one is built and swapped in whole when the store changes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{Domain, User, UserRef, UserSource, address_from_derived_legacy_dn};
use crate::packed_users::{PackedUsers, PackedUsersBuilder};

#[derive(Debug, Default)]
pub struct Snapshot {
    /// The store's change counter this snapshot was built from.
    pub version: i64,
    domains: HashMap<String, Domain>,
    /// Alias domain names to the domain that serves them.
    aliases: HashMap<String, String>,
    users: PackedUsers,
    /// Lowercased explicit login names to the positions of the users that use them.
    logins: HashMap<Box<str>, Vec<u32>>,
    /// Lowercased explicit LegacyDNs to users' positions.
    legacy_dns: HashMap<Box<str>, u32>,
    /// Every domain's mail hostname.
    hostnames: std::collections::HashSet<String>,
    /// Domains whose users live in a directory rather than in the store.
    user_sources: HashMap<String, Arc<UserSource>>,
}

/// Builds a snapshot from domains and users as they are read (each user packed at once, so a
/// large store never holds two copies of its users).
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    version: i64,
    domains: Vec<Domain>,
    users: PackedUsersBuilder,
}

impl SnapshotBuilder {
    pub fn new(version: i64) -> Self {
        Self {
            version,
            ..Self::default()
        }
    }

    /// A builder of `domains` and `users` read elsewhere (at the same version).
    pub fn from_parts(version: i64, domains: Vec<Domain>, users: PackedUsersBuilder) -> Self {
        Self {
            version,
            domains,
            users,
        }
    }

    pub fn expect_users(&mut self, users: usize) {
        self.users = PackedUsersBuilder::with_capacity(users);
    }

    pub fn domain(&mut self, domain: Domain) {
        self.domains.push(domain);
    }

    pub fn user(&mut self, user: UserRef<'_>) {
        self.users.push(user);
    }

    pub fn build(self) -> Snapshot {
        let users = self.users.build();
        let mut logins: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut legacy_dns = HashMap::new();
        for (position, user) in (0u32..).zip(users.iter()) {
            if let Some(login) = user.login_name {
                logins
                    .entry(login.to_lowercase().into_boxed_str())
                    .or_default()
                    .push(position);
            }
            if let Some(dn) = user.legacy_dn {
                legacy_dns.insert(dn.to_lowercase().into_boxed_str(), position);
            }
        }
        let domains = self.domains;
        let aliases = domains
            .iter()
            .flat_map(|d| d.aliases.iter().map(|a| (a.clone(), d.name.clone())))
            .collect();
        let hostnames = domains.iter().map(|d| d.hostname.clone()).collect();
        Snapshot {
            version: self.version,
            hostnames,
            aliases,
            domains: domains.into_iter().map(|d| (d.name.clone(), d)).collect(),
            users,
            logins,
            legacy_dns,
            user_sources: HashMap::new(),
        }
    }
}

impl Snapshot {
    pub fn new(version: i64, domains: Vec<Domain>, users: Vec<User>) -> Self {
        let mut builder = SnapshotBuilder::new(version);
        builder.expect_users(users.len());
        for domain in domains {
            builder.domain(domain);
        }
        for user in &users {
            builder.user(user.view());
        }
        builder.build()
    }

    /// This snapshot with the domains' user sources (domain name to source); built-in ones are
    /// not kept.
    pub fn with_user_sources(
        mut self,
        sources: impl IntoIterator<Item = (String, UserSource)>,
    ) -> Self {
        self.user_sources = sources
            .into_iter()
            .filter(|(_, source)| !source.is_builtin())
            .map(|(domain, source)| (domain, Arc::new(source)))
            .collect();
        self
    }

    /// The directory a domain's users are authenticated against; `None` for built-in users.
    pub fn user_source(&self, domain: &str) -> Option<&Arc<UserSource>> {
        if self.user_sources.is_empty() {
            return None;
        }
        let canonical = self.domain(domain)?;
        self.user_sources.get(&canonical.name)
    }

    /// The domain serving `name`, by its own name or one of its aliases.
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.get(name).or_else(|| {
            self.aliases
                .get(name)
                .and_then(|canonical| self.domains.get(canonical))
        })
    }

    /// Whether `host` (lowercase) is a name Signpost answers under: a domain or alias, one with a
    /// service prefix (`autodiscover.`, `autoconfig.`, `ua-auto-config.`), or a mail hostname.
    pub fn serves(&self, host: &str) -> bool {
        if self.domain(host).is_some() || self.hostnames.contains(host) {
            return true;
        }
        crate::model::SERVICE_PREFIXES.iter().any(|prefix| {
            host.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| self.domain(rest).is_some())
        })
    }

    /// Every domain, in no particular order.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        self.domains.values()
    }

    pub fn user(&self, address: &str) -> Option<UserRef<'_>> {
        self.users.get(address)
    }

    /// Every user, in address order.
    pub fn users(&self) -> impl Iterator<Item = UserRef<'_>> {
        self.users.iter()
    }

    pub fn domain_count(&self) -> usize {
        self.domains.len()
    }

    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// The user a login name (an address, or a user's login name) stands for.
    ///
    /// A login name shared by users of several domains is resolved by `address_hint`, the address
    /// the request asked about; without a hint such a name is refused rather than guessed.
    pub fn user_for_login(&self, login: &str, address_hint: Option<&str>) -> Option<UserRef<'_>> {
        let lowered = login.to_lowercase();
        if let Some(user) = self.users.get(&lowered) {
            return Some(user);
        }
        let candidates = self.logins.get(lowered.as_str())?;
        let position = match (candidates.as_slice(), address_hint) {
            ([only], _) => *only,
            (many, Some(hint)) => *many
                .iter()
                .find(|p| self.users.at(**p).is_some_and(|u| u.address == hint))?,
            _ => return None,
        };
        self.users.at(position)
    }

    /// The address a LegacyDN stands for: an explicit one, or a derived one read back.
    pub fn address_for_legacy_dn(&self, legacy_dn: &str) -> Option<String> {
        self.legacy_dns
            .get(legacy_dn.to_lowercase().as_str())
            .and_then(|position| self.users.at(*position))
            .map(|user| user.address.to_string())
            .or_else(|| address_from_derived_legacy_dn(legacy_dn))
    }
}
