//! The administration API against the real server: every documented route served and guarded,
//! bad input named, sessions with CSRF and expiry, tokens, roles, and the answers clients get
//! changing with what the API saved.

use serde_json::{Value, json};

use crate::harness::{Server, Signpost, form, pox_request, workspace_root};

signpost_testkit::tests![
    setup_link_creates_the_first_administrator_once,
    every_documented_route_is_served_and_guarded,
    the_api_changes_what_clients_are_told,
    sessions_need_the_csrf_token_and_end,
    tokens_are_shown_once_stored_hashed_and_revocable,
    domain_administrators_see_and_change_only_their_domains,
    the_administration_surface_can_live_on_its_own_listener,
    on_https_the_admin_cookie_is_secure_and_browsers_stay_on_https,
    the_web_forms_need_a_session_and_their_csrf_token,
    user_sources_are_changed_by_system_administrators_and_never_show_secrets,
];

const PASSWORD: &str = "correct horse battery";

/// How a test authenticates to the API.
#[derive(Clone)]
enum Auth {
    None,
    Token(String),
    Session { cookie: String, csrf: String },
}

struct Reply {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

fn call(server: &Server, auth: &Auth, method: &str, path: &str, body: Option<Value>) -> Reply {
    let url = format!("{}{path}", server.base);
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = server.client.request(method, url);
    match auth {
        Auth::None => {}
        Auth::Token(token) => request = request.bearer_auth(token),
        Auth::Session { cookie, csrf } => {
            request = request
                .header("cookie", cookie.as_str())
                .header("x-csrf-token", csrf.as_str());
        }
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let answer = server.send(request);
    Reply {
        status: answer.status,
        body: serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body)),
        headers: answer.headers,
    }
}

fn add_admin(sp: &Signpost, name: &str, domains: &[&str]) {
    let mut args = vec!["admin", "add", name, "--password-stdin"];
    for domain in domains {
        args.extend_from_slice(&["--domain", domain]);
    }
    sp.ok_with_stdin(&args, &format!("{PASSWORD}\n"));
}

fn token_for(sp: &Signpost, admin: &str, name: &str) -> String {
    let out = sp.ok(&["admin", "token", "create", name, "--admin", admin]);
    let token = out.trim().to_string();
    assert!(
        token.starts_with("sp_") && !token.contains(char::is_whitespace),
        "the token alone on stdout: {out:?}"
    );
    token
}

fn sign_in(server: &Server, name: &str, password: &str) -> Reply {
    call(
        server,
        &Auth::None,
        "POST",
        "/api/v1/session",
        Some(json!({"name": name, "password": password})),
    )
}

fn session_of(reply: &Reply) -> Auth {
    let cookie = reply.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    Auth::Session {
        cookie,
        csrf: reply.body["csrf_token"].as_str().expect("csrf").to_string(),
    }
}

/// A path with its `{parameters}` filled in.
fn filled(path: &str) -> String {
    path.replace("{domain}", "example.com")
        .replace("{protocol}", "imap")
        .replace("{kind}", "desktop")
        .replace("{address}", "jo@example.com")
        .replace("{name}", "alice")
        .replace("{token}", "nightly")
}

fn setup_link_creates_the_first_administrator_once() {
    let sp = Signpost::new();
    let server = sp.serve();
    let link = server.setup_link.clone().expect("a setup link on stdout");
    let token = link
        .split("token=")
        .nth(1)
        .expect("token in the link")
        .to_string();
    let page = server.get(&link.replace(&server.base, ""), None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Create the first administrator"));
    assert!(page.body.contains(&format!("value=\"{token}\"")));

    let wrong = call(
        &server,
        &Auth::None,
        "POST",
        "/api/v1/setup",
        Some(json!({"token": "guess", "name": "alice", "password": PASSWORD})),
    );
    assert_eq!(wrong.status, 403, "{:?}", wrong.body);
    let weak = call(
        &server,
        &Auth::None,
        "POST",
        "/api/v1/setup",
        Some(json!({"token": token, "name": "a b", "password": PASSWORD})),
    );
    assert_eq!(weak.status, 400);
    assert_eq!(weak.body["field"], "name", "a typo does not spend the link");
    let made = call(
        &server,
        &Auth::None,
        "POST",
        "/api/v1/setup",
        Some(json!({"token": token, "name": "alice", "password": PASSWORD})),
    );
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["role"], "system");
    let session = session_of(&made);
    let me = call(&server, &session, "GET", "/api/v1/session", None);
    assert_eq!(me.body["name"], "alice");
    let again = call(
        &server,
        &Auth::None,
        "POST",
        "/api/v1/setup",
        Some(json!({"token": token, "name": "mallory", "password": PASSWORD})),
    );
    assert_eq!(again.status, 403, "the link works once");
    assert!(sp.ok(&["admin", "list"]).contains("alice"));
    assert!(!sp.ok(&["admin", "list"]).contains("mallory"));
}

