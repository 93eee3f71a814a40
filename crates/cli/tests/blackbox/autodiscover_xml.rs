//! POX Autodiscover: Outlook's desktop answer and the ActiveSync answer.

use crate::harness::*;

signpost_testkit::tests![
    outlook_flow_is_401_then_basic_then_the_desktop_answer,
    login_name_logs_in_and_is_the_login_name_given_to_clients,
    a_password_change_ends_the_remembered_credential,
    authenticated_users_cannot_ask_about_other_addresses,
    service_access_removes_protocols_from_that_users_answer,
    activesync_answer_and_its_601s,
    each_error_code_in_the_exchange_shape,
    domain_redirects_answer_redirect_addr_and_mobile_redirect,
    every_letter_case_of_the_path_is_answered,
    get_without_a_body_is_answered,
    legacy_dn_names_the_user,
    auth_policies_optional_and_off,
    hostile_display_names_come_out_escaped,
    doctype_and_entities_are_refused,
    oversized_bodies_are_refused,
    cli_changes_reach_a_running_server,
    remembered_answers_follow_the_asker_and_the_configuration,
];

const ERROR_XSD: &str = "testdata/reference/xsd/autodiscover/AutodiscoverResponseError.xsd";
const MOBILE_XSD: &str = "testdata/reference/xsd/mobilesync/AutodiscoverResponse.xsd";
pub const DESKTOP_XSD: &str = "schemas/outlook-response.xsd";

fn john() -> Signpost {
    let sp = Signpost::new().with_example_domain();
    sp.add_user(
        "john@example.com",
        "secret",
        &["--display-name", "John Doe"],
    );
    sp
}

fn error_code(answer: &Answer) -> String {
    element_text(&answer.body, "ErrorCode")
}

fn outlook_flow_is_401_then_basic_then_the_desktop_answer() {
    let sp = john();
    let server = sp.serve();

    let first = server.autodiscover("john@example.com", OUTLOOK_SCHEMA, None);
    assert_eq!(first.status, 401);
    let challenge = first.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic realm=\""), "{challenge}");

    let answer = server.autodiscover(
        "john@example.com",
        OUTLOOK_SCHEMA,
        Some(("john@example.com", "secret")),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/xml; charset=utf-8");
    assert_golden("desktop.xml", &answer.body);
    assert_valid(&answer.body, DESKTOP_XSD);
    assert_eq!(element_text(&answer.body, "DisplayName"), "John Doe");
    assert_eq!(
        xpath(
            &answer.body,
            "string(//*[local-name()='Protocol'][*[local-name()='Type']='SMTP']/*[local-name()='Encryption'])"
        ),
        "TLS"
    );

    for (login, password) in [
        ("john@example.com", "wrong"),
        ("nobody@example.com", "secret"),
        ("john", "secret"),
    ] {
        let refused =
            server.autodiscover("john@example.com", OUTLOOK_SCHEMA, Some((login, password)));
        assert_eq!(refused.status, 401, "{login}/{password} must be refused");
    }

    // Remembered credential: the same answer again.
    let again = server.autodiscover(
        "john@example.com",
        OUTLOOK_SCHEMA,
        Some(("JOHN@example.com", "secret")),
    );
    assert_eq!(again.body, answer.body);
}

fn login_name_logs_in_and_is_the_login_name_given_to_clients() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user("jane@example.com", "pw-jane", &["--login-name", "jdoe"]);
    let server = sp.serve();
    let answer = server.autodiscover(
        "jane@example.com",
        OUTLOOK_SCHEMA,
        Some(("jdoe", "pw-jane")),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        count(&answer.body, "//*[local-name()='LoginName'][.='jdoe']"),
        3
    );
}

fn a_password_change_ends_the_remembered_credential() {
    let sp = john();
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));
    assert_eq!(
        server
            .autodiscover("john@example.com", OUTLOOK_SCHEMA, creds)
            .status,
        200
    );
    sp.ok_with_stdin(
        &["user", "passwd", "john@example.com", "--password-stdin"],
        "changed\n",
    );
    server.wait_until(
        "401 for the old password once the change is loaded",
        |s| {
            s.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds)
                .status
        },
        |&status| status == 401,
    );
    assert_eq!(
        server
            .autodiscover(
                "john@example.com",
                OUTLOOK_SCHEMA,
                Some(("john@example.com", "changed"))
            )
            .status,
        200
    );
}

