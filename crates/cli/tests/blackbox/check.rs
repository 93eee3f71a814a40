//! `signpost check` against a real DNS server (dnsmasq), Signpost on HTTPS with certificates from
//! a test CA, and a company website (nginx) with or without the redirect snippet: passing on a
//! correct setup, and failing with the right message on each broken item.

use std::path::PathBuf;

use crate::harness::*;
use crate::pki::TestCa;
use signpost_testkit::dnsmasq::{self, Dnsmasq};
use signpost_testkit::ports::free_port_on;
use signpost_testkit::process::Running;
use signpost_testkit::web;

signpost_testkit::tests![
    check_passes_on_a_correct_setup_and_names_each_broken_item,
    dns_prints_records_with_and_without_pop,
    the_api_runs_the_same_check_and_probe_as_the_cli,
];

/// A port free on both 127.0.0.1 (Signpost) and 127.0.0.2 (the website), which share numbers.
fn website_port() -> u16 {
    free_port_on(&[
        std::net::Ipv4Addr::new(127, 0, 0, 1),
        std::net::Ipv4Addr::new(127, 0, 0, 2),
    ])
}

/// Everything a domain's discovery touches, on 127.0.0.1 (Signpost) and 127.0.0.2 (the website).
pub struct Deployment {
    pub sp: Signpost,
    pub ca: TestCa,
    pub server: Server,
    pub https: u16,
    pub http: u16,
    pub dns: Dnsmasq,
    pub website: Option<Running>,
    pub website_cert: (PathBuf, PathBuf),
}

impl Deployment {
    pub fn start() -> Self {
        let sp = Signpost::new().with_example_domain();
        sp.add_user(
            "john@example.com",
            "secret",
            &["--display-name", "John Doe"],
        );
        let dir = sp.dir.path().to_path_buf();
        let ca = TestCa::new(&dir, "Check CA");
        let good = ca.issue(
            &dir,
            "good",
            &[
                "mail.example.com",
                "autodiscover.example.com",
                "autoconfig.example.com",
                "ua-auto-config.example.com",
            ],
            -1,
            90,
        );
        sp.add_cert(&good);
        let website_cert = ca.issue(&dir, "website", &["example.com", "www.example.com"], -1, 90);
        let (https, http) = (website_port(), website_port());
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        let server = sp.serve_with(&[
            "--listen",
            &format!("127.0.0.1:{http}"),
            "--listen-tls",
            &format!("127.0.0.1:{https}"),
            "--public-https-port",
            "443",
            "--cert-dir",
            &dir.join("certs").display().to_string(),
        ]);
        let dns = Dnsmasq::start(&dir, &["example.com"], &Self::records(&sp, |_, _| false));
        let mut deployment = Self {
            sp,
            ca,
            server,
            https,
            http,
            dns,
            website: None,
            website_cert,
        };
        deployment.website(true);
        deployment
    }

    /// dnsmasq options for every record `signpost dns` prints (minus `skip`), pointed at
    /// 127.0.0.1, and the website's own name at 127.0.0.2.
    pub fn records(sp: &Signpost, skip: impl Fn(&str, &str) -> bool) -> Vec<String> {
        let printed: serde_json::Value = serde_json::from_str(&sp.ok(&[
            "dns",
            "example.com",
            "--public-address",
            "127.0.0.1",
            "--format",
            "json",
        ]))
        .unwrap();
        let mut options = dnsmasq::records_as_options(&printed, "127.0.0.1", skip);
        options.push("--host-record=example.com,127.0.0.2".to_string());
        // The mail hostname is the administrator's own record; here it is this machine.
        options.push("--host-record=mail.example.com,127.0.0.1".to_string());
        options
    }

    pub fn restart_dns(&mut self, extra: &[String], skip: impl Fn(&str, &str) -> bool) {
        let mut options = Self::records(&self.sp, skip);
        options.extend_from_slice(extra);
        self.dns = Dnsmasq::start(self.sp.dir.path(), &["example.com"], &options);
    }

