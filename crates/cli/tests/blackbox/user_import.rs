//! Users brought with the hashes real tools made (testdata/password-hashes: doveadm, htpasswd,
//! mkpasswd): imported from a Dovecot passwd-file and a CSV file, then signing in to Outlook's
//! autodiscover with their old passwords; weak schemes only when allowed.

use crate::harness::*;

signpost_testkit::tests![imported_users_sign_in_with_their_old_passwords,];

/// The hash `tool` made of `password` in the checked-in vectors.
pub fn vector(tool: &str, password: &str) -> String {
    let vectors =
        std::fs::read_to_string(workspace_root().join("testdata/password-hashes/vectors.tsv"))
            .expect("vectors");
    vectors
        .lines()
        .find_map(|line| {
            let mut fields = line.splitn(3, '\t');
            (fields.next() == Some(tool) && fields.next() == Some(password))
                .then(|| fields.next().unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("no vector from {tool}"))
}

const PASSWORD: &str = "correct horse";

fn signs_in(server: &Server, address: &str, password: &str) -> u16 {
    server
        .autodiscover(address, OUTLOOK_SCHEMA, Some((address, password)))
        .status
}

fn imported_users_sign_in_with_their_old_passwords() {
    let sp = Signpost::new().with_example_domain();
    let passwd = sp.dir.path().join("users");
    std::fs::write(
        &passwd,
        format!(
            "# from /etc/dovecot/users\njo:{}:1000:1000:Jo Doe::\nann@example.com:{}:::::\nbob:{}\n",
            vector("doveadm pw -s SHA512-CRYPT", PASSWORD),
            vector("doveadm pw -s BLF-CRYPT", PASSWORD),
            vector("doveadm pw -s PLAIN", PASSWORD),
        ),
    )
    .unwrap();
    let file = passwd.to_str().unwrap();
    // A weak scheme refuses the whole file, naming the line; nothing is imported.
    let refused = sp.fails(&[
        "user",
        "import",
        "example.com",
        "--from",
        "passwd-file",
        file,
    ]);
    assert!(
        refused.contains("line 4") && refused.contains("--allow-weak"),
        "{refused}"
    );
    assert!(!sp.ok(&["user", "list"]).contains("jo@example.com"));
    let out = sp.run(
        &[
            "user",
            "import",
            "example.com",
            "--from",
            "passwd-file",
            file,
            "--allow-weak",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("weak scheme"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 3 users"));

    let csv = sp.dir.path().join("users.csv");
    std::fs::write(
        &csv,
        format!(
            "address,password_hash,display_name,deny\nkim@example.com,{},\"Kim, from htpasswd\",pop\nlee@example.com,{},,\n",
            vector("htpasswd -B", PASSWORD),
            vector("mkpasswd -m sha-256 -R 10000", PASSWORD),
        ),
    )
    .unwrap();
    sp.ok(&[
        "user",
        "import",
        "example.com",
        "--from",
        "csv",
        csv.to_str().unwrap(),
    ]);

    let server = sp.serve();
    for address in [
        "jo@example.com",
        "ann@example.com",
        "kim@example.com",
        "lee@example.com",
    ] {
        assert_eq!(signs_in(&server, address, PASSWORD), 200, "{address}");
        assert_eq!(signs_in(&server, address, "wrong"), 401, "{address}");
    }
    let kim = server.autodiscover(
        "kim@example.com",
        OUTLOOK_SCHEMA,
        Some(("kim@example.com", PASSWORD)),
    );
    assert!(kim.body.contains("Kim, from htpasswd"));
    assert!(
        !kim.body.contains("<Type>POP3</Type>"),
        "POP denied in the CSV"
    );
    let jo = server.autodiscover(
        "jo@example.com",
        OUTLOOK_SCHEMA,
        Some(("jo@example.com", PASSWORD)),
    );
    assert!(
        jo.body.contains("<DisplayName>Jo Doe</DisplayName>"),
        "GECOS: {}",
        jo.body
    );
    // The plain-text user is refused by a server that does not allow weak schemes...
    assert_eq!(signs_in(&server, "bob@example.com", PASSWORD), 401);
    drop(server);
    // ... and accepted by one that does.
    let lenient = sp.serve_with(&["--allow-weak-password-schemes"]);
    assert_eq!(signs_in(&lenient, "bob@example.com", PASSWORD), 200);

    // `user test` says what answered, never echoing the password.
    let tested = sp.ok_with_stdin(
        &["user", "test", "jo@example.com", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        tested.contains("SHA512-CRYPT") && tested.contains("matches"),
        "{tested}"
    );
    assert!(
        tested.contains("built-in store") && !tested.contains(PASSWORD),
        "{tested}"
    );
    let wrong = sp.run(
        &["user", "test", "jo@example.com", "--password-stdin"],
        "nope\n",
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("DOES NOT MATCH"));
    let weak = sp.ok_with_stdin(
        &["user", "test", "bob@example.com", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(weak.contains("PLAIN (weak"), "{weak}");
}