fn authenticated_users_cannot_ask_about_other_addresses() {
    let sp = john();
    sp.add_user("mary@example.com", "mary-pw", &[]);
    let server = sp.serve();
    let answer = server.autodiscover(
        "mary@example.com",
        OUTLOOK_SCHEMA,
        Some(("john@example.com", "secret")),
    );
    assert_eq!(answer.status, 403);
    assert!(
        !answer.body.contains("mary"),
        "no details about the other account"
    );
}

fn service_access_removes_protocols_from_that_users_answer() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&["protocol", "set", "example.com", "ews", "--enable"]);
    sp.add_user("all@example.com", "pw1", &[]);
    sp.add_user(
        "nopop@example.com",
        "pw2",
        &["--deny", "pop", "--deny", "ews"],
    );
    let server = sp.serve();

    let all = server.autodiscover(
        "all@example.com",
        OUTLOOK_SCHEMA,
        Some(("all@example.com", "pw1")),
    );
    assert_valid(&all.body, DESKTOP_XSD);
    let types = xpath(
        &all.body,
        "//*[local-name()='Protocol']/*[local-name()='Type']/text()",
    );
    assert_eq!(
        types.lines().collect::<Vec<_>>(),
        ["IMAP", "POP3", "SMTP", "EXPR"]
    );
    for url in ["EwsUrl", "ASUrl", "OOFUrl"] {
        assert_eq!(
            element_text(&all.body, url),
            "https://mail.example.com/EWS/Exchange.asmx"
        );
    }

    let nopop = server.autodiscover(
        "nopop@example.com",
        OUTLOOK_SCHEMA,
        Some(("nopop@example.com", "pw2")),
    );
    let types = xpath(
        &nopop.body,
        "//*[local-name()='Protocol']/*[local-name()='Type']/text()",
    );
    assert_eq!(types.lines().collect::<Vec<_>>(), ["IMAP", "SMTP"]);

    // Giving POP back shows it again.
    sp.ok(&["user", "set", "nopop@example.com", "--allow", "pop"]);
    server.wait_until(
        "POP3 in the answer again",
        |s| {
            s.autodiscover(
                "nopop@example.com",
                OUTLOOK_SCHEMA,
                Some(("nopop@example.com", "pw2")),
            )
            .body
        },
        |body| count(body, "//*[local-name()='Type'][.='POP3']") == 1,
    );
}

fn activesync_answer_and_its_601s() {
    let sp = john();
    sp.add_user("noeas@example.com", "pw", &["--deny", "eas"]);
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));

    let off = server.autodiscover("john@example.com", MOBILESYNC_SCHEMA, creds);
    assert_eq!(off.status, 200);
    assert_eq!(error_code(&off), "601");
    assert_golden("error-601.xml", &off.body);
    assert_valid(&off.body, ERROR_XSD);
    assert_valid(&off.body, MOBILE_XSD);

    sp.ok(&[
        "protocol",
        "set",
        "example.com",
        "eas",
        "--enable",
        "--host",
        "eas.example.com",
    ]);
    server.wait_until(
        "an ActiveSync answer without an error code",
        |s| s.autodiscover("john@example.com", MOBILESYNC_SCHEMA, creds),
        |answer| error_code(answer).is_empty(),
    );
    let answer = server.autodiscover("john@example.com", MOBILESYNC_SCHEMA, creds);
    assert_golden("mobilesync.xml", &answer.body);
    assert_valid(&answer.body, MOBILE_XSD);
    assert_eq!(
        element_text(&answer.body, "Url"),
        "https://eas.example.com/Microsoft-Server-ActiveSync"
    );
    assert_eq!(element_text(&answer.body, "Culture"), "en:us");

    let denied = server.autodiscover(
        "noeas@example.com",
        MOBILESYNC_SCHEMA,
        Some(("noeas@example.com", "pw")),
    );
    assert_eq!(error_code(&denied), "601", "EAS denied for the user");
}

