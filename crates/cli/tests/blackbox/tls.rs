//! HTTPS as the seed deploys it: a certificate per name by SNI, SAN and wildcard certificates, a
//! default for clients without SNI, replacement without restart, 421 for unknown names, the plain
//! HTTP front door (redirects and Outlook's 302), and proxies believed only when trusted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::*;
use crate::pki::TestCa;
use crate::tls_client;

signpost_testkit::tests![
    sni_picks_each_names_certificate,
    replaced_certificates_are_served_without_restart,
    plain_http_redirects_to_https_but_keeps_outlooks_302_and_autoconfig,
    forwarded_headers_count_only_from_trusted_proxies,
    proxy_protocol_from_trusted_balancers_only,
    listens_on_ipv6_too,
];

fn two_domains() -> Signpost {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "add",
        "example.org",
        "--hostname",
        "mail.example.org",
    ]);
    sp
}

fn sni_picks_each_names_certificate() {
    let sp = two_domains();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "Signpost Test CA");
    let out = sp.add_cert(&ca.issue(
        dir,
        "example-com",
        &["autodiscover.example.com", "mail.example.com"],
        -1,
        90,
    ));
    assert!(
        out.contains("autodiscover.example.com, mail.example.com"),
        "{out}"
    );
    sp.add_cert(&ca.issue(
        dir,
        "example-org",
        &["*.example.org", "example.org"],
        -1,
        60,
    ));
    let server = sp.serve_with(&[
        "--listen",
        "127.0.0.1:0",
        "--listen-tls",
        "127.0.0.1:0",
        "--default-cert-name",
        "mail.example.com",
    ]);
    let https = server.https[0];
    let trusted = tls_client::trusting(&ca.pem);

    for (sni, expected) in [
        ("autodiscover.example.com", "autodiscover.example.com"),
        ("mail.example.com", "autodiscover.example.com"),
        ("autoconfig.example.org", "*.example.org"),
        ("example.org", "*.example.org"),
    ] {
        let stream = tls_client::connect(trusted.clone(), https, Some(sni))
            .unwrap_or_else(|e| panic!("{sni}: {e}"));
        assert_eq!(tls_client::presented_names(&stream)[0], expected, "{sni}");
    }
    let mut stream =
        tls_client::connect(trusted.clone(), https, Some("autoconfig.example.org")).unwrap();
    let (status, body) = tls_client::request(
        &mut stream,
        "GET",
        "autoconfig.example.org",
        "/mail/config-v1.1.xml",
        "",
    );
    assert_eq!(status, 200, "autoconfig over https");
    assert!(body.contains("<emailProvider id=\"example.org\">"));
    assert_eq!(
        stream.conn.alpn_protocol(),
        None,
        "this client offered no ALPN"
    );

    // No SNI: the default certificate.
    let no_sni = tls_client::connect(tls_client::accepting_anything(), https, None).unwrap();
    assert_eq!(
        tls_client::presented_names(&no_sni),
        ["autodiscover.example.com", "mail.example.com"]
    );
    // A name nobody has a certificate for fails verification, as it would for Outlook.
    let err =
        tls_client::connect(trusted.clone(), https, Some("autodiscover.example.net")).unwrap_err();
    assert!(
        err.contains("NotValidForName") || err.contains("not valid for name"),
        "{err}"
    );

    // A Host that is not served gets 421, not another domain's answers.
    let mut stream = tls_client::connect(trusted, https, Some("mail.example.com")).unwrap();
    let (status, _) = tls_client::request(
        &mut stream,
        "GET",
        "www.elsewhere.net",
        "/mail/config-v1.1.xml",
        "",
    );
    assert_eq!(status, 421);
    let (status, _) = tls_client::request(&mut stream, "GET", "mail.example.com", "/healthz", "");
    assert_eq!(status, 200, "the same connection still serves");

    let listed = sp.ok(&["cert", "list"]);
    let line = listed
        .lines()
        .find(|l| l.starts_with("autoconfig.example.com "))
        .unwrap();
    assert!(line.contains("missing"), "{line}");
    let line = listed
        .lines()
        .find(|l| l.starts_with("autoconfig.example.org "))
        .unwrap();
    assert!(
        line.contains("Signpost Test CA") && line.contains("file") && line.contains("ok"),
        "{line}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&sp.ok(&["cert", "list", "--format", "json"])).unwrap();
    let mail = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "mail.example.com")
        .unwrap();
    assert_eq!(mail["covers"], true);
    assert!(mail["days_left"].as_i64().unwrap() >= 88);
}

