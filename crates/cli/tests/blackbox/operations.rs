//! One operations layer under every front end: changes from the CLI, the API and the web
//! interface all land in one audit log (with who, from where, never a secret), and each is
//! answered by the server on the very next request.

use serde_json::Value;

use crate::harness::*;

signpost_testkit::tests![
    every_front_end_writes_the_same_audit_log_without_secrets,
    an_api_change_is_answered_by_the_next_request,
    a_cli_change_is_answered_by_the_next_request_as_the_quick_start_does,
];

const ADMIN_PASSWORD: &str = "audit admin pw";
const USER_PASSWORD: &str = "ui user secret";

/// Signs `name` in through the API; the session cookie and its CSRF token.
fn session(server: &Server, name: &str) -> (String, String) {
    let answer = server.send(
        server
            .client
            .post(format!("{}/api/v1/session", server.base))
            .header("content-type", "application/json")
            .body(serde_json::json!({"name": name, "password": ADMIN_PASSWORD}).to_string()),
    );
    assert_eq!(answer.status, 200, "sign-in: {}", answer.body);
    let cookie = answer.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let body: Value = serde_json::from_str(&answer.body).expect("JSON");
    (
        cookie,
        body["csrf_token"].as_str().expect("csrf").to_string(),
    )
}

fn every_front_end_writes_the_same_audit_log_without_secrets() {
    let sp = Signpost::new();
    sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let token = sp
        .ok(&["admin", "token", "create", "ci", "--admin", "alice"])
        .trim()
        .to_string();
    let server = sp.serve();

    // The CLI adds the domain.
    sp.ok(&[
        "domain",
        "add",
        "example.com",
        "--hostname",
        "mail.example.com",
    ]);
    // The API changes IMAP, with alice's token, from 127.0.0.1.
    let imap = server.send(
        server
            .client
            .patch(format!(
                "{}/api/v1/domains/example.com/protocols/imap",
                server.base
            ))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(r#"{"port": 143, "encryption": "starttls"}"#),
    );
    assert_eq!(imap.status, 200, "{}", imap.body);
    // The CLI turns POP off.
    sp.ok(&["protocol", "set", "example.com", "pop", "--disable"]);
    // The web interface adds a user, as a signed-in browser posts the form.
    let (cookie, csrf) = session(&server, "alice");
    let added = server.send(
        server
            .client
            .post(format!("{}/admin/domains/example.com/users", server.base))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("csrf", csrf.as_str()),
                ("address", "ann@example.com"),
                ("password", USER_PASSWORD),
                ("display_name", "Ann"),
            ])),
    );
    assert_eq!(added.status, 303, "the form redirects: {}", added.body);
    // Back to the page, which says what happened; nothing in the URL.
    let location = added.headers["location"].to_str().unwrap_or_default();
    assert!(
        location.starts_with("/admin/domains/example.com/users") && !location.contains("notice"),
        "{location}"
    );
    let page = server.send(
        server
            .client
            .get(format!("{}{location}", server.base))
            .header("cookie", &cookie),
    );
    assert!(page.body.contains("added ann@example.com"), "{}", page.body);

    let printed = sp.ok(&["audit", "--format", "json"]);
    let entries: Vec<Value> = serde_json::from_str(&printed).expect("audit JSON");
    let summary: Vec<(String, String, String, String)> = entries
        .iter()
        .rev()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (
                field("operation"),
                field("actor_kind"),
                field("actor"),
                field("origin"),
            )
        })
        .collect();
    let cli_user = summary
        .first()
        .map(|(_, _, actor, _)| actor.clone())
        .unwrap_or_default();
    assert!(cli_user.starts_with("cli ("), "{summary:?}");
    let expected = [
        ("administrator.add", "cli", cli_user.as_str(), "local"),
        ("token.issue", "cli", cli_user.as_str(), "local"),
        ("domain.add", "cli", cli_user.as_str(), "local"),
        ("protocol.change", "token", "alice (token ci)", "127.0.0.1"),
        ("protocol.change", "cli", cli_user.as_str(), "local"),
        ("user.add", "administrator", "alice", "127.0.0.1"),
    ];
    let seen: Vec<(&str, &str, &str, &str)> = summary
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    assert_eq!(seen, expected, "the audit log, oldest first");
    let imap_entry = &entries[2];
    assert_eq!(imap_entry["target"], "imap of example.com");
    let change = imap_entry["summary"].as_str().unwrap_or_default();
    assert!(
        change.contains("993 → 143") && change.contains("ssl → starttls"),
        "expected the port and encryption before and after, saw: {change}"
    );
    assert_eq!(entries[1]["target"], "pop of example.com");

    // The API shows the same log; the table names who and what.
    let api = server.send(
        server
            .client
            .get(format!("{}/api/v1/audit?domain=example.com", server.base))
            .bearer_auth(&token),
    );
    assert_eq!(api.status, 200, "{}", api.body);
    let api_entries: Vec<Value> = serde_json::from_str(&api.body).expect("JSON");
    assert_eq!(
        api_entries.len(),
        4,
        "the domain's four changes: {}",
        api.body
    );
    let table = sp.ok(&["audit", "--domain", "example.com"]);
    assert!(
        table.contains("alice (token ci)") && table.contains("protocol.change"),
        "{table}"
    );
    let page = server.send(
        server
            .client
            .get(format!("{}/admin/audit", server.base))
            .header("cookie", &cookie),
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ann@example.com") && page.body.contains("alice (token ci)"));

    // No secret anywhere: passwords, the token, hashes.
    for text in [&printed, &api.body, &table, &page.body] {
        for secret in [ADMIN_PASSWORD, USER_PASSWORD, token.as_str(), "$argon2"] {
            assert!(
                !text.contains(secret),
                "{secret} shows in the audit log: {text}"
            );
        }
    }
}

