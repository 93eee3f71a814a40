//! Thunderbird autoconfig: every path and host form, placeholders, no address probing, the real
//! parsers' rules, and the draft's schema.

use crate::discovery_client;
use crate::harness::*;

signpost_testkit::tests![
    every_path_and_host_form_gives_the_same_answer,
    placeholders_order_and_parser_rules,
    a_real_autoconfig_client_reads_it,
    unknown_domains_and_unusable_configurations_get_404,
    hostile_names_are_escaped_and_generate_matches,
];

const RNG: &str = "testdata/reference/autoconfig-draft/autoconfig.rng";

fn hosting() -> Signpost {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "set",
        "example.com",
        "--display-name",
        "Example Mail",
        "--short-name",
        "Example",
        "--alias",
        "example.net",
        "--webmail-url",
        "https://webmail.example.com/",
        "--caldav-url",
        "https://dav.example.com/cal/",
        "--carddav-url",
        "https://dav.example.com/card/",
        "--documentation-url",
        "https://help.example.com/mail",
    ]);
    // IMAP offered with STARTTLS first by the administrator, implicit TLS added after.
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
    sp.ok(&[
        "protocol",
        "add-endpoint",
        "example.com",
        "imap",
        "--port",
        "993",
        "--encryption",
        "ssl",
    ]);
    sp.ok(&[
        "protocol",
        "add-endpoint",
        "example.com",
        "smtp",
        "--port",
        "465",
        "--encryption",
        "ssl",
    ]);
    sp.add_user(
        "john@example.com",
        "secret",
        &["--deny", "pop", "--login-name", "jdoe"],
    );
    sp
}

fn every_path_and_host_form_gives_the_same_answer() {
    let sp = hosting();
    let server = sp.serve();
    let reference = server.get(
        "/mail/config-v1.1.xml?emailaddress=john%40example.com",
        None,
    );
    assert_eq!(reference.status, 200);
    assert_eq!(reference.content_type, "text/xml; charset=utf-8");
    assert_golden("autoconfig.xml", &reference.body);
    assert_valid_relaxng(&reference.body, RNG);

    let forms = [
        (
            "127.0.0.1",
            "/mail/config-v1.1.xml?emailaddress=john@example.com",
        ),
        (
            "127.0.0.1",
            "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=john%40example.com",
        ),
        (
            "127.0.0.1",
            "/v1.1/mail/config-v1.1.xml?emailaddress=john%40example.com",
        ),
        (
            "127.0.0.1",
            "/MAIL/Config-v1.1.xml?EmailAddress=john%40example.com",
        ),
        ("autoconfig.example.com", "/mail/config-v1.1.xml"),
        (
            "example.com",
            "/.well-known/autoconfig/mail/config-v1.1.xml",
        ),
        ("mail.example.com", "/mail/config-v1.1.xml"),
        ("autoconfig.example.net:8080", "/mail/config-v1.1.xml"),
        // No probing: an unknown address, a user with POP denied, no address at all.
        (
            "127.0.0.1",
            "/mail/config-v1.1.xml?emailaddress=nobody%40example.com",
        ),
        (
            "127.0.0.1",
            "/mail/config-v1.1.xml?emailaddress=someone%2Btag%40example.net",
        ),
    ];
    for (host, path) in forms {
        let answer = server.get_as(host, path);
        assert_eq!(answer.status, 200, "{host}{path}");
        assert_eq!(answer.body, reference.body, "{host}{path}");
    }
    // Credentials are neither needed nor used.
    let with_credentials = server.get(
        "/mail/config-v1.1.xml?emailaddress=john%40example.com",
        Some(("john@example.com", "secret")),
    );
    assert_eq!(with_credentials.body, reference.body);
}