fn replaced_certificates_are_served_without_restart() {
    let sp = two_domains();
    let dir = sp.dir.path();
    let certs = dir.join("certs");
    std::fs::create_dir(&certs).unwrap();
    let ca = TestCa::new(dir, "Reload CA");
    ca.issue(&certs, "mail", &["mail.example.com"], -1, 30);
    let server = sp.serve_with(&[
        "--listen-tls",
        "127.0.0.1:0",
        "--cert-dir",
        certs.to_str().unwrap(),
    ]);
    let https = server.https[0];
    let trusted = tls_client::trusting(&ca.pem);
    let serial = |sni: &str| {
        let stream = tls_client::connect(trusted.clone(), https, Some(sni)).unwrap();
        let leaf = stream.conn.peer_certificates().unwrap()[0].clone();
        signpost_core::certificate::inspect(leaf.as_ref())
            .unwrap()
            .serial
    };
    let first = serial("mail.example.com");
    let mut old = tls_client::connect(trusted.clone(), https, Some("mail.example.com")).unwrap();
    assert_eq!(
        tls_client::request(&mut old, "GET", "mail.example.com", "/healthz", "").0,
        200
    );

    // Replace the files: new connections get the new certificate.
    ca.issue(&certs, "mail", &["mail.example.com"], -1, 60);
    server.wait_until(
        "the new certificate served for mail.example.com",
        |_| serial("mail.example.com"),
        |serial| *serial != first,
    );
    // The connection opened before keeps working.
    assert_eq!(
        tls_client::request(&mut old, "GET", "mail.example.com", "/healthz", "").0,
        200
    );

    // `cert add` reaches the running server too.
    let before = tls_client::connect(trusted.clone(), https, Some("autodiscover.example.org"));
    assert!(before.is_err(), "no certificate for it yet");
    sp.add_cert(&ca.issue(dir, "org", &["autodiscover.example.org"], -1, 30));
    let connects = |_: &Server| {
        tls_client::connect(trusted.clone(), https, Some("autodiscover.example.org")).is_ok()
    };
    server.wait_until("a TLS connection for the added name", connects, |&ok| ok);
    sp.ok(&["cert", "remove", "autodiscover.example.org"]);
    server.wait_until("no TLS connection for the removed name", connects, |&ok| {
        !ok
    });
}

fn plain_http_redirects_to_https_but_keeps_outlooks_302_and_autoconfig() {
    let sp = two_domains();
    let server = sp.serve_with(&[
        "--listen",
        "127.0.0.1:0",
        "--listen-tls",
        "127.0.0.1:0",
        "--public-https-port",
        "443",
    ]);
    let outlook = server.get_as("autodiscover.example.com", "/autodiscover/autodiscover.xml");
    assert_eq!(outlook.status, 302);
    assert_eq!(
        outlook.headers["location"],
        "https://mail.example.com/autodiscover/autodiscover.xml"
    );
    let upper = server.get_as("AutoDiscover.Example.org", "/AutoDiscover/AutoDiscover.xml");
    assert_eq!(
        upper.headers["location"],
        "https://mail.example.org/autodiscover/autodiscover.xml"
    );

    let page = server.get_as("example.com", "/mobileconfig?emailaddress=a%40example.com");
    assert_eq!(page.status, 301);
    assert_eq!(
        page.headers["location"],
        "https://example.com/mobileconfig?emailaddress=a%40example.com"
    );
    let post = server.send(
        server
            .client
            .post(format!("{}/autodiscover/autodiscover.xml", server.base))
            .header("host", "mail.example.com")
            .body("<x/>"),
    );
    assert_eq!(post.status, 308, "a redirect that keeps the POST");

    let autoconfig = server.get_as("autoconfig.example.com", "/mail/config-v1.1.xml");
    assert_eq!(
        autoconfig.status, 200,
        "Thunderbird's http fallback is answered"
    );
    assert_eq!(
        server
            .get_as("example.com", "/.well-known/acme-challenge/unknown")
            .status,
        404
    );
    assert_eq!(server.get_as("example.com", "/healthz").status, 200);
    // By IP address nothing is redirected (tests, load-balancer checks).
    assert_eq!(
        server
            .autodiscover("a@example.com", OUTLOOK_SCHEMA, None)
            .status,
        401
    );
    assert!(
        !outlook.headers.contains_key("strict-transport-security"),
        "no HSTS on autodiscover hosts"
    );
}

