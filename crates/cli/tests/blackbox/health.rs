//! The health checks as an administrator reads them, from `signpost health` and from
//! `GET /api/v1/health`, against a real DNS server (dnsmasq) and real TLS on 127.0.0.1: one
//! domain whose records and certificate are right, one whose autodiscover SRV record is missing,
//! and one whose certificate expires in 10 days.

use serde_json::Value;
use signpost_testkit::dnsmasq::{self, Dnsmasq};
use signpost_testkit::ports::free_port;

use crate::harness::*;
use crate::pki::TestCa;

signpost_testkit::tests![health_names_each_domains_problem_from_the_cli_and_the_api,];

const DOMAINS: [&str; 3] = ["example.com", "example.net", "example.org"];

/// The checks of `domain` in a report, as check key → (status, detail, fix).
fn checks_of(report: &Value, domain: &str) -> Vec<(String, String, String, String)> {
    let entry = report["domains"]
        .as_array()
        .expect("a list of domains")
        .iter()
        .find(|d| d["domain"] == domain)
        .unwrap_or_else(|| panic!("{domain} is not in the report: {report:#}"));
    entry["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            let text = |key: &str| c[key].as_str().unwrap_or_default().to_string();
            (text("check"), text("status"), text("detail"), text("fix"))
        })
        .collect()
}

fn status(report: &Value, domain: &str, check: &str) -> (String, String, String) {
    checks_of(report, domain)
        .into_iter()
        .find(|c| c.0 == check)
        .map(|c| (c.1, c.2, c.3))
        .unwrap_or_else(|| panic!("no {check} check for {domain}: {report:#}"))
}

/// What every reader of the report must see, whichever way it was asked for.
fn assert_report(report: &Value, from: &str) {
    let order: Vec<&str> = report["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .map(|d| d["domain"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        order,
        ["example.net", "example.org", "example.com"],
        "{from}: problems first (FAIL, then WARN, then PASS): {report:#}"
    );
    for domain in DOMAINS {
        let checks: Vec<String> = checks_of(report, domain).into_iter().map(|c| c.0).collect();
        assert_eq!(
            checks,
            ["dns", "tls", "answers", "acme", "failures"],
            "{from}: every check for {domain}"
        );
    }
    for check in ["dns", "tls", "answers", "acme", "failures"] {
        let (seen, detail, _) = status(report, "example.com", check);
        assert_eq!(seen, "PASS", "{from}: example.com {check}: {detail}");
    }
    let (dns, detail, fix) = status(report, "example.net", "dns");
    assert_eq!(
        dns, "FAIL",
        "{from}: example.net's missing SRV record: {detail}"
    );
    assert!(
        detail.contains("_autodiscover._tcp.example.net") && !fix.is_empty(),
        "{from}: the DNS check names the missing record and a fix: {detail} / {fix}"
    );
    assert_eq!(status(report, "example.net", "tls").0, "PASS", "{from}");
    let (tls, detail, fix) = status(report, "example.org", "tls");
    assert_eq!(
        tls, "WARN",
        "{from}: a certificate expiring in 10 days: {detail}"
    );
    assert!(
        (detail.contains("9 days left") || detail.contains("10 days left"))
            && fix.contains("renew"),
        "{from}: {detail} / {fix}"
    );
    assert_eq!(status(report, "example.org", "dns").0, "PASS", "{from}");
    assert_eq!(report["domains"][0]["status"], "FAIL", "{from}");
    assert_eq!(report["domains"][1]["status"], "WARN", "{from}");
    assert_eq!(report["domains"][2]["status"], "PASS", "{from}");
}

