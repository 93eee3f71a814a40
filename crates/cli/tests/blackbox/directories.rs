//! Users who live where the mail server keeps them: an LDAP directory (slapd with the test tree of
//! testdata/ldap), the domain's own IMAP server (Dovecot over TLS), and an SQL database with a
//! PostfixAdmin-like schema (PostgreSQL). Each proves a good login with what the directory says
//! (display name, service access), a wrong password, a disabled user, a user without POP, and
//! what clients are told when the directory is down.

use serde_json::Value;

use crate::harness::*;
use crate::pki::TestCa;
use crate::user_import::vector;
use signpost_testkit::dovecot;
use signpost_testkit::mariadb::MariaDb;
use signpost_testkit::ports::free_port;
use signpost_testkit::slapd::{Slapd, Tree};

signpost_testkit::tests![
    ldap_users_sign_in_with_their_directory_password_and_attributes,
    imap_logins_decide_with_dovecot_over_tls,
    sql_users_sign_in_from_postgresql,
    sql_users_sign_in_from_mariadb,
    sql_users_sign_in_from_a_dovecot_sqlite_database,
];

pub(crate) const JO: (&str, &str) = ("jo@example.com", "jo's secret");
pub(crate) const NOPOP: (&str, &str) = ("nopop@example.com", "nopop secret");
pub(crate) const GONE: (&str, &str) = ("gone@example.com", "gone secret");

/// slapd serving `dc=example,dc=com` from `testdata/ldap/tree.ldif`. Passwords are readable by
/// nobody; the search account `cn=reader` reads entries, and users read their own.
pub(crate) fn test_directory(
    dir: &std::path::Path,
    (cert, key): &(std::path::PathBuf, std::path::PathBuf),
) -> Slapd {
    let testdata = workspace_root().join("testdata/ldap");
    let schema = testdata.join("mail.schema");
    Slapd::start(
        dir,
        (cert, key),
        &Tree {
            suffix: "dc=example,dc=com",
            extra_schemas: &[&schema],
            ldif: &testdata.join("tree.ldif"),
            access: &[
                "access to attrs=userPassword by anonymous auth by * none",
                "access to * by dn.exact=\"cn=reader,dc=example,dc=com\" read by self read by * none",
            ],
        },
    )
}

fn pop_offered(answer: &Answer) -> bool {
    count(&answer.body, "//*[local-name()='Type'][.='POP3']") == 1
}

/// Outlook's request for `address`, signing in as `login`.
fn outlook(server: &Server, address: &str, (login, password): (&str, &str)) -> Answer {
    server.autodiscover(address, OUTLOOK_SCHEMA, Some((login, password)))
}

fn set_source(sp: &Signpost, server: Option<&Server>, source: &Value) -> String {
    let file = sp.dir.path().join("source.json");
    std::fs::write(&file, source.to_string()).unwrap();
    let args = [
        "domain",
        "user-source",
        "example.com",
        "--set",
        file.to_str().unwrap(),
    ];
    match server {
        Some(server) => {
            let mut out = String::new();
            server.after_change(|| out = sp.ok(&args));
            out
        }
        None => sp.ok(&args),
    }
}

/// A system administrator's API token.
fn api_token(sp: &Signpost) -> String {
    sp.ok_with_stdin(
        &["admin", "add", "root", "--password-stdin"],
        "an admin password\n",
    );
    sp.ok(&["admin", "token", "create", "tests", "--admin", "root"])
        .trim()
        .to_string()
}

fn api_get(server: &Server, token: &str, path: &str) -> Value {
    let answer = server.send(
        server
            .client
            .get(format!("{}{path}", server.base))
            .bearer_auth(token),
    );
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    serde_json::from_str(&answer.body).expect("JSON")
}

/// What clients are told while the directory is down: 503 with Retry-After, counted, and in the
/// recent-requests log; never an answer.
fn assert_unavailable(server: &Server, token: &str, (address, password): (&str, &str)) {
    let down = outlook(server, address, (address, password));
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.headers["retry-after"], "30");
    assert!(!down.body.contains("<Protocol>"));
    let recent = api_get(
        server,
        token,
        "/api/v1/requests?domain=example.com&outcome=directory_unavailable",
    );
    assert!(
        recent
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["address"] == address && r["status"] == 503),
        "{recent:#}"
    );
    let metrics = server.get("/metrics", None).body;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("signpost_directory_unavailable_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
}