fn every_documented_route_is_served_and_guarded() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "alice", &[]);
    let token = Auth::Token(token_for(&sp, "alice", "nightly"));
    // Checks and probes ask a closed port on loopback rather than any real resolver.
    let server = sp.serve_with(&["--check-resolver", "127.0.0.1:9"]);
    let document = call(&server, &Auth::None, "GET", "/api/openapi.json", None).body;
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().expect("methods") {
            operations += 1;
            let method = method.to_uppercase();
            let public = operation["x-signpost-access"] == "public";
            let anonymous = call(
                &server,
                &Auth::None,
                &method,
                &filled(path),
                Some(json!({})),
            );
            assert_ne!(
                anonymous.body["error"], "no_such_route",
                "{method} {path} is documented but not served"
            );
            if public {
                assert_eq!(
                    anonymous.status, 400,
                    "{method} {path}: {:?}",
                    anonymous.body
                );
            } else {
                assert_eq!(anonymous.status, 401, "{method} {path} without credentials");
                assert_eq!(anonymous.body["error"], "unauthorized");
            }
            // With credentials, bodies of the wrong shape are refused by name, never 5xx.
            let wrong = call(
                &server,
                &token,
                &method,
                &filled(path),
                Some(json!({"bogus": 1})),
            );
            assert!(
                wrong.status < 500 && wrong.body["error"] != "no_such_route",
                "{method} {path}: {} {:?}",
                wrong.status,
                wrong.body
            );
        }
    }
    assert!(operations >= 30, "{operations} operations documented");
    let unknown = call(&server, &token, "GET", "/api/v1/nothing-here", None);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"], "no_such_route");
}

