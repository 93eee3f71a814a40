//! The store's contract on both backends: every scenario runs on SQLite, and on a private
//! PostgreSQL cluster (skipped, naming PostgreSQL, where it is not installed).

use std::future::Future;

use signpost_core::admin::Administrator;
use signpost_core::model::{
    AuthMethod, Description, DocumentationLink, DomainChange, Encryption, EndpointChange,
    OAuth2Settings, ProtocolChange, ProtocolKind, ServiceAccess, XmlOverride,
};
use signpost_core::{Domain, User};
use signpost_store::{
    AdminSession, ApiToken, AuditFilter, AuditRecord, Export, SqlStore, Store, StoreError,
};
use signpost_testkit::postgres::PostgresServer;

signpost_testkit::tests![
    round_trips_on_sqlite,
    round_trips_on_postgres,
    exports_on_sqlite,
    exports_on_postgres,
    administrators_on_sqlite,
    administrators_on_postgres,
    reopening_keeps_data_and_does_not_remigrate,
    audit_on_sqlite,
    audit_on_postgres,
    user_pages_on_sqlite,
    user_pages_on_postgres,
    known_networks_on_sqlite,
    known_networks_on_postgres,
    legacy_sqlite_step_numbers_are_aligned,
];

fn main() -> std::process::ExitCode {
    signpost_testkit::runner::main([tests()])
}

fn block_on(future: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(future);
}

/// Where a scenario's stores live: files in `dir`, or databases of a cluster of its own.
struct TestBackend {
    dir: tempfile::TempDir,
    postgres: Option<PostgresServer>,
}

impl TestBackend {
    fn sqlite() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            postgres: None,
        }
    }

    fn postgres() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            postgres: Some(PostgresServer::start()),
        }
    }

    /// A new, empty store named `name`.
    async fn fresh(&self, name: &str) -> SqlStore {
        match &self.postgres {
            None => SqlStore::open_sqlite(&self.dir.path().join(format!("{name}.db")))
                .await
                .expect("a new SQLite store"),
            Some(cluster) => SqlStore::open_postgres(&cluster.new_database())
                .await
                .expect("a new PostgreSQL store"),
        }
    }
}

fn round_trips_on_sqlite() {
    block_on(round_trips_domains_and_users_and_counts_versions(
        TestBackend::sqlite(),
    ));
}

fn round_trips_on_postgres() {
    block_on(round_trips_domains_and_users_and_counts_versions(
        TestBackend::postgres(),
    ));
}

fn exports_on_sqlite() {
    block_on(export_import_round_trips_and_backup_is_consistent(
        TestBackend::sqlite(),
    ));
}

fn exports_on_postgres() {
    block_on(export_import_round_trips_and_backup_is_consistent(
        TestBackend::postgres(),
    ));
}

fn administrators_on_sqlite() {
    block_on(administrators_tokens_and_sessions(TestBackend::sqlite()));
}

fn administrators_on_postgres() {
    block_on(administrators_tokens_and_sessions(TestBackend::postgres()));
}

fn reopening_keeps_data_and_does_not_remigrate() {
    block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/s.db");
        {
            let store = SqlStore::open_sqlite(&path).await.unwrap();
            store
                .create_domain(
                    &Domain::new("a.example", "mail.a.example").unwrap(),
                    &audit(),
                )
                .await
                .unwrap();
        }
        let store = SqlStore::open_sqlite(&path).await.unwrap();
        assert_eq!(store.domains().await.unwrap().len(), 1);
    });
}

/// The audit record every write takes (what it says is not under test here).
fn audit() -> AuditRecord {
    AuditRecord {
        at: 1,
        actor: "test".into(),
        actor_kind: "cli".into(),
        origin: "local".into(),
        operation: "test".into(),
        domain: None,
        target: "test".into(),
        summary: "test".into(),
    }
}

fn user(address: &str) -> User {
    User {
        address: address.into(),
        password_hash: "$argon2id$x".into(),
        display_name: "Jo <&>".into(),
        login_name: Some("jo".into()),
        legacy_dn: None,
        access: ServiceAccess {
            pop: false,
            ..ServiceAccess::ALL
        },
    }
}