fn ldap_users_sign_in_with_their_directory_password_and_attributes() {
    let sp = Signpost::new().with_example_domain();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "ldap test CA");
    let tls = ca.issue(dir, "slapd", &["127.0.0.1", "localhost"], -1, 30);
    let mut slapd = test_directory(dir, &tls);
    let search = serde_json::json!({
        "kind": "ldap",
        "url": format!("ldaps://127.0.0.1:{}", slapd.ldaps),
        "ca_file": ca.path,
        "lookup": {
            "mode": "search",
            "base": "ou=people,dc=example,dc=com",
            "filter": "(&(objectClass=inetOrgPerson)(|(mail=%u)(uid=%u)))",
            "bind_dn": "cn=reader,dc=example,dc=com",
            "bind_password": "reader secret",
        },
        "display_name_attribute": "displayName",
        "login_attribute": "uid",
        "services_attribute": "enabledService",
        "active_attribute": "accountStatus",
        "active_value": "active",
    });
    let shown = set_source(&sp, None, &search);
    assert!(shown.contains("LDAP at ldaps://127.0.0.1"), "{shown}");
    assert!(
        !shown.contains("reader secret") && shown.contains("********"),
        "{shown}"
    );
    let token = api_token(&sp);
    let server = sp.serve();

    // A good login: the directory's display name (markup and all, escaped) and login name.
    let jo = outlook(&server, JO.0, JO);
    assert_eq!(jo.status, 200, "{}", jo.body);
    assert_valid(&jo.body, "schemas/outlook-response.xsd");
    assert_eq!(element_text(&jo.body, "DisplayName"), "Jo <Example> & Co");
    assert!(jo.body.contains("Jo &lt;Example&gt; &amp; Co"));
    assert_eq!(
        xpath(
            &jo.body,
            "string(//*[local-name()='Protocol'][*[local-name()='Type']='IMAP']/*[local-name()='LoginName'])"
        ),
        "jo"
    );
    assert!(pop_offered(&jo));
    // A wrong password, a disabled account, and POP3 not among the services.
    assert_eq!(outlook(&server, JO.0, (JO.0, "wrong")).status, 401);
    assert_eq!(outlook(&server, GONE.0, GONE).status, 401);
    let nopop = outlook(&server, NOPOP.0, NOPOP);
    assert_eq!(nopop.status, 200, "{}", nopop.body);
    assert!(!pop_offered(&nopop) && nopop.body.contains("IMAP"));

    // A bare login is searched for too (uid=jo), and stands for jo@example.com only.
    assert_eq!(outlook(&server, JO.0, ("jo", JO.1)).status, 200);
    assert_eq!(outlook(&server, NOPOP.0, ("jo", JO.1)).status, 403);

    // Filter values are escaped (RFC 4515). Unescaped, `j*@example.com` and a bare `j*` would
    // match jo's entry and jo's password would bind (an answer, or 403 for another address);
    // escaped, nothing matches.
    assert_eq!(outlook(&server, JO.0, ("j*@example.com", JO.1)).status, 401);
    assert_eq!(outlook(&server, JO.0, ("j*", JO.1)).status, 401);
    assert_eq!(outlook(&server, JO.0, ("*)(uid=*", JO.1)).status, 401);
    // `user test` shows the filter slapd was given: the hostile value stayed one value.
    for (login, filter) in [
        (
            "j*@example.com",
            r"(|(mail=j\2a@example.com)(uid=j\2a@example.com))",
        ),
        (
            "*)(uid=*",
            r"(|(mail=\2a\29\28uid=\2a)(uid=\2a\29\28uid=\2a))",
        ),
    ] {
        let probe = sp.run(
            &["user", "test", login, "--address", JO.0, "--password-stdin"],
            &format!("{}\n", JO.1),
        );
        assert!(!probe.status.success());
        let said = String::from_utf8_lossy(&probe.stdout);
        assert!(
            said.contains("no entry matches") && said.contains(filter) && said.contains("ldap"),
            "{said}"
        );
    }

    // A login that is not an address is said to be one, not sought among built-in users.
    let probe = sp.run(
        &["user", "test", "*)(uid=*@example.com", "--password-stdin"],
        &format!("{}\n", JO.1),
    );
    let said = String::from_utf8_lossy(&probe.stderr).to_string();
    assert!(
        !probe.status.success()
            && said.contains("is not an address")
            && !said.contains("built-in store"),
        "{said}"
    );
    // A wrong password: LDAP's own result, named, said once (in the report, not again as an
    // error).
    let wrong = sp.run(&["user", "test", JO.0, "--password-stdin"], "wrong\n");
    let report = String::from_utf8_lossy(&wrong.stdout).to_string();
    assert!(!wrong.status.success());
    assert!(
        report.contains("REFUSED") && report.contains("result 49 invalidCredentials"),
        "{report}"
    );
    assert_eq!(String::from_utf8_lossy(&wrong.stderr).trim(), "");

    // `user test` says which source answered and what it returned, never the password.
    let tested = sp.ok_with_stdin(
        &[
            "user",
            "test",
            "nopop@example.com",
            "--password-stdin",
            "--format",
            "json",
        ],
        &format!("{}\n", NOPOP.1),
    );
    let report: Value = serde_json::from_str(&tested).unwrap();
    assert_eq!(report["source"], "ldap");
    assert_eq!(report["password_matches"], true);
    assert_eq!(report["display_name"], "No Pop");
    assert_eq!(report["login_name"], "nopop");
    assert_eq!(report["access"]["pop"], false);
    assert_eq!(report["access"]["imap"], true);
    assert!(!tested.contains(NOPOP.1));

    // The API shows the source with its secret hidden.
    let source = api_get(&server, &token, "/api/v1/domains/example.com/user-source");
    assert_eq!(source["lookup"]["bind_password"], "********");

    // Direct bind with a DN template, over StartTLS: the change ends remembered logins.
    let template = serde_json::json!({
        "kind": "ldap",
        "url": format!("ldap://127.0.0.1:{}", slapd.ldap),
        "starttls": true,
        "ca_file": ca.path,
        "lookup": {"mode": "template", "dn": "uid=%n,ou=people,dc=example,dc=com"},
        "display_name_attribute": "cn",
        "services_attribute": "enabledService",
    });
    set_source(&sp, Some(&server), &template);
    let jo = outlook(&server, JO.0, JO);
    assert_eq!(jo.status, 200, "{}", jo.body);
    assert_eq!(element_text(&jo.body, "DisplayName"), "Jo Example");
    assert_eq!(outlook(&server, JO.0, (JO.0, "wrong")).status, 401);

    // The directory goes away: the login remembered a moment ago still works, a new one gets
    // 503 (never a wrong answer), and all is well again when it is back.
    slapd.stop();
    assert_eq!(outlook(&server, JO.0, JO).status, 200);
    assert_unavailable(&server, &token, NOPOP);
    slapd.start_again();
    let back = outlook(&server, NOPOP.0, NOPOP);
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(!pop_offered(&back));

    let log = server.log();
    for secret in ["reader secret", JO.1, NOPOP.1, GONE.1] {
        assert!(!log.contains(secret), "the log holds a password");
    }
}

