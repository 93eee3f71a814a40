//! What an outside audit checks, with the outside tools where Debian or PyPI has them:
//! `/metrics` only for allowed networks and administrators' tokens, read by `promtool check
//! metrics`; each client served the certificate key it can use (`openssl s_client` with old
//! Windows' cipher list, testssl.sh's client simulation); strangers never locking an owner out
//! of a known network; one Host per request; a closed pipe ending the CLI quietly; and every API
//! operation validated by openapi-core against the OpenAPI document.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use signpost_testkit::tools::{self, Tool};

use crate::harness::*;
use crate::pki::TestCa;

signpost_testkit::tests![
    metrics_answer_allowed_networks_and_administrators_tokens_and_pass_promtool,
    each_client_gets_the_certificate_key_it_can_use,
    strangers_never_lock_an_owner_out_of_a_known_network,
    a_request_names_one_host,
    cli_output_into_a_closed_pipe_ends_quietly,
    openapi_core_validates_every_operation,
];

const ADMIN_PASSWORD: &str = "audit admin pw";

fn metrics_answer_allowed_networks_and_administrators_tokens_and_pass_promtool() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("jo@example.com", "jo pw", &[]);
    sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let token = sp
        .ok(&["admin", "token", "create", "prometheus"])
        .trim()
        .to_string();

    // By default, loopback may read it.
    let local = sp.serve();
    local.autodiscover(
        "jo@example.com",
        OUTLOOK_SCHEMA,
        Some(("jo@example.com", "jo pw")),
    );
    let text = local.get("/metrics", None);
    assert_eq!(text.status, 200, "{}", text.body);
    let promtool = tools::command(Tool::Prometheus, "promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    let mut checking = promtool;
    checking
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.body.as_bytes())
        .expect("write to promtool");
    let verdict = checking.wait_with_output().expect("promtool's verdict");
    assert!(
        verdict.status.success(),
        "expected promtool check metrics to pass; saw exit {:?}:\n{}{}",
        verdict.status.code(),
        String::from_utf8_lossy(&verdict.stdout),
        String::from_utf8_lossy(&verdict.stderr)
    );
    assert!(
        text.body
            .contains("# TYPE signpost_password_hashes_total counter")
    );
    assert!(
        text.body
            .contains("# TYPE signpost_certificate_expiry_timestamp_seconds gauge")
    );
    drop(local);

    // Allowing only another network: loopback without a token gets nothing.
    let server = sp.serve_with(&["--metrics-allow", "192.0.2.1/32"]);
    let anonymous = server.get("/metrics", None);
    assert_eq!(anonymous.status, 404, "{}", anonymous.body);
    assert!(!anonymous.body.contains("signpost_"), "{}", anonymous.body);
    let with = |bearer: &str| {
        server.send(
            server
                .client
                .get(format!("{}/metrics", server.base))
                .bearer_auth(bearer),
        )
    };
    let authorised = with(&token);
    assert_eq!(authorised.status, 200);
    assert!(
        authorised.body.contains("signpost_domains 1"),
        "{}",
        authorised.body
    );
    assert_eq!(with("sp_not_a_token").status, 404);
    assert_eq!(with("").status, 404);
}