async fn administrators_tokens_and_sessions(backend: TestBackend) {
    use signpost_core::admin::AdminRole;
    let store = backend.fresh("admins").await;
    let version = store.version().await.unwrap();
    let alice = Administrator {
        name: "alice".into(),
        password_hash: "$argon2id$x".into(),
        role: AdminRole::Domain(vec!["a.example".into(), "b.example".into()]),
    };
    store.create_administrator(&alice, &audit()).await.unwrap();
    assert!(matches!(
        store.create_administrator(&alice, &audit()).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        store.administrator("alice").await.unwrap(),
        Some(alice.clone())
    );
    let token = ApiToken {
        administrator: "alice".into(),
        name: "ci".into(),
        token_hash: "ab".repeat(32),
        created_at: 5,
    };
    store.create_api_token(&token, &audit()).await.unwrap();
    assert_eq!(
        store.api_token_by_hash(&token.token_hash).await.unwrap(),
        Some(token.clone())
    );
    let session = AdminSession {
        id_hash: "cd".repeat(32),
        administrator: "alice".into(),
        csrf_token: "csrf".into(),
        expires_at: 100,
    };
    store.create_session(&session, 50).await.unwrap();
    assert_eq!(
        store.session_by_hash(&session.id_hash, 99).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store.session_by_hash(&session.id_hash, 100).await.unwrap(),
        None
    );
    assert_eq!(
        store.version().await.unwrap(),
        version,
        "administrators do not change what clients are told"
    );
    store.delete_administrator("alice", &audit()).await.unwrap();
    assert_eq!(
        store.api_token_by_hash(&token.token_hash).await.unwrap(),
        None
    );
    assert_eq!(
        store.session_by_hash(&session.id_hash, 0).await.unwrap(),
        None
    );
}

async fn round_trips_domains_and_users_and_counts_versions(backend: TestBackend) {
    let store = backend.fresh("s").await;
    assert_eq!(store.version().await.unwrap(), 0);

    let mut domain = Domain::new("example.com", "mail.example.com").unwrap();
    domain
        .change_protocol(
            ProtocolKind::Imap,
            &ProtocolChange {
                endpoint: EndpointChange {
                    port: Some(143),
                    encryption: Some(Encryption::Starttls),
                    username: Some("%EMAILLOCALPART%".into()),
                    authentication: vec![AuthMethod::OAuth2, AuthMethod::PasswordCleartext],
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
    domain
        .add_endpoint(
            ProtocolKind::Imap,
            &EndpointChange {
                host: Some("imap.%EMAILDOMAIN%".into()),
                port: Some(993),
                ..Default::default()
            },
        )
        .unwrap();
    domain
        .apply(&DomainChange {
            add_aliases: vec!["example.net".into()],
            webmail_url: Some("https://webmail.example.com/".into()),
            caldav_url: Some("https://dav.example.com/cal/".into()),
            oauth2: Some(Some(OAuth2Settings {
                issuer: "login.example.com".into(),
                scope: "mail".into(),
                auth_url: "https://login.example.com/a".into(),
                token_url: "https://login.example.com/t".into(),
            })),
            ..Default::default()
        })
        .unwrap();
    domain.documentation.push(DocumentationLink {
        url: "https://help.example.com/".into(),
        descriptions: vec![Description {
            lang: Some("de".into()),
            text: "Hilfe".into(),
        }],
    });
    domain.protocols.smtp.primary.username = None;
    domain.protocols.pop.primary.authentication.clear();
    domain.desktop_override = XmlOverride {
        enabled: true,
        text: Some(String::new()),
    };
    store.create_domain(&domain, &audit()).await.unwrap();
    assert!(matches!(
        store.create_domain(&domain, &audit()).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        store.domain("example.com").await.unwrap().as_ref(),
        Some(&domain)
    );

    store
        .create_user(&user("jo@example.com"), &audit())
        .await
        .unwrap();
    assert!(matches!(
        store.create_user(&user("jo@nowhere.org"), &audit()).await,
        Err(StoreError::NotFound { kind: "domain", .. })
    ));
    assert_eq!(
        store.user("jo@example.com").await.unwrap(),
        Some(user("jo@example.com"))
    );

    let snapshot = store.load_snapshot().await.unwrap();
    assert_eq!(snapshot.version, 2);
    assert_eq!(snapshot.domain("example.com"), Some(&domain));
    assert_eq!(
        snapshot.domain("example.net"),
        Some(&domain),
        "found by alias"
    );

    // An alias cannot be another domain, nor another domain's alias.
    let mut other = Domain::new("example.org", "mail.example.org").unwrap();
    other.aliases = vec!["example.net".into()];
    assert!(matches!(
        store.create_domain(&other, &audit()).await,
        Err(StoreError::AlreadyExists { kind: "alias", .. })
    ));
    let clash = Domain::new("example.net", "mail.example.net").unwrap();
    assert!(matches!(
        store.create_domain(&clash, &audit()).await,
        Err(StoreError::AlreadyExists { kind: "alias", .. })
    ));
    assert_eq!(
        store.version().await.unwrap(),
        2,
        "refused writes change nothing"
    );

    store.delete_domain("example.com", &audit()).await.unwrap();
    assert!(
        store.users(None).await.unwrap().is_empty(),
        "users go with their domain"
    );
    assert!(matches!(
        store.delete_domain("example.com", &audit()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.version().await.unwrap(), 3);
}

async fn export_import_round_trips_and_backup_is_consistent(backend: TestBackend) {
    let source = backend.fresh("a").await;
    let mut domain = Domain::new("example.com", "mail.example.com").unwrap();
    domain.aliases = vec!["example.net".into()];
    source.create_domain(&domain, &audit()).await.unwrap();
    source
        .create_user(&user("jo@example.com"), &audit())
        .await
        .unwrap();
    source
        .save_acme_account("https://acme.test/dir", "{\"id\":\"x\"}")
        .await
        .unwrap();
    let exported = source.export().await.unwrap();

    let target = backend.fresh("b").await;
    target
        .import(&exported, false, &audit(), None)
        .await
        .unwrap();
    assert_eq!(target.export().await.unwrap(), exported);
    assert!(matches!(
        target.import(&exported, false, &audit(), None).await,
        Err(StoreError::Import(_))
    ));
    target
        .import(&exported, true, &audit(), None)
        .await
        .unwrap();
    assert_eq!(
        target.export().await.unwrap(),
        exported,
        "replace gives the same again"
    );

    let mut broken = exported.clone();
    broken.users.push(user("jo@nowhere.example"));
    assert!(target.import(&broken, true, &audit(), None).await.is_err());
    assert_eq!(
        target.export().await.unwrap(),
        exported,
        "a failed import changes nothing"
    );

    let copy = backend.dir.path().join("backup");
    source.backup(&copy).await.unwrap();
    assert!(
        source.backup(&copy).await.is_err(),
        "an existing file is not overwritten"
    );
    source.verify().await.unwrap();
    match backend.postgres {
        None => {
            let restored = SqlStore::open_sqlite(&copy).await.unwrap();
            restored.verify().await.unwrap();
            assert_eq!(restored.export().await.unwrap(), exported);
        }
        Some(_) => {
            let written: Export = serde_json::from_slice(&std::fs::read(&copy).unwrap()).unwrap();
            assert_eq!(written, exported);
        }
    }
}

fn audit_on_sqlite() {
    block_on(audit_records_go_with_their_writes(TestBackend::sqlite()));
}

fn audit_on_postgres() {
    block_on(audit_records_go_with_their_writes(TestBackend::postgres()));
}

async fn audit_records_go_with_their_writes(backend: TestBackend) {
    let store = backend.fresh("audit").await;
    let domain = Domain::new("example.com", "mail.example.com").unwrap();
    let record = |operation: &str, domain: Option<&str>| AuditRecord {
        operation: operation.into(),
        domain: domain.map(str::to_string),
        ..audit()
    };
    store
        .create_domain(&domain, &record("domain.add", Some("example.com")))
        .await
        .unwrap();
    // A write that fails leaves no record.
    assert!(
        store
            .create_domain(&domain, &record("domain.add", Some("example.com")))
            .await
            .is_err()
    );
    store
        .create_domain(
            &Domain::new("other.example", "mail.other.example").unwrap(),
            &record("domain.add", Some("other.example")),
        )
        .await
        .unwrap();
    let all = store
        .audit_log(&AuditFilter::default(), None)
        .await
        .unwrap();
    let operations: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|e| (e.record.operation.as_str(), e.record.domain.as_deref()))
        .collect();
    assert_eq!(
        operations,
        [
            ("domain.add", Some("other.example")),
            ("domain.add", Some("example.com"))
        ],
        "newest first, and nothing for the failed write"
    );
    let filtered = AuditFilter {
        domain: Some("example.com".into()),
        ..AuditFilter::default()
    };
    assert_eq!(store.audit_log(&filtered, None).await.unwrap().len(), 1);
    let theirs = store
        .audit_log(
            &AuditFilter::default(),
            Some(&["other.example".to_string()]),
        )
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].record.domain.as_deref(), Some("other.example"));
    // Bounded by count: keep the newest one.
    assert_eq!(store.prune_audit_log(i64::MIN, 1).await.unwrap(), 1);
    let left = store
        .audit_log(&AuditFilter::default(), None)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].record.domain.as_deref(), Some("other.example"));
    // Bounded by age.
    assert_eq!(store.prune_audit_log(i64::MAX, 100).await.unwrap(), 1);
}

/// A store made when SQLite numbered ACME challenges as step 3 is renumbered, not re-migrated.
fn legacy_sqlite_step_numbers_are_aligned() {
    block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("legacy.db");
        let store = SqlStore::open_sqlite(&path).await.unwrap();
        store
            .create_domain(
                &Domain::new("a.example", "mail.a.example").unwrap(),
                &audit(),
            )
            .await
            .unwrap();
        drop(store);
        // Make it look as the old numbering left it: steps 3-5 one lower, no step 3 of its own,
        // and nothing after user sources.
        let url = format!("sqlite://{}", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        for statement in [
            "DROP TABLE audit_log",
            "DROP TABLE instances",
            "DROP TABLE known_networks",
            "DROP INDEX users_by_domain_and_address",
            "CREATE INDEX users_by_domain ON users(domain)",
            "DELETE FROM schema_migrations WHERE version IN (3, 7, 8, 9, 10)",
            "UPDATE schema_migrations SET version = 3, description = 'ACME challenges shared between instances' WHERE version = 4",
            "UPDATE schema_migrations SET version = 4 WHERE version = 5",
            "UPDATE schema_migrations SET version = 5 WHERE version = 6",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
        let store = SqlStore::open_sqlite(&path).await.unwrap();
        assert_eq!(store.domains().await.unwrap().len(), 1, "the data is kept");
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let steps: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, description FROM schema_migrations ORDER BY version")
                .fetch_all(&pool)
                .await
                .unwrap();
        let versions: Vec<i64> = steps.iter().map(|(v, _)| *v).collect();
        assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(steps[3].1.contains("ACME"), "{steps:?}");
        // The tables of the steps after it were made.
        store
            .audit_log(&AuditFilter::default(), None)
            .await
            .unwrap();
    });
}

fn user_pages_on_sqlite() {
    block_on(users_are_searched_and_paged(TestBackend::sqlite()));
}

fn user_pages_on_postgres() {
    block_on(users_are_searched_and_paged(TestBackend::postgres()));
}

async fn users_are_searched_and_paged(backend: TestBackend) {
    let store = backend.fresh("pages").await;
    store
        .create_domain(
            &Domain::new("example.com", "mail.example.com").unwrap(),
            &audit(),
        )
        .await
        .unwrap();
    let mut users: Vec<User> = (0..25)
        .map(|n| User {
            display_name: format!("Person {n:02}"),
            ..user(&format!("u{n:02}@example.com"))
        })
        .collect();
    users.push(User {
        display_name: "Percent 100%_off".into(),
        ..user("zed@example.com")
    });
    store.create_users(&users, &audit()).await.unwrap();

    let (first, total) = store.users_page("example.com", "", 0, 10).await.unwrap();
    assert_eq!(total, 26);
    assert_eq!(first.len(), 10);
    assert_eq!(first[0].address, "u00@example.com");
    let (last, _) = store.users_page("example.com", "", 20, 10).await.unwrap();
    assert_eq!(last.len(), 6, "the last page holds the rest");
    assert_eq!(last[5].address, "zed@example.com");

    let (found, total) = store
        .users_page("example.com", "PERSON 1", 0, 50)
        .await
        .unwrap();
    assert_eq!(total, 10, "u10..u19 by display name, any case");
    assert!(found.iter().all(|u| u.display_name.starts_with("Person 1")));
    // %, _ and \ are matched as themselves, not as wildcards.
    let (literal, total) = store
        .users_page("example.com", "100%_", 0, 50)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(literal[0].address, "zed@example.com");
    assert_eq!(
        store.users_page("example.com", "%", 0, 50).await.unwrap().1,
        1
    );
    assert_eq!(
        store
            .users_page("other.example", "", 0, 50)
            .await
            .unwrap()
            .1,
        0
    );
}

fn known_networks_on_sqlite() {
    block_on(networks_are_known_for_30_days_and_bounded(
        TestBackend::sqlite(),
    ));
}

fn known_networks_on_postgres() {
    block_on(networks_are_known_for_30_days_and_bounded(
        TestBackend::postgres(),
    ));
}

async fn networks_are_known_for_30_days_and_bounded(backend: TestBackend) {
    use signpost_store::known_networks::{Accounts, KNOWN_FOR_SECONDS, NETWORKS_PER_ACCOUNT};
    let digests =
        |login: &str, ip| signpost_store::known_networks::digests(Accounts::Clients, login, ip);
    let store = backend.fresh("networks").await;
    let version = store.version().await.unwrap();
    let now = 2_000_000_000;
    let ip = |n: u32| std::net::IpAddr::from((0xC633_6400_u32 + (n << 8)).to_be_bytes());
    let (account, home) = digests("jo@example.com", ip(0));
    assert!(
        !store
            .is_known_network(&account, &home, now - KNOWN_FOR_SECONDS)
            .await
            .unwrap()
    );
    store.remember_network(&account, &home, now).await.unwrap();
    assert!(
        store
            .is_known_network(&account, &home, now - KNOWN_FOR_SECONDS)
            .await
            .unwrap()
    );
    let (other_account, _) = digests("ann@example.com", ip(0));
    let (_, not_hers) = digests("ann@example.com", ip(0));
    assert!(
        !store
            .is_known_network(&other_account, &not_hers, now - KNOWN_FOR_SECONDS)
            .await
            .unwrap(),
        "known for one account only"
    );
    // Too old once 30 days have passed.
    assert!(
        !store
            .is_known_network(&account, &home, now + 1)
            .await
            .unwrap()
    );
    // At most NETWORKS_PER_ACCOUNT per account: the least recent go first.
    for n in 1..=NETWORKS_PER_ACCOUNT as u32 {
        let (_, network) = digests("jo@example.com", ip(n));
        store
            .remember_network(&account, &network, now + i64::from(n))
            .await
            .unwrap();
    }
    assert!(
        !store.is_known_network(&account, &home, 0).await.unwrap(),
        "the oldest was dropped"
    );
    let (_, newest) = digests("jo@example.com", ip(NETWORKS_PER_ACCOUNT as u32));
    assert!(store.is_known_network(&account, &newest, 0).await.unwrap());
    // Not configuration: recording a sign-in changes no version.
    assert_eq!(store.version().await.unwrap(), version);
}