fn imap_logins_decide_with_dovecot_over_tls() {
    let sp = Signpost::new().with_example_domain();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "imap test CA");
    let tls = ca.issue(dir, "dovecot", &["mail.example.com", "127.0.0.1"], -1, 30);
    let dovecot = dovecot::dovecot_with(
        dir,
        (&tls.0, &tls.1),
        &[
            dovecot::DovecotUser {
                address: JO.0,
                password: JO.1,
                disabled: false,
                pop_denied: false,
            },
            dovecot::DovecotUser {
                address: NOPOP.0,
                password: NOPOP.1,
                disabled: false,
                pop_denied: true,
            },
            dovecot::DovecotUser {
                address: GONE.0,
                password: GONE.1,
                disabled: true,
                pop_denied: false,
            },
        ],
    );
    // The answers advertise the public ports (993, 995); the source logs in to Dovecot's
    // internal ones, named in it (as the README's example does).
    let imaps = dovecot.imaps;
    let pop3s = dovecot.pop3s;
    set_source(
        &sp,
        None,
        &serde_json::json!({
            "kind": "imap",
            "host": "127.0.0.1",
            "port": imaps,
            "encryption": "ssl",
            "ca_file": ca.path,
            "check_pop": true,
            "pop_port": pop3s,
            "pop_encryption": "ssl",
        }),
    );
    let token = api_token(&sp);
    // Behind a trusted proxy, so the person's address is known.
    let server = sp.serve_with(&["--trusted-proxy", "127.0.0.1"]);

    let jo = server.send(
        server
            .client
            .post(format!("{}/autodiscover/autodiscover.xml", server.base))
            .header("content-type", "text/xml; charset=utf-8")
            .header("x-forwarded-for", "192.0.2.7")
            .basic_auth(JO.0, Some(JO.1))
            .body(pox_request(JO.0, OUTLOOK_SCHEMA)),
    );
    assert_eq!(jo.status, 200, "{}", jo.body);
    assert!(
        pop_offered(&jo) && jo.body.contains("<Port>993</Port>"),
        "the public port is advertised: {}",
        jo.body
    );
    // Dovecot trusts Signpost, so it logged (and would slow down) the person's address, which
    // Signpost passed on with IMAP ID, not Signpost's own.
    let dovecot_log = std::fs::read_to_string(dir.join("dovecot/dovecot.log")).unwrap_or_default();
    assert!(
        dovecot_log.contains("user=<jo@example.com>") && dovecot_log.contains("rip=192.0.2.7"),
        "{dovecot_log}"
    );
    assert_eq!(element_text(&jo.body, "DisplayName"), JO.0);
    assert_eq!(outlook(&server, JO.0, (JO.0, "wrong")).status, 401);
    assert_eq!(outlook(&server, GONE.0, GONE).status, 401);
    let nopop = outlook(&server, NOPOP.0, NOPOP);
    assert_eq!(nopop.status, 200, "{}", nopop.body);
    assert!(!pop_offered(&nopop), "Dovecot refuses nopop's POP3 login");

    let tested = sp.ok_with_stdin(
        &["user", "test", "nopop@example.com", "--password-stdin"],
        &format!("{}\n", NOPOP.1),
    );
    assert!(
        tested.contains("imap") && tested.contains("matches") && !tested.contains(NOPOP.1),
        "{tested}"
    );
    let refused = sp.run(
        &["user", "test", "gone@example.com", "--password-stdin"],
        &format!("{}\n", GONE.1),
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("refused"));

    // Dovecot stops: a remembered login still works, a new one is told to try again later.
    drop(dovecot);
    assert_eq!(outlook(&server, JO.0, JO).status, 200, "remembered");
    assert_unavailable(&server, &token, GONE);
}

