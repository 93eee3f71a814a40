//! The seed's override semantics, case by case, as clients see them.

use crate::autodiscover_xml::DESKTOP_XSD;
use crate::harness::*;

signpost_testkit::tests![
    desktop_override_follows_the_seed,
    mobile_override_replaces_only_the_activesync_answer,
    malformed_override_text_is_saved_with_a_warning,
    the_template_keeps_the_variables_and_each_user_gets_their_own_values,
];

const CUSTOM: &str = "<Custom><Mail>%EmailAddress%</Mail><B64>%Base64EmailAddress%</B64><Name>%DisplayName%</Name><Dn>%LegacyDN%</Dn><Keep>%Other%</Keep></Custom>";

fn setup() -> (Signpost, std::path::PathBuf) {
    let sp = Signpost::new().with_example_domain();
    sp.add_user(
        "john@example.com",
        "secret",
        &["--display-name", "John <&> Doe"],
    );
    let file = sp.dir.path().join("custom.xml");
    std::fs::write(&file, CUSTOM).unwrap();
    (sp, file)
}

fn desktop_override_follows_the_seed() {
    let (sp, file) = setup();
    let file = file.to_str().unwrap();
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));
    let ask = |s: &Server| s.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds);
    let generated = ask(&server).body;
    assert!(generated.contains("<Type>IMAP</Type>"));

    // Override on, nothing ever saved: the generated answer.
    server.after_change(|| {
        sp.ok(&["override", "on", "example.com", "desktop"]);
    });
    assert_eq!(ask(&server).body, generated);

    // Text saved while on: that text, variables replaced and escaped.
    let out = sp.ok(&["override", "set", "example.com", "desktop", "--file", file]);
    assert!(out.contains("is sent"), "{out}");
    let expected = "<Custom><Mail>john@example.com</Mail><B64>am9obkBleGFtcGxlLmNvbQ==</B64>\
<Name>John &lt;&amp;&gt; Doe</Name><Dn>/o=Signpost/ou=example.com/cn=Recipients/cn=john</Dn><Keep>%Other%</Keep></Custom>";
    server.wait_until(
        "the override with its variables filled",
        |s| ask(s).body,
        |body| *body == expected,
    );
    assert_eq!(ask(&server).content_type, "text/xml; charset=utf-8");

    // Blank text saved: a blank answer.
    sp.ok_with_stdin(
        &["override", "set", "example.com", "desktop", "--file", "-"],
        "",
    );
    server.wait_until("an empty 200 answer", ask, |a| {
        a.status == 200 && a.body.is_empty()
    });

    // Off: generated again, though the text is kept.
    sp.ok(&["override", "off", "example.com", "desktop"]);
    server.wait_until(
        "the generated answer again",
        |s| ask(s).body,
        |body| *body == generated,
    );
    let shown = sp.ok(&[
        "override",
        "show",
        "example.com",
        "desktop",
        "--format",
        "json",
    ]);
    let state: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(state["enabled"], false);
    assert_eq!(state["text"], "");

    // Cleared and on: nothing saved any more, so generated.
    server.after_change(|| {
        sp.ok(&["override", "clear", "example.com", "desktop"]);
        sp.ok(&["override", "on", "example.com", "desktop"]);
    });
    assert_eq!(ask(&server).body, generated);
}

fn mobile_override_replaces_only_the_activesync_answer() {
    let (sp, file) = setup();
    sp.ok(&["protocol", "set", "example.com", "eas", "--enable"]);
    sp.ok(&[
        "override",
        "set",
        "example.com",
        "mobile",
        "--file",
        file.to_str().unwrap(),
    ]);
    sp.ok(&["override", "on", "example.com", "mobile"]);
    let server = sp.serve();
    let creds = Some(("john@example.com", "secret"));
    let mobile = server.autodiscover("john@example.com", MOBILESYNC_SCHEMA, creds);
    assert!(
        mobile
            .body
            .starts_with("<Custom><Mail>john@example.com</Mail>"),
        "{}",
        mobile.body
    );
    let desktop = server.autodiscover("john@example.com", OUTLOOK_SCHEMA, creds);
    assert!(
        desktop.body.contains("<Type>IMAP</Type>"),
        "desktop is still generated"
    );

    // An override never turns ActiveSync on for someone it is off for.
    sp.ok(&["user", "set", "john@example.com", "--deny", "eas"]);
    server.wait_until(
        "error code 601 once ActiveSync is denied",
        |s| {
            element_text(
                &s.autodiscover("john@example.com", MOBILESYNC_SCHEMA, creds)
                    .body,
                "ErrorCode",
            )
        },
        |code| code == "601",
    );
}

