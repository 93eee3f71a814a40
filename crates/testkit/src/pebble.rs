//! A real ACME CA: Debian's Pebble with pebble-challtestsrv as its DNS (every name resolves to
//! 127.0.0.1), on free ports of 127.0.0.1, stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::ports::free_port;
use crate::process::{Running, start_with_retry};
use crate::tools::{self, Tool};

pub struct Pebble {
    _processes: Vec<Running>,
    pub directory_url: String,
    /// What to trust for Pebble's own HTTPS (its directory and management API).
    pub directory_ca: PathBuf,
    /// Pebble's management API (`/roots/0` is the root of the chains it issues).
    pub management: SocketAddr,
    /// Where Pebble validates HTTP-01 and TLS-ALPN-01 challenges, on 127.0.0.1.
    pub http01_port: u16,
    pub tls_alpn_port: u16,
}

impl Pebble {
    /// Starts Pebble serving its directory over HTTPS with `tls` (a chain and key for
    /// `localhost` and `127.0.0.1`) issued under the CA certificate `ca`.
    pub fn start(dir: &Path, (cert, key): (&Path, &Path), ca: &Path) -> Self {
        tools::require(Tool::Pebble);
        let root = dir.join("pebble");
        start_with_retry("Pebble", || {
            let (acme, management, dns, challenge_management) =
                (free_port(), free_port(), free_port(), free_port());
            let (http01_port, tls_alpn_port) = (free_port(), free_port());
            std::fs::create_dir_all(&root).expect("pebble directory");
            let config = root.join("pebble.json");
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
            .expect("pebble.json");
            let mut challenge_server = tools::command(Tool::Pebble, "pebble-challtestsrv");
            challenge_server.args([
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
            ]);
            let mut challenge_server =
                Running::spawn("pebble-challtestsrv", &mut challenge_server, &root);
            challenge_server
                .wait_for_tcp(&[SocketAddr::from(([127, 0, 0, 1], challenge_management))])?;
            let mut pebble = tools::command(Tool::Pebble, "pebble");
            pebble
                .arg("-config")
                .arg(&config)
                .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                .env("PEBBLE_AUTHZREUSE", "0");
            let mut pebble = Running::spawn("pebble", &mut pebble, &root);
            pebble.wait_for_tcp(&[
                SocketAddr::from(([127, 0, 0, 1], acme)),
                SocketAddr::from(([127, 0, 0, 1], management)),
            ])?;
            Ok(Self {
                _processes: vec![pebble, challenge_server],
                directory_url: format!("https://127.0.0.1:{acme}/dir"),
                directory_ca: ca.to_path_buf(),
                management: SocketAddr::from(([127, 0, 0, 1], management)),
                http01_port,
                tls_alpn_port,
            })
        })
    }
}
