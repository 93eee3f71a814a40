//! Several instances on one PostgreSQL: `migrate-store` from SQLite, changes through one
//! instance answered by the other within a second, a database outage ridden out from the
//! snapshots, and ACME ordering once for two instances (against Pebble).

use std::time::{Duration, Instant};

use signpost_testkit::postgres::{self, PostgresServer};

use crate::harness::*;

/// How long until `check` holds, if it does within `limit`.
fn time_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn imap_port(server: &Server) -> String {
    let answer = server.autodiscover(
        "jo@example.com",
        OUTLOOK_SCHEMA,
        Some(("jo@example.com", "pw one")),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    xpath(
        &answer.body,
        "string(//*[local-name()='Protocol'][*[local-name()='Type']='IMAP']/*[local-name()='Port'])",
    )
}

#[test]
fn migrate_store_copies_everything_verified_and_twice_changes_nothing() {
    let sqlite = Signpost::new().with_example_domain();
    sqlite.add_user("jo@example.com", "pw one", &["--display-name", "Jo"]);
    sqlite.ok_with_stdin(&["admin", "add", "alice", "--password-stdin"], "admin pw\n");
    let token = sqlite
        .ok(&["admin", "token", "create", "ci"])
        .trim()
        .to_string();
    let from = format!("sqlite://{}", sqlite.data().join("signpost.db").display());
    let to = postgres::shared().new_database();

    let first = sqlite.ok(&["migrate-store", "--from", &from, "--to", &to]);
    assert!(first.contains("copied; verified"), "{first}");
    assert!(
        first.contains("users") && first.contains("administrators"),
        "{first}"
    );
    let again = sqlite.ok(&[
        "migrate-store",
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "json",
    ]);
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["status"], "already identical; nothing written");
    assert_eq!(again["verified"], true);
    assert_eq!(again["source_checksum"], again["target_checksum"]);
    assert_eq!(again["counts"]["users"], 1);

    // A different target is refused without --replace.
    sqlite.ok(&[
        "domain",
        "add",
        "other.example",
        "--hostname",
        "mail.other.example",
    ]);
    let refused = sqlite.fails(&["migrate-store", "--from", &from, "--to", &to]);
    assert!(refused.contains("--replace"), "{refused}");
    let replaced = sqlite.ok(&["migrate-store", "--from", &from, "--to", &to, "--replace"]);
    assert!(replaced.contains("verified"), "{replaced}");

    // Everything works on the copy: answers, users' passwords, administrators' tokens.
    let pg = Signpost::on_database(&to);
    let server = pg.serve();
    assert_eq!(imap_port(&server), "993");
    let domains = server.send(
        server
            .client
            .get(format!("{}/api/v1/domains", server.base))
            .bearer_auth(&token),
    );
    assert_eq!(domains.status, 200);
    assert!(domains.body.contains("other.example"));
    let status = pg.ok(&["status"]);
    assert!(status.contains("postgres://postgres@127.0.0.1"), "{status}");
}