fn placeholders_order_and_parser_rules() {
    let sp = hosting();
    let server = sp.serve();
    let body = server
        .get_as("autoconfig.example.com", "/mail/config-v1.1.xml")
        .body;
    assert_eq!(element_text(&body, "username"), "%EMAILADDRESS%");
    // Same-named siblings adjacent, imap before pop3, implicit TLS before STARTTLS.
    let incoming = xpath(&body, "//incomingServer/@type");
    assert_eq!(incoming, " type=\"imap\"\n type=\"imap\"\n type=\"pop3\"");
    let imap_ports = xpath(&body, "//incomingServer[@type='imap']/port/text()");
    assert_eq!(imap_ports, "993\n143");
    assert_eq!(
        xpath(&body, "//outgoingServer/socketType/text()"),
        "SSL\nSTARTTLS"
    );
    assert_siblings_adjacent(&element_names_at(&body, "  "));
    let provider_start = body.find("<emailProvider").unwrap();
    let provider_end = body.find("</emailProvider>").unwrap();
    assert_siblings_adjacent(&element_names_at(
        &body[provider_start..provider_end],
        "    ",
    ));
    assert_eq!(element_text(&body, "displayShortName"), "Example");
    assert_eq!(
        xpath(&body, "string(/clientConfig/emailProvider/@id)"),
        "example.com"
    );
    assert_eq!(
        xpath(&body, "//emailProvider/domain/text()"),
        "example.com\nexample.net"
    );
    assert_eq!(
        xpath(&body, "string(//calendar[@type='caldav']/url)"),
        "https://dav.example.com/cal/"
    );
    assert_eq!(
        xpath(&body, "string(//addressbook[@type='carddav']/url)"),
        "https://dav.example.com/card/"
    );
    assert_eq!(
        xpath(&body, "string(//webMail/loginPage/@url)"),
        "https://webmail.example.com/"
    );
    assert_eq!(
        xpath(&body, "string(//documentation/@url)"),
        "https://help.example.com/mail"
    );
}

fn a_real_autoconfig_client_reads_it() {
    let sp = hosting();
    let server = sp.serve();
    for url in [
        "http://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=john@example.com",
        "http://example.net/.well-known/autoconfig/mail/config-v1.1.xml",
    ] {
        let config =
            discovery_client::autoconfig(url, server.addr).unwrap_or_else(|e| panic!("{url}: {e}"));
        let provider = &config.email_provider;
        assert_eq!(provider.id, "example.com");
        assert_eq!(provider.domain, ["example.com", "example.net"]);
        assert_eq!(provider.incoming_server.len(), 3);
        assert_eq!(provider.outgoing_server.len(), 2);
        let first = &provider.incoming_server[0];
        assert_eq!(first.port, Some(993));
        assert_eq!(first.hostname.as_deref(), Some("mail.example.com"));
        assert_eq!(format!("{:?}", first.socket_type), "Some(Tls)");
        assert_eq!(format!("{:?}", first.authentication), "[PasswordCleartext]");
    }
}

fn unknown_domains_and_unusable_configurations_get_404() {
    let sp = Signpost::new().with_example_domain();
    let server = sp.serve();
    assert_eq!(
        server
            .get("/mail/config-v1.1.xml?emailaddress=a%40elsewhere.org", None)
            .status,
        404
    );
    assert_eq!(
        server
            .get_as("autoconfig.elsewhere.org", "/mail/config-v1.1.xml")
            .status,
        404
    );
    assert_eq!(
        server.get_as("127.0.0.1", "/mail/config-v1.1.xml").status,
        404
    );
    sp.ok(&["protocol", "set", "example.com", "smtp", "--disable"]);
    // A configuration without SMTP is refused by Thunderbird and K-9, so none is served.
    server.wait_until(
        "404 for autoconfig once SMTP is off",
        |s| {
            s.get("/mail/config-v1.1.xml?emailaddress=a%40example.com", None)
                .status
        },
        |&status| status == 404,
    );
}

fn hostile_names_are_escaped_and_generate_matches() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "set",
        "example.com",
        "--display-name",
        "<b>&\"Ex\"]]>",
        "--short-name",
        "'x'<",
    ]);
    let server = sp.serve();
    let body = server
        .get("/mail/config-v1.1.xml?emailaddress=a%40example.com", None)
        .body;
    assert_eq!(element_text(&body, "displayName"), "<b>&\"Ex\"]]>");
    assert_eq!(element_text(&body, "displayShortName"), "'x'<");
    assert_valid_relaxng(&body, RNG);
    let generated = sp.ok(&[
        "generate",
        "example.com",
        "autoconfig",
        "--email",
        "a@example.com",
    ]);
    assert_eq!(generated, body);
}

/// The names of the elements that open at exactly `indent` (the writer indents by depth).
fn element_names_at(body: &str, indent: &str) -> Vec<String> {
    body.lines()
        .filter_map(|line| line.strip_prefix(indent))
        .filter_map(|rest| rest.strip_prefix('<'))
        .filter(|rest| !rest.starts_with('/'))
        .map(|rest| {
            rest.split([' ', '>', '/'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn assert_siblings_adjacent(names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        let last = names.iter().rposition(|n| n == name).unwrap_or(i);
        assert!(
            names[i..=last].iter().all(|n| n == name),
            "<{name}> siblings are not adjacent: {names:?}"
        );
    }
}