fn malformed_override_text_is_saved_with_a_warning() {
    let (sp, _) = setup();
    let out = sp.run(
        &["override", "set", "example.com", "desktop", "--file", "-"],
        "<Broken>",
    );
    assert!(out.status.success());
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.contains("not well-formed XML"), "{warning}");
    let err = sp.fails(&[
        "override",
        "set",
        "example.com",
        "desktop",
        "--file",
        "/nonexistent/file.xml",
    ]);
    assert!(err.contains("cannot open /nonexistent/file.xml"), "{err}");
}

/// The seed's Generate: the answer with the variables in place of any one user's values, valid
/// XML; saved as the override, every user gets their own name and address.
fn the_template_keeps_the_variables_and_each_user_gets_their_own_values() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user(
        "alice@example.com",
        "alice pw",
        &["--display-name", "Alice Anders"],
    );
    sp.add_user(
        "bob@example.com",
        "bob pw",
        &["--display-name", "Bob <Builder>"],
    );
    let template = sp.ok(&["override", "template", "example.com", "desktop"]);
    for variable in ["%EmailAddress%", "%DisplayName%", "%LegacyDN%"] {
        assert!(template.contains(variable), "no {variable} in:\n{template}");
    }
    for someone in ["alice", "Alice", "bob", "Bob", "@example.com</"] {
        assert!(
            !template.contains(someone),
            "{someone} in the template:\n{template}"
        );
    }
    // Valid XML, and the Outlook schema's answer once the variables are filled.
    let filled = template
        .replace("%EmailAddress%", "someone@example.com")
        .replace("%DisplayName%", "Someone")
        .replace(
            "%LegacyDN%",
            "/o=Signpost/ou=example.com/cn=Recipients/cn=someone",
        )
        .replace("%Base64EmailAddress%", "c29tZW9uZUBleGFtcGxlLmNvbQ==");
    assert_valid(&filled, DESKTOP_XSD);
    let json: serde_json::Value = serde_json::from_str(&sp.ok(&[
        "override",
        "template",
        "example.com",
        "desktop",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        json["text"].as_str().unwrap_or_default().trim_end(),
        template.trim_end()
    );

    let file = sp.dir.path().join("template.xml");
    std::fs::write(&file, &template).unwrap();
    sp.ok(&[
        "override",
        "set",
        "example.com",
        "desktop",
        "--file",
        file.to_str().unwrap(),
    ]);
    sp.ok(&["override", "on", "example.com", "desktop"]);
    let server = sp.serve();
    let alice = server.autodiscover(
        "alice@example.com",
        OUTLOOK_SCHEMA,
        Some(("alice@example.com", "alice pw")),
    );
    let bob = server.autodiscover(
        "bob@example.com",
        OUTLOOK_SCHEMA,
        Some(("bob@example.com", "bob pw")),
    );
    assert_eq!(
        element_text(&alice.body, "DisplayName"),
        "Alice Anders",
        "{}",
        alice.body
    );
    assert_eq!(
        element_text(&bob.body, "DisplayName"),
        "Bob <Builder>",
        "{}",
        bob.body
    );
    assert!(
        alice
            .body
            .contains("<LoginName>alice@example.com</LoginName>")
            && !alice.body.contains("bob"),
        "{}",
        alice.body
    );
    assert!(
        bob.body.contains("<LoginName>bob@example.com</LoginName>") && !bob.body.contains("alice"),
        "{}",
        bob.body
    );
    assert!(
        bob.body.contains("Bob &lt;Builder&gt;"),
        "escaped: {}",
        bob.body
    );
    assert_valid(&bob.body, DESKTOP_XSD);
}