#[test]
fn two_instances_share_changes_within_a_second_and_ride_out_an_outage() {
    let mut database = PostgresServer::start();
    let url = database.new_database();
    let sp = Signpost::on_database(&url).with_example_domain();
    sp.add_user("jo@example.com", "pw one", &[]);
    sp.ok_with_stdin(&["admin", "add", "alice", "--password-stdin"], "admin pw\n");
    let token = sp
        .ok(&["admin", "token", "create", "ops"])
        .trim()
        .to_string();
    let a = sp.serve();
    let b = sp.serve();
    assert_eq!(imap_port(&a), "993");
    assert_eq!(imap_port(&b), "993");

    // A change through instance A's API is answered by instance B within a second.
    let changed = a.send(
        a.client
            .patch(format!(
                "{}/api/v1/domains/example.com/protocols/imap",
                a.base
            ))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(r#"{"port": 143, "encryption": "starttls"}"#),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    let took = time_until(Duration::from_secs(1), || imap_port(&b) == "143");
    assert!(
        took.is_some(),
        "instance B did not see A's change within a second"
    );
    println!("instance B answered with the change after {took:?}");

    // Each instance shows the other's recent requests too.
    let asked_b = b.send(
        b.client
            .post(format!("{}/autodiscover/autodiscover.xml", b.base))
            .header("user-agent", "probe-through-instance-b")
            .body(pox_request("jo@example.com", OUTLOOK_SCHEMA)),
    );
    assert_eq!(asked_b.status, 401);
    let seen_by_a = || {
        a.send(
            a.client
                .get(format!("{}/api/v1/requests?domain=example.com", a.base))
                .bearer_auth(&token),
        )
        .body
    };
    assert!(
        time_until(Duration::from_secs(5), || seen_by_a()
            .contains("probe-through-instance-b"))
        .is_some(),
        "A does not show B's request: {}",
        seen_by_a()
    );

    // The database goes away: both keep answering from their snapshots, and say so.
    database.stop();
    for server in [&a, &b] {
        assert!(
            server.eventually(10, |s| s.get("/readyz", None).body.starts_with("degraded")),
            "{}",
            server.log()
        );
        let ready = server.get("/readyz", None);
        assert_eq!(ready.status, 200, "answers still flow");
        assert_eq!(imap_port(server), "143");
    }
    let metrics = a.get("/metrics", None).body;
    assert!(metrics.contains("signpost_store_up 0"), "{metrics}");

    // It comes back: both resynchronise, and a change made meanwhile elsewhere reaches them.
    database.start_again();
    sp.ok(&["protocol", "set", "example.com", "imap", "--port", "1143"]);
    for server in [&a, &b] {
        assert!(
            server.eventually(15, |s| s.get("/readyz", None).body.starts_with("ready")),
            "{}",
            server.log()
        );
        assert!(
            server.eventually(5, |s| imap_port(s) == "1143"),
            "no convergence after the outage: {}",
            server.log()
        );
    }
    assert!(
        a.log().contains("the store is readable again"),
        "{}",
        a.log()
    );
}

#[test]
fn acme_orders_once_for_two_instances() {
    let url = postgres::shared().new_database();
    let sp = Signpost::on_database(&url).with_example_domain();
    sp.ok(&["domain", "set", "example.com", "--acme", "on"]);
    let pebble = crate::pebble::Pebble::start(sp.dir.path());
    let acme = |listen: &str| {
        sp.serve_with(&[
            "--listen",
            listen,
            "--acme-directory",
            &pebble.directory_url,
            "--acme-ca",
            pebble.directory_ca.to_str().unwrap(),
            "--acme-check-seconds",
            "1",
        ])
    };
    // Pebble validates on one port only: the instance there answers whichever one ordered.
    let a = acme(&format!("127.0.0.1:{}", pebble.http01_port));
    let b = acme("127.0.0.1:0");
    let acme_certificates = || -> Vec<serde_json::Value> {
        let listed: serde_json::Value =
            serde_json::from_str(&sp.ok(&["cert", "list", "--format", "json"])).unwrap();
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["source"] == "acme" && r["name"] == "autodiscover.example.com")
            .cloned()
            .collect()
    };
    assert!(
        a.eventually(90, |_| !acme_certificates().is_empty()),
        "no certificate:\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
    // Both instances look again every second; neither orders a second one.
    std::thread::sleep(Duration::from_secs(4));
    let ids: std::collections::BTreeSet<String> = acme_certificates()
        .iter()
        .map(|r| r["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "ordered once: {ids:?}");
    let orders = [a.log(), b.log()]
        .iter()
        .map(|log| log.matches("ACME: ordering a certificate").count())
        .sum::<usize>();
    assert_eq!(orders, 1, "A: {}\nB: {}", a.log(), b.log());
}

/// The README's load balancer, on loopback: nginx in front of two instances on one database.
fn load_balancer(
    dir: &std::path::Path,
    port: u16,
    a: &Server,
    b: &Server,
) -> crate::servers::Running {
    let config = format!(
        "  upstream signpost {{\n    server {};\n    server {};\n  }}\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://signpost;\n      proxy_set_header Host $host;\n      proxy_set_header X-Forwarded-For $remote_addr;\n      proxy_set_header X-Forwarded-Proto $scheme;\n    }}\n  }}\n",
        a.addr, b.addr
    );
    crate::servers::nginx_http(dir, "127.0.0.1", port, &config)
}

/// Answered autodiscover requests an instance counted.
fn answered(server: &Server) -> u64 {
    server
        .get("/metrics", None)
        .body
        .lines()
        .filter(|l| {
            l.starts_with("signpost_requests_total{endpoint=\"autodiscover_xml\"")
                && l.contains("outcome=\"answered\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn behind_a_load_balancer_losing_an_instance_loses_no_autodiscovery() {
    let url = postgres::shared().new_database();
    let sp = Signpost::on_database(&url).with_example_domain();
    sp.add_user("jo@example.com", "pw one", &[]);
    let a = sp.serve_with(&["--trusted-proxy", "127.0.0.1"]);
    let mut b = sp.serve_with(&["--trusted-proxy", "127.0.0.1"]);
    let port = crate::pebble::free_port();
    let _nginx = load_balancer(sp.dir.path(), port, &a, &b);
    let through = |client: &reqwest::blocking::Client| {
        client
            .post(format!(
                "http://127.0.0.1:{port}/autodiscover/autodiscover.xml"
            ))
            .basic_auth("jo@example.com", Some("pw one"))
            .body(pox_request("jo@example.com", OUTLOOK_SCHEMA))
            .send()
            .expect("through nginx")
    };
    for _ in 0..10 {
        let answer = through(&a.client);
        assert_eq!(answer.status(), 200);
        assert!(
            answer
                .text()
                .unwrap()
                .contains("<Server>mail.example.com</Server>")
        );
    }
    assert!(
        answered(&a) > 0 && answered(&b) > 0,
        "both instances answered"
    );
    b.kill();
    for _ in 0..10 {
        assert_eq!(
            through(&a.client).status(),
            200,
            "one instance down, answers go on"
        );
    }
}