/// A PostfixAdmin-like `mailbox` table (with iRedMail's per-service columns), the same in
/// PostgreSQL and MariaDB; `quote` makes a hash a string literal.
fn mailbox_table() -> String {
    let hash = |tool: &str| vector(tool, "correct horse").replace('\'', "''");
    format!(
        "CREATE TABLE mailbox (
            username varchar(255) PRIMARY KEY,
            password varchar(255) NOT NULL,
            name varchar(255) NOT NULL DEFAULT '',
            local_part varchar(255) NOT NULL,
            domain varchar(255) NOT NULL,
            quota bigint NOT NULL DEFAULT 0,
            active boolean NOT NULL DEFAULT true,
            enableimap smallint NOT NULL DEFAULT 1,
            enablepop3 smallint NOT NULL DEFAULT 1
         );
         INSERT INTO mailbox (username, password, name, local_part, domain, active, enablepop3) VALUES
           ('jo@example.com', '{}', 'Jo <SQL> Doe', 'jo', 'example.com', true, 1),
           ('nopop@example.com', '{}', 'No Pop', 'nopop', 'example.com', true, 0),
           ('gone@example.com', '{}', 'Gone', 'gone', 'example.com', false, 1);",
        hash("doveadm pw -s SHA512-CRYPT"),
        hash("doveadm pw -s BLF-CRYPT"),
        hash("mkpasswd -m sha-512"),
    )
}

