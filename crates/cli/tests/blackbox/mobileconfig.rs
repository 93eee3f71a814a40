//! Apple configuration profiles: shape, stable UUIDs, service access with credentials, ActiveSync
//! and DAV payloads, signing checked by OpenSSL, and the HTML form with its QR code.

use std::path::{Path, PathBuf};

use crate::harness::*;

signpost_testkit::tests![
    profile_shape_and_stable_uuids,
    credentials_make_it_the_users_own,
    activesync_and_dav_payloads,
    signed_profiles_verify_with_openssl,
    the_form_page_offers_a_link_and_a_qr_code,
];

const PROFILE: &str = "/mobileconfig?emailaddress=john%40example.com";

/// The value following `<key>KEY</key>` inside the payload of type `payload_type`.
fn payload_value(plist: &str, payload_type: &str, key: &str) -> String {
    xpath(
        plist,
        &format!(
            "string(//dict[key='PayloadType' and string='{payload_type}']/key[.='{key}']/following-sibling::*[1])"
        ),
    )
}

fn payload_bool(plist: &str, payload_type: &str, key: &str) -> String {
    xpath(
        plist,
        &format!(
            "local-name(//dict[key='PayloadType' and string='{payload_type}']/key[.='{key}']/following-sibling::*[1])"
        ),
    )
}

fn john() -> Signpost {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "set",
        "example.com",
        "--display-name",
        "Example Mail",
    ]);
    sp.add_user(
        "john@example.com",
        "secret",
        &["--display-name", "John Doe", "--deny", "imap"],
    );
    sp
}

fn profile_shape_and_stable_uuids() {
    let sp = john();
    let server = sp.serve();
    let answer = server.get(PROFILE, None);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/x-apple-aspen-config");
    assert_eq!(
        answer.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"example.com.mobileconfig\""
    );
    let plist = &answer.body;
    assert_golden("profile.mobileconfig", plist);
    assert_eq!(
        xpath(
            plist,
            "string(/plist/dict/key[.='PayloadType']/following-sibling::string[1])"
        ),
        "Configuration"
    );
    let mail = "com.apple.mail.managed";
    // Without credentials the domain's settings: IMAP, though John may not use it.
    assert_eq!(
        payload_value(plist, mail, "EmailAccountType"),
        "EmailTypeIMAP"
    );
    assert_eq!(
        payload_value(plist, mail, "IncomingMailServerHostName"),
        "mail.example.com"
    );
    assert_eq!(
        payload_value(plist, mail, "IncomingMailServerPortNumber"),
        "993"
    );
    assert_eq!(
        payload_bool(plist, mail, "IncomingMailServerUseSSL"),
        "true"
    );
    assert_eq!(
        payload_value(plist, mail, "OutgoingMailServerPortNumber"),
        "587"
    );
    assert_eq!(
        payload_bool(plist, mail, "OutgoingMailServerUseSSL"),
        "true",
        "STARTTLS is UseSSL too"
    );
    assert_eq!(
        payload_value(plist, mail, "IncomingMailServerUsername"),
        "john@example.com"
    );
    assert_eq!(
        payload_value(plist, mail, "EmailAccountName"),
        "",
        "no personal data without a password"
    );
    assert!(
        !plist.contains("Password</key>\n        <string>"),
        "no password"
    );
    assert_eq!(
        count(
            plist,
            "//key[contains(., 'Password') and not(contains(., 'SameAs'))]"
        ),
        0
    );

    let again = server.get(PROFILE, None).body;
    assert_eq!(
        &again, plist,
        "the same address gets the same profile, UUIDs included"
    );
    let other = server
        .get("/mobileconfig?emailaddress=mary%40example.com", None)
        .body;
    let uuids = |p: &str| {
        xpath(
            p,
            "//key[.='PayloadUUID']/following-sibling::string[1]/text()",
        )
    };
    assert_ne!(uuids(&other), uuids(plist));
    assert_eq!(
        server
            .get("/apple?emailaddress=john%40example.com", None)
            .body,
        *plist
    );
    assert_eq!(
        sp.ok(&[
            "generate",
            "example.com",
            "mobileconfig",
            "--email",
            "mary@example.com"
        ]),
        other,
        "generate prints what is served"
    );
}

