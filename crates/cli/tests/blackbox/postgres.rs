//! Several instances on one PostgreSQL: `migrate-store` from SQLite, changes through one
//! instance answered by the other, a database outage ridden out from the snapshots (and said on
//! `/readyz` within 5 seconds), and ACME ordering once for two instances (against Pebble).

use std::time::{Duration, Instant};

use signpost_testkit::postgres::PostgresServer;

use crate::harness::*;

signpost_testkit::tests![
    migrate_store_copies_everything_verified_and_twice_changes_nothing,
    two_instances_share_changes_within_a_second_and_ride_out_an_outage,
    acme_orders_once_for_two_instances,
    behind_a_load_balancer_losing_an_instance_loses_no_autodiscovery,
];

/// The product's rule: `/readyz` follows the database within this long, either way.
const READINESS_FOLLOWS_WITHIN: Duration = Duration::from_secs(5);

/// For each server, how long after now its `/readyz` body started with `state` (polled every
/// 20 ms, at most [`WAIT_LIMIT`]); fails naming the server that never got there.
fn time_until_readyz(servers: &[&Server], state: &str) -> Vec<Duration> {
    let started = Instant::now();
    let mut reached: Vec<Option<Duration>> = vec![None; servers.len()];
    let mut last_seen = vec![String::new(); servers.len()];
    while reached.iter().any(Option::is_none) {
        for (i, server) in servers.iter().enumerate() {
            if reached[i].is_none() {
                let body = server.get("/readyz", None).body;
                if body.starts_with(state) {
                    reached[i] = Some(started.elapsed());
                }
                last_seen[i] = body;
            }
        }
        if started.elapsed() > WAIT_LIMIT {
            let i = reached.iter().position(Option::is_none).unwrap_or(0);
            servers[i].fail(
                &format!("/readyz to say {state}"),
                &format!("{:?} after {} s", last_seen[i], WAIT_LIMIT.as_secs()),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    reached.into_iter().flatten().collect()
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

fn migrate_store_copies_everything_verified_and_twice_changes_nothing() {
    let sqlite = Signpost::new().with_example_domain();
    sqlite.add_user("jo@example.com", "pw one", &["--display-name", "Jo"]);
    sqlite.ok_with_stdin(&["admin", "add", "alice", "--password-stdin"], "admin pw\n");
    let token = sqlite
        .ok(&["admin", "token", "create", "ci"])
        .trim()
        .to_string();
    let from = format!("sqlite://{}", sqlite.data().join("signpost.db").display());
    let database = PostgresServer::start();
    let to = database.new_database();

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
    // Starting on a migrated database, PostgreSQL has nothing to say (no notices passed on).
    assert!(
        !b.log().contains("already exists"),
        "PostgreSQL's notice reached the log:\n{}",
        b.log()
    );
    // A role the database does not know: its own words, once, at once.
    let wrong_role = url.replacen("postgres://postgres@", "postgres://nosuchrole@", 1);
    let refused = Signpost::new().run(&["--database", &wrong_role, "domain", "list"], "");
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success());
    assert_eq!(
        said.matches(r#"role "nosuchrole" does not exist"#).count(),
        1,
        "expected PostgreSQL's reason once, saw: {said}"
    );
    assert!(!said.contains("at line"), "{said}");

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
    let started = Instant::now();
    b.wait_until(
        "instance B to answer with A's change (IMAP on 143)",
        imap_port,
        |port| port == "143",
    );
    println!(
        "instance B answered with the change after {:?}",
        started.elapsed()
    );

    // Each instance shows the other's recent requests too.
    let asked_b = b.send(
        b.client
            .post(format!("{}/autodiscover/autodiscover.xml", b.base))
            .header("user-agent", "probe-through-instance-b")
            .body(pox_request("jo@example.com", OUTLOOK_SCHEMA)),
    );
    assert_eq!(asked_b.status, 401);
    a.wait_until(
        "instance A to list B's request in /api/v1/requests",
        |a| {
            a.send(
                a.client
                    .get(format!("{}/api/v1/requests?domain=example.com", a.base))
                    .bearer_auth(&token),
            )
            .body
        },
        |body| body.contains("probe-through-instance-b"),
    );

    // The database goes away: both keep answering from their snapshots, and say so within
    // 5 seconds, whatever their connection pools hold.
    database.stop();
    let took = time_until_readyz(&[&a, &b], "degraded");
    println!("degraded after {took:?}");
    for (server, took) in [&a, &b].into_iter().zip(&took) {
        if *took > READINESS_FOLLOWS_WITHIN {
            server.fail(
                "/readyz to say degraded within 5 s of the database stopping",
                &format!("degraded after {took:?}"),
            );
        }
        let ready = server.get("/readyz", None);
        assert_eq!(ready.status, 200, "answers still flow: {}", ready.body);
        assert_eq!(imap_port(server), "143", "the last snapshot's IMAP port");
        let metrics = server.get("/metrics", None).body;
        if !metrics.contains("signpost_store_up 0") {
            server.fail("signpost_store_up 0 in /metrics", &metrics);
        }
    }

    // It comes back: both say ready within 5 seconds, and a change made meanwhile elsewhere
    // reaches them.
    database.start_again();
    let took = time_until_readyz(&[&a, &b], "ready");
    println!("ready again after {took:?}");
    for (server, took) in [&a, &b].into_iter().zip(&took) {
        if *took > READINESS_FOLLOWS_WITHIN {
            server.fail(
                "/readyz to say ready within 5 s of the database coming back",
                &format!("ready after {took:?}"),
            );
        }
        if !server
            .get("/metrics", None)
            .body
            .contains("signpost_store_up 1")
        {
            server.fail("signpost_store_up 1 in /metrics", "something else");
        }
    }
    sp.ok(&["protocol", "set", "example.com", "imap", "--port", "1143"]);
    for server in [&a, &b] {
        server.wait_until("IMAP on 1143 after the outage", imap_port, |port| {
            port == "1143"
        });
    }
    for server in [&a, &b] {
        let log = server.log();
        if !log.contains("cannot read the store") || !log.contains("the store is readable again") {
            server.fail(
                "the log to say the store could not be read, then that it is readable again",
                "one of them missing",
            );
        }
    }
}

fn acme_orders_once_for_two_instances() {
    let database = PostgresServer::start();
    let url = database.new_database();
    let sp = Signpost::on_database(&url).with_example_domain();
    sp.ok(&["domain", "set", "example.com", "--acme", "on"]);
    let pebble = crate::pebble::start(sp.dir.path());
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
    a.wait_until(
        &format!("an ACME certificate in the store; B's log:\n{}", b.log()),
        |_| acme_certificates(),
        |certificates| !certificates.is_empty(),
    );
    // Both instances look over their certificates three more times; neither orders again.
    for server in [&a, &b] {
        let checks = server.metric("signpost_acme_checks_total");
        server.wait_until(
            "three more ACME checks",
            |s| s.metric("signpost_acme_checks_total"),
            |&now| now >= checks + 3.0,
        );
    }
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
) -> signpost_testkit::process::Running {
    let config = format!(
        "  upstream signpost {{\n    server {};\n    server {};\n  }}\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://signpost;\n      proxy_set_header Host $host;\n      proxy_set_header X-Forwarded-For $remote_addr;\n      proxy_set_header X-Forwarded-Proto $scheme;\n    }}\n  }}\n",
        a.addr, b.addr
    );
    signpost_testkit::web::nginx_http(dir, "127.0.0.1", port, &config)
}

/// Answered autodiscover requests an instance counted.
pub(crate) fn answered(server: &Server) -> u64 {
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

fn behind_a_load_balancer_losing_an_instance_loses_no_autodiscovery() {
    let database = PostgresServer::start();
    let url = database.new_database();
    let sp = Signpost::on_database(&url).with_example_domain();
    sp.add_user("jo@example.com", "pw one", &[]);
    let a = sp.serve_with(&["--trusted-proxy", "127.0.0.1"]);
    let mut b = sp.serve_with(&["--trusted-proxy", "127.0.0.1"]);
    let port = signpost_testkit::ports::free_port();
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
