//! PACC: the document a real client (io-pim-discovery) parses, and the digest its TXT record
//! must carry.

use base64::Engine;
use io_pim_discovery::pacc::config::DiscoveryPaccConfig;
use sha2::{Digest, Sha256};

use crate::harness::*;

signpost_testkit::tests![pacc_document_and_digest,];

fn pacc_document_and_digest() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "set",
        "example.com",
        "--display-name",
        "Example Mail",
        "--short-name",
        "Example",
        "--carddav-url",
        "https://dav.example.com/card/",
        "--documentation-url",
        "https://help.example.com/",
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
        "--host",
        "smtp.%EMAILDOMAIN%",
    ]);
    sp.ok(&["domain", "set", "example.com", "--alias", "example.net"]);
    let server = sp.serve();

    let answer = server.get_as(
        "ua-auto-config.example.com",
        "/.well-known/user-agent-configuration.json",
    );
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("application/json"));
    let parsed: DiscoveryPaccConfig =
        serde_json::from_str(&answer.body).expect("a real PACC client parses it");
    assert_eq!(
        parsed.protocols.imap.as_ref().map(|p| p.host.as_str()),
        Some("mail.example.com")
    );
    assert_eq!(
        parsed.protocols.pop3.as_ref().map(|p| p.host.as_str()),
        Some("mail.example.com")
    );
    assert_eq!(
        parsed.protocols.smtp.as_ref().map(|p| p.host.as_str()),
        Some("smtp.example.com"),
        "only the 465 SSL endpoint qualifies"
    );
    assert_eq!(
        parsed.protocols.carddav.as_ref().map(|p| p.url.as_str()),
        Some("https://dav.example.com/card/")
    );
    assert_eq!(parsed.authentication.password, Some(true));
    assert_eq!(parsed.info.provider.name, "Example Mail");
    assert_eq!(parsed.info.provider.short_name.as_deref(), Some("Example"));

    // The TXT record vouches for exactly these bytes.
    let txt = sp.ok(&[
        "generate",
        "example.com",
        "pacc",
        "--email",
        "a@example.com",
        "--txt",
    ]);
    let digest =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(answer.body.as_bytes()));
    assert_eq!(txt.trim(), format!("v=UAAC1; a=sha256; d={digest}"));
    assert_eq!(
        sp.ok(&[
            "generate",
            "example.com",
            "pacc",
            "--email",
            "a@example.com"
        ]),
        answer.body
    );

    // The alias's own host name, with %EMAILDOMAIN% standing for it.
    let alias = server.get_as(
        "ua-auto-config.example.net",
        "/.well-known/user-agent-configuration.json",
    );
    let parsed: DiscoveryPaccConfig = serde_json::from_str(&alias.body).unwrap();
    assert_eq!(
        parsed.protocols.smtp.map(|p| p.host),
        Some("smtp.example.net".to_string())
    );
    assert_eq!(
        server
            .get_as(
                "ua-auto-config.elsewhere.org",
                "/.well-known/user-agent-configuration.json"
            )
            .status,
        404
    );

    // STARTTLS-only SMTP is not expressible in PACC, so it is left out.
    sp.ok(&["protocol", "remove-endpoint", "example.com", "smtp", "1"]);
    server.wait_until(
        "a PACC answer without SMTP",
        |s| {
            s.get_as("example.com", "/.well-known/user-agent-configuration.json")
                .body
        },
        |body| {
            serde_json::from_str::<DiscoveryPaccConfig>(body)
                .is_ok_and(|p| p.protocols.smtp.is_none())
        },
    );
}