fn each_error_code_in_the_exchange_shape() {
    let sp = john();
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));

    let malformed = server.post(
        "/autodiscover/autodiscover.xml",
        "<Autodiscover><Request>",
        creds,
    );
    assert_eq!(
        (malformed.status, error_code(&malformed)),
        (200, "600".into())
    );
    assert_golden("error-600.xml", &malformed.body);
    assert_valid(&malformed.body, ERROR_XSD);

    let no_address = server.post(
        "/autodiscover/autodiscover.xml",
        &format!("<Autodiscover><Request><AcceptableResponseSchema>{OUTLOOK_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>"),
        None,
    );
    assert_eq!(error_code(&no_address), "600");

    let bad_address = server.autodiscover("not an address", OUTLOOK_SCHEMA, creds);
    assert_eq!(error_code(&bad_address), "600");

    let schema = server.autodiscover("john@example.com", "http://example.org/other", creds);
    assert_eq!(error_code(&schema), "601");
    assert_valid(&schema.body, ERROR_XSD);

    let not_hosted = server.autodiscover("someone@elsewhere.org", OUTLOOK_SCHEMA, None);
    assert_eq!(error_code(&not_hosted), "500");
    assert_eq!(
        element_text(&not_hosted.body, "Message"),
        "The e-mail address cannot be found."
    );
    assert_golden("error-500.xml", &not_hosted.body);
    assert_valid(&not_hosted.body, ERROR_XSD);

    // Two errors never share an id.
    let again = server.autodiscover("someone@elsewhere.org", OUTLOOK_SCHEMA, None);
    assert_ne!(
        xpath(&again.body, "string(//*[@Id]/@Id)"),
        xpath(&not_hosted.body, "string(//*[@Id]/@Id)")
    );
}

fn domain_redirects_answer_redirect_addr_and_mobile_redirect() {
    let sp = Signpost::new();
    sp.ok(&[
        "domain",
        "add",
        "old.example",
        "--hostname",
        "mail.old.example",
    ]);
    sp.ok(&[
        "domain",
        "set",
        "old.example",
        "--redirect-to",
        "new.example",
    ]);
    let server = sp.serve();

    let desktop = server.autodiscover("ann@old.example", OUTLOOK_SCHEMA, None);
    assert_golden("redirect-desktop.xml", &desktop.body);
    assert_valid(&desktop.body, DESKTOP_XSD);
    assert_eq!(element_text(&desktop.body, "Action"), "redirectAddr");
    assert_eq!(
        element_text(&desktop.body, "RedirectAddr"),
        "ann@new.example"
    );

    let mobile = server.autodiscover("ann@old.example", MOBILESYNC_SCHEMA, None);
    assert_golden("redirect-mobile.xml", &mobile.body);
    assert_valid(&mobile.body, MOBILE_XSD);
    assert_eq!(element_text(&mobile.body, "Redirect"), "ann@new.example");

    sp.ok(&["domain", "set", "old.example", "--no-redirect"]);
    server.wait_until(
        "401 (no redirect) for ann@old.example",
        |s| {
            s.autodiscover("ann@old.example", OUTLOOK_SCHEMA, None)
                .status
        },
        |&status| status == 401,
    );
}

fn every_letter_case_of_the_path_is_answered() {
    let sp = john();
    let server = sp.serve();
    let body = pox_request("john@example.com", OUTLOOK_SCHEMA);
    let canonical = server.post(
        "/autodiscover/autodiscover.xml",
        &body,
        Some(("john@example.com", "secret")),
    );
    for path in [
        "/Autodiscover/Autodiscover.xml",
        "/AutoDiscover/AutoDiscover.xml",
        "/AUTODISCOVER/AUTODISCOVER.XML",
    ] {
        let answer = server.post(path, &body, Some(("john@example.com", "secret")));
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.body, canonical.body, "{path}");
    }
    assert_eq!(server.get("/autodiscover/other.xml", None).status, 404);
}