fn the_api_changes_what_clients_are_told() {
    let sp = Signpost::new();
    add_admin(&sp, "alice", &[]);
    let auth = Auth::Token(token_for(&sp, "alice", "deploy"));
    let server = sp.serve();
    let api =
        |method: &str, path: &str, body: Option<Value>| call(&server, &auth, method, path, body);

    // Domains, with bad input named.
    let made = api(
        "POST",
        "/api/v1/domains",
        Some(json!({"name": "Example.COM", "hostname": "mail.example.com"})),
    );
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["name"], "example.com");
    assert_eq!(made.body["protocols"]["imap"]["port"], 993);
    for (body, field) in [
        (
            json!({"name": "bad domain", "hostname": "mail.example.com"}),
            "name",
        ),
        (
            json!({"name": "ok.example", "hostname": "-bad-"}),
            "hostname",
        ),
    ] {
        let refused = api("POST", "/api/v1/domains", Some(body));
        assert_eq!(refused.status, 400, "{:?}", refused.body);
        assert_eq!(refused.body["error"], "invalid");
        assert_eq!(refused.body["field"], field);
    }
    let missing = api(
        "POST",
        "/api/v1/domains",
        Some(json!({"hostname": "x.example"})),
    );
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"], "bad_json");
    assert!(missing.body["message"].as_str().unwrap().contains("name"));
    let twice = api(
        "POST",
        "/api/v1/domains",
        Some(json!({"name": "example.com", "hostname": "mail.example.com"})),
    );
    assert_eq!(twice.status, 409);
    let listed = api("GET", "/api/v1/domains?search=exam", None);
    assert_eq!(listed.body[0]["name"], "example.com");
    assert_eq!(
        api("GET", "/api/v1/domains?search=zzz", None).body,
        json!([])
    );

    // The Autodiscover card: IMAP to 143 STARTTLS; EWS stays https on 443.
    let changed = api(
        "PATCH",
        "/api/v1/domains/example.com/protocols/imap",
        Some(json!({"port": 143, "encryption": "starttls"})),
    );
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let ews = api(
        "PATCH",
        "/api/v1/domains/example.com/protocols/ews",
        Some(json!({"encryption": "none"})),
    );
    assert_eq!(ews.status, 400);
    assert_eq!(ews.body["field"], "encryption");
    let unknown = api(
        "PATCH",
        "/api/v1/domains/example.com/protocols/gopher",
        Some(json!({"port": 70})),
    );
    assert_eq!(unknown.body["field"], "protocol");
    let options = api(
        "PATCH",
        "/api/v1/domains/example.com",
        Some(json!({"display_name": "Example Mail"})),
    );
    assert_eq!(options.body["display_name"], "Example Mail");

    // Users.
    let user = api(
        "POST",
        "/api/v1/users",
        Some(
            json!({"address": "jo@example.com", "password": "first pw", "display_name": "Jo <Admin>", "deny": ["pop"]}),
        ),
    );
    assert_eq!(user.status, 201, "{:?}", user.body);
    assert_eq!(user.body["access"]["pop"], false);
    assert!(user.body.get("password_hash").is_none(), "never the hash");
    let stranger = api(
        "POST",
        "/api/v1/users",
        Some(json!({"address": "x@nowhere.example", "password": "pw"})),
    );
    assert_eq!(stranger.status, 404);
    assert_eq!(
        api(
            "PUT",
            "/api/v1/users/jo@example.com/password",
            Some(json!({"password": "second pw"}))
        )
        .status,
        204
    );
    let users = api("GET", "/api/v1/domains/example.com/users", None);
    assert_eq!(users.body["users"][0]["display_name"], "Jo <Admin>");
    assert_eq!(users.body["total"], 1);

    server.wait_for_store();
    let answer = server.post(
        "/autodiscover/autodiscover.xml",
        &pox_request("jo@example.com", crate::harness::OUTLOOK_SCHEMA),
        Some(("jo@example.com", "second pw")),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("<Port>143</Port>"), "{}", answer.body);
    assert!(answer.body.contains("Jo &lt;Admin&gt;"));
    assert!(
        !answer.body.contains("<Type>POP3</Type>"),
        "POP denied to jo"
    );
    let old = server.post(
        "/autodiscover/autodiscover.xml",
        &pox_request("jo@example.com", crate::harness::OUTLOOK_SCHEMA),
        Some(("jo@example.com", "first pw")),
    );
    assert_eq!(old.status, 401, "the old password no longer works");

    // Overrides: Generate gives the generated answer, PUT saves text that clients then get.
    let generated = api(
        "POST",
        "/api/v1/domains/example.com/overrides/desktop/generate",
        Some(json!({"address": "jo@example.com"})),
    );
    assert_eq!(generated.status, 200, "{:?}", generated.body);
    let text = generated.body["text"].as_str().unwrap();
    assert!(text.contains("<Port>143</Port>"));
    let custom = text.replace("jo@example.com", "%EmailAddress%") + "<!-- from the API -->\n";
    let saved = api(
        "PUT",
        "/api/v1/domains/example.com/overrides/desktop",
        Some(json!({"enabled": true, "text": custom})),
    );
    assert_eq!(saved.status, 200);
    assert!(
        saved.body["effect"]
            .as_str()
            .unwrap()
            .contains("saved text")
    );
    let broken = api(
        "PUT",
        "/api/v1/domains/example.com/overrides/mobile",
        Some(json!({"text": "<not-closed>"})),
    );
    assert!(broken.body["warning"].is_string(), "{:?}", broken.body);
    server.wait_for_store();
    let overridden = server.post(
        "/autodiscover/autodiscover.xml",
        &pox_request("jo@example.com", crate::harness::OUTLOOK_SCHEMA),
        Some(("jo@example.com", "second pw")),
    );
    assert!(
        overridden.body.contains("<!-- from the API -->"),
        "{}",
        overridden.body
    );
    let cleared = api(
        "PUT",
        "/api/v1/domains/example.com/overrides/desktop",
        Some(json!({"text": null})),
    );
    assert_eq!(cleared.body["text"], Value::Null);
    assert!(
        cleared.body["effect"]
            .as_str()
            .unwrap()
            .contains("generated answer")
    );

    // Previews, DNS records, certificates.
    let preview = api(
        "POST",
        "/api/v1/previews",
        Some(json!({"address": "jo@example.com", "kind": "autoconfig"})),
    );
    assert!(
        preview.body["body"]
            .as_str()
            .unwrap()
            .contains("<clientConfig")
    );
    let records = api("GET", "/api/v1/domains/example.com/dns-records", None);
    assert!(
        records
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "_autodiscover._tcp.example.com." && r["type"] == "SRV"),
        "{:?}",
        records.body
    );
    assert_eq!(api("GET", "/api/v1/certificates", None).body, json!([]));

    // The recent-requests log: who asked, for which address, how it ended; no password.
    let recent = api("GET", "/api/v1/requests?domain=example.com", None);
    let rows = recent.body.as_array().unwrap();
    assert!(rows.iter().any(|r| r["address"] == "jo@example.com"
        && r["outcome"] == "unauthorized"
        && r["endpoint"] == "autodiscover_xml"));
    assert!(
        rows.iter()
            .any(|r| r["outcome"] == "answered" && r["client_address"] == "127.0.0.1")
    );
    assert!(!recent.body.to_string().contains("second pw"));
    let failed_only = api("GET", "/api/v1/requests?outcome=unauthorized", None);
    assert!(
        failed_only
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] == "unauthorized")
    );

    // Imports: an ISPDB file, and an export document.
    let ispdb = std::fs::read_to_string(workspace_root().join("testdata/ispdb/gmx.net.xml"))
        .expect("an ISPDB file");
    let imported = server.send(
        server
            .client
            .post(format!("{}/api/v1/imports/ispdb", server.base))
            .bearer_auth(match &auth {
                Auth::Token(t) => t.as_str(),
                _ => unreachable!(),
            })
            .body(ispdb),
    );
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(imported.body.contains("\"status\":\"imported\""));
    let exported: Value = serde_json::from_str(&sp.ok(&["export"])).expect("export JSON");
    let refused = api("POST", "/api/v1/imports", Some(exported.clone()));
    assert_eq!(
        refused.status, 400,
        "a store with domains needs replace: {:?}",
        refused.body
    );
    let replaced = api("POST", "/api/v1/imports?replace=true", Some(exported));
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);

    // Deleting.
    assert_eq!(
        api("DELETE", "/api/v1/users/jo@example.com", None).status,
        204
    );
    assert_eq!(api("GET", "/api/v1/users/jo@example.com", None).status, 404);
    assert_eq!(api("DELETE", "/api/v1/domains/gmx.net", None).status, 204);

    // The log names the administrator and the token, never a password or the token itself.
    let log = server.log();
    if !log.contains("actor=alice (token deploy)") {
        server.fail("log lines naming actor=alice (token deploy)", "none");
    }
    if log.contains("second pw") || log.contains(PASSWORD) {
        server.fail("no password in the log", "a password");
    }
}

