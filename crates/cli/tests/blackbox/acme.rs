//! The whole ACME flow against a real CA (Pebble): HTTP-01 issue, renewal on request, and
//! TLS-ALPN-01; the certificate stored, listed and served by SNI.

use crate::harness::*;
use crate::tls_client;

signpost_testkit::tests![
    acme_issues_and_renews_with_pebble,
    acme_orders_ecdsa_and_rsa_when_asked,
];

pub(crate) fn served_serial(https: std::net::SocketAddr, root: &str, sni: &str) -> Option<String> {
    let stream = tls_client::connect(tls_client::trusting(root), https, Some(sni)).ok()?;
    let leaf = stream.conn.peer_certificates()?[0].clone();
    Some(
        signpost_core::certificate::inspect(leaf.as_ref())
            .ok()?
            .serial,
    )
}

fn acme_rows(sp: &Signpost) -> Vec<serde_json::Value> {
    let listed: serde_json::Value =
        serde_json::from_str(&sp.ok(&["cert", "list", "--format", "json"])).unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "acme")
        .cloned()
        .collect()
}

fn acme_issues_and_renews_with_pebble() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "set",
        "example.com",
        "--acme",
        "on",
        "--acme-hostname",
        "on",
    ]);
    let pebble = crate::pebble::start(sp.dir.path());
    let listen = format!("127.0.0.1:{}", pebble.http01_port);
    let listen_tls = format!("127.0.0.1:{}", pebble.tls_alpn_port);
    let server = sp.serve_with(&[
        "--listen",
        &listen,
        "--listen-tls",
        &listen_tls,
        "--acme-directory",
        &pebble.directory_url,
        "--acme-ca",
        pebble.directory_ca.to_str().unwrap(),
        "--acme-email",
        "hostmaster@example.com",
        // Looked over at start, then only when the configuration changes: what follows
        // is ordered because the server acted on the change at once, not at an hourly check.
        "--acme-check-seconds",
        "3600",
    ]);
    let root = crate::pebble::issuing_root(&pebble);
    let https = server.https[0];
    server.wait_until(
        "a certificate from Pebble served for autodiscover.example.com",
        |_| served_serial(https, &root, "autodiscover.example.com"),
        Option::is_some,
    );
    let first = served_serial(https, &root, "autoconfig.example.com").expect("autoconfig covered");
    assert_eq!(
        served_serial(https, &root, "mail.example.com").as_deref(),
        Some(first.as_str()),
        "hostname asked for"
    );
    let rows = acme_rows(&sp);
    assert!(
        rows.iter()
            .any(|r| r["name"] == "autodiscover.example.com" && r["covers"] == true),
        "{rows:?}"
    );

    // Renewal on request: a new certificate replaces the old one.
    let out = sp.ok(&["cert", "renew", "autodiscover.example.com"]);
    assert!(out.contains("renewal requested"), "{out}");
    server.wait_until(
        &format!(
            "a renewed certificate for autodiscover.example.com (serial other than {first:?})"
        ),
        |_| served_serial(https, &root, "autodiscover.example.com"),
        |serial| serial.as_ref().is_some_and(|s| *s != first),
    );
    let ids: std::collections::BTreeSet<String> = acme_rows(&sp)
        .iter()
        .map(|r| r["certificate"].to_string())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "the superseded certificate is retired: {ids:?}"
    );
    assert!(server.log().contains("ACME: certificate issued and stored"));
    drop(server);

    // TLS-ALPN-01 on the HTTPS listener, for another domain, by the same stored account.
    sp.ok(&[
        "domain",
        "add",
        "example.org",
        "--hostname",
        "mail.example.org",
    ]);
    sp.ok(&["domain", "set", "example.org", "--acme", "on"]);
    let server = sp.serve_with(&[
        "--listen-tls",
        &listen_tls,
        "--acme-challenge",
        "tls-alpn-01",
        "--acme-directory",
        &pebble.directory_url,
        "--acme-ca",
        pebble.directory_ca.to_str().unwrap(),
        // Looked over at start, then only when the configuration changes: what follows
        // is ordered because the server acted on the change at once, not at an hourly check.
        "--acme-check-seconds",
        "3600",
    ]);
    let https = server.https[0];
    server.wait_until(
        "a certificate for autoconfig.example.org obtained by TLS-ALPN-01",
        |_| served_serial(https, &root, "autoconfig.example.org"),
        Option::is_some,
    );
    assert!(
        !server.log().contains("creating an account"),
        "the stored account is reused"
    );

    // The mail hostname asked for on a running server: ordered at once too.
    assert_eq!(served_serial(https, &root, "mail.example.org"), None);
    sp.ok(&["domain", "set", "example.org", "--acme-hostname", "on"]);
    server.wait_until(
        "a certificate for mail.example.org, ordered on the change, not at the hourly check",
        |_| served_serial(https, &root, "mail.example.org"),
        Option::is_some,
    );
}

/// ECDSA P-256 always; with `--acme-rsa`, an RSA certificate for the same names as well, and
/// each client is served the one it can use.
fn acme_orders_ecdsa_and_rsa_when_asked() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&["domain", "set", "example.com", "--acme", "on"]);
    let pebble = crate::pebble::start(sp.dir.path());
    let listen = format!("127.0.0.1:{}", pebble.http01_port);
    let server = sp.serve_with(&[
        "--listen",
        &listen,
        "--listen-tls",
        "127.0.0.1:0",
        "--acme-directory",
        &pebble.directory_url,
        "--acme-ca",
        pebble.directory_ca.to_str().unwrap(),
        "--acme-check-seconds",
        "1",
        "--acme-rsa",
    ]);
    let keys = |sp: &Signpost| -> String {
        acme_rows(sp)
            .iter()
            .find(|r| r["name"] == "autodiscover.example.com")
            .map(|r| r["key_types"].to_string())
            .unwrap_or_default()
    };
    server.wait_until(
        "an ECDSA and an RSA certificate from Pebble for autodiscover.example.com",
        |_| keys(&sp),
        |k| k == r#"["ECDSA","RSA"]"# || k == r#"["ecdsa","rsa"]"#,
    );
    let root = crate::pebble::issuing_root(&pebble);
    let https = server.https[0];
    // What a client is served, once the server has loaded what ACME stored.
    let key_of = |config: std::sync::Arc<rustls::ClientConfig>| {
        let stream = tls_client::connect(config, https, Some("autodiscover.example.com")).ok()?;
        let leaf = stream.conn.peer_certificates()?[0].clone();
        signpost_core::certificate::inspect(leaf.as_ref())
            .ok()
            .map(|info| info.key_type)
    };
    use signpost_core::certificate::KeyType;
    server.wait_until(
        "the RSA certificate served to a client that verifies only RSA signatures",
        |_| key_of(tls_client::trusting_rsa_only(&root)),
        |key| *key == Some(KeyType::Rsa),
    );
    assert_eq!(
        key_of(tls_client::trusting(&root)),
        Some(KeyType::Ecdsa),
        "a modern client gets ECDSA"
    );
}