fn get_without_a_body_is_answered() {
    let sp = john();
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));

    let by_query = server.get(
        "/autodiscover/autodiscover.xml?Email=john%40example.com",
        creds,
    );
    assert_eq!(by_query.status, 200);
    assert_eq!(
        element_text(&by_query.body, "AutoDiscoverSMTPAddress"),
        "john@example.com"
    );
    assert_valid(&by_query.body, DESKTOP_XSD);

    let by_login = server.get("/autodiscover/autodiscover.xml", creds);
    assert_eq!(
        by_login.body, by_query.body,
        "the authenticated user's own address"
    );

    assert_eq!(
        server
            .get(
                "/autodiscover/autodiscover.xml?Email=john%40example.com",
                None
            )
            .status,
        401
    );
    let nothing = server.get("/autodiscover/autodiscover.xml", None);
    assert_eq!(error_code(&nothing), "600");
}

fn legacy_dn_names_the_user() {
    let sp = john();
    let server = sp.serve();
    let body = format!(
        "<Autodiscover><Request><LegacyDN>/o=Signpost/ou=example.com/cn=Recipients/cn=john</LegacyDN>\
         <AcceptableResponseSchema>{OUTLOOK_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>"
    );
    let answer = server.post(
        "/autodiscover/autodiscover.xml",
        &body,
        Some(("john@example.com", "secret")),
    );
    assert_eq!(
        element_text(&answer.body, "AutoDiscoverSMTPAddress"),
        "john@example.com"
    );
}

fn auth_policies_optional_and_off() {
    let sp = john();
    sp.ok(&[
        "domain",
        "add",
        "open.example",
        "--hostname",
        "mail.open.example",
        "--auth",
        "off",
    ]);
    sp.ok(&["domain", "set", "example.com", "--auth", "optional"]);
    sp.add_user(
        "pat@open.example",
        "pw",
        &["--display-name", "Pat", "--deny", "pop"],
    );
    let server = sp.serve();

    let anonymous = server.autodiscover("john@example.com", OUTLOOK_SCHEMA, None);
    assert_eq!(anonymous.status, 200);
    assert_eq!(
        element_text(&anonymous.body, "DisplayName"),
        "john@example.com",
        "no personal data without a password"
    );
    let signed_in = server.autodiscover(
        "john@example.com",
        OUTLOOK_SCHEMA,
        Some(("john@example.com", "secret")),
    );
    assert_eq!(element_text(&signed_in.body, "DisplayName"), "John Doe");
    assert_eq!(
        server
            .autodiscover(
                "john@example.com",
                OUTLOOK_SCHEMA,
                Some(("john@example.com", "bad"))
            )
            .status,
        401
    );

    let off = server.autodiscover(
        "pat@open.example",
        OUTLOOK_SCHEMA,
        Some(("pat@open.example", "wrong")),
    );
    assert_eq!(off.status, 200, "credentials are ignored when auth is off");
    assert_eq!(
        count(&off.body, "//*[local-name()='Type'][.='POP3']"),
        0,
        "service access still applies"
    );
    let unknown = server.autodiscover("who@open.example", OUTLOOK_SCHEMA, None);
    assert_eq!(
        count(&unknown.body, "//*[local-name()='Type'][.='POP3']"),
        1
    );
}

fn hostile_display_names_come_out_escaped() {
    let sp = Signpost::new().with_example_domain();
    let hostile = "<b>Eve & \"Co\" 'x' ]]> </Autodiscover>";
    sp.add_user("eve@example.com", "pw", &["--display-name", hostile]);
    sp.ok(&["protocol", "set", "example.com", "eas", "--enable"]);
    let server = sp.serve();
    for schema in [OUTLOOK_SCHEMA, MOBILESYNC_SCHEMA] {
        let answer =
            server.autodiscover("eve@example.com", schema, Some(("eve@example.com", "pw")));
        assert!(!answer.body.contains("]]>"), "{}", answer.body);
        assert_eq!(
            element_text(&answer.body, "DisplayName"),
            hostile,
            "parsed back, the name is intact"
        );
    }
}

