//! Hostile clients: password guessing (429, identical refusals, fail2ban), slow and oversized
//! requests, too many connections, bad encodings; and what the server shows of itself (metrics,
//! request ids).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::*;

signpost_testkit::tests![
    password_guessing_is_limited_and_refusals_look_alike,
    metrics_show_requests_latency_certificates_and_configuration,
    slow_and_oversized_requests_are_cut_off,
    connections_beyond_the_limit_wait,
    identical_password_checks_in_flight_are_made_once,
];

fn guess(server: &Server, login: &str, password: &str) -> Answer {
    server.autodiscover("john@example.com", OUTLOOK_SCHEMA, Some((login, password)))
}

fn password_guessing_is_limited_and_refusals_look_alike() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("john@example.com", "secret", &[]);
    let log = sp.dir.path().join("auth-failures.log");
    let server = sp.serve_with(&[
        "--auth-failures-per-client",
        "3",
        "--auth-failure-log",
        log.to_str().unwrap(),
    ]);

    let unknown = guess(&server, "nobody@example.com", "secret");
    let wrong = guess(&server, "john@example.com", "wrong");
    assert_eq!((unknown.status, wrong.status), (401, 401));
    assert_eq!(
        unknown.body, wrong.body,
        "unknown users and wrong passwords get the same answer"
    );
    assert_eq!(
        unknown.headers["www-authenticate"],
        wrong.headers["www-authenticate"]
    );
    assert_eq!(
        guess(&server, "john\"@example.com from 10.9.9.9", "x").status,
        401
    );

    // The fourth failure from this address is not even checked.
    let limited = guess(&server, "john@example.com", "secret");
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");

    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    assert!(
        lines
            .contains("signpost: authentication failure for \"nobody@example.com\" from 127.0.0.1"),
        "{lines}"
    );
    assert!(
        lines.contains("for \"john?@example.com?from?10.9.9.9\" from 127.0.0.1"),
        "no forged address: {lines}"
    );

    // fail2ban's own tool reads the log with the shipped filter.
    let filter = workspace_root().join("contrib/fail2ban/filter.d/signpost.conf");
    let out =
        signpost_testkit::tools::command(signpost_testkit::tools::Tool::Fail2ban, "fail2ban-regex")
            .arg("-v")
            .arg(&log)
            .arg(&filter)
            .output()
            .expect("fail2ban-regex (Debian fail2ban; scripts/test installs it)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Failregex: 3 total"), "{report}");
    let banned: Vec<&str> = report
        .lines()
        .filter_map(|l| l.trim_start_matches(['|', ' ']).split_whitespace().next())
        .filter(|word| word.parse::<std::net::IpAddr>().is_ok())
        .collect();
    assert_eq!(
        banned, ["127.0.0.1"; 3],
        "a login cannot make fail2ban ban another address:\n{report}"
    );

    let metrics = server.get("/metrics", None).body;
    assert!(
        metrics.contains("signpost_auth_failures_total{network=\"other\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("signpost_rate_limited_total{network=\"other\"} 1"),
        "{metrics}"
    );
}

