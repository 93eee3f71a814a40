//! The operations without any process: a store in a temporary SQLite file, and a `Live` that
//! records what it was asked to serve.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use signpost_core::admin::{AdminRole, Administrator};
use signpost_core::{
    DomainChange, OverrideKind, ProtocolChange, ProtocolKind, Snapshot, UserChange, UserSource,
};
use signpost_store::{AuditEntry, AuditFilter, SqlStore, Store};

use super::*;
use crate::health::HealthCheckKind;
use crate::views::{NewAdministrator, NewDomain, NewUser, OverrideChange};
use signpost_diagnostics::Status;

/// Records the versions it was asked to serve.
#[derive(Default)]
struct Recording {
    store: Mutex<Option<Arc<dyn Store>>>,
    served: Mutex<Vec<i64>>,
}

#[async_trait]
impl Live for Recording {
    async fn snapshot(&self) -> OpResult<Arc<Snapshot>> {
        let store = self.store.lock().unwrap().clone().expect("a store");
        Ok(Arc::new(store.load_snapshot().await?))
    }

    async fn serve(&self, version: i64) {
        self.served.lock().unwrap().push(version);
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    live: Arc<Recording>,
    ops: Operations,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open_sqlite(&dir.path().join("s.db"))
            .await
            .unwrap(),
    );
    let live = Arc::new(Recording::default());
    *live.store.lock().unwrap() = Some(store.clone());
    let ops = Operations::new(store.clone(), live.clone(), Settings::default());
    Fixture {
        _dir: dir,
        store,
        live,
        ops,
    }
}

const CLIENT: Origin = Origin::Client(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 5)));

fn administrator(name: &str, role: AdminRole) -> Actor {
    Actor::administrator(
        &Administrator {
            name: name.into(),
            password_hash: String::new(),
            role,
        },
        Credential::Session,
        CLIENT,
    )
}

fn system_admin() -> SystemActor {
    SystemActor::try_from(administrator("alice", AdminRole::System)).unwrap()
}

fn domain_admin() -> Actor {
    administrator("dora", AdminRole::Domain(vec!["example.com".into()]))
}

fn new_domain(name: &str) -> NewDomain {
    NewDomain {
        name: name.into(),
        hostname: format!("mail.{name}"),
        display_name: None,
        auth: None,
    }
}