fn health_names_each_domains_problem_from_the_cli_and_the_api() {
    let sp = Signpost::new();
    let dir = sp.dir.path().to_path_buf();
    let ca = TestCa::new(&dir, "Health CA");
    let mut dns_options = Vec::new();
    for domain in DOMAINS {
        sp.ok(&[
            "domain",
            "add",
            domain,
            "--hostname",
            &format!("mail.{domain}"),
        ]);
        let names = [
            format!("mail.{domain}"),
            format!("autodiscover.{domain}"),
            format!("autoconfig.{domain}"),
        ];
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let days = if domain == "example.org" { 10 } else { 90 };
        sp.add_cert(&ca.issue(&dir, domain, &names, -1, days));
        let printed: Value = serde_json::from_str(&sp.ok(&[
            "dns",
            domain,
            "--public-address",
            "127.0.0.1",
            "--format",
            "json",
        ]))
        .expect("signpost dns --format json");
        // example.net's administrator forgot the SRV record Outlook looks for.
        dns_options.extend(dnsmasq::records_as_options(
            &printed,
            "127.0.0.1",
            |name, kind| kind == "SRV" && name == "_autodiscover._tcp.example.net",
        ));
        dns_options.push(format!("--host-record=mail.{domain},127.0.0.1"));
    }
    let dns = Dnsmasq::start(&dir, &DOMAINS, &dns_options);
    sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        "alice's pw\n",
    );
    let token = sp
        .ok(&["admin", "token", "create", "health"])
        .trim()
        .to_string();
    let https = free_port().to_string();
    let resolver = dns.address.to_string();
    let ca_file = ca.path.display().to_string();
    let server = sp.serve_with(&[
        "--listen",
        "127.0.0.1:0",
        "--listen-tls",
        &format!("127.0.0.1:{https}"),
        "--check-resolver",
        &resolver,
        "--check-ca",
        &ca_file,
        "--check-https-port",
        &https,
        "--public-address",
        "127.0.0.1",
        "--health-check-minutes",
        "0",
    ]);

    // The command line, as an administrator's script reads it.
    let out = sp.run(
        &[
            "health",
            "--resolver",
            &resolver,
            "--ca",
            &ca_file,
            "--https-port",
            &https,
            "--public-address",
            "127.0.0.1",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "signpost health exits 1 when a check fails; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_cli: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_report(&from_cli, "signpost health --format json");

    // The table an administrator reads: every domain, FAIL first, with the fix.
    let table = sp.run(
        &[
            "health",
            "--resolver",
            &resolver,
            "--ca",
            &ca_file,
            "--https-port",
            &https,
            "--public-address",
            "127.0.0.1",
        ],
        "",
    );
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    let net = table.find("example.net").expect("example.net in the table");
    let com = table.find("example.com").expect("example.com in the table");
    assert!(net < com, "problems first:\n{table}");
    assert!(table.contains("FAIL") && table.contains("WARN"), "{table}");

    // The API: nothing checked yet, so the first GET checks; then the same report is kept.
    let get = |path: &str| {
        let answer = server.send(
            server
                .client
                .get(format!("{}{path}", server.base))
                .bearer_auth(&token),
        );
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        serde_json::from_str::<Value>(&answer.body).expect("JSON")
    };
    let from_api = get("/api/v1/health");
    assert_report(&from_api, "GET /api/v1/health");
    let only = get("/api/v1/health?domain=example.org");
    assert_eq!(
        only["domains"].as_array().map(Vec::len),
        Some(1),
        "{only:#}"
    );
    assert_eq!(only["domains"][0]["domain"], "example.org");

    // The gauges: one per domain and check, 0 pass, 1 warn, 2 fail.
    assert_eq!(
        server.metric("signpost_health_status{domain=\"example.net\",check=\"dns\"}"),
        2.0
    );
    assert_eq!(
        server.metric("signpost_health_status{domain=\"example.org\",check=\"tls\"}"),
        1.0
    );
    assert_eq!(
        server.metric("signpost_health_status{domain=\"example.com\",check=\"tls\"}"),
        0.0
    );

    // The OpenAPI document describes it.
    let document = get("/api/openapi.json");
    assert!(
        document["paths"]["/api/v1/health"]["get"].is_object()
            && document["paths"]["/api/v1/health"]["post"].is_object(),
        "GET and POST /api/v1/health in the OpenAPI document"
    );
}