/// `openssl s_client` against `at` for `name` with `args`; its output, and whether it finished
/// a handshake.
fn s_client(at: SocketAddr, name: &str, args: &[&str]) -> (bool, String) {
    let mut child = tools::command(Tool::Openssl, "openssl")
        .args(["s_client", "-connect", &at.to_string(), "-servername", name])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client");
    let _ = child.stdin.take().map(|mut stdin| stdin.write_all(b"Q\n"));
    let out = child.wait_with_output().expect("s_client output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let connected = text.contains("Cipher is ") && !text.contains("Cipher is (NONE)");
    (connected, text)
}

/// What SChannel on Windows 7 and 8.1 offers in TLS 1.2 (IE 11, Outlook 2010/2013 there): AES-GCM
/// with ECDHE only for ECDSA keys; RSA keys only with CBC suites (or DHE, which rustls lacks).
const WINDOWS_7_CIPHERS: &str = "ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA";

fn each_client_gets_the_certificate_key_it_can_use() {
    let sp = Signpost::new().with_example_domain();
    let dir = sp.dir.path().to_path_buf();
    let ca = TestCa::new(&dir, "Key CA");
    let names = ["mail.example.com", "autodiscover.example.com"];
    // An RSA certificate alone: cert add says who will fail.
    let (chain, key) = ca.issue_rsa(&dir, "rsa", &names, 90);
    let added = sp.run(
        &[
            "cert",
            "add",
            "--cert",
            chain.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
        "",
    );
    let warning = String::from_utf8_lossy(&added.stderr).to_string();
    assert!(added.status.success(), "{warning}");
    assert!(
        warning.contains("warning: mail.example.com is served with an RSA certificate only")
            && warning.contains("Windows 7"),
        "expected the RSA-only warning; saw: {warning}"
    );
    assert!(String::from_utf8_lossy(&added.stdout).contains("RSA key"));
    let server = sp.serve_with(&["--listen-tls", "127.0.0.1:0"]);
    let at = server.https[0];
    let (connected, text) = s_client(
        at,
        "mail.example.com",
        &["-tls1_2", "-cipher", WINDOWS_7_CIPHERS],
    );
    assert!(
        !connected,
        "Windows 7's list connected to an RSA-only name:\n{text}"
    );
    drop(server);

    // With an ECDSA certificate beside it, each client gets the one it can use.
    sp.add_cert(&ca.issue(&dir, "ecdsa", &names, -1, 90));
    let listed = sp.ok(&["cert", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("mail.example.com") && l.contains("ECDSA+RSA")),
        "{listed}"
    );
    let server = sp.serve_with(&["--listen-tls", "127.0.0.1:0"]);
    let at = server.https[0];
    let (connected, text) = s_client(
        at,
        "mail.example.com",
        &["-tls1_2", "-cipher", WINDOWS_7_CIPHERS],
    );
    assert!(
        connected && text.contains("Cipher is ECDHE-ECDSA-AES"),
        "expected Windows 7's cipher list to connect with ECDSA; saw:\n{text}"
    );
    let (connected, text) = s_client(
        at,
        "mail.example.com",
        &[
            "-tls1_2",
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "-sigalgs",
            "RSA-PSS+SHA256:RSA+SHA256",
        ],
    );
    assert!(
        connected
            && text.contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256")
            && text.contains("Server public key is 2048 bit"),
        "expected an RSA-only client to get the RSA certificate; saw:\n{text}"
    );
    let (connected, text) = s_client(at, "mail.example.com", &["-tls1_3"]);
    assert!(
        connected && text.contains("Server public key is 256 bit"),
        "a modern client gets ECDSA:\n{text}"
    );

    // testssl.sh's client simulation: old Windows connects.
    let report = dir.join("testssl.json");
    let run = tools::command(Tool::Testssl, "testssl")
        .args([
            "--client-simulation",
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--ip",
            "127.0.0.1",
            "--jsonfile",
        ])
        .arg(&report)
        .arg(format!("https://mail.example.com:{}", at.port()))
        .output()
        .expect("testssl");
    let findings: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_else(|_| {
            panic!(
                "testssl wrote no report: {}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            )
        }))
        .expect("testssl's JSON");
    let simulated: Vec<(String, String)> = findings
        .as_array()
        .expect("a list of findings")
        .iter()
        .filter_map(|f| {
            let id = f["id"].as_str()?;
            id.starts_with("clientsimulation-").then(|| {
                (
                    id.to_string(),
                    f["finding"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
        .collect();
    for client in ["ie_11_win7", "ie_11_win81"] {
        let (id, finding) = simulated
            .iter()
            .find(|(id, _)| id.contains(client))
            .unwrap_or_else(|| panic!("testssl simulated no {client}: {simulated:?}"));
        assert!(
            finding.contains("TLSv1.2") && finding.contains("ECDHE-ECDSA"),
            "expected {id} to connect with ECDSA; saw: {finding}"
        );
    }
    let failing: Vec<&(String, String)> = simulated
        .iter()
        .filter(|(_, finding)| finding.contains("No connection"))
        .collect();
    println!(
        "testssl client simulation: {} clients, {} without a connection: {failing:?}",
        simulated.len(),
        failing.len()
    );
}

/// The owner signs in from 198.51.100.7 (through a trusted proxy), thirty strangers guess; the
/// strangers are refused with 429 while the owner's right password still works.
fn strangers_never_lock_an_owner_out_of_a_known_network() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("jo@example.com", "jo pw", &[]);
    sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let server = sp.serve_with(&[
        "--trusted-proxy",
        "127.0.0.1/32",
        "--credential-cache-seconds",
        "0",
    ]);
    let outlook = |from: &str, password: &str| {
        server
            .send(
                server
                    .client
                    .post(format!("{}/autodiscover/autodiscover.xml", server.base))
                    .header("x-forwarded-for", from)
                    .header("content-type", "text/xml")
                    .basic_auth("jo@example.com", Some(password))
                    .body(pox_request("jo@example.com", OUTLOOK_SCHEMA)),
            )
            .status
    };
    let administrator = |from: &str, password: &str| {
        server
            .send(
                server
                    .client
                    .post(format!("{}/api/v1/session", server.base))
                    .header("x-forwarded-for", from)
                    .header("content-type", "application/json")
                    .body(json!({"name": "alice", "password": password}).to_string()),
            )
            .status
    };
    let home = "198.51.100.7";
    assert_eq!(outlook(home, "jo pw"), 200);
    assert_eq!(administrator(home, ADMIN_PASSWORD), 200);
    let mut client_statuses = Vec::new();
    let mut admin_statuses = Vec::new();
    for n in 1..=30 {
        let stranger = format!("203.0.{n}.9");
        client_statuses.push(outlook(&stranger, "guess"));
        admin_statuses.push(administrator(&stranger, "guess"));
    }
    assert!(
        client_statuses[..20].iter().all(|s| *s == 401)
            && client_statuses[20..].iter().all(|s| *s == 429),
        "expected 20 refusals then 429 for the strangers; saw {client_statuses:?}"
    );
    assert!(
        admin_statuses.contains(&429),
        "administrator guesses are limited too: {admin_statuses:?}"
    );
    // A stranger with the right password is refused now; the owner, at home, is not.
    assert_eq!(outlook("203.0.99.9", "jo pw"), 429);
    assert_eq!(outlook(home, "jo pw"), 200, "the owner was locked out");
    assert_eq!(
        outlook("198.51.100.200", "jo pw"),
        200,
        "the same /24 is the same network"
    );
    assert_eq!(administrator("203.0.99.9", ADMIN_PASSWORD), 429);
    assert_eq!(
        administrator(home, ADMIN_PASSWORD),
        200,
        "the administrator was locked out"
    );
    // Counted apart, by kind of network.
    assert!(server.metric("signpost_auth_failures_total{network=\"other\"}") >= 20.0);
    assert_eq!(
        server.metric("signpost_auth_failures_total{network=\"known\"}"),
        0.0
    );
    assert!(server.metric("signpost_rate_limited_total{network=\"other\"}") >= 10.0);
    assert!(
        server.log().contains("network=\"other\"") || server.log().contains("network=other"),
        "the log says where failures came from"
    );
}

/// Sends `request` as it is over plain TCP; the status and the body.
fn raw(at: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(at).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn a_request_names_one_host() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("jo@example.com", "jo pw", &[]);
    let server = sp.serve();
    let (status, answer) = raw(
        server.addr,
        "GET /mail/config-v1.1.xml?emailaddress=jo%40example.com HTTP/1.1\r\nHost: autoconfig.example.com\r\nHost: autoconfig.evil.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 400, "two Host headers: {answer}");
    let (status, answer) = raw(
        server.addr,
        "GET http://autoconfig.evil.example/mail/config-v1.1.xml?emailaddress=jo%40example.com HTTP/1.1\r\nHost: autoconfig.example.com\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 400, "a target naming another host: {answer}");
    let (status, answer) = raw(
        server.addr,
        "GET http://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=jo%40example.com HTTP/1.1\r\nHost: autoconfig.example.com\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "a target naming its own host: {answer}");
    assert!(answer.contains("<clientConfig"), "{answer}");
    let ready = server.get("/readyz", None).body;
    assert!(ready.contains(", 1 domain, 1 user"), "{ready}");
}

fn cli_output_into_a_closed_pipe_ends_quietly() {
    let sp = Signpost::new();
    // Enough domains that the JSON is larger than a pipe holds.
    for n in 0..120 {
        sp.ok(&[
            "domain",
            "add",
            &format!("d{n:03}.example"),
            "--hostname",
            &format!("mail.d{n:03}.example"),
        ]);
    }
    let signpost = sp.command(&[]).get_program().to_string_lossy().to_string();
    let store: Vec<String> = sp.store_args();
    let line = format!(
        "set -o pipefail; '{signpost}' {} dns --all --format json | head -n 1",
        store
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = Command::new("bash")
        .args(["-c", &line])
        .env_remove("SIGNPOST_DATA")
        .output()
        .expect("bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked") && stderr.trim().is_empty(),
        "expected exit 0 and nothing on stderr; saw exit {:?}, stderr: {stderr}",
        out.status.code()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[");
}

fn openapi_core_validates_every_operation() {
    tools::require(Tool::OpenapiCore);
    let sp = Signpost::new().with_example_domain();
    // An export document to import, from another store.
    let other = Signpost::new();
    other.ok(&[
        "domain",
        "add",
        "imported.example",
        "--hostname",
        "mail.imported.example",
    ]);
    let export = sp.dir.path().join("export.json");
    std::fs::write(&export, other.ok(&["export"])).unwrap();
    let closed = signpost_testkit::ports::free_port().to_string();
    let server = sp.serve_with(&[
        "--check-resolver",
        &format!("127.0.0.1:{closed}"),
        "--check-https-port",
        &closed,
        "--check-http-port",
        &closed,
    ]);
    let link = server.setup_link.clone().expect("a setup link");
    let token = link.split("token=").nth(1).expect("the setup token");
    let script = workspace_root().join("tests/openapi/check_api.py");
    let ispdb = workspace_root().join("testdata/ispdb/gmx.net.xml");
    let out = Command::new(tools::openapi_python())
        .arg(&script)
        .arg(&server.base)
        .arg(token)
        .arg(&export)
        .arg(&ispdb)
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check_api.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let document: Value =
        serde_json::from_str(&server.get("/api/openapi.json", None).body).unwrap();
    let mut operations: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|methods| methods.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_string))
        .collect();
    operations.sort();
    let mut called: Vec<String> = calls
        .iter()
        .filter_map(|c| c["operation"].as_str().map(str::to_string))
        .collect();
    called.sort();
    called.dedup();
    assert_eq!(called, operations, "every operation called once at least");
    let wrong: Vec<String> = calls
        .iter()
        .filter(|c| {
            !c["errors"].as_array().is_some_and(Vec::is_empty)
                || c["status"].as_u64().is_none_or(|s| s >= 400)
        })
        .map(|c| {
            format!(
                "{} {} -> {}: {}",
                c["method"], c["path"], c["status"], c["errors"]
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "expected every call answered and valid by openapi-core; saw:\n{}",
        wrong.join("\n")
    );
}
