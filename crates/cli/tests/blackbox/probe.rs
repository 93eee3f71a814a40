//! `signpost probe`: each client's discovery against real DNS, Signpost, a website and Dovecot;
//! the redirect limit; and `--connect` logging in to IMAP, POP3 and submission.

use crate::check::Deployment;
use crate::harness::*;

signpost_testkit::tests![
    every_client_finds_settings_and_they_work_against_dovecot,
    probe_stops_after_ten_redirects,
];

fn probe(d: &Deployment, extra: &[&str], password: Option<&str>) -> (serde_json::Value, bool) {
    let mut args = vec!["probe", "john@example.com", "--format", "json"];
    args.extend_from_slice(extra);
    let outside = d.outside_args();
    args.extend(outside.iter().map(String::as_str));
    if password.is_some() {
        args.push("--password-stdin");
    }
    let out = d.sp.run(
        &args,
        &password.map(|p| format!("{p}\n")).unwrap_or_default(),
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "probe printed no JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.success())
}

fn found<'a>(report: &'a serde_json::Value, client: &str) -> &'a serde_json::Value {
    report["found"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["client"] == client)
        .unwrap_or_else(|| panic!("{client} found nothing: {report:#}"))
}

fn every_client_finds_settings_and_they_work_against_dovecot() {
    let d = Deployment::start();
    let dir = d.sp.dir.path();
    let mail_cert = d.ca.issue(dir, "dovecot", &["mail.example.com"], -1, 30);
    let dovecot = signpost_testkit::dovecot::dovecot(
        dir,
        (&mail_cert.0, &mail_cert.1),
        &[("john@example.com", "secret")],
    );
    d.server.after_change(|| {
        d.sp.ok(&[
            "protocol",
            "set",
            "example.com",
            "imap",
            "--port",
            &dovecot.imaps.to_string(),
        ]);
        d.sp.ok(&[
            "protocol",
            "set",
            "example.com",
            "pop",
            "--port",
            &dovecot.pop3s.to_string(),
        ]);
        d.sp.ok(&[
            "protocol",
            "set",
            "example.com",
            "smtp",
            "--port",
            &dovecot.submission.to_string(),
        ]);
        d.sp.ok(&[
            "protocol",
            "add-endpoint",
            "example.com",
            "imap",
            "--port",
            &dovecot.imap.to_string(),
            "--encryption",
            "starttls",
        ]);
        d.sp.ok(&["protocol", "set", "example.com", "eas", "--enable"]);
    });

    let (report, ok) = probe(&d, &["--connect"], Some("secret"));
    assert!(ok, "{report:#}");
    let outlook = found(&report, "outlook");
    assert_eq!(
        outlook["source"], "https://mail.example.com/autodiscover/autodiscover.xml",
        "via the website's redirect"
    );
    let imap = outlook["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["protocol"] == "IMAP")
        .unwrap();
    assert_eq!(imap["port"], dovecot.imaps);
    assert_eq!(imap["security"], "ssl");
    assert_eq!(imap["login"], "john@example.com");
    let thunderbird = found(&report, "thunderbird");
    assert_eq!(
        thunderbird["settings"].as_array().unwrap().len(),
        4,
        "two IMAP, POP3, SMTP"
    );
    assert!(
        found(&report, "activesync")["urls"][0]
            .as_str()
            .unwrap()
            .ends_with("/Microsoft-Server-ActiveSync")
    );
    assert!(
        found(&report, "v2")["urls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u
                .as_str()
                .unwrap()
                .starts_with("AutodiscoverV1: https://autodiscover.example.com/"))
    );
    assert_eq!(
        found(&report, "apple")["settings"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let connections = report["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 4, "{connections:#?}");
    for connection in connections {
        assert_eq!(connection["status"], "PASS", "{connection}");
        assert!(
            connection["detail"]
                .as_str()
                .unwrap()
                .contains("logged in as john@example.com"),
            "{connection}"
        );
    }
    let starttls = connections
        .iter()
        .find(|c| c["port"] == dovecot.imap)
        .unwrap();
    assert!(starttls["detail"].as_str().unwrap().starts_with("STARTTLS"));
    let smtp = connections
        .iter()
        .find(|c| c["protocol"] == "SMTP")
        .unwrap();
    assert!(smtp["detail"].as_str().unwrap().starts_with("STARTTLS"));

    // The wrong password: discovery asks again and gets 401, and the logins are refused.
    let (report, ok) = probe(&d, &["--client", "thunderbird", "--connect"], Some("wrong"));
    assert!(!ok);
    let refused = report["connections"].as_array().unwrap();
    assert!(
        refused
            .iter()
            .all(|c| c["status"] == "FAIL" && c["detail"].as_str().unwrap().contains("refused")),
        "{refused:#?}"
    );

    // The text report lists what was tried.
    let mut args = vec!["probe", "john@example.com", "--client", "outlook"];
    let outside = d.outside_args();
    args.extend(outside.iter().map(String::as_str));
    let out = d.sp.run(&args, "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("POST https://example.com/autodiscover/autodiscover.xml"),
        "{text}"
    );
    assert!(
        text.contains("307 to https://mail.example.com/autodiscover/autodiscover.xml"),
        "{text}"
    );
    assert!(
        !out.status.success(),
        "without a password Outlook gets 401 and no settings"
    );
}

fn probe_stops_after_ten_redirects() {
    let mut d = Deployment::start();
    // The website sends autodiscover to itself: a loop.
    d.website = None;
    let website = Signpost::new();
    website.add_cert(&d.website_cert);
    let _loop = website.serve_with(&[
        "--listen",
        &format!("127.0.0.2:{}", d.http),
        "--listen-tls",
        &format!("127.0.0.2:{}", d.https),
        "--redirect-only",
        "https://example.com",
    ]);
    let (report, ok) = probe(&d, &["--client", "outlook"], Some("secret"));
    assert!(!ok);
    let attempts = report["attempts"].as_array().unwrap();
    let posts = attempts
        .iter()
        .filter(|a| {
            a["outcome"]
                .as_str()
                .unwrap()
                .starts_with("307 to https://example.com/")
        })
        .count();
    assert_eq!(
        posts, 11,
        "the first POST and ten redirects followed: {attempts:#?}"
    );
    assert!(attempts.iter().any(|a| {
        a["outcome"]
            .as_str()
            .unwrap()
            .contains("stopped: more than 10 redirects")
    }));
    assert!(report["found"].as_array().unwrap().is_empty());
}