    /// The company website on 127.0.0.2, with the nginx snippet or without.
    pub fn website(&mut self, with_redirect: bool) {
        self.website = None;
        let body = if with_redirect {
            self.sp.ok(&["snippet", "example.com", "--for", "nginx"])
        } else {
            String::new()
        };
        let (cert, key) = (&self.website_cert.0, &self.website_cert.1);
        self.website = Some(web::nginx(
            self.sp.dir.path(),
            "127.0.0.2",
            self.http,
            Some((self.https, cert, key)),
            "example.com",
            &body,
        ));
    }

    pub fn outside_args(&self) -> Vec<String> {
        vec![
            "--resolver".into(),
            self.dns.address.to_string(),
            "--ca".into(),
            self.ca.path.display().to_string(),
            "--https-port".into(),
            self.https.to_string(),
            "--http-port".into(),
            self.http.to_string(),
        ]
    }

    /// `signpost check example.com` as JSON, and whether it exited successfully.
    pub fn check(&self) -> (Vec<serde_json::Value>, bool) {
        let mut args = vec![
            "check".to_string(),
            "example.com".into(),
            "--public-address".into(),
            "127.0.0.1".into(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(self.outside_args());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.sp.run(&refs, "");
        let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "check printed no JSON: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (results.as_array().unwrap().clone(), out.status.success())
    }
}

fn row<'a>(results: &'a [serde_json::Value], check: &str) -> &'a serde_json::Value {
    results
        .iter()
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("no check '{check}' in {results:#?}"))
}

fn assert_fails(results: &[serde_json::Value], check: &str, message: &str) {
    let row = row(results, check);
    assert_eq!(row["status"], "FAIL", "{row}");
    assert!(
        row["detail"].as_str().unwrap().contains(message),
        "expected '{message}' in {row}"
    );
}