fn failed_login(server: &Server, headers: &[(&str, &str)]) {
    let mut request = server
        .client
        .post(format!("{}/autodiscover/autodiscover.xml", server.base))
        .basic_auth("a@example.com", Some("wrong"))
        .body(pox_request("a@example.com", OUTLOOK_SCHEMA));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    assert_eq!(server.send(request).status, 401);
}

fn forwarded_headers_count_only_from_trusted_proxies() {
    let sp = two_domains();
    let forwarded = [
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "mail.example.com"),
    ];
    let link = "/mobileconfig/link?emailaddress=a%40example.com";

    let trusting = sp.serve_with(&["--trusted-proxy", "127.0.0.0/8", "--redirect-http"]);
    let mut request = trusting.client.get(format!("{}{link}", trusting.base));
    for (name, value) in forwarded {
        request = request.header(name, value);
    }
    let page = trusting.send(request);
    assert_eq!(page.status, 200, "https at the proxy: no redirect");
    assert!(
        page.body
            .contains("https://mail.example.com/mobileconfig?emailaddress=a%40example.com"),
        "{}",
        page.body
    );
    failed_login(&trusting, &forwarded);
    trusting.wait_until(
        "client=203.0.113.9 in the log",
        |s| s.log().contains("client=203.0.113.9"),
        |&found| found,
    );

    let wary = sp.serve_with(&["--trusted-proxy", "10.0.0.0/8", "--redirect-http"]);
    let mut request = wary.client.get(format!("{}{link}", wary.base));
    for (name, value) in forwarded {
        request = request.header(name, value);
    }
    let page = wary.send(request);
    assert!(
        page.body
            .contains(&format!("http://{}/mobileconfig", wary.addr)),
        "{}",
        page.body
    );
    assert!(!page.body.contains("mail.example.com"));
    failed_login(&wary, &forwarded);
    wary.wait_until(
        "client=127.0.0.1 in the log",
        |s| s.log().contains("client=127.0.0.1"),
        |&found| found,
    );
    assert!(!wary.log().contains("203.0.113.9"));
}

fn raw_exchange(server: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(server).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).to_string()
}

fn proxy_protocol_from_trusted_balancers_only() {
    let sp = two_domains();
    let body = pox_request("a@example.com", OUTLOOK_SCHEMA);
    let http = |auth: &str| {
        format!(
            "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // "a@example.com:wrong"
    let auth = "YUBleGFtcGxlLmNvbTp3cm9uZw==";

    let balanced = sp.serve_with(&["--trusted-proxy", "127.0.0.1", "--proxy-protocol"]);
    let v1 = format!(
        "PROXY TCP4 198.51.100.4 127.0.0.1 5555 80\r\n{}",
        http(auth)
    );
    assert!(raw_exchange(balanced.addr, v1.as_bytes()).starts_with("HTTP/1.1 401"));
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend_from_slice(&[192, 0, 2, 77, 127, 0, 0, 1, 0x30, 0x39, 0, 80]);
    v2.extend_from_slice(http(auth).as_bytes());
    assert!(raw_exchange(balanced.addr, &v2).starts_with("HTTP/1.1 401"));
    balanced.wait_until(
        "client=198.51.100.4 and client=192.0.2.77 in the log",
        |s| s.log().contains("client=198.51.100.4") && s.log().contains("client=192.0.2.77"),
        |&found| found,
    );

    // From a peer that is not a trusted balancer, a PROXY line is just a bad request.
    let wary = sp.serve_with(&["--trusted-proxy", "10.0.0.0/8", "--proxy-protocol"]);
    let answer = raw_exchange(wary.addr, v1.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!wary.log().contains("198.51.100.4"));
}

fn listens_on_ipv6_too() {
    let sp = two_domains();
    let dir = sp.dir.path();
    let ca = TestCa::new(dir, "IPv6 CA");
    sp.add_cert(&ca.issue(dir, "v6", &["mail.example.com"], -1, 30));
    let server = sp.serve_with(&["--listen", "[::1]:0", "--listen-tls", "[::1]:0"]);
    assert!(server.addr.is_ipv6());
    assert_eq!(server.get("/healthz", None).status, 200);
    let mut stream = tls_client::connect(
        tls_client::trusting(&ca.pem),
        server.https[0],
        Some("mail.example.com"),
    )
    .unwrap();
    let (status, body) = tls_client::request(
        &mut stream,
        "GET",
        "mail.example.com",
        "/mail/config-v1.1.xml",
        "",
    );
    assert_eq!(status, 200);
    assert!(body.contains("<clientConfig"));
}
