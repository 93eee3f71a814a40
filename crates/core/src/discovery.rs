//! The decision at the heart of Signpost: given an address and who is asking, what account
//! settings does this client get?

use crate::model::{Domain, ProtocolKind, ServiceAccess, User};
use crate::snapshot::Snapshot;

/// Who sent the request.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// No credentials (autoconfig, v2 JSON, or a domain whose auth policy allows it).
    Anonymous,
    /// A user whose password was verified.
    Authenticated(&'a User),
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
    pub display_name: String,
    pub login_name: String,
    pub legacy_dn: String,
    pub access: ServiceAccess,
}

impl Account<'_> {
    /// Whether the domain has `kind` on and the user may use it.
    pub fn offers(&self, kind: ProtocolKind) -> bool {
        self.domain.protocols.get(kind).enabled && self.access.allows(kind)
    }
}

/// Looks up `address` (already normalised by [`crate::validate::address`]).
///
/// Personal data (the display name) is given only to the authenticated user. What is needed to
/// connect (login name, service access) follows the user's record whenever the address is a known
/// user: a user with POP denied never gets POP, asked by anyone.
pub fn discover<'s>(snapshot: &'s Snapshot, address: &str, asker: Asker<'_>) -> Discovery<'s> {
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
    };
    let display_name = match asker {
        Asker::Authenticated(user) => user.shown_name().to_string(),
        Asker::Anonymous => address.to_string(),
    };
    let account = match known {
        Some(user) => Account {
            domain,
            address: address.to_string(),
            display_name,
            login_name: user.login().to_string(),
            legacy_dn: user.legacy_dn(),
            access: user.access,
        },
        None => Account {
            domain,
            address: address.to_string(),
            display_name,
            login_name: address.to_string(),
            legacy_dn: crate::model::derived_legacy_dn(address),
            access: ServiceAccess::ALL,
        },
    };
    Discovery::Account(account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Domain;

    fn snapshot() -> Snapshot {
        let mut redirected = Domain::new("old.example", "mail.old.example").unwrap();
        redirected.redirect_to = Some("new.example".into());
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
        Snapshot::new(
            1,
            vec![
                Domain::new("example.com", "mail.example.com").unwrap(),
                redirected,
            ],
            vec![user],
        )
    }

    #[test]
    fn known_user_access_applies_but_name_needs_authentication() {
        let s = snapshot();
        let Discovery::Account(anon) = discover(&s, "john@example.com", Asker::Anonymous) else {
            panic!("expected an account");
        };
        assert_eq!(anon.display_name, "john@example.com");
        assert_eq!(anon.login_name, "jdoe");
        assert!(!anon.offers(ProtocolKind::Pop));
        assert!(anon.offers(ProtocolKind::Imap));
        assert!(!anon.offers(ProtocolKind::Eas), "EAS is off for the domain");

        let user = s.user("john@example.com").unwrap();
        let Discovery::Account(me) = discover(&s, "john@example.com", Asker::Authenticated(user))
        else {
            panic!("expected an account");
        };
        assert_eq!(me.display_name, "John Doe");
    }

    #[test]
    fn unknown_users_get_domain_settings_and_other_domains_are_not_hosted() {
        let s = snapshot();
        let Discovery::Account(a) = discover(&s, "nobody@example.com", Asker::Anonymous) else {
            panic!("expected an account");
        };
        assert!(a.offers(ProtocolKind::Pop));
        assert_eq!(a.login_name, "nobody@example.com");
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
            s.user_for_login("JDOE", None).map(|u| u.address.as_str()),
            Some("john@example.com")
        );
        assert!(s.user_for_login("john@example.com", None).is_some());
        assert!(s.user_for_login("nobody", None).is_none());
    }
}
