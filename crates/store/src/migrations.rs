//! Versioned schema migrations, embedded in the binary and applied in order, each in its own
//! transaction.

/// One schema step.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        description: "domains and users",
        sql: include_str!("../migrations/sqlite/0001_domains_and_users.sql"),
    },
    Migration {
        version: 2,
        description: "administrators, API tokens and sessions",
        sql: include_str!("../migrations/sqlite/0002_administrators.sql"),
    },
    Migration {
        version: 3,
        description: "ACME challenges shared between instances",
        sql: include_str!("../migrations/sqlite/0003_acme_challenges.sql"),
    },
    Migration {
        version: 4,
        description: "recent requests of every instance",
        sql: include_str!("../migrations/sqlite/0004_recent_requests.sql"),
    },
    Migration {
        version: 5,
        description: "user sources (SQL, LDAP, IMAP login) per domain",
        sql: include_str!("../migrations/sqlite/0005_user_sources.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        description: "domains and users",
        sql: include_str!("../migrations/postgres/0001_domains_and_users.sql"),
    },
    Migration {
        version: 2,
        description: "administrators, API tokens and sessions",
        sql: include_str!("../migrations/postgres/0002_administrators.sql"),
    },
    Migration {
        version: 3,
        description: "change notifications",
        sql: include_str!("../migrations/postgres/0003_change_notifications.sql"),
    },
    Migration {
        version: 4,
        description: "ACME challenges shared between instances",
        sql: include_str!("../migrations/postgres/0004_acme_challenges.sql"),
    },
    Migration {
        version: 5,
        description: "recent requests of every instance",
        sql: include_str!("../migrations/postgres/0005_recent_requests.sql"),
    },
    Migration {
        version: 6,
        description: "user sources (SQL, LDAP, IMAP login) per domain",
        sql: include_str!("../migrations/postgres/0006_user_sources.sql"),
    },
];
