//! A real ACME CA for the tests: Debian's Pebble with pebble-challtestsrv as its DNS (every name
//! resolves to 127.0.0.1), started on free ports and stopped when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::pki::TestCa;
use crate::tls_client;

pub struct Pebble {
    children: Vec<Child>,
    pub directory_url: String,
    /// The certificate of Pebble's own HTTPS (trust it to talk to the directory).
    pub directory_ca: PathBuf,
    management: SocketAddr,
    pub http01_port: u16,
    pub tls_alpn_port: u16,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Pebble {
    pub fn start(dir: &Path) -> Self {
        // rustls (in Signpost's ACME client and here) refuses a CA certificate as a server's own,
        // so Pebble's HTTPS gets a leaf from a test CA, and the CA is what clients trust.
        let ca = TestCa::new(dir, "Pebble directory CA");
        let (cert, key) = ca.issue(dir, "pebble", &["localhost", "127.0.0.1"], -1, 3);
        let (acme, management, dns, challenge_management) =
            (free_port(), free_port(), free_port(), free_port());
        let (http01_port, tls_alpn_port) = (free_port(), free_port());
        let config = dir.join("pebble.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"pebble":{{"listenAddress":"127.0.0.1:{acme}","managementListenAddress":"127.0.0.1:{management}",
"certificate":"{}","privateKey":"{}","httpPort":{http01_port},"tlsPort":{tls_alpn_port},
"ocspResponderURL":"","externalAccountBindingRequired":false}}}}"#,
                cert.display(),
                key.display()
            ),
        )
        .unwrap();
        let log = |name: &str| std::fs::File::create(dir.join(name)).expect("log file");
        let challenge_server = Command::new("pebble-challtestsrv")
            .args([
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-dns01",
                &format!("127.0.0.1:{dns}"),
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                &format!("127.0.0.1:{challenge_management}"),
            ])
            .stdout(log("challtestsrv.log"))
            .stderr(log("challtestsrv.err"))
            .spawn()
            .expect("pebble-challtestsrv is installed (Debian pebble; scripts/test installs it)");
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(&config)
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log("pebble.log"))
            .stderr(log("pebble.err"))
            .spawn()
            .expect("pebble is installed (Debian pebble; scripts/test installs it)");
        let started = Self {
            children: vec![challenge_server, pebble],
            directory_url: format!("https://127.0.0.1:{acme}/dir"),
            directory_ca: ca.path.clone(),
            management: SocketAddr::from(([127, 0, 0, 1], management)),
            http01_port,
            tls_alpn_port,
        };
        wait_for_port(acme);
        wait_for_port(management);
        started
    }

    /// The root of the chains Pebble issues (it makes a new one at every start).
    pub fn issuing_root(&self) -> String {
        let ca = std::fs::read_to_string(&self.directory_ca).unwrap();
        let mut stream = tls_client::connect(
            tls_client::trusting(&ca),
            self.management,
            Some("localhost"),
        )
        .unwrap();
        let (status, body) = tls_client::request(&mut stream, "GET", "localhost", "/roots/0", "");
        assert_eq!(status, 200);
        body
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