fn credentials_make_it_the_users_own() {
    let sp = john();
    let server = sp.serve();
    let mine = server.get(PROFILE, Some(("john@example.com", "secret")));
    assert_eq!(mine.status, 200);
    let mail = "com.apple.mail.managed";
    assert_eq!(
        payload_value(&mine.body, mail, "EmailAccountType"),
        "EmailTypePOP",
        "IMAP is denied to John"
    );
    assert_eq!(
        payload_value(&mine.body, mail, "IncomingMailServerPortNumber"),
        "995"
    );
    assert_eq!(
        payload_value(&mine.body, mail, "EmailAccountName"),
        "John Doe"
    );
    assert_eq!(
        server
            .get(PROFILE, Some(("john@example.com", "wrong")))
            .status,
        401
    );
    assert_eq!(
        sp.ok(&[
            "generate",
            "example.com",
            "mobileconfig",
            "--email",
            "john@example.com"
        ]),
        mine.body,
        "generate shows what the signed-in user gets"
    );
}

fn activesync_and_dav_payloads() {
    let sp = john();
    sp.ok(&[
        "protocol",
        "set",
        "example.com",
        "eas",
        "--enable",
        "--host",
        "eas.example.com",
    ]);
    sp.ok(&[
        "domain",
        "set",
        "example.com",
        "--apple-account",
        "eas",
        "--caldav-url",
        "https://dav.example.com:8443/cal/",
        "--carddav-url",
        "https://dav.example.com/card/",
    ]);
    let server = sp.serve();
    let plist = server
        .get("/mobileconfig?emailaddress=mary%40example.com", None)
        .body;
    assert_eq!(count(&plist, "//string[.='com.apple.mail.managed']"), 0);
    let eas = "com.apple.eas.account";
    assert_eq!(payload_value(&plist, eas, "Host"), "eas.example.com");
    assert_eq!(payload_bool(&plist, eas, "SSL"), "true");
    assert_eq!(
        payload_value(&plist, eas, "EmailAddress"),
        "mary@example.com"
    );
    let caldav = "com.apple.caldav.account";
    assert_eq!(
        payload_value(&plist, caldav, "CalDAVHostName"),
        "dav.example.com"
    );
    assert_eq!(payload_value(&plist, caldav, "CalDAVPort"), "8443");
    assert_eq!(
        payload_value(&plist, caldav, "CalDAVPrincipalURL"),
        "https://dav.example.com:8443/cal/"
    );
    assert_eq!(
        payload_value(&plist, "com.apple.carddav.account", "CardDAVPort"),
        "443"
    );
    // John has ActiveSync but not IMAP; with EAS denied he falls back to a mail account.
    sp.ok(&["user", "set", "john@example.com", "--deny", "eas"]);
    server.wait_until(
        "a POP mail account once ActiveSync is denied",
        |s| {
            let p = s.get(PROFILE, Some(("john@example.com", "secret"))).body;
            payload_value(&p, "com.apple.mail.managed", "EmailAccountType")
        },
        |kind| kind == "EmailTypePOP",
    );
}

fn openssl(args: &[&str]) -> std::process::Output {
    signpost_testkit::tools::command(signpost_testkit::tools::Tool::Openssl, "openssl")
        .args(args)
        .output()
        .expect("openssl is installed")
}

