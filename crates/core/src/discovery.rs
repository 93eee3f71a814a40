//! The decision at the heart of Signpost: given an address and who is asking, what account
//! settings does this client get?

use std::borrow::Cow;

use crate::model::{Domain, Endpoint, ProtocolKind, ServiceAccess, UserRef, expand_pattern};
use crate::snapshot::Snapshot;

/// Who sent the request.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// Nobody in particular, and the answer must not depend on whether the address exists
    /// (autoconfig, PACC, v2 JSON, profiles downloaded without a password).
    Public,
    /// No credentials, but the address's own record applies (POX for domains whose auth policy
    /// allows unauthenticated answers).
    Anonymous,
    /// A user whose password was verified.
    Authenticated(UserRef<'a>),
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum Discovery<'s> {
    /// The address's domain is not hosted here (error 500).
    NotHosted,
    /// The domain sends its clients to the same local part at another domain.
    RedirectAddress(String),
    /// Settings for the account.
    Account(Account<'s>),
}

/// What may be said about one account to this asker.
#[derive(Debug, Clone)]
pub struct Account<'s> {
    pub domain: &'s Domain,
    pub address: String,
    /// The user's name, only for the user themself.
    pub display_name: Option<&'s str>,
    /// The user's own login name, overriding the domain's user name patterns.
    pub login_name: Option<&'s str>,
    /// The user's record, when it may shape the answer.
    known: Option<UserRef<'s>>,
    pub access: ServiceAccess,
}

impl<'s> Account<'s> {
    /// The LegacyDN: the user's own, else derived from the address.
    pub fn legacy_dn(&self) -> Cow<'s, str> {
        match self.known.and_then(|user| user.legacy_dn) {
            Some(explicit) => Cow::Borrowed(explicit),
            None => Cow::Owned(crate::model::derived_legacy_dn(&self.address)),
        }
    }

    /// Whether the domain has `kind` on and the user may use it.
    pub fn offers(&self, kind: ProtocolKind) -> bool {
        self.domain.protocols.get(kind).enabled && self.access.allows(kind)
    }

    /// The domain part of the address (the domain itself or one of its aliases).
    pub fn address_domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or(&self.domain.name)
    }

    /// The name shown as the account's owner: the user's name, else the address.
    pub fn shown_name(&self) -> &str {
        self.display_name.unwrap_or(&self.address)
    }

    /// The login name for `endpoint`: the user's own, else the endpoint's pattern expanded.
    pub fn login_for<'a>(&'a self, endpoint: &'a Endpoint) -> Option<Cow<'a, str>> {
        match &self.login_name {
            Some(login) => Some(Cow::Borrowed(*login)),
            None => endpoint
                .username
                .as_deref()
                .map(|pattern| expand_pattern(pattern, &self.address)),
        }
    }

    /// The host of `endpoint` for this address (`%EMAILDOMAIN%` expanded).
    pub fn host_for<'a>(&'a self, endpoint: &'a Endpoint) -> Cow<'a, str> {
        expand_pattern(self.domain.host_of(endpoint), &self.address)
    }
}

/// Looks up `address` (already normalised by [`crate::validate::address`]).
///
/// Personal data (the display name) is given only to the authenticated user. What is needed to
/// connect (login name, service access) follows the user's record for an `Anonymous` asker too:
/// a user with POP denied never gets POP. A `Public` asker gets the domain's settings only.
pub fn discover<'s>(snapshot: &'s Snapshot, address: &str, asker: Asker<'s>) -> Discovery<'s> {
    let Some((local, domain_name)) = address.rsplit_once('@') else {
        return Discovery::NotHosted;
    };
    let Some(domain) = snapshot.domain(domain_name) else {
        return Discovery::NotHosted;
    };
    if let Some(target) = &domain.redirect_to {
        return Discovery::RedirectAddress(format!("{local}@{target}"));
    }
    let known = match asker {
        Asker::Authenticated(user) => Some(user),
        Asker::Anonymous => snapshot.user(address),
        Asker::Public => None,
    };
    let display_name = match asker {
        Asker::Authenticated(user) => Some(user.shown_name()),
        Asker::Anonymous | Asker::Public => None,
    };
    Discovery::Account(Account {
        domain,
        address: address.to_string(),
        display_name,
        login_name: known.and_then(|u| u.login_name),
        known,
        access: known.map(|u| u.access).unwrap_or(ServiceAccess::ALL),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::{Domain, DomainChange, EndpointChange, ProtocolChange, User};

    fn snapshot() -> Snapshot {
        let mut redirected = Domain::new("old.example", "mail.old.example").unwrap();
        redirected.redirect_to = Some("new.example".into());
        let mut example = Domain::new("example.com", "mail.example.com").unwrap();
        example
            .apply(&DomainChange {
                add_aliases: vec!["example.net".into()],
                ..Default::default()
            })
            .unwrap();
        example
            .change_protocol(
                ProtocolKind::Imap,
                &ProtocolChange {
                    endpoint: EndpointChange {
                        host: Some("imap.%EMAILDOMAIN%".into()),
                        username: Some("%EMAILLOCALPART%".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        let user = User {
            address: "john@example.com".into(),
            password_hash: String::new(),
            display_name: "John Doe".into(),
            login_name: Some("jdoe".into()),
            legacy_dn: None,
            access: ServiceAccess {
                pop: false,
                ..ServiceAccess::ALL
            },
        };
        Snapshot::new(1, vec![example, redirected], vec![user])
    }

    fn account<'s>(s: &'s Snapshot, address: &str, asker: Asker<'s>) -> Account<'s> {
        match discover(s, address, asker) {
            Discovery::Account(account) => account,
            other => panic!("expected an account, got {other:?}"),
        }
    }

    #[test]
    fn known_user_access_applies_but_name_needs_authentication() {
        let s = snapshot();
        let anon = account(&s, "john@example.com", Asker::Anonymous);
        assert_eq!(anon.shown_name(), "john@example.com");
        assert!(!anon.offers(ProtocolKind::Pop));
        assert!(anon.offers(ProtocolKind::Imap));
        assert!(!anon.offers(ProtocolKind::Eas), "EAS is off for the domain");
        let imap = &anon.domain.protocols.imap.primary;
        assert_eq!(anon.login_for(imap).as_deref(), Some("jdoe"));

        let user = s.user("john@example.com").unwrap();
        let me = account(&s, "john@example.com", Asker::Authenticated(user));
        assert_eq!(me.shown_name(), "John Doe");

        let public = account(&s, "john@example.com", Asker::Public);
        assert!(
            public.offers(ProtocolKind::Pop),
            "public answers never depend on the user"
        );
        assert_eq!(public.login_for(imap).as_deref(), Some("john"));
    }

    #[test]
    fn aliases_patterns_and_other_domains() {
        let s = snapshot();
        let alias = account(&s, "nobody@example.net", Asker::Public);
        assert_eq!(alias.domain.name, "example.com");
        assert_eq!(
            alias.host_for(&alias.domain.protocols.imap.primary),
            "imap.example.net"
        );
        assert!(matches!(
            discover(&s, "x@elsewhere.org", Asker::Anonymous),
            Discovery::NotHosted
        ));
        match discover(&s, "x@old.example", Asker::Anonymous) {
            Discovery::RedirectAddress(to) => assert_eq!(to, "x@new.example"),
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn login_names_resolve_users() {
        let s = snapshot();
        assert_eq!(
            s.user_for_login("JDOE", None).map(|u| u.address),
            Some("john@example.com")
        );
        assert!(s.user_for_login("john@example.com", None).is_some());
        assert!(s.user_for_login("nobody", None).is_none());
    }
}
