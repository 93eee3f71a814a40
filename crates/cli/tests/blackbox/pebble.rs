//! Pebble (see `signpost_testkit::pebble`) with its HTTPS certificate from a test CA, and the root
//! of the chains it issues.

use std::path::Path;

use signpost_testkit::pebble::Pebble;

use crate::pki::TestCa;
use crate::tls_client;

/// Starts Pebble in `dir`. rustls (in Signpost's ACME client and here) refuses a CA certificate
/// as a server's own, so Pebble's HTTPS gets a leaf from a test CA, and the CA is what clients
/// trust.
pub fn start(dir: &Path) -> Pebble {
    let ca = TestCa::new(dir, "Pebble directory CA");
    let (cert, key) = ca.issue(dir, "pebble", &["localhost", "127.0.0.1"], -1, 3);
    Pebble::start(dir, (&cert, &key), &ca.path)
}

/// The root of the chains Pebble issues (it makes a new one at every start).
pub fn issuing_root(pebble: &Pebble) -> String {
    let ca = std::fs::read_to_string(&pebble.directory_ca).expect("Pebble's CA file");
    let mut stream = tls_client::connect(
        tls_client::trusting(&ca),
        pebble.management,
        Some("localhost"),
    )
    .expect("a TLS connection to Pebble's management API");
    let (status, body) = tls_client::request(&mut stream, "GET", "localhost", "/roots/0", "");
    assert_eq!(
        status, 200,
        "GET /roots/0 from Pebble answered {status}: {body}"
    );
    body
}
