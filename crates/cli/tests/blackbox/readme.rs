//! The README's examples, run as written. Every fenced block of the README is marked: `readme:ID`
//! blocks are run here against real servers, with only names, ports, paths and passwords
//! substituted (each substitution must find its text, so a block that changes fails here);
//! `illustration` blocks are not run (other tests cover what they show, or they need a real
//! machine's ports). A block that stops working fails the suite.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use crate::directories::{GONE, JO, NOPOP, postfix_on_mariadb, test_directory};
use crate::harness::*;
use crate::pki::TestCa;
use crate::user_import::vector;
use signpost_testkit::dovecot;
use signpost_testkit::postgres::PostgresServer;

signpost_testkit::tests![
    every_readme_block_is_run_or_marked_as_an_illustration,
    the_quick_start_runs_as_written,
    the_ldap_examples_run_as_written,
    the_imap_login_example_runs_as_written,
    the_postfixadmin_example_runs_on_mariadb,
    the_dovecot_sql_example_runs_on_postgresql,
    the_load_balancer_example_runs_with_nginx_and_two_instances,
    the_certificate_examples_run_with_files_and_pebble,
];

const README: &str = include_str!("../../../../README.md");

/// Every block id a test here runs.
const RUN: &[&str] = &[
    "quick-start",
    "user-source",
    "sql-postfixadmin",
    "sql-dovecot",
    "ldap-plain",
    "ldap-iredmail",
    "imap-login",
    "nginx-lb",
    "nginx-instances",
    "cert-add",
    "acme",
];

/// The README's fenced blocks: their info string and text.
fn blocks() -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in README.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), Vec::new())),
            (Some(_), Some(_)) => {
                if let Some((info, lines)) = open.take() {
                    blocks.push((info, lines.join("\n") + "\n"));
                }
            }
            (Some((_, lines)), None) => lines.push(line),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "the README ends inside a fenced block");
    blocks
}

fn block_id(info: &str) -> Option<&str> {
    info.split_whitespace()
        .find_map(|word| word.strip_prefix("readme:"))
}

/// The block marked `readme:ID`.
fn block(id: &str) -> String {
    assert!(RUN.contains(&id), "{id} is not in RUN");
    blocks()
        .into_iter()
        .find(|(info, _)| block_id(info) == Some(id))
        .map(|(_, text)| text)
        .unwrap_or_else(|| panic!("the README has no block marked readme:{id}"))
}

/// `text` with each `(from, to)` replaced; every `from` must be there.
fn substituted(id: &str, text: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (from, to) in replacements {
        assert!(
            text.contains(from),
            "the README's block readme:{id} no longer holds {from:?}; it reads:\n{text}"
        );
        text = text.replace(from, to);
    }
    text
}