fn sessions_need_the_csrf_token_and_end() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "alice", &[]);
    let server = sp.serve_with(&["--admin-session-seconds", "2"]);
    let wrong = sign_in(&server, "alice", "nope");
    assert_eq!(wrong.status, 401);
    let ghost = sign_in(&server, "nobody", PASSWORD);
    assert_eq!(ghost.status, 401);
    assert_eq!(
        ghost.body["message"], wrong.body["message"],
        "no hint which was wrong"
    );

    let signed = sign_in(&server, "alice", PASSWORD);
    assert_eq!(signed.status, 200);
    let cookie = signed.headers["set-cookie"].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let session = session_of(&signed);
    let Auth::Session { cookie, csrf } = session.clone() else {
        unreachable!()
    };
    let change = json!({"display_name": "Changed"});
    let without = Auth::Session {
        cookie: cookie.clone(),
        csrf: String::new(),
    };
    let forged = Auth::Session {
        cookie: cookie.clone(),
        csrf: format!("{csrf}x"),
    };
    for auth in [&without, &forged] {
        let refused = call(
            &server,
            auth,
            "PATCH",
            "/api/v1/domains/example.com",
            Some(change.clone()),
        );
        assert_eq!(refused.status, 403);
        assert_eq!(refused.body["error"], "csrf_failed");
    }
    // Reading needs no token; changing with it works.
    assert_eq!(
        call(&server, &without, "GET", "/api/v1/domains", None).status,
        200
    );
    let done = call(
        &server,
        &session,
        "PATCH",
        "/api/v1/domains/example.com",
        Some(change),
    );
    assert_eq!(done.status, 200, "{:?}", done.body);

    // Signing out ends the session.
    assert_eq!(
        call(&server, &session, "DELETE", "/api/v1/session", None).status,
        204
    );
    assert_eq!(
        call(&server, &session, "GET", "/api/v1/domains", None).status,
        401
    );

    // Sessions expire (after 2 seconds here).
    let signed_in = std::time::Instant::now();
    let short = session_of(&sign_in(&server, "alice", PASSWORD));
    let before = call(&server, &short, "GET", "/api/v1/domains", None).status;
    // Only a machine stalled for 2 seconds between the two calls could see it expired already.
    if signed_in.elapsed() < std::time::Duration::from_millis(1500) {
        assert_eq!(before, 200, "a fresh session works");
    }
    server.wait_until(
        "401 once the 2-second session has expired",
        |s| call(s, &short, "GET", "/api/v1/domains", None).status,
        |&status| status == 401,
    );

    // Failed sign-ins are limited (10 per client), even with the right password after.
    for _ in 0..10 {
        sign_in(&server, "alice", "wrong");
    }
    let limited = sign_in(&server, "alice", PASSWORD);
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert_eq!(limited.body["error"], "rate_limited");
}

