//! The command line: bad input, output formats, help, configuration layering.

use crate::harness::*;

signpost_testkit::tests![
    an_unreachable_database_is_said_at_once_in_the_systems_words,
    bad_input_gets_a_one_line_error_and_changes_nothing,
    listings_are_tables_by_default_and_json_on_request,
    every_command_has_help_with_an_example,
    generate_prints_what_the_server_sends,
    configuration_file_and_environment_are_layered,
];

fn bad_input_gets_a_one_line_error_and_changes_nothing() {
    let sp = Signpost::new().with_example_domain();
    let before_domains = sp.ok(&["domain", "show", "example.com", "--format", "json"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["domain", "show", "nowhere.example"],
            "domain 'nowhere.example' does not exist",
        ),
        (
            &[
                "domain",
                "add",
                "second.example",
                "--hostname",
                "mail example.com",
            ],
            "invalid hostname: 'mail example.com' contains a space",
        ),
        (
            &[
                "domain",
                "add",
                "example.com",
                "--hostname",
                "mail.example.com",
            ],
            "domain 'example.com' already exists",
        ),
        (
            &[
                "protocol",
                "set",
                "example.com",
                "imap",
                "--port",
                "0",
                "--disable",
            ],
            "invalid port: port 0 is not a usable port",
        ),
        (
            &[
                "protocol",
                "set",
                "example.com",
                "eas",
                "--encryption",
                "starttls",
            ],
            "ActiveSync always uses https",
        ),
        (
            &[
                "protocol",
                "set",
                "nowhere.example",
                "imap",
                "--port",
                "143",
            ],
            "domain 'nowhere.example' does not exist",
        ),
        (
            &["user", "add", "not-an-address", "--password-stdin"],
            "invalid address: 'not-an-address' has no @",
        ),
        (
            &["user", "add", "x@nowhere.example", "--password-stdin"],
            "domain 'nowhere.example' does not exist",
        ),
        (
            &["user", "add", "x@example.com", "--password-stdin"],
            "no password on standard input",
        ),
        (
            &["user", "set", "ghost@example.com", "--deny", "pop"],
            "user 'ghost@example.com' does not exist",
        ),
        (
            &[
                "domain",
                "set",
                "example.com",
                "--redirect-to",
                "example.com",
            ],
            "cannot redirect to itself",
        ),
    ];
    for (args, message) in cases {
        let err = sp.fails(args);
        assert!(
            err.contains(message),
            "{args:?}: expected '{message}' in: {err}"
        );
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line, got: {err}"
        );
    }
    let err = sp.fails(&[
        "protocol",
        "set",
        "example.com",
        "imap",
        "--encryption",
        "rot13",
    ]);
    assert!(
        err.contains("'rot13' is not one of ssl, starttls, none"),
        "{err}"
    );
    assert_eq!(
        sp.ok(&["domain", "show", "example.com", "--format", "json"]),
        before_domains,
        "nothing half-written"
    );
    let users: serde_json::Value =
        serde_json::from_str(&sp.ok(&["user", "list", "--format", "json"])).unwrap();
    assert_eq!(users, serde_json::json!([]));
    let domains: serde_json::Value =
        serde_json::from_str(&sp.ok(&["domain", "list", "--format", "json"])).unwrap();
    assert_eq!(domains.as_array().unwrap().len(), 1);
}

fn listings_are_tables_by_default_and_json_on_request() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user(
        "john@example.com",
        "pw",
        &["--display-name", "John Doe", "--deny", "pop"],
    );
    let table = sp.ok(&["user", "list"]);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ADDRESS"));
    assert!(lines.next().unwrap().contains("John Doe"));
    let json: serde_json::Value =
        serde_json::from_str(&sp.ok(&["user", "list", "example.com", "--format", "json"])).unwrap();
    assert_eq!(json[0]["address"], "john@example.com");
    assert_eq!(json[0]["access"]["pop"], false);
    assert!(
        !json.to_string().contains("argon2"),
        "password hashes are never printed"
    );

    let domains: serde_json::Value =
        serde_json::from_str(&sp.ok(&["domain", "list", "--format", "json"])).unwrap();
    assert_eq!(domains[0]["name"], "example.com");
    assert_eq!(domains[0]["users"], 1);
    assert_eq!(domains[0]["protocols"]["smtp"]["port"], 587);

    let shown = sp.ok(&["domain", "show", "example.com"]);
    assert!(
        shown.contains("Hostname:") && shown.contains("mail.example.com"),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("ActiveSync") && l.contains("no") && l.contains("443")),
        "{shown}"
    );
}