fn make_certificate(dir: &Path, name: &str, algorithm: &[&str]) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let mut args = vec![
        "req",
        "-x509",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Signpost profile test",
    ];
    args.extend_from_slice(algorithm);
    args.extend_from_slice(&[
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    let out = openssl(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

fn verify_signed(der: &[u8], dir: &Path, ca: &Path) -> String {
    let signed = dir.join("profile.der");
    let content = dir.join("profile.plist");
    std::fs::write(&signed, der).unwrap();
    let out = openssl(&[
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        signed.to_str().unwrap(),
        "-CAfile",
        ca.to_str().unwrap(),
        "-out",
        content.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "openssl cms -verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Verification successful"));
    std::fs::read_to_string(content).unwrap()
}

fn signed_profiles_verify_with_openssl() {
    let sp = john();
    sp.ok(&[
        "domain",
        "add",
        "other.example",
        "--hostname",
        "mail.other.example",
    ]);
    let dir = sp.dir.path();
    let (rsa_cert, rsa_key) = make_certificate(dir, "rsa", &["-newkey", "rsa:2048"]);
    let (ec_cert, ec_key) = make_certificate(
        dir,
        "ec",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let config = dir.join("signing.toml");
    std::fs::write(
        &config,
        format!(
            "[server.profile_signing.domains.\"other.example\"]\ncert = \"{}\"\nkey = \"{}\"\n",
            ec_cert.display(),
            ec_key.display()
        ),
    )
    .unwrap();
    let server = sp.serve_with(&[
        "--config",
        config.to_str().unwrap(),
        "--profile-signing-cert",
        rsa_cert.to_str().unwrap(),
        "--profile-signing-key",
        rsa_key.to_str().unwrap(),
    ]);
    let unsigned = sp.ok(&[
        "generate",
        "example.com",
        "mobileconfig",
        "--email",
        "mary@example.com",
    ]);
    let signed = server
        .client
        .get(format!(
            "{}/mobileconfig?emailaddress=mary%40example.com",
            server.base
        ))
        .send()
        .unwrap();
    assert_eq!(
        signed.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let der = signed.bytes().unwrap();
    assert_eq!(der[0], 0x30, "DER SEQUENCE, not XML");
    assert_eq!(
        verify_signed(&der, dir, &rsa_cert),
        unsigned,
        "RSA-signed content is the profile"
    );

    let ec_signed = server
        .client
        .get(format!(
            "{}/mobileconfig?emailaddress=ann%40other.example",
            server.base
        ))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let content = verify_signed(&ec_signed, dir, &ec_cert);
    assert!(content.contains("ann@other.example"));
    let wrong_ca = openssl(&[
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        dir.join("profile.der").to_str().unwrap(),
        "-CAfile",
        rsa_cert.to_str().unwrap(),
        "-out",
        "/dev/null",
    ]);
    assert!(
        !wrong_ca.status.success(),
        "the EC-signed profile is not vouched for by the RSA certificate"
    );

    // A key that does not belong to the certificate stops the server with a clear error.
    let out = sp.run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--profile-signing-cert",
            rsa_cert.to_str().unwrap(),
            "--profile-signing-key",
            ec_key.to_str().unwrap(),
        ],
        "",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the private key is P-256 but the certificate's key is not"),
        "{err}"
    );
}

fn the_form_page_offers_a_link_and_a_qr_code() {
    let sp = john();
    let server = sp.serve();
    let form = server.get("/mobileconfig", None);
    assert_eq!(form.status, 200);
    assert!(form.content_type.starts_with("text/html"));
    assert!(
        form.body
            .contains("<form method=\"get\" action=\"/mobileconfig/link\">")
    );
    assert!(form.body.contains("name=\"emailaddress\""));
    assert!(
        !form.body.contains("http://") && !form.body.contains("https://"),
        "no external resources"
    );

    let link = server.get_as(
        "mail.example.com",
        "/mobileconfig/link?emailaddress=john%40example.com",
    );
    assert_eq!(link.status, 200);
    assert!(
        link.body
            .contains("href=\"/mobileconfig?emailaddress=john%40example.com\""),
        "{}",
        link.body
    );
    assert!(link.body.contains("<svg"), "a QR code");
    assert!(
        link.body
            .contains("http://mail.example.com/mobileconfig?emailaddress=john%40example.com")
    );

    let hostile = server.get(
        "/mobileconfig/link?emailaddress=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        None,
    );
    assert_eq!(hostile.status, 400);
    assert!(!hostile.body.contains("<script>"), "{}", hostile.body);
    assert!(hostile.body.contains("&quot;&gt;&lt;script&gt;"));
    assert_eq!(
        server
            .get("/mobileconfig?emailaddress=a%40elsewhere.org", None)
            .status,
        404
    );
}