fn an_api_change_is_answered_by_the_next_request() {
    let sp = Signpost::new();
    sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let token = sp
        .ok(&["admin", "token", "create", "ci"])
        .trim()
        .to_string();
    let server = sp.serve();
    for n in 0..10 {
        let name = format!("d{n}.example");
        let created = server.send(
            server
                .client
                .post(format!("{}/api/v1/domains", server.base))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"name": "{name}", "hostname": "mail.{name}"}}"#
                )),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        let answer = server.get(
            &format!("/mail/config-v1.1.xml?emailaddress=someone%40{name}"),
            None,
        );
        if answer.status != 200 || !answer.body.contains(&format!("mail.{name}")) {
            server.fail(
                &format!("autoconfig for {name} at once after POST /api/v1/domains answered 201 (round {n})"),
                &format!("{} {}", answer.status, answer.body),
            );
        }
    }
}

fn a_cli_change_is_answered_by_the_next_request_as_the_quick_start_does() {
    let sp = Signpost::new();
    let server = sp.serve();
    // The README's quick start, one command after the other with nothing in between.
    sp.ok(&[
        "domain",
        "add",
        "example.com",
        "--hostname",
        "mail.example.com",
    ]);
    sp.add_user(
        "john@example.com",
        "secret",
        &["--display-name", "John Doe"],
    );
    let request = pox_request("john@example.com", OUTLOOK_SCHEMA);
    let challenge = server.post("/autodiscover/autodiscover.xml", &request, None);
    assert_eq!(challenge.status, 401, "{}", challenge.body);
    let answer = server.post(
        "/autodiscover/autodiscover.xml",
        &request,
        Some(("john@example.com", "secret")),
    );
    if answer.status != 200 || !answer.body.contains("<DisplayName>John Doe</DisplayName>") {
        server.fail(
            "200 with John Doe's settings for the request right after `user add`",
            &format!("{} {}", answer.status, answer.body),
        );
    }
    // Any change, not only new names: the next answer has the new port.
    sp.ok(&["protocol", "set", "example.com", "imap", "--port", "1993"]);
    let answer = server.post(
        "/autodiscover/autodiscover.xml",
        &request,
        Some(("john@example.com", "secret")),
    );
    assert_eq!(
        xpath(
            &answer.body,
            "string(//*[local-name()='Protocol'][*[local-name()='Type']='IMAP']/*[local-name()='Port'])"
        ),
        "1993",
        "the port changed one command earlier"
    );
}