fn tokens_are_shown_once_stored_hashed_and_revocable() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "alice", &[]);
    let token = token_for(&sp, "alice", "ci");
    let listed = sp.ok(&["admin", "token", "list", "--format", "json"]);
    assert!(
        listed.contains("\"ci\"") && !listed.contains(&token),
        "{listed}"
    );
    let database = std::fs::read(sp.data().join("signpost.db")).expect("store file");
    assert!(
        !String::from_utf8_lossy(&database).contains(&token),
        "the token itself is not in the store"
    );
    let server = sp.serve();
    let auth = Auth::Token(token.clone());
    assert_eq!(
        call(&server, &auth, "GET", "/api/v1/domains", None).status,
        200
    );
    let bogus = Auth::Token(format!("{token}x"));
    assert_eq!(
        call(&server, &bogus, "GET", "/api/v1/domains", None).status,
        401
    );
    let second = call(
        &server,
        &auth,
        "POST",
        "/api/v1/administrators/alice/tokens",
        Some(json!({"name": "second"})),
    );
    assert_eq!(second.status, 201);
    let second = Auth::Token(second.body["token"].as_str().unwrap().to_string());
    assert_eq!(
        call(
            &server,
            &second,
            "DELETE",
            "/api/v1/administrators/alice/tokens/ci",
            None
        )
        .status,
        204
    );
    assert_eq!(
        call(&server, &auth, "GET", "/api/v1/domains", None).status,
        401,
        "revoked"
    );
    sp.ok(&["admin", "token", "revoke", "second", "--admin", "alice"]);
    assert_eq!(
        call(&server, &second, "GET", "/api/v1/domains", None).status,
        401
    );
}

fn domain_administrators_see_and_change_only_their_domains() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "add",
        "other.example",
        "--hostname",
        "mail.other.example",
    ]);
    add_admin(&sp, "alice", &[]);
    add_admin(&sp, "bob", &["example.com"]);
    let bob = Auth::Token(token_for(&sp, "bob", "bobs"));
    let server = sp.serve();
    let api =
        |method: &str, path: &str, body: Option<Value>| call(&server, &bob, method, path, body);

    let listed = api("GET", "/api/v1/domains", None);
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["example.com"]);
    assert_eq!(
        api(
            "PATCH",
            "/api/v1/domains/example.com/protocols/imap",
            Some(json!({"port": 143}))
        )
        .status,
        200
    );
    for (method, path, body) in [
        ("GET", "/api/v1/domains/other.example", None),
        (
            "PATCH",
            "/api/v1/domains/other.example/protocols/imap",
            Some(json!({"port": 143})),
        ),
        (
            "POST",
            "/api/v1/domains",
            Some(json!({"name": "new.example", "hostname": "mail.new.example"})),
        ),
        ("DELETE", "/api/v1/domains/example.com", None),
        (
            "POST",
            "/api/v1/users",
            Some(json!({"address": "x@other.example", "password": "pw"})),
        ),
        ("GET", "/api/v1/certificates", None),
        ("GET", "/api/v1/administrators", None),
        ("GET", "/api/v1/requests?domain=other.example", None),
        (
            "POST",
            "/api/v1/administrators/alice/tokens",
            Some(json!({"name": "steal"})),
        ),
    ] {
        let refused = api(method, path, body);
        assert_eq!(refused.status, 403, "{method} {path}: {:?}", refused.body);
        assert_eq!(refused.body["error"], "forbidden");
    }
    assert_eq!(
        api(
            "POST",
            "/api/v1/users",
            Some(json!({"address": "x@example.com", "password": "pw"}))
        )
        .status,
        201
    );
}