async fn entries(store: &Arc<dyn Store>) -> Vec<AuditEntry> {
    store
        .audit_log(
            &AuditFilter {
                limit: Some(1000),
                ..AuditFilter::default()
            },
            None,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn access_follows_the_actor() {
    let f = fixture().await;
    let cli = Actor::cli();
    f.ops
        .add_domain(&cli, &new_domain("example.com"))
        .await
        .unwrap();
    f.ops
        .add_domain(&cli, &new_domain("other.example"))
        .await
        .unwrap();

    // Domain administrators are not system administrators, and see only their domains.
    let refused = SystemActor::try_from(domain_admin()).unwrap_err();
    assert!(matches!(refused, OpError::Forbidden(_)), "{refused:?}");
    let seen: Vec<String> = f
        .ops
        .domains(&domain_admin(), None)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.domain.name)
        .collect();
    assert_eq!(seen, ["example.com"]);
    let elsewhere = f
        .ops
        .change_domain(
            &domain_admin(),
            "other.example",
            &DomainChange {
                display_name: Some("x".into()),
                ..DomainChange::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(elsewhere, OpError::Forbidden(_)), "{elsewhere:?}");
    let user_elsewhere = f
        .ops
        .add_user(
            &domain_admin(),
            &NewUser {
                address: "zed@other.example".into(),
                password: "pw".into(),
                change: UserChange::default(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(user_elsewhere, OpError::Forbidden(_)),
        "{user_elsewhere:?}"
    );

    // Within their domain they may change it and its users.
    f.ops
        .change_protocol(
            &domain_admin(),
            "example.com",
            ProtocolKind::Imap,
            &ProtocolChange {
                endpoint: signpost_core::model::EndpointChange {
                    port: Some(143),
                    ..Default::default()
                },
                ..ProtocolChange::default()
            },
        )
        .await
        .unwrap();

    // Tokens: a domain administrator may not issue one for someone else.
    let mut new = NewAdministrator {
        name: "dora".into(),
        password: "dora pw".into(),
        role: "domain".into(),
        domains: vec!["example.com".into()],
    };
    f.ops.add_administrator(&cli, &new).await.unwrap();
    new.name = "alice".into();
    new.role = "system".into();
    new.domains.clear();
    f.ops.add_administrator(&cli, &new).await.unwrap();
    let other = f
        .ops
        .issue_token(&domain_admin(), "alice", "ci")
        .await
        .unwrap_err();
    assert!(matches!(other, OpError::Forbidden(_)), "{other:?}");
    let own = f
        .ops
        .issue_token(&domain_admin(), "dora", "ci")
        .await
        .unwrap();
    assert!(own.token.starts_with("sp_"));

    // The setup link creates the first administrator only.
    let setup = Actor::setup(CLIENT);
    let late = f
        .ops
        .add_first_administrator(&setup, "mallory", "pw")
        .await
        .unwrap_err();
    assert!(matches!(late, OpError::Forbidden(_)), "{late:?}");
    assert!(f.ops.domains(&setup, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_input_names_its_field_and_changes_nothing() {
    let f = fixture().await;
    let admin = system_admin();
    let bad_name = f
        .ops
        .add_domain(&admin, &new_domain("not a domain"))
        .await
        .unwrap_err();
    assert_eq!(bad_name.field(), Some("name"), "{bad_name:?}");
    f.ops
        .add_domain(&admin, &new_domain("example.com"))
        .await
        .unwrap();
    let taken = f
        .ops
        .add_domain(&admin, &new_domain("example.com"))
        .await
        .unwrap_err();
    assert!(matches!(taken, OpError::Conflict(_)), "{taken:?}");
    let nothing = f
        .ops
        .change_domain(&admin, "example.com", &DomainChange::default())
        .await
        .unwrap_err();
    assert_eq!(nothing.field(), Some("body"));
    let bad_port = f
        .ops
        .change_protocol(
            &admin,
            "example.com",
            ProtocolKind::Imap,
            &ProtocolChange {
                endpoint: signpost_core::model::EndpointChange {
                    port: Some(0),
                    ..Default::default()
                },
                ..ProtocolChange::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad_port.field(), Some("port"), "{bad_port:?}");
    let bad_address = f
        .ops
        .add_user(
            &admin,
            &NewUser {
                address: "no at sign".into(),
                password: "pw".into(),
                change: UserChange::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad_address.field(), Some("address"), "{bad_address:?}");
    let audited: Vec<String> = entries(&f.store)
        .await
        .into_iter()
        .map(|e| e.record.operation)
        .collect();
    assert_eq!(
        audited,
        ["domain.add"],
        "only the one change that happened is recorded"
    );
}

#[tokio::test]
async fn every_change_is_audited_without_secrets_and_served_before_returning() {
    let f = fixture().await;
    let admin = system_admin();
    let token_holder = Actor::administrator(
        &Administrator {
            name: "alice".into(),
            password_hash: String::new(),
            role: AdminRole::System,
        },
        Credential::Token { name: "ci".into() },
        CLIENT,
    );
    let cli = Actor::cli();
    f.ops
        .add_domain(&cli, &new_domain("example.com"))
        .await
        .unwrap();
    assert_eq!(
        *f.live.served.lock().unwrap(),
        [1],
        "the new version was served before returning"
    );
    f.ops
        .change_protocol(
            &token_holder,
            "example.com",
            ProtocolKind::Imap,
            &ProtocolChange {
                endpoint: signpost_core::model::EndpointChange {
                    port: Some(143),
                    ..Default::default()
                },
                ..ProtocolChange::default()
            },
        )
        .await
        .unwrap();
    f.ops
        .add_user(
            &admin,
            &NewUser {
                address: "jo@example.com".into(),
                password: "user secret pw".into(),
                change: UserChange {
                    display_name: Some("Jo".into()),
                    ..UserChange::default()
                },
            },
        )
        .await
        .unwrap();
    f.ops
        .set_password(&admin, "jo@example.com", "second secret pw")
        .await
        .unwrap();
    f.ops
        .change_override(
            &admin,
            "example.com",
            OverrideKind::Desktop,
            &OverrideChange {
                enabled: Some(true),
                text: Some(Some("<Autodiscover/>".into())),
            },
        )
        .await
        .unwrap();
    let source: UserSource = serde_json::from_value(serde_json::json!({
        "kind": "ldap", "url": "ldaps://ldap.example.com",
        "lookup": {"mode": "search", "base": "dc=example,dc=com", "filter": "(mail=%u)",
                   "bind_dn": "cn=reader,dc=example,dc=com", "bind_password": "bind secret pw"}
    }))
    .unwrap();
    f.ops
        .set_user_source(&admin, "example.com", source)
        .await
        .unwrap();
    let new = NewAdministrator {
        name: "bob".into(),
        password: "admin secret pw".into(),
        role: "system".into(),
        domains: vec![],
    };
    f.ops.add_administrator(&admin, &new).await.unwrap();
    let issued = f.ops.issue_token(&admin, "bob", "deploy").await.unwrap();
    f.ops.revoke_token(&admin, "bob", "deploy").await.unwrap();
    f.ops.remove_user(&admin, "jo@example.com").await.unwrap();
    f.ops.remove_domain(&admin, "example.com").await.unwrap();

    let all = entries(&f.store).await;
    let operations: Vec<&str> = all
        .iter()
        .rev()
        .map(|e| e.record.operation.as_str())
        .collect();
    assert_eq!(
        operations,
        [
            "domain.add",
            "protocol.change",
            "user.add",
            "user.password",
            "override.change",
            "user_source.set",
            "administrator.add",
            "token.issue",
            "token.revoke",
            "user.remove",
            "domain.remove"
        ]
    );
    let first = &all.last().unwrap().record;
    assert_eq!(first.actor_kind, "cli");
    assert_eq!(first.origin, "local");
    let imap = &all[all.len() - 2].record;
    assert_eq!(imap.actor, "alice (token ci)");
    assert_eq!(imap.origin, "203.0.113.5");
    assert_eq!(imap.target, "imap of example.com");
    assert!(imap.summary.contains("993 → 143"), "{}", imap.summary);
    let everything = serde_json::to_string(&all).unwrap();
    for secret in [
        "user secret pw",
        "second secret pw",
        "bind secret pw",
        "admin secret pw",
        issued.token.as_str(),
        "$argon2",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} is in the audit log: {everything}"
        );
    }
    // Each configuration change was served before its operation returned.
    let served = f.live.served.lock().unwrap().clone();
    assert!(served.windows(2).all(|w| w[0] < w[1]), "{served:?}");
    assert_eq!(
        served.last().copied(),
        Some(f.store.version().await.unwrap())
    );
}

#[tokio::test]
async fn domain_administrators_read_only_their_domains_audit() {
    let f = fixture().await;
    let cli = Actor::cli();
    f.ops
        .add_domain(&cli, &new_domain("example.com"))
        .await
        .unwrap();
    f.ops
        .add_domain(&cli, &new_domain("other.example"))
        .await
        .unwrap();
    let theirs = f
        .ops
        .audit(&domain_admin(), &AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].record.domain.as_deref(), Some("example.com"));
    let refused = f
        .ops
        .audit(
            &domain_admin(),
            &AuditFilter {
                domain: Some("other.example".into()),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, OpError::Forbidden(_)));
    assert_eq!(
        f.ops
            .audit(&cli, &AuditFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

fn recent(domain: &str, outcome: &str) -> signpost_store::recent::RecentRequest {
    signpost_store::recent::RecentRequest {
        time: crate::unix_now(),
        client_address: "203.0.113.9".into(),
        user_agent: "Microsoft Office/16.0".into(),
        endpoint: "autodiscover_xml".into(),
        address: Some(format!("jo@{domain}")),
        domain: Some(domain.into()),
        client: "outlook".into(),
        outcome: outcome.into(),
        status: 401,
    }
}

#[tokio::test]
async fn health_checks_every_answer_and_counts_only_refused_sign_ins() {
    let mut f = fixture().await;
    // A DNS server that refuses every question: the DNS and TLS parts fail at once, and the
    // rest is what is tested here (the black-box tests check those against dnsmasq).
    let refusing = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    f.ops.settings.diagnostics.resolver = Some(refusing.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut buffer = [0u8; 512];
        while let Ok((size, from)) = refusing.recv_from(&mut buffer) {
            if size < 12 {
                continue;
            }
            // The same header and question, marked as a response with REFUSED (5).
            buffer[2] |= 0x80;
            buffer[3] = (buffer[3] & 0xf0) | 5;
            let _ = refusing.send_to(&buffer[..size], from);
        }
    });
    let system = system_admin();
    for name in ["example.com", "example.net"] {
        f.ops.add_domain(&system, &new_domain(name)).await.unwrap();
    }
    f.ops
        .change_protocol(
            &system,
            "example.com",
            ProtocolKind::Eas,
            &ProtocolChange {
                enabled: Some(true),
                ..ProtocolChange::default()
            },
        )
        .await
        .unwrap();
    f.ops
        .change_override(
            &system,
            "example.net",
            OverrideKind::Desktop,
            &OverrideChange {
                enabled: Some(true),
                text: Some(Some("<Autodiscover><broken></Autodiscover>".into())),
            },
        )
        .await
        .unwrap();
    // Outlook's first, unauthenticated request is challenged every time: never a failure.
    let mut log: Vec<_> = (0..20)
        .map(|_| recent("example.com", "challenged"))
        .collect();
    log.extend((0..10).map(|_| recent("example.net", "unauthorized")));
    let report = f.ops.health(&system, None, Some(&log)).await.unwrap();
    let check = |domain: &str, kind: HealthCheckKind| {
        let entry = report.domains.iter().find(|d| d.domain == domain).unwrap();
        entry
            .checks
            .iter()
            .find(|c| c.check == kind)
            .unwrap()
            .clone()
    };
    let answers = check("example.com", HealthCheckKind::Answers);
    assert_eq!(answers.status, Status::Pass, "{answers:?}");
    assert!(
        answers.detail.starts_with("5 answers"),
        "ActiveSync's too: {answers:?}"
    );
    let broken = check("example.net", HealthCheckKind::Answers);
    assert_eq!(broken.status, Status::Fail, "{broken:?}");
    assert!(broken.detail.starts_with("Outlook answer:"), "{broken:?}");
    let calm = check("example.com", HealthCheckKind::Failures);
    assert_eq!(
        calm.status,
        Status::Pass,
        "challenges are not failures: {calm:?}"
    );
    assert!(calm.detail.contains("20 request(s), 0 refused"), "{calm:?}");
    let refused = check("example.net", HealthCheckKind::Failures);
    assert_eq!(refused.status, Status::Warn, "{refused:?}");
    assert!(
        refused.detail.contains("10 refused sign-in(s)"),
        "{refused:?}"
    );
}