fn doctype_and_entities_are_refused() {
    let sp = john();
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\
         <Autodiscover><Request><EMailAddress>&lol2;</EMailAddress><AcceptableResponseSchema>{OUTLOOK_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>"
    );
    let external = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
         <Autodiscover><Request><EMailAddress>&xxe;</EMailAddress><AcceptableResponseSchema>{OUTLOOK_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>"
    );
    let undeclared = format!(
        "<Autodiscover><Request><EMailAddress>&xxe;</EMailAddress><AcceptableResponseSchema>{OUTLOOK_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>"
    );
    for body in [laughs, external, undeclared] {
        let answer = server.post("/autodiscover/autodiscover.xml", &body, creds);
        assert_eq!(error_code(&answer), "600", "{body}");
        assert!(!answer.body.contains("root:"));
    }
}

fn oversized_bodies_are_refused() {
    let sp = john();
    let server = sp.serve();
    let padding = format!("<!--{}-->", "x".repeat(70 * 1024));
    let body = format!(
        "{}{padding}",
        pox_request("john@example.com", OUTLOOK_SCHEMA)
    );
    let declared = server.post("/autodiscover/autodiscover.xml", &body, None);
    assert_eq!(declared.status, 413);

    // Chunked, with no Content-Length to refuse up front.
    let chunked = server.send(
        server
            .client
            .post(format!("{}/autodiscover/autodiscover.xml", server.base))
            .body(reqwest::blocking::Body::new(std::io::Cursor::new(
                body.into_bytes(),
            ))),
    );
    assert_eq!(chunked.status, 413);

    // 60 KiB is within the limit.
    let padding = format!("<!--{}-->", "x".repeat(60 * 1024));
    let body = format!(
        "{}{padding}",
        pox_request("john@example.com", OUTLOOK_SCHEMA)
    );
    assert_eq!(
        server
            .post(
                "/autodiscover/autodiscover.xml",
                &body,
                Some(("john@example.com", "secret"))
            )
            .status,
        200
    );
}

fn cli_changes_reach_a_running_server() {
    let sp = john();
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));
    let imap_port = |s: &Server| {
        let a = s.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds);
        xpath(
            &a.body,
            "string(//*[local-name()='Protocol'][*[local-name()='Type']='IMAP']/*[local-name()='Port'])",
        )
    };
    assert_eq!(imap_port(&server), "993");
    sp.ok(&[
        "protocol",
        "set",
        "example.com",
        "imap",
        "--port",
        "143",
        "--encryption",
        "starttls",
    ]);
    server.wait_until("IMAP on port 143", imap_port, |port| port == "143");
    let answer = server.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds);
    assert_eq!(
        xpath(
            &answer.body,
            "string(//*[local-name()='Protocol'][*[local-name()='Type']='IMAP']/*[local-name()='Encryption'])"
        ),
        "TLS"
    );
    sp.ok(&["domain", "remove", "example.com"]);
    server.wait_until(
        "error code 500 once the domain is removed",
        |s| error_code(&s.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds)),
        |code| code == "500",
    );
}

fn remembered_answers_follow_the_asker_and_the_configuration() {
    let sp = john();
    sp.ok(&["domain", "set", "example.com", "--auth", "optional"]);
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));
    let shown = |s: &Server, creds| {
        element_text(
            &s.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds)
                .body,
            "DisplayName",
        )
    };
    // Alternating askers: each gets its own answer, however often the same bytes arrive.
    for _ in 0..3 {
        assert_eq!(shown(&server, None), "john@example.com");
        assert_eq!(shown(&server, creds), "John Doe");
    }
    let metrics = server.get("/metrics", None).body;
    let hits = |memo: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "signpost_memo_lookups_total{{memo=\"{memo}\",result=\"hit\"}} "
                ))
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {memo} hits in\n{metrics}"))
    };
    assert_eq!(hits("answers"), 4.0, "two answers written, four remembered");
    assert_eq!(
        hits("pox_requests"),
        5.0,
        "one body parsed, five remembered"
    );

    // A change of configuration is a new version: nothing remembered from before applies.
    server.after_change(|| {
        sp.ok(&[
            "user",
            "set",
            "john@example.com",
            "--display-name",
            "John Q. Doe",
        ]);
    });
    assert_eq!(shown(&server, creds), "John Q. Doe");

    // Without the memo, the same answers.
    let plain = sp.serve_with(&["--answer-cache-entries", "0"]);
    assert_eq!(shown(&plain, None), "john@example.com");
    assert_eq!(shown(&plain, creds), "John Q. Doe");
}