/// Signpost reading `url` (with its password, which must never show) with the query an
/// administrator would write for PostfixAdmin; `closed_url` is the same database where nothing
/// listens.
fn sql_source_behaves(url: &str, closed_url: &str, secret: &str) -> (Signpost, Server, String) {
    let sp = Signpost::new().with_example_domain();
    let source = serde_json::json!({
        "kind": "sql",
        "url": url,
        "query": "SELECT password, name AS display_name, active, enableimap AS allow_imap, \
                  enablepop3 AS allow_pop FROM mailbox WHERE username = '%u' AND domain = '%d'",
    });
    let shown = set_source(&sp, None, &source);
    assert!(
        !shown.contains(secret) && shown.contains("********"),
        "{shown}"
    );
    let token = api_token(&sp);
    let server = sp.serve();
    let password = "correct horse";

    let jo = outlook(&server, JO.0, (JO.0, password));
    assert_eq!(jo.status, 200, "{}\n{}", jo.body, server.log());
    assert_eq!(element_text(&jo.body, "DisplayName"), "Jo <SQL> Doe");
    assert!(pop_offered(&jo));
    assert_eq!(outlook(&server, JO.0, (JO.0, "wrong")).status, 401);
    assert_eq!(outlook(&server, GONE.0, (GONE.0, password)).status, 401);
    let nopop = outlook(&server, NOPOP.0, (NOPOP.0, password));
    assert_eq!(nopop.status, 200, "{}", nopop.body);
    assert!(!pop_offered(&nopop));
    // A quote in the login is a value, never SQL.
    assert_eq!(
        outlook(&server, JO.0, ("x'or'1'='1@example.com", password)).status,
        401
    );

    let tested = sp.ok_with_stdin(
        &[
            "user",
            "test",
            "jo@example.com",
            "--password-stdin",
            "--format",
            "json",
        ],
        &format!("{password}\n"),
    );
    let report: Value = serde_json::from_str(&tested).unwrap();
    assert_eq!(report["source"], "sql");
    assert_eq!(report["scheme"], "SHA512-CRYPT");
    assert_eq!(report["password_matches"], true);
    assert_eq!(report["display_name"], "Jo <SQL> Doe");
    assert_eq!(report["access"]["pop"], true);
    assert!(!tested.contains(secret));
    // An unknown user: the report says so, and nothing on standard error contradicts it.
    let unknown = sp.run(
        &["user", "test", "nobody@example.com", "--password-stdin"],
        &format!("{password}\n"),
    );
    let said = String::from_utf8_lossy(&unknown.stdout).to_string();
    assert!(!unknown.status.success());
    assert!(
        said.contains("REFUSED") && said.contains("Reason") && !said.contains("DOES NOT MATCH"),
        "{said}"
    );
    assert_eq!(String::from_utf8_lossy(&unknown.stderr).trim(), "");

    // The database goes away: 503, never a wrong answer.
    let gone_database = serde_json::json!({
        "kind": "sql",
        "url": closed_url,
        "query": "SELECT password FROM mailbox WHERE username = %u",
    });
    set_source(&sp, Some(&server), &gone_database);
    assert_unavailable(&server, &token, (JO.0, password));
    assert!(!server.log().contains(secret));
    (sp, server, token)
}

fn sql_users_sign_in_from_postgresql() {
    let database = signpost_testkit::postgres::PostgresServer::start();
    let url = database.new_database();
    let name = url.rsplit('/').next().unwrap().to_string();
    database.psql(&name, &mailbox_table()).expect("schema");
    // The test cluster trusts local connections, so any password is taken.
    let closed = free_port();
    let (sp, server, _) = sql_source_behaves(
        &url.replace("postgres@", "postgres:db%20secret@"),
        &format!("postgres://postgres@127.0.0.1:{closed}/{name}"),
        "db%20secret",
    );

    // The connection is read-only: a query that writes fails, and nothing is changed.
    let writing = serde_json::json!({
        "kind": "sql",
        "url": url,
        "query": "WITH gone AS (DELETE FROM mailbox WHERE username = %u RETURNING password) \
                  SELECT password FROM gone",
    });
    set_source(&sp, Some(&server), &writing);
    let refused = outlook(&server, NOPOP.0, (NOPOP.0, "correct horse"));
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(
        database
            .psql(&name, "SELECT count(*) FROM mailbox")
            .unwrap()
            .trim(),
        "3"
    );
}

/// MariaDB in `dir` with PostfixAdmin's database `postfix` ([`mailbox_table`]) and a user
/// `signpost` with `password` that may only read it, as the README advises.
pub(crate) fn postfix_on_mariadb(dir: &std::path::Path, password: &str) -> MariaDb {
    let mariadb = MariaDb::start(dir);
    mariadb
        .sql("", "CREATE DATABASE postfix")
        .expect("database");
    mariadb.sql("postfix", &mailbox_table()).expect("schema");
    mariadb
        .sql(
            "",
            &format!(
                "CREATE USER 'signpost'@'%' IDENTIFIED BY '{password}'; \
                 GRANT SELECT ON postfix.* TO 'signpost'@'%';"
            ),
        )
        .expect("user");
    mariadb
}