/// Runs `script` with bash (`set -e`), as a reader would paste it: in the store's directory,
/// with this build's `signpost` first on PATH and the store named by the environment.
fn shell(sp: &Signpost, script: &str, env: &[(&str, &str)]) -> Output {
    let bin = sp.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin directory");
    let link = bin.join("signpost");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_signpost"), &link).expect("link signpost");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .args(["-e", "-o", "pipefail", "-c", script])
        .current_dir(sp.dir.path())
        .env("PATH", path)
        .env("SIGNPOST_DATA", sp.data())
        .env_remove("SIGNPOST_CONFIG")
        .env_remove("SIGNPOST_DATABASE_URL")
        .env_remove("SIGNPOST_LISTEN");
    if let Some(url) = &sp.database {
        command.env("SIGNPOST_DATABASE_URL", url);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run bash")
}

fn shell_ok(sp: &Signpost, id: &str, script: &str, env: &[(&str, &str)]) -> String {
    let out = shell(sp, script, env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the README's block readme:{id} failed ({}):\n{script}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The block's commands one by one (continuation lines joined, comments dropped): `serve`
/// commands are started as servers, the others run with bash, in order.
fn run_with_servers(sp: &Signpost, id: &str, text: &str, env: &[(&str, &str)]) -> Vec<Server> {
    let mut servers = Vec::new();
    let joined = text.replace("\\\n", " ");
    for line in joined.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"signpost") && words.contains(&"serve") {
            // The store is the test's own (the harness names it): a --database here is dropped.
            let mut args = Vec::new();
            let mut rest = words[1..].iter();
            while let Some(word) = rest.next() {
                if *word == "--database" {
                    rest.next();
                } else {
                    args.push(*word);
                }
            }
            servers.push(sp.start_with_env(&args, env));
        } else {
            shell_ok(sp, id, line, env);
        }
    }
    servers
}

/// `user test ADDRESS` with `password`, as JSON.
fn user_test(sp: &Signpost, address: &str, password: &str) -> serde_json::Value {
    let out = sp.run(
        &[
            "user",
            "test",
            address,
            "--password-stdin",
            "--format",
            "json",
        ],
        &format!("{password}\n"),
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "user test {address}: no JSON report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Sets `source` (a README JSON block, substituted) with the README's own commands, and checks
/// that `user test` there finds `(address, password)`.
fn set_source_as_written(sp: &Signpost, source: &str, (address, password): (&str, &str)) {
    std::fs::write(sp.dir.path().join("source.json"), source).expect("source.json");
    let commands = substituted(
        "user-source",
        &block("user-source"),
        &[("jo@example.com", address)],
    );
    let said = shell_ok(sp, "user-source", &commands, &[("PASSWORD", password)]);
    assert!(said.contains("matches"), "{said}");
}

fn every_readme_block_is_run_or_marked_as_an_illustration() {
    let blocks = blocks();
    assert!(blocks.len() > 20, "found only {} blocks", blocks.len());
    let mut ids = BTreeSet::new();
    for (info, text) in &blocks {
        match block_id(info) {
            Some(id) => assert!(ids.insert(id.to_string()), "readme:{id} marks two blocks"),
            None => assert!(
                info.split_whitespace().any(|w| w == "illustration"),
                "a README block is neither run (readme:ID) nor marked illustration:\n```{info}\n{text}```"
            ),
        }
    }
    let run: BTreeSet<String> = RUN.iter().map(|id| id.to_string()).collect();
    assert_eq!(
        ids, run,
        "the README's readme: blocks and the ones run here"
    );
}

fn the_quick_start_runs_as_written() {
    let sp = Signpost::new();
    let server = sp.serve();
    let address = server.addr.to_string();
    let script = substituted(
        "quick-start",
        &block("quick-start"),
        &[("127.0.0.1:8080", &address)],
    );
    let said = shell_ok(&sp, "quick-start", &script, &[]);
    assert!(
        said.contains("HTTP/1.1 401"),
        "first the challenge:\n{said}"
    );
    assert!(
        said.contains("<DisplayName>John Doe</DisplayName>")
            && said.contains("<Server>mail.example.com</Server>"),
        "then John's settings:\n{said}"
    );
    assert!(
        said.contains(r#""Protocol":"AutodiscoverV1""#) && said.contains("autodiscover.xml"),
        "then the v2 JSON:\n{said}"
    );
}

fn the_ldap_examples_run_as_written() {
    let sp = Signpost::new().with_example_domain();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "ldap test CA");
    let tls = ca.issue(dir, "slapd", &["127.0.0.1", "localhost"], -1, 30);
    let slapd = test_directory(dir, &tls);
    let ldaps = format!("ldaps://127.0.0.1:{}", slapd.ldaps);
    let ca_path = ca.path.to_string_lossy().to_string();

    // The plain directory: its users sign in, with their own names; nothing is "inactive".
    let plain = substituted(
        "ldap-plain",
        &block("ldap-plain"),
        &[
            ("ldaps://ldap.example.com", &ldaps),
            ("/etc/signpost/ldap-ca.pem", &ca_path),
            (
                "cn=signpost,dc=example,dc=com",
                "cn=reader,dc=example,dc=com",
            ),
            ("\"PASSWORD\"", "\"reader secret\""),
        ],
    );
    set_source_as_written(&sp, &plain, JO);
    let jo = user_test(&sp, JO.0, JO.1);
    assert_eq!(jo["display_name"], "Jo <Example> & Co", "{jo}");
    assert_eq!(jo["login_name"], "jo", "{jo}");
    assert_eq!(user_test(&sp, GONE.0, GONE.1)["password_matches"], true);

    // iRedMail's: accountStatus and enabledService decide.
    let ldap = format!("ldap://127.0.0.1:{}", slapd.ldap);
    let iredmail = substituted(
        "ldap-iredmail",
        &block("ldap-iredmail"),
        &[
            ("ldap://127.0.0.1", &ldap),
            ("o=domains,dc=example,dc=com", "ou=people,dc=example,dc=com"),
            ("cn=vmail,dc=example,dc=com", "cn=reader,dc=example,dc=com"),
            ("\"PASSWORD\"", "\"reader secret\""),
        ],
    );
    set_source_as_written(&sp, &iredmail, JO);
    let jo = user_test(&sp, JO.0, JO.1);
    assert_eq!(jo["display_name"], "Jo Example", "{jo}");
    let gone = user_test(&sp, GONE.0, GONE.1);
    assert_eq!(gone["password_matches"], false, "{gone}");
    let nopop = user_test(&sp, NOPOP.0, NOPOP.1);
    assert_eq!(nopop["access"]["pop"], false, "{nopop}");
}

fn the_imap_login_example_runs_as_written() {
    let sp = Signpost::new().with_example_domain();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "imap test CA");
    let tls = ca.issue(dir, "dovecot", &["127.0.0.1"], -1, 30);
    let user =
        |(address, password): (&'static str, &'static str), pop_denied| dovecot::DovecotUser {
            address,
            password,
            disabled: false,
            pop_denied,
        };
    let dovecot =
        dovecot::dovecot_with(dir, (&tls.0, &tls.1), &[user(JO, false), user(NOPOP, true)]);
    let source = substituted(
        "imap-login",
        &block("imap-login"),
        &[
            ("imap.internal.example.com", "127.0.0.1"),
            ("10993", &dovecot.imaps.to_string()),
            ("10995", &dovecot.pop3s.to_string()),
            ("/etc/signpost/mail-ca.pem", &ca.path.to_string_lossy()),
        ],
    );
    set_source_as_written(&sp, &source, JO);
    let nopop = user_test(&sp, NOPOP.0, NOPOP.1);
    assert_eq!(nopop["password_matches"], true, "{nopop}");
    assert_eq!(
        nopop["access"]["pop"], false,
        "Dovecot refuses its POP3 login: {nopop}"
    );
    assert_eq!(user_test(&sp, JO.0, "wrong")["password_matches"], false);
}

fn the_postfixadmin_example_runs_on_mariadb() {
    let sp = Signpost::new().with_example_domain();
    let mariadb = postfix_on_mariadb(sp.dir.path(), "maria-secret");
    let source = substituted(
        "sql-postfixadmin",
        &block("sql-postfixadmin"),
        &[(
            "PASSWORD@db.example.com",
            &format!("maria-secret@127.0.0.1:{}", mariadb.port),
        )],
    );
    set_source_as_written(&sp, &source, ("jo@example.com", "correct horse"));
    let jo = user_test(&sp, "jo@example.com", "correct horse");
    assert_eq!(jo["display_name"], "Jo <SQL> Doe", "{jo}");
    // PostfixAdmin's active column refuses gone; a bare login finds nobody (username = '%u').
    assert_eq!(
        user_test(&sp, "gone@example.com", "correct horse")["password_matches"],
        false
    );
}

fn the_dovecot_sql_example_runs_on_postgresql() {
    let database = PostgresServer::start();
    let url = database.new_database();
    let name = url.rsplit('/').next().unwrap_or_default().to_string();
    let hash = vector("doveadm pw -s SHA512-CRYPT", "correct horse").replace('\'', "''");
    database
        .psql(
            &name,
            &format!(
                "CREATE TABLE users (userid varchar(128) NOT NULL, domain varchar(128) NOT NULL,
                   password varchar(255) NOT NULL, realname varchar(255) NOT NULL DEFAULT '',
                   active char(1) NOT NULL DEFAULT 'Y', enablepop3 smallint NOT NULL DEFAULT 1,
                   enableimap smallint NOT NULL DEFAULT 1);
                 INSERT INTO users VALUES
                   ('jo', 'example.com', '{hash}', 'Jo Doe', 'Y', 0, 1),
                   ('gone', 'example.com', '{hash}', 'Gone', 'N', 1, 1);"
            ),
        )
        .expect("schema");
    let sp = Signpost::new().with_example_domain();
    let source = substituted(
        "sql-dovecot",
        &block("sql-dovecot"),
        &[(
            "postgres://signpost:PASSWORD@127.0.0.1/mail",
            &url.replace("postgres@", "postgres:any-password@"),
        )],
    );
    set_source_as_written(&sp, &source, ("jo@example.com", "correct horse"));
    let jo = user_test(&sp, "jo@example.com", "correct horse");
    assert_eq!(jo["display_name"], "Jo Doe", "{jo}");
    assert_eq!(jo["access"]["pop"], false, "{jo}");
    assert_eq!(
        user_test(&sp, "gone@example.com", "correct horse")["password_matches"],
        false
    );
    // A bare login, as the README says, stands for jo@ the domain asked about.
    let server = sp.serve();
    let answer = server.send(
        server
            .client
            .post(format!("{}/autodiscover/autodiscover.xml", server.base))
            .basic_auth("jo", Some("correct horse"))
            .body(pox_request("jo@example.com", OUTLOOK_SCHEMA)),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(element_text(&answer.body, "DisplayName"), "Jo Doe");
}

fn the_load_balancer_example_runs_with_nginx_and_two_instances() {
    let database = PostgresServer::start();
    let url = database.new_database();
    let sp = Signpost::on_database(&url).with_example_domain();
    sp.add_user("jo@example.com", "pw one", &[]);
    let [front, first, second] = [(); 3].map(|()| signpost_testkit::ports::free_port());
    let ports = |text: &str, id: &str| {
        substituted(
            id,
            text,
            &[
                ("127.0.0.1:8080", &format!("127.0.0.1:{front}")),
                ("127.0.0.1:8081", &format!("127.0.0.1:{first}")),
                ("127.0.0.1:8082", &format!("127.0.0.1:{second}")),
            ],
        )
    };
    let instances = block("nginx-instances");
    let instances = substituted(
        "nginx-instances",
        &instances,
        &[
            ("127.0.0.1:8081", &format!("127.0.0.1:{first}")),
            ("127.0.0.1:8082", &format!("127.0.0.1:{second}")),
        ],
    );
    let servers = run_with_servers(&sp, "nginx-instances", &instances, &[]);
    assert_eq!(servers.len(), 2, "two instances");
    // The whole file as the README gives it, with this machine's places for nginx's own files.
    let nginx_dir = sp.dir.path().join("nginx");
    let config = format!(
        "pid {}/nginx.pid;\nerror_log {}/error.log;\n{}",
        nginx_dir.display(),
        nginx_dir.display(),
        ports(&block("nginx-lb"), "nginx-lb")
    );
    let _nginx = signpost_testkit::web::nginx_file(sp.dir.path(), "127.0.0.1", front, &config);
    for _ in 0..6 {
        let answer = servers[0]
            .client
            .post(format!(
                "http://127.0.0.1:{front}/autodiscover/autodiscover.xml"
            ))
            .basic_auth("jo@example.com", Some("pw one"))
            .body(pox_request("jo@example.com", OUTLOOK_SCHEMA))
            .send()
            .expect("through nginx");
        assert_eq!(answer.status(), 200);
        assert!(
            answer
                .text()
                .unwrap_or_default()
                .contains("<Server>mail.example.com</Server>")
        );
    }
    for server in &servers {
        assert!(
            crate::postgres::answered(server) > 0,
            "each instance answered through nginx"
        );
    }
}

fn the_certificate_examples_run_with_files_and_pebble() {
    // Certificates from files.
    let sp = Signpost::new().with_example_domain();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "README CA");
    let (chain, key) = ca.issue(
        dir,
        "example.com",
        &[
            "autodiscover.example.com",
            "autoconfig.example.com",
            "mail.example.com",
        ],
        -1,
        90,
    );
    let listen = [
        ("0.0.0.0:80", "127.0.0.1:0"),
        ("[::]:80", "127.0.0.1:0"),
        ("0.0.0.0:443", "127.0.0.1:0"),
        ("[::]:443", "127.0.0.1:0"),
    ];
    let mut replacements = vec![
        (
            "/etc/ssl/example.com/fullchain.pem",
            chain.to_str().unwrap_or_default(),
        ),
        (
            "/etc/ssl/example.com/privkey.pem",
            key.to_str().unwrap_or_default(),
        ),
    ];
    replacements.extend(listen);
    let text = substituted("cert-add", &block("cert-add"), &replacements);
    let servers = run_with_servers(&sp, "cert-add", &text, &[]);
    let root = std::fs::read_to_string(&ca.path).expect("CA");
    let https = servers[0].https[0];
    assert!(
        crate::acme::served_serial(https, &root, "autodiscover.example.com").is_some(),
        "the added certificate is served for autodiscover.example.com"
    );
    drop(servers);

    // Certificates from an ACME CA (Pebble), trusted through SSL_CERT_FILE as the README says.
    let sp = Signpost::new().with_example_domain();
    let pebble = crate::pebble::start(sp.dir.path());
    let http = format!("127.0.0.1:{}", pebble.http01_port);
    let tls = format!("127.0.0.1:{}", pebble.tls_alpn_port);
    let text = substituted(
        "acme",
        &block("acme"),
        &[
            ("0.0.0.0:80", &http),
            ("0.0.0.0:443", &tls),
            (
                "https://acme-v02.api.letsencrypt.org/directory",
                &pebble.directory_url,
            ),
        ],
    );
    let ca_file = pebble.directory_ca.to_string_lossy().to_string();
    let servers = run_with_servers(&sp, "acme", &text, &[("SSL_CERT_FILE", &ca_file)]);
    let root = crate::pebble::issuing_root(&pebble);
    let https = servers[0].https[0];
    servers[0].wait_until(
        "a certificate from Pebble for mail.example.com (--acme-hostname on)",
        |_| crate::acme::served_serial(https, &root, "mail.example.com"),
        Option::is_some,
    );
}
