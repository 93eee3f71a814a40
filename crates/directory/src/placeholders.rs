//! `%u`, `%n` and `%d` (Dovecot's names for the address, its local part and its domain) in the
//! administrator's query, filter or DN template, filled in safely for where they land.

use std::borrow::Cow;

/// Who is logging in: the address Signpost resolved, and the login name as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Lowercase `local@domain`: the login when it is an address, else the login at the domain
    /// asked about.
    pub address: String,
    /// As the client sent it (the address, or a bare user name).
    pub login: String,
}

impl Subject {
    /// As in Dovecot: `%u` the user name (the address, lowercased, when the login is one; a bare
    /// login as typed), `%n` its part before the `@`, `%d` the domain.
    fn value(&self, placeholder: char) -> Option<&str> {
        let user = if self.login.contains('@') {
            &self.address
        } else {
            &self.login
        };
        match placeholder {
            'u' => Some(user),
            'n' => Some(
                user.rsplit_once('@')
                    .map_or(user.as_str(), |(local, _)| local),
            ),
            'd' => Some(
                self.address
                    .rsplit_once('@')
                    .map_or("", |(_, domain)| domain),
            ),
            _ => None,
        }
    }
}

/// `template` with each placeholder replaced by `escape(value)`; `%%` is a literal `%`.
pub fn fill(template: &str, subject: &Subject, escape: impl Fn(&str) -> Cow<'_, str>) -> String {
    let mut out = String::with_capacity(template.len() + subject.address.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('%') => {
                chars.next();
                out.push('%');
            }
            Some(p) => match subject.value(p) {
                Some(value) => {
                    chars.next();
                    out.push_str(&escape(value));
                }
                None => out.push('%'),
            },
            None => out.push('%'),
        }
    }
    out
}

/// An SQL query with each placeholder turned into a bound parameter: the text to prepare (in
/// the backend's parameter syntax) and the values in order. Quotes around a placeholder, as in a
/// Dovecot query (`'%u'`), are dropped, so its queries can be pasted as they are.
pub fn sql_parameters(
    query: &str,
    subject: &Subject,
    dollar_numbered: bool,
) -> (String, Vec<String>) {
    let mut text = String::with_capacity(query.len());
    let mut values = Vec::new();
    let mut rest = query;
    while let Some(c) = rest.chars().next() {
        let found = [("'%", 4), ("%", 2)].iter().find_map(|(opening, length)| {
            let after = rest.strip_prefix(opening)?;
            let name = after.chars().next()?;
            let closed = *length == 2 || after[name.len_utf8()..].starts_with('\'');
            let value = subject.value(name).filter(|_| closed)?;
            Some((value, *length))
        });
        match found {
            Some((value, length)) => {
                values.push(value.to_string());
                if dollar_numbered {
                    text.push_str(&format!("${}", values.len()));
                } else {
                    text.push('?');
                }
                rest = &rest[length..];
            }
            None => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    (text, values)
}

/// RFC 4515: a value inside an LDAP search filter.
pub fn ldap_filter_value(value: &str) -> Cow<'_, str> {
    ldap3::ldap_escape(value)
}

/// RFC 4514: a value inside a distinguished name.
pub fn ldap_dn_value(value: &str) -> Cow<'_, str> {
    ldap3::dn_escape(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jo() -> Subject {
        Subject {
            address: "jo@example.com".into(),
            login: "jo@example.com".into(),
        }
    }

    #[test]
    fn sql_values_are_bound_never_pasted() {
        let (text, values) = sql_parameters(
            "SELECT password FROM mailbox WHERE username = '%u' AND domain = %d AND x LIKE '100%%'",
            &jo(),
            true,
        );
        assert_eq!(
            text,
            "SELECT password FROM mailbox WHERE username = $1 AND domain = $2 AND x LIKE '100%%'"
        );
        assert_eq!(values, ["jo@example.com", "example.com"]);
        let (text, _) = sql_parameters("SELECT 1 WHERE a = %n", &jo(), false);
        assert_eq!(text, "SELECT 1 WHERE a = ?");
        let hostile = Subject {
            address: "x'; DROP TABLE mailbox; --@example.com".into(),
            login: "x'; DROP TABLE mailbox; --@example.com".into(),
        };
        let (text, values) = sql_parameters("SELECT 1 WHERE a = '%u'", &hostile, true);
        assert_eq!(text, "SELECT 1 WHERE a = $1");
        assert_eq!(values[0], hostile.address);
    }

    #[test]
    fn ldap_values_are_escaped_for_filters_and_dns() {
        let hostile = Subject {
            address: "jo@example.com".into(),
            login: "*)(uid=*".into(),
        };
        let filter = fill(
            "(&(objectClass=inetOrgPerson)(uid=%u))",
            &hostile,
            ldap_filter_value,
        );
        assert_eq!(
            filter,
            "(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a))"
        );
        let dn = fill(
            "uid=%n,ou=people,dc=example,dc=com",
            &Subject {
                address: "a,b=c+d@example.com".into(),
                login: "a,b=c+d@example.com".into(),
            },
            ldap_dn_value,
        );
        assert_eq!(dn, "uid=a\\2cb\\3dc\\2bd,ou=people,dc=example,dc=com");
        assert_eq!(
            fill("%x %% %d", &jo(), |v| Cow::Borrowed(v)),
            "%x % example.com"
        );
    }

    proptest::proptest! {
        /// Whatever a client types (a bare login, or an address), a filter stays one assertion
        /// whose value reads back as typed.
        #[test]
        fn no_login_changes_the_shape_of_a_filter(local in "[^@\\p{C}]{1,40}", bare: bool) {
            let address = format!("{local}@example.com");
            let login = if bare { local.clone() } else { address.clone() };
            let subject = Subject { address, login: login.clone() };
            let filter = fill("(uid=%u)", &subject, ldap_filter_value);
            let value = &filter["(uid=".len()..filter.len() - 1];
            proptest::prop_assert!(!value.contains(['(', ')', '*', '\0']), "{}", filter);
            let read_back = ldap3::ldap_unescape(value).map(|v| v.into_owned());
            proptest::prop_assert_eq!(read_back.ok(), Some(login));
        }

        /// And an SQL query never holds it: it travels as a parameter.
        #[test]
        fn no_login_reaches_the_sql_text(local in "[^@\\p{C}]{1,40}", bare: bool) {
            let address = format!("{local}@example.com");
            let login = if bare { local.clone() } else { address.clone() };
            let subject = Subject { address, login: login.clone() };
            let (text, values) = sql_parameters("SELECT password FROM users WHERE u = '%u'", &subject, false);
            proptest::prop_assert_eq!(text, "SELECT password FROM users WHERE u = ?");
            proptest::prop_assert_eq!(values, vec![login]);
        }
    }
}