fn metrics_show_requests_latency_certificates_and_configuration() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("john@example.com", "secret", &[]);
    let server = sp.serve();
    server.autodiscover(
        "john@example.com",
        OUTLOOK_SCHEMA,
        Some(("john@example.com", "secret")),
    );
    // Outlook's first request carries no credentials and is challenged; a wrong password is
    // refused: the two are told apart.
    server.autodiscover("john@example.com", OUTLOOK_SCHEMA, None);
    server.autodiscover(
        "john@example.com",
        OUTLOOK_SCHEMA,
        Some(("john@example.com", "wrong")),
    );
    server.autodiscover(
        "john@example.com",
        MOBILESYNC_SCHEMA,
        Some(("john@example.com", "secret")),
    );
    server.get("/mail/config-v1.1.xml?emailaddress=a%40example.com", None);
    let answer = server.get("/mail/config-v1.1.xml?emailaddress=a%40example.com", None);
    let id = answer.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 16, "{id}");
    let metrics = server.get("/metrics", None);
    assert!(
        metrics
            .content_type
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.body;
    for line in [
        "signpost_requests_total{endpoint=\"autodiscover_xml\",client=\"outlook\",outcome=\"answered\"} 1",
        "signpost_requests_total{endpoint=\"autodiscover_xml\",client=\"outlook\",outcome=\"challenged\"} 1",
        "signpost_requests_total{endpoint=\"autodiscover_xml\",client=\"outlook\",outcome=\"unauthorized\"} 1",
        "signpost_requests_total{endpoint=\"autodiscover_xml\",client=\"activesync\",outcome=\"error_answer\"} 1",
        "signpost_requests_total{endpoint=\"autoconfig\",client=\"autoconfig\",outcome=\"answered\"} 2",
        "signpost_request_duration_seconds_count{endpoint=\"autoconfig\"} 2",
        "signpost_domains 1",
        "signpost_users 1",
        // john's password, then the wrong one.
        "signpost_password_hashes_total 2",
        // The second login with the same password was remembered: no second hash.
        "signpost_remembered_logins_total 1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    let version: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("signpost_configuration_version "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(version as u64, server.config_version());
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

fn read_all(mut stream: TcpStream) -> String {
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

fn slow_and_oversized_requests_are_cut_off() {
    let sp = Signpost::new().with_example_domain();
    let server = sp.serve_with(&["--header-timeout", "1", "--request-timeout", "2"]);

    // Headers that never finish: the server closes the connection (after its 1-second header
    // timeout) long before this side's read gives up.
    let mut slow = connect(&server);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(WAIT_LIMIT)).unwrap();
    let mut answer = Vec::new();
    let closed = slow.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        closed.is_ok(),
        "expected the server to close the connection; the read ended with {closed:?}"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "expected nothing or 408, got {answer}"
    );

    // A body that trickles: 408 after the request timeout.
    let mut trickle = connect(&server);
    trickle.write_all(b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<Auto").unwrap();
    let answer = read_all(trickle);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // Headers beyond 16 KiB.
    let mut big = connect(&server);
    let header = "x".repeat(20 * 1024);
    let _ = big.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {header}\r\n\r\n").as_bytes(),
    );
    let answer = read_all(big);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // Not UTF-8: error 600.
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Autodiscover><Request><EMailAddress>j\xf6rg@example.com</EMailAddress></Request></Autodiscover>";
    let answer = server.send(
        server
            .client
            .post(format!("{}/autodiscover/autodiscover.xml", server.base))
            .body(latin1.to_vec()),
    );
    assert_eq!(element_text(&answer.body, "ErrorCode"), "600");
}

fn connections_beyond_the_limit_wait() {
    let sp = Signpost::new().with_example_domain();
    let server = sp.serve_with(&["--max-connections", "2", "--header-timeout", "5"]);
    let first = connect(&server);
    let second = connect(&server);
    std::thread::sleep(Duration::from_millis(200));
    let mut third = connect(&server);
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buffer = [0u8; 64];
    assert!(
        third.read(&mut buffer).is_err(),
        "the third connection waits while two are open"
    );
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let answer = read_all(third);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "served once a slot frees up: {answer}"
    );
    drop(second);
}

/// A cold start under load: Outlook and its neighbours send the same credentials many times at
/// once. One argon2 check answers them all (right or wrong); each still counts as an attempt.
fn identical_password_checks_in_flight_are_made_once() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("john@example.com", "secret", &[]);
    let server = sp.serve_with(&[
        "--auth-failures-per-client",
        "1000",
        "--auth-failures-per-account",
        "1000",
    ]);
    let burst = |password: &'static str| -> Vec<u16> {
        let start = std::sync::Arc::new(std::sync::Barrier::new(32));
        std::thread::scope(|scope| {
            let requests: Vec<_> = (0..32)
                .map(|_| {
                    let start = start.clone();
                    let server = &server;
                    scope.spawn(move || {
                        start.wait();
                        guess(server, "john@example.com", password).status
                    })
                })
                .collect();
            requests
                .into_iter()
                .map(|r| r.join().expect("a request"))
                .collect()
        })
    };
    let before = server.metric("signpost_password_hashes_total");
    let right = burst("secret");
    assert!(right.iter().all(|s| *s == 200), "{right:?}");
    let hashed = server.metric("signpost_password_hashes_total") - before;
    assert!(
        hashed <= 2.0,
        "expected at most 2 argon2 checks for 32 identical logins at once; saw {hashed}"
    );
    let before = server.metric("signpost_password_hashes_total");
    let failures_before = server.metric("signpost_auth_failures_total");
    let wrong = burst("wrong");
    assert!(wrong.iter().all(|s| *s == 401), "{wrong:?}");
    let hashed = server.metric("signpost_password_hashes_total") - before;
    assert!(
        hashed <= 2.0,
        "wrong passwords are checked once too; saw {hashed}"
    );
    assert_eq!(
        server.metric("signpost_auth_failures_total") - failures_before,
        32.0,
        "every request counts as a failed attempt"
    );
}