fn the_administration_surface_can_live_on_its_own_listener() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "alice", &[]);
    let token = token_for(&sp, "alice", "ops");
    let server = sp.serve_with(&["--admin-listen", "127.0.0.1:0"]);
    let admin = server.admin[0];
    let public = server.send(
        server
            .client
            .get(format!("{}/api/v1/domains", server.base))
            .bearer_auth(&token),
    );
    assert_eq!(public.status, 404, "not on the public listener");
    assert_eq!(server.get("/admin/login", None).status, 404);
    let private = server.send(
        server
            .client
            .get(format!("http://{admin}/api/v1/domains"))
            .bearer_auth(&token),
    );
    assert_eq!(private.status, 200);
    assert!(private.body.contains("example.com"));
    // Discovery stays on the public listener.
    let autodiscover = server.send(
        server
            .client
            .get(format!("http://{admin}/autodiscover/autodiscover.xml")),
    );
    assert_eq!(autodiscover.status, 404);

    // Without the administration surface at all.
    let off = sp.serve_with(&["--no-admin"]);
    assert_eq!(off.get("/api/openapi.json", None).status, 404);
    assert!(off.setup_link.is_none());
}

fn on_https_the_admin_cookie_is_secure_and_browsers_stay_on_https() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "alice", &[]);
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::pki::TestCa::new(dir.path(), "Admin CA");
    sp.add_cert(&ca.issue(
        dir.path(),
        "mail",
        &[
            "mail.example.com",
            "autodiscover.example.com",
            "admin.example.net",
        ],
        -1,
        30,
    ));
    let trusted = crate::tls_client::trusting(&ca.pem);
    let sign_in = |at: std::net::SocketAddr, host: &str| {
        let mut stream = crate::tls_client::connect(trusted.clone(), at, Some(host)).expect("TLS");
        let body = json!({"name": "alice", "password": PASSWORD}).to_string();
        let (status, head, _) = crate::tls_client::exchange(
            &mut stream,
            &format!(
                "POST /api/v1/session HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        assert_eq!(status, 200, "{head}");
        let (_, page, _) = crate::tls_client::exchange(
            &mut stream,
            &format!("GET /admin/login HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        );
        let (_, document, _) = crate::tls_client::exchange(
            &mut stream,
            &format!("GET /api/openapi.json HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        );
        [head, page, document].map(|h| h.to_ascii_lowercase())
    };

    // The administration beside discovery: every name there is a discovery name, and HSTS
    // would bind it (Outlook's plain-http step on autodiscover.<domain> would break), so none.
    let shared = sp.serve_with(&["--listen-tls", "127.0.0.1:0"]);
    for host in ["autodiscover.example.com", "mail.example.com"] {
        let heads = sign_in(shared.https[0], host);
        for head in &heads {
            assert!(
                !head.contains("strict-transport-security"),
                "{host}: {head}"
            );
        }
        let cookie = heads[0]
            .lines()
            .find(|l| l.starts_with("set-cookie:"))
            .expect("cookie");
        assert!(cookie.contains("; secure"), "{cookie}");
    }
    drop(shared);

    // On a listener of its own, under a name of its own: browsers are told to stay on https;
    // a discovery name reaching that listener is still not bound.
    let separate = sp.serve_with(&[
        "--listen-tls",
        "127.0.0.1:0",
        "--admin-listen-tls",
        "127.0.0.1:0",
    ]);
    let admin = separate.admin_tls[0];
    for head in sign_in(admin, "admin.example.net") {
        assert!(
            head.contains("strict-transport-security: max-age=31536000"),
            "{head}"
        );
    }
    for head in sign_in(admin, "mail.example.com") {
        assert!(!head.contains("strict-transport-security"), "{head}");
    }
    // Discovery answers never carry it.
    let mut stream = crate::tls_client::connect(
        crate::tls_client::trusting(&ca.pem),
        separate.https[0],
        Some("autodiscover.example.com"),
    )
    .expect("TLS");
    let (_, head, _) = crate::tls_client::exchange(
        &mut stream,
        "GET /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.example.com\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("strict-transport-security"),
        "{head}"
    );
}

fn the_web_forms_need_a_session_and_their_csrf_token() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "alice", &[]);
    let server = sp.serve();
    let page = server.get("/admin/domains", None);
    assert_eq!(page.status, 303);
    assert_eq!(page.headers["location"], "/admin/login");

    // A sign-in form posted from elsewhere carries no matching cookie.
    let forged = server.send(
        server
            .client
            .post(format!("{}/admin/login", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("csrf", "x"),
                ("name", "alice"),
                ("password", PASSWORD),
            ])),
    );
    // Answered in place, the reason on the page, the name typed kept; no session.
    assert_eq!(forged.status, 403);
    assert!(
        forged.body.contains("the sign-in form expired"),
        "{}",
        forged.body
    );
    assert!(forged.body.contains("value=\"alice\""), "{}", forged.body);
    assert!(
        forged.headers.get_all("set-cookie").iter().all(|c| !c
            .to_str()
            .unwrap_or_default()
            .starts_with("signpost_session")),
        "no session"
    );

    let Auth::Session { cookie, csrf } = session_of(&sign_in(&server, "alice", PASSWORD)) else {
        unreachable!()
    };
    let shown = server.send(
        server
            .client
            .get(format!("{}/admin/domains/example.com", server.base))
            .header("cookie", &cookie),
    );
    assert_eq!(shown.status, 200);
    // The page carries the session's token masked (so compression gives it away to nobody).
    assert!(
        shown.body.contains("name=\"csrf\" value=\""),
        "{}",
        shown.body
    );
    assert!(
        !shown.body.contains(&csrf),
        "the unmasked token on the page"
    );
    assert!(
        shown.body.contains("Override Desktop XML") && shown.body.contains("Override Mobile XML")
    );
    for header in [
        "content-security-policy",
        "x-frame-options",
        "cache-control",
    ] {
        assert!(shown.headers.contains_key(header), "{header}");
    }
    let post = |token: &str| {
        server.send(
            server
                .client
                .post(format!(
                    "{}/admin/domains/example.com/protocols/imap",
                    server.base
                ))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[
                    ("csrf", token),
                    ("port", "143"),
                    ("encryption", "starttls"),
                ])),
        )
    };
    assert_eq!(post("stale").status, 403);
    assert!(
        sp.ok(&["domain", "show", "example.com"]).contains("993"),
        "unchanged"
    );
    let saved = post(&csrf);
    assert_eq!(saved.status, 303);
    let json = sp.ok(&["domain", "show", "example.com", "--format", "json"]);
    let domain: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(domain["protocols"]["imap"]["port"], 143);
    assert_eq!(domain["protocols"]["imap"]["encryption"], "starttls");
    let bad_port = server.send(
        server
            .client
            .post(format!(
                "{}/admin/domains/example.com/protocols/imap",
                server.base
            ))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("port", "70000")])),
    );
    // Refused in place: 422, the reason at the port field, what was typed kept.
    assert_eq!(bad_port.status, 422);
    assert!(
        bad_port.body.contains("id=\"port-imap-error\"")
            && bad_port
                .body
                .contains("&#39;70000&#39; is not a port number"),
        "{}",
        bad_port.body
    );
    assert!(
        bad_port.body.contains("value=\"70000\""),
        "{}",
        bad_port.body
    );
}