fn every_command_has_help_with_an_example() {
    let sp = Signpost::new();
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["domain", "add"],
        &["domain", "list"],
        &["domain", "show"],
        &["domain", "set"],
        &["domain", "remove"],
        &["protocol", "set"],
        &["user", "add"],
        &["user", "list"],
        &["user", "show"],
        &["user", "set"],
        &["user", "passwd"],
        &["user", "remove"],
        &["override", "set"],
        &["override", "on"],
        &["override", "off"],
        &["override", "clear"],
        &["override", "show"],
        &["generate"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = sp.ok(&args);
        assert!(
            help.contains("Example"),
            "{command:?} --help has no example:\n{help}"
        );
    }
}

fn generate_prints_what_the_server_sends() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user(
        "john@example.com",
        "secret",
        &["--display-name", "John Doe"],
    );
    let generated = sp.ok(&[
        "generate",
        "example.com",
        "desktop",
        "--email",
        "john@example.com",
    ]);
    let server = sp.serve();
    let served = server.autodiscover(
        "john@example.com",
        OUTLOOK_SCHEMA,
        Some(("john@example.com", "secret")),
    );
    assert_eq!(generated, served.body);

    let err = sp.fails(&[
        "generate",
        "example.com",
        "mobile",
        "--email",
        "john@example.com",
    ]);
    assert!(err.contains("ActiveSync is off"), "{err}");
    let err = sp.fails(&[
        "generate",
        "example.com",
        "desktop",
        "--email",
        "john@other.example",
    ]);
    assert!(err.contains("is not an address of example.com"), "{err}");

    // With an override on, --with-override shows the custom text; plain generate does not.
    sp.ok_with_stdin(
        &["override", "set", "example.com", "desktop", "--file", "-"],
        "<X>%DisplayName%</X>",
    );
    sp.ok(&["override", "on", "example.com", "desktop"]);
    assert_eq!(
        sp.ok(&[
            "generate",
            "example.com",
            "desktop",
            "--email",
            "john@example.com",
            "--with-override"
        ]),
        "<X>John Doe</X>"
    );
    assert_eq!(
        sp.ok(&[
            "generate",
            "example.com",
            "desktop",
            "--email",
            "john@example.com"
        ]),
        generated
    );
}

fn configuration_file_and_environment_are_layered() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&["domain", "set", "example.com", "--auth", "off"]);
    let config = sp.dir.path().join("signpost.toml");
    std::fs::write(&config, "[server]\nttl_hours = 6\nculture = \"de:de\"\n").unwrap();
    let server = sp.serve_with(&["--config", config.to_str().unwrap()]);
    let answer = server.autodiscover("a@example.com", OUTLOOK_SCHEMA, None);
    assert_eq!(element_text(&answer.body, "TTL"), "6");
    drop(server);

    let server = sp.start_with_env(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
        &[("SIGNPOST_TTL_HOURS", "3")],
    );
    let body = server
        .autodiscover("a@example.com", OUTLOOK_SCHEMA, None)
        .body;
    drop(server);
    assert_eq!(
        element_text(&body, "TTL"),
        "3",
        "environment beats the file"
    );

    std::fs::write(&config, "[server]\nttl_hourz = 6\n").unwrap();
    let err = sp.fails(&["--config", config.to_str().unwrap(), "domain", "list"]);
    assert!(err.contains("ttl_hourz"), "{err}");
}

fn an_unreachable_database_is_said_at_once_in_the_systems_words() {
    // Nothing listens on port 1: the connection is refused, which is what must be said.
    let sp = Signpost::new();
    let out = sp.run(
        &[
            "--database",
            "postgres://signpost:secret@127.0.0.1:1/signpost",
            "domain",
            "list",
        ],
        "",
    );
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert_eq!(
        said.matches("Connection refused").count(),
        1,
        "expected the refusal once, saw: {said}"
    );
    assert!(
        said.contains("127.0.0.1:1")
            && !said.contains("pool timed out")
            && !said.contains("secret"),
        "{said}"
    );
}
