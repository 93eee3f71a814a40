//! Versioned schema migrations, embedded in the binary and applied in order, each in its own
//! transaction. Both backends carry the same step under the same number and file name
//! (`migrations/<backend>/NNNN_name.sql`), so a step is one number everywhere.

/// One schema step.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Declares a backend's steps from `migrations/<backend>/`, numbered and named alike.
macro_rules! steps {
    ($backend:literal: $(($version:literal, $file:literal, $description:literal)),* $(,)?) => {
        &[$(Migration {
            version: $version,
            description: $description,
            sql: include_str!(concat!("../migrations/", $backend, "/", $file, ".sql")),
        }),*]
    };
}

pub const SQLITE: &[Migration] = steps!["sqlite":
    (1, "0001_domains_and_users", "domains and users"),
    (2, "0002_administrators", "administrators, API tokens and sessions"),
    (3, "0003_change_notifications", "change notifications (PostgreSQL only; SQLite instances poll)"),
    (4, "0004_acme_challenges", "ACME challenges shared between instances"),
    (5, "0005_recent_requests", "recent requests of every instance"),
    (6, "0006_user_sources", "user sources (SQL, LDAP, IMAP login) per domain"),
    (7, "0007_audit_log", "the audit log"),
    (8, "0008_instances", "running instances and the version each serves"),
    (9, "0009_users_by_domain_and_address", "users indexed by domain and address"),
    (10, "0010_known_networks", "the networks accounts signed in from"),
];

pub const POSTGRES: &[Migration] = steps!["postgres":
    (1, "0001_domains_and_users", "domains and users"),
    (2, "0002_administrators", "administrators, API tokens and sessions"),
    (3, "0003_change_notifications", "change notifications"),
    (4, "0004_acme_challenges", "ACME challenges shared between instances"),
    (5, "0005_recent_requests", "recent requests of every instance"),
    (6, "0006_user_sources", "user sources (SQL, LDAP, IMAP login) per domain"),
    (7, "0007_audit_log", "the audit log"),
    (8, "0008_instances", "running instances and the version each serves"),
    (9, "0009_users_by_domain_and_address", "users indexed by domain and address"),
    (10, "0010_known_networks", "the networks accounts signed in from"),
];

/// SQLite stores made before the numbers were aligned recorded ACME challenges as step 3,
/// recent requests as 4 and user sources as 5. Their rows are renumbered (and the step that
/// SQLite never needed recorded) before migrating, so nothing is applied twice.
pub const LEGACY_SQLITE_STEP_3: &str = "ACME challenges shared between instances";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_number_the_same_steps_alike() {
        assert_eq!(
            SQLITE.len(),
            POSTGRES.len(),
            "a step missing on one backend"
        );
        for (sqlite, postgres) in SQLITE.iter().zip(POSTGRES) {
            assert_eq!(sqlite.version, postgres.version);
        }
        for (i, step) in SQLITE.iter().enumerate() {
            assert_eq!(
                step.version,
                i as i64 + 1,
                "steps are numbered 1, 2, 3, ..."
            );
        }
    }
}