fn user_sources_are_changed_by_system_administrators_and_never_show_secrets() {
    let sp = Signpost::new().with_example_domain();
    add_admin(&sp, "root", &[]);
    add_admin(&sp, "dana", &["example.com"]);
    let root = Auth::Token(token_for(&sp, "root", "ops"));
    let dana = Auth::Token(token_for(&sp, "dana", "ops"));
    let server = sp.serve();
    let path = "/api/v1/domains/example.com/user-source";
    assert_eq!(
        call(&server, &root, "GET", path, None).body,
        json!({"kind": "builtin"})
    );

    let ldap = json!({
        "kind": "ldap",
        "url": "ldaps://ldap.example.com",
        "lookup": {"mode": "search", "base": "dc=example,dc=com", "filter": "(mail=%u)",
                   "bind_dn": "cn=reader,dc=example,dc=com", "bind_password": "s3cret-bind"},
    });
    // A domain administrator may look, not change: a directory is a connection to elsewhere.
    assert_eq!(
        call(&server, &dana, "PUT", path, Some(ldap.clone())).status,
        403
    );
    let saved = call(&server, &root, "PUT", path, Some(ldap.clone()));
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["lookup"]["bind_password"], "********");
    let shown = call(&server, &dana, "GET", path, None);
    assert_eq!(shown.body["lookup"]["bind_password"], "********");
    assert!(!shown.body.to_string().contains("s3cret-bind"));
    // Sending the redacted copy back (with a change) keeps the stored secret.
    let mut edited = shown.body.clone();
    edited["display_name_attribute"] = json!("cn");
    // ... but never for another server: the stored password is not sent where it was not given.
    let mut moved = edited.clone();
    moved["url"] = json!("ldaps://elsewhere.example");
    let refused = call(&server, &root, "PUT", path, Some(moved));
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("bind_password"))
    );
    assert_eq!(call(&server, &root, "PUT", path, Some(edited)).status, 200);
    let exported_source = || {
        let export: Value = serde_json::from_str(&sp.ok(&["export"])).unwrap();
        export["user_sources"][0]["source"].clone()
    };
    let stored = exported_source();
    assert_eq!(stored["lookup"]["bind_password"], "s3cret-bind");
    assert_eq!(stored["display_name_attribute"], "cn");

    // Bad settings name their field; unknown fields and kinds are refused; nothing changes.
    let mut bad = ldap.clone();
    bad["lookup"]["filter"] = json!("mail=%u");
    let refused = call(&server, &root, "PUT", path, Some(bad));
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("filter"))
    );
    let unknown = call(
        &server,
        &root,
        "PUT",
        path,
        Some(json!({"kind": "ldap", "uri": "x"})),
    );
    assert_eq!(unknown.status, 400);
    let sql = json!({"kind": "sql", "url": "sqlite:///tmp/x.db", "query": "DELETE FROM users"});
    assert_eq!(
        call(&server, &root, "PUT", path, Some(sql)).body["field"],
        "query"
    );
    assert_eq!(exported_source(), stored);

    // The web page shows it redacted, and its form needs the session's CSRF token.
    add_admin(&sp, "alice", &[]);
    let Auth::Session { cookie, csrf } = session_of(&sign_in(&server, "alice", PASSWORD)) else {
        unreachable!()
    };
    let page = server.send(
        server
            .client
            .get(format!("{}/admin/domains/example.com/users", server.base))
            .header("cookie", &cookie),
    );
    assert!(
        page.body
            .contains("&#34;bind_password&#34;: &#34;********&#34;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("s3cret-bind"));
    let post = |token: &str, source: &str| {
        server.send(
            server
                .client
                .post(format!(
                    "{}/admin/domains/example.com/user-source",
                    server.base
                ))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[("csrf", token), ("source", source)])),
        )
    };
    assert_eq!(post("stale", "").status, 403);
    assert_eq!(call(&server, &root, "GET", path, None).body["kind"], "ldap");
    let refused = post(&csrf, "{not json");
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("id=\"source-error\""),
        "{}",
        refused.body
    );
    assert_eq!(call(&server, &root, "GET", path, None).body["kind"], "ldap");
    // Refused for a reason past the JSON: the box shows the settings as understood, the
    // password just typed masked.
    let typed = r#"{"kind": "ldap", "url": "ftp://ldap.example.com", "lookup": {"mode": "search", "base": "dc=example,dc=com", "filter": "(mail=%u)", "bind_dn": "cn=reader,dc=example,dc=com", "bind_password": "typed-n0w"}}"#;
    let refused = post(&csrf, typed);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"source-error\"")
            && refused.body.contains("ftp://ldap.example.com"),
        "{}",
        refused.body
    );
    assert!(
        !refused.body.contains("typed-n0w"),
        "the typed password on the page"
    );
    let back = post(&csrf, "");
    assert_eq!(back.status, 303);
    assert_eq!(
        call(&server, &root, "GET", path, None).body,
        json!({"kind": "builtin"})
    );
}