fn check_passes_on_a_correct_setup_and_names_each_broken_item() {
    let mut d = Deployment::start();
    let (results, ok) = d.check();
    let not_passing: Vec<_> = results.iter().filter(|r| r["status"] != "PASS").collect();
    assert!(not_passing.is_empty() && ok, "{not_passing:#?}");
    assert!(
        row(
            &results,
            "Website https://example.com/autodiscover/autodiscover.xml"
        )["detail"]
            .as_str()
            .unwrap()
            .contains("redirects (307) to https://mail.example.com/autodiscover/autodiscover.xml")
    );
    assert!(
        row(
            &results,
            "HTTP http://autodiscover.example.com/autodiscover/autodiscover.xml"
        )["detail"]
            .as_str()
            .unwrap()
            .contains("302 to https://mail.example.com/autodiscover/autodiscover.xml")
    );
    assert_eq!(results.len(), 15, "every check ran: {results:#?}");

    // The text report says the same with a summary line.
    let mut args = vec!["check", "example.com"];
    let outside = d.outside_args();
    args.extend(outside.iter().map(String::as_str));
    let text = d.sp.ok(&args);
    assert!(text.contains("PASS  SRV _autodiscover._tcp.example.com: 0 0 443 mail.example.com: its certificate covers it"), "{text}");
    assert!(text.contains("15 passed, 0 warnings, 0 failed"), "{text}");

    // Missing SRV.
    d.restart_dns(&[], |name, kind| {
        name == "_autodiscover._tcp.example.com" && kind == "SRV"
    });
    let (results, ok) = d.check();
    assert!(!ok);
    assert_fails(
        &results,
        "SRV _autodiscover._tcp.example.com",
        "there is no _autodiscover._tcp SRV record",
    );

    // Wrong SRV port.
    d.restart_dns(
        &["--srv-host=_autodiscover._tcp.example.com,mail.example.com,8443,0,0".into()],
        |name, kind| name == "_autodiscover._tcp.example.com" && kind == "SRV",
    );
    let (results, _) = d.check();
    assert_fails(
        &results,
        "SRV _autodiscover._tcp.example.com",
        "says port 8443; Outlook connects to 443",
    );
    // An RFC 6186 record that disagrees with the protocols.
    d.restart_dns(
        &["--srv-host=_imaps._tcp.example.com,imap.example.com,993,0,1".into()],
        |name, kind| name == "_imaps._tcp.example.com" && kind == "SRV",
    );
    let (results, _) = d.check();
    assert_fails(
        &results,
        "SRV _imaps._tcp.example.com",
        "but Signpost answers 0 1 993 mail.example.com.",
    );
    d.restart_dns(&[], |_, _| false);

    // A certificate for the wrong name, then an expired one.
    let dir = d.sp.dir.path().to_path_buf();
    d.server.after_change(|| {
        d.sp.ok(&["cert", "remove", "mail.example.com"]);
        let wrong = d.ca.issue(
            &dir,
            "wrong",
            &["autodiscover.example.com", "autoconfig.example.com"],
            -1,
            90,
        );
        d.sp.add_cert(&wrong);
    });
    let (results, ok) = d.check();
    assert!(!ok);
    assert_fails(
        &results,
        "HTTPS mail.example.com",
        "not valid for mail.example.com (it covers autodiscover.example.com, autoconfig.example.com)",
    );
    assert_fails(
        &results,
        "SRV _autodiscover._tcp.example.com",
        "target mail.example.com: the certificate is not valid for mail.example.com",
    );
    d.server.after_change(|| {
        d.sp.ok(&["cert", "remove", "autodiscover.example.com"]);
        let mail = d.ca.issue(
            &dir,
            "mail",
            &["mail.example.com", "autoconfig.example.com"],
            -1,
            90,
        );
        d.sp.add_cert(&mail);
        let expired =
            d.ca.issue(&dir, "expired", &["autodiscover.example.com"], -60, -1);
        // `cert add` refuses an expired certificate; the directory route serves it anyway.
        let err = d.sp.fails(&[
            "cert",
            "add",
            "--cert",
            expired.0.to_str().unwrap(),
            "--key",
            expired.1.to_str().unwrap(),
        ]);
        assert!(err.contains("expired"), "{err}");
    });
    d.ca.issue(
        &dir.join("certs"),
        "autodiscover",
        &["autodiscover.example.com"],
        -60,
        -1,
    );
    d.server.wait_until(
        "check to find the expired certificate on autodiscover.example.com",
        |_| {
            let (results, _) = d.check();
            row(&results, "HTTPS autodiscover.example.com")["detail"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        },
        |detail| detail.contains("expired"),
    );
    let (results, _) = d.check();
    assert_fails(
        &results,
        "HTTPS autodiscover.example.com",
        "the certificate has expired",
    );
    assert_eq!(row(&results, "HTTPS mail.example.com")["status"], "PASS");

    // The website without the redirect.
    d.website(false);
    let (results, ok) = d.check();
    assert!(!ok);
    assert_fails(
        &results,
        "Website https://example.com/autodiscover/autodiscover.xml",
        "without autodiscover and without a redirect",
    );
    assert!(
        row(
            &results,
            "Website https://example.com/autodiscover/autodiscover.xml"
        )["fix"]
            .as_str()
            .unwrap()
            .contains("signpost snippet example.com")
    );
}

fn dns_prints_records_with_and_without_pop() {
    let sp = Signpost::new().with_example_domain();
    let zone = sp.ok(&[
        "dns",
        "example.com",
        "--public-address",
        "192.0.2.10",
        "--public-address",
        "2001:db8::10",
    ]);
    for line in [
        "autodiscover.example.com. 3600 IN A 192.0.2.10",
        "autodiscover.example.com. 3600 IN AAAA 2001:db8::10",
        "autoconfig.example.com. 3600 IN A 192.0.2.10",
        "_autodiscover._tcp.example.com. 3600 IN SRV 0 0 443 mail.example.com.",
        "_imaps._tcp.example.com. 3600 IN SRV 0 1 993 mail.example.com.",
        "_pop3s._tcp.example.com. 3600 IN SRV 0 1 995 mail.example.com.",
        "_submission._tcp.example.com. 3600 IN SRV 10 1 587 mail.example.com.",
        "_imap._tcp.example.com. 3600 IN SRV 0 0 0 .",
    ] {
        assert!(
            zone.lines().any(|l| l == line),
            "missing `{line}` in\n{zone}"
        );
    }
    sp.ok(&["protocol", "set", "example.com", "pop", "--disable"]);
    let without = sp.ok(&[
        "dns",
        "example.com",
        "--cname",
        "signpost.example.net",
        "--ttl",
        "300",
    ]);
    assert!(
        without
            .lines()
            .any(|l| l == "_pop3s._tcp.example.com. 300 IN SRV 0 0 0 ."),
        "{without}"
    );
    assert!(
        without
            .lines()
            .any(|l| l == "autodiscover.example.com. 300 IN CNAME signpost.example.net."),
        "{without}"
    );
    let json: serde_json::Value = serde_json::from_str(&sp.ok(&[
        "dns",
        "--all",
        "--format",
        "json",
        "--public-address",
        "192.0.2.10",
    ]))
    .unwrap();
    let pacc = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "_ua-auto-config.example.com.")
        .unwrap();
    let txt = sp.ok(&[
        "generate",
        "example.com",
        "pacc",
        "--email",
        "a@example.com",
        "--txt",
    ]);
    assert_eq!(
        pacc["value"],
        format!("\"{}\"", txt.trim()),
        "the TXT record vouches for the served document"
    );
}