fn sql_users_sign_in_from_mariadb() {
    let sp_dir = tempfile::tempdir().unwrap();
    let mariadb = postfix_on_mariadb(sp_dir.path(), "maria secret");
    let closed = free_port();
    sql_source_behaves(
        &format!(
            "mariadb://signpost:maria%20secret@127.0.0.1:{}/postfix",
            mariadb.port
        ),
        &format!("mysql://signpost@127.0.0.1:{closed}/postfix"),
        "maria%20secret",
    );
    assert_eq!(
        mariadb
            .sql("postfix", "SELECT count(*) FROM mailbox")
            .unwrap()
            .trim(),
        "3"
    );
}

/// Dovecot's own example SQL schema (`users(userid, domain, password, ..., active 'Y'/'N')`,
/// here with a display name and per-service columns) in SQLite, queried by local part and
/// domain as the README shows: also a bare login (`jo`) signs in.
fn sql_users_sign_in_from_a_dovecot_sqlite_database() {
    let sp = Signpost::new().with_example_domain();
    let file = sp.dir.path().join("users.sqlite");
    let hash = vector("doveadm pw -s SHA256-CRYPT", "correct horse").replace('\'', "''");
    let created =
        signpost_testkit::tools::command(signpost_testkit::tools::Tool::Sqlite3, "sqlite3")
            .arg(&file)
            .arg(format!(
                "CREATE TABLE users (
                userid VARCHAR(128) NOT NULL,
                domain VARCHAR(128) NOT NULL,
                password VARCHAR(255) NOT NULL,
                home VARCHAR(255) NOT NULL DEFAULT '',
                uid INTEGER NOT NULL DEFAULT 5000,
                gid INTEGER NOT NULL DEFAULT 5000,
                realname VARCHAR(255) NOT NULL DEFAULT '',
                enableimap INTEGER NOT NULL DEFAULT 1,
                enablepop3 INTEGER NOT NULL DEFAULT 1,
                active CHAR(1) DEFAULT 'Y' NOT NULL
             );
             INSERT INTO users (userid, domain, password, realname, enablepop3, active) VALUES
               ('jo', 'example.com', '{hash}', 'Jo Lite', 1, 'Y'),
               ('nopop', 'example.com', '{hash}', 'No Pop', 0, 'Y'),
               ('gone', 'example.com', '{hash}', 'Gone', 1, 'N');"
            ))
            .status()
            .expect("sqlite3 (scripts/test installs it)");
    assert!(created.success());
    let before = std::fs::read(&file).unwrap();
    set_source(
        &sp,
        None,
        &serde_json::json!({
            "kind": "sql",
            "url": format!("sqlite://{}", file.display()),
            "query": "SELECT password, realname AS display_name, active, enablepop3 AS allow_pop, \
                      enableimap AS allow_imap FROM users WHERE userid = '%n' AND domain = '%d'",
        }),
    );
    let server = sp.serve();
    let password = "correct horse";
    let jo = outlook(&server, JO.0, (JO.0, password));
    assert_eq!(jo.status, 200, "{}", jo.body);
    assert_eq!(element_text(&jo.body, "DisplayName"), "Jo Lite");
    let bare = outlook(&server, JO.0, ("jo", password));
    assert_eq!(bare.status, 200, "{}", bare.body);
    // A bare login is that name at the domain, never whichever address was asked about.
    assert_eq!(outlook(&server, NOPOP.0, ("jo", password)).status, 403);
    assert_eq!(outlook(&server, JO.0, (JO.0, "wrong")).status, 401);
    assert_eq!(outlook(&server, GONE.0, (GONE.0, password)).status, 401);
    let nopop = outlook(&server, NOPOP.0, (NOPOP.0, password));
    assert_eq!(nopop.status, 200, "{}", nopop.body);
    assert!(!pop_offered(&nopop) && pop_offered(&jo));
    // Opened read-only: the file is as it was.
    assert_eq!(std::fs::read(&file).unwrap(), before);
}
