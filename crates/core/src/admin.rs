//! Administrators of Signpost itself: who may change the configuration, and which part of it.

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError};

/// What an administrator may see and change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "role", content = "domains", rename_all = "lowercase")]
pub enum AdminRole {
    /// Everything, including other administrators and certificates.
    System,
    /// Only these domains and their users (the seed's domain administrators).
    Domain(Vec<String>),
}

impl AdminRole {
    pub fn key(&self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Domain(_) => "domain",
        }
    }

    /// Whether this role may see and change `domain`.
    pub fn manages(&self, domain: &str) -> bool {
        match self {
            Self::System => true,
            Self::Domain(domains) => domains.iter().any(|d| d == domain),
        }
    }

    pub fn is_system(&self) -> bool {
        matches!(self, Self::System)
    }

    /// A role from its key and, for domain administrators, their domains.
    pub fn parse(key: &str, domains: &[String]) -> Result<Self, ValidationError> {
        match key.trim().to_ascii_lowercase().as_str() {
            "system" if domains.is_empty() => Ok(Self::System),
            "system" => Err(ValidationError::new(
                "domains",
                "a system administrator manages every domain; give domains only with role domain",
            )),
            "domain" => {
                if domains.is_empty() {
                    return Err(ValidationError::new(
                        "domains",
                        "a domain administrator needs at least one domain",
                    ));
                }
                let mut names = domains
                    .iter()
                    .map(|d| validate::domain_name("domains", d))
                    .collect::<Result<Vec<_>, _>>()?;
                names.sort();
                names.dedup();
                Ok(Self::Domain(names))
            }
            other => Err(ValidationError::new(
                "role",
                format!(
                    "'{}' is not a role: use system or domain",
                    other.chars().take(32).collect::<String>()
                ),
            )),
        }
    }
}

/// An administrator account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrator {
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: AdminRole,
}

impl Administrator {
    pub fn new(name: &str, password: &str, role: AdminRole) -> Result<Self, ValidationError> {
        let name = admin_name(name)?;
        validate::password(password)?;
        Ok(Self {
            name,
            password_hash: crate::password::hash_password(password)?,
            role,
        })
    }
}

/// An administrator's name: 1-64 letters, digits, `.`, `_`, `-` or `@`, lowercased.
pub fn admin_name(value: &str) -> Result<String, ValidationError> {
    let name = value.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(ValidationError::new("name", "it is empty"));
    }
    if name.len() > 64 {
        return Err(ValidationError::new(
            "name",
            "it is longer than 64 characters",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-@".contains(*c)))
    {
        return Err(ValidationError::new(
            "name",
            format!("{c:?} is not allowed: use letters, digits, '.', '_', '-' and '@'"),
        ));
    }
    Ok(name)
}

/// A name for an API token, chosen by the administrator to tell tokens apart.
pub fn token_name(value: &str) -> Result<String, ValidationError> {
    admin_name(value).map_err(|e| ValidationError::new("token", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_scope() {
        assert_eq!(AdminRole::parse("system", &[]).unwrap(), AdminRole::System);
        let role = AdminRole::parse("Domain", &["B.example".into(), "a.example".into()]).unwrap();
        assert_eq!(
            role,
            AdminRole::Domain(vec!["a.example".into(), "b.example".into()])
        );
        assert!(role.manages("a.example"));
        assert!(!role.manages("c.example"));
        assert_eq!(
            AdminRole::parse("domain", &[]).unwrap_err().field,
            "domains"
        );
        assert_eq!(AdminRole::parse("root", &[]).unwrap_err().field, "role");
        assert_eq!(
            AdminRole::parse("system", &["a.example".into()])
                .unwrap_err()
                .field,
            "domains"
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(admin_name(" Alice ").unwrap(), "alice");
        assert!(admin_name("").is_err());
        assert!(admin_name("a b").is_err());
        assert!(admin_name("<script>").is_err());
        assert!(admin_name(&"a".repeat(65)).is_err());
    }
}