fn the_api_runs_the_same_check_and_probe_as_the_cli() {
    let d = Deployment::start();
    d.sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        "admin password\n",
    );
    let token =
        d.sp.ok(&["admin", "token", "create", "checks"])
            .trim()
            .to_string();
    // A second server on the same store, whose administration surface looks at the deployment
    // the way the CLI does.
    let admin = d.sp.serve_with(&[
        "--admin-listen",
        "127.0.0.1:0",
        "--check-resolver",
        &d.dns.address.to_string(),
        "--check-ca",
        &d.ca.path.display().to_string(),
        "--check-https-port",
        &d.https.to_string(),
        "--check-http-port",
        &d.http.to_string(),
        "--public-address",
        "127.0.0.1",
    ]);
    let api = format!("http://{}", admin.admin[0]);
    let checked = admin.send(
        admin
            .client
            .post(format!("{api}/api/v1/domains/example.com/checks"))
            .bearer_auth(&token),
    );
    assert_eq!(checked.status, 200, "{}", checked.body);
    let from_api: Vec<serde_json::Value> = serde_json::from_str(&checked.body).unwrap();
    let (from_cli, _) = d.check();
    let summary = |rows: &[serde_json::Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| (r["check"].to_string(), r["status"].to_string()))
            .collect()
    };
    assert_eq!(summary(&from_api), summary(&from_cli));
    assert!(
        from_api.iter().all(|r| r["status"] == "PASS"),
        "{from_api:#?}"
    );

    let probed = admin.send(
        admin
            .client
            .post(format!("{api}/api/v1/probes"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({
                    "address": "john@example.com",
                    "password": "secret",
                    "clients": ["outlook", "thunderbird"]
                })
                .to_string(),
            ),
    );
    assert_eq!(probed.status, 200, "{}", probed.body);
    let report: serde_json::Value = serde_json::from_str(&probed.body).unwrap();
    let found = report["found"].as_array().unwrap();
    for client in ["outlook", "thunderbird"] {
        let settings = &found
            .iter()
            .find(|f| f["client"] == client)
            .unwrap_or_else(|| panic!("{client} found nothing: {report:#}"))["settings"];
        assert!(
            settings
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["host"] == "mail.example.com" && s["port"] == 993),
            "{client}: {settings:#}"
        );
    }
    assert!(
        !admin.log().contains("secret\""),
        "the probe's password is not logged"
    );
}
