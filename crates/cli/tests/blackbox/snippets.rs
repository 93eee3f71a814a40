//! The website-elsewhere snippets, each run by the real web server: Apache reading the
//! `.htaccess`, nginx and Caddy with the snippet in their configuration, and the IIS section
//! checked as XML (Debian has no IIS).

use crate::harness::*;
use signpost_testkit::ports::free_port;
use signpost_testkit::web;

signpost_testkit::tests![
    apache_htaccess_redirects,
    nginx_location_redirects,
    caddy_route_redirects,
    iis_section_has_the_rewrite_map,
];

const TARGET: &str = "https://mail.example.com/autodiscover/autodiscover.xml";

fn raw(server: std::net::SocketAddr, method: &str, path: &str) -> (u16, Option<String>) {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .request(method.parse().unwrap(), format!("http://{server}{path}"))
        .header("host", "example.com")
        .body("<Autodiscover/>")
        .send()
        .expect("request through the web server");
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), location)
}

fn assert_redirects(server: std::net::SocketAddr, what: &str) {
    for (method, path) in [
        ("POST", "/autodiscover/autodiscover.xml"),
        ("POST", "/AutoDiscover/AutoDiscover.xml"),
        ("GET", "/Autodiscover/Autodiscover.xml"),
    ] {
        let (status, location) = raw(server, method, path);
        assert_eq!(status, 307, "{what} {method} {path}");
        assert_eq!(location.as_deref(), Some(TARGET), "{what} {method} {path}");
    }
    let (status, location) = raw(server, "GET", "/index.html");
    assert_ne!(status, 307, "{what} redirects only the autodiscover path");
    assert!(location.is_none());
}

fn example() -> Signpost {
    Signpost::new().with_example_domain()
}

fn apache_htaccess_redirects() {
    let sp = example();
    let docs = sp.dir.path().join("www");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join(".htaccess"),
        sp.ok(&["snippet", "example.com", "--for", "apache"]),
    )
    .unwrap();
    std::fs::write(docs.join("index.html"), "website").unwrap();
    let _ = std::process::Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(sp.dir.path())
        .status();
    let port = free_port();
    let _apache = web::apache(sp.dir.path(), "127.0.0.1", port, &docs);
    assert_redirects(std::net::SocketAddr::from(([127, 0, 0, 1], port)), "Apache");
}

fn nginx_location_redirects() {
    let sp = example();
    let snippet = sp.ok(&["snippet", "example.com", "--for", "nginx"]);
    let port = free_port();
    let _nginx = web::nginx(
        sp.dir.path(),
        "127.0.0.1",
        port,
        None,
        "example.com",
        &snippet,
    );
    assert_redirects(std::net::SocketAddr::from(([127, 0, 0, 1], port)), "nginx");
}

fn caddy_route_redirects() {
    let sp = example();
    let snippet = sp.ok(&["snippet", "example.com", "--for", "caddy"]);
    let port = free_port();
    let _caddy = web::caddy(sp.dir.path(), "127.0.0.1", port, &snippet);
    assert_redirects(std::net::SocketAddr::from(([127, 0, 0, 1], port)), "Caddy");
}

fn iis_section_has_the_rewrite_map() {
    let sp = example();
    let snippet = sp.ok(&["snippet", "example.com", "--for", "iis"]);
    let document =
        format!("<configuration><system.webServer>{snippet}</system.webServer></configuration>");
    assert_eq!(
        xpath(
            &document,
            "string(//rewriteMap/add[@key='/autodiscover/autodiscover.xml']/@value)"
        ),
        TARGET
    );
    assert_eq!(xpath(&document, "string(//rewriteMap/@ignoreCase)"), "true");
    assert_eq!(
        xpath(&document, "string(//rule/conditions/add/@input)"),
        "{SignpostAutodiscover:{REQUEST_URI}}"
    );
    assert_eq!(
        xpath(&document, "string(//rule/action/@redirectType)"),
        "Temporary"
    );
    let err = sp.fails(&["snippet", "example.com", "--for", "lighttpd"]);
    assert!(
        err.contains("'lighttpd' is not one of iis, apache, nginx, caddy"),
        "{err}"
    );
}
