//! A private MariaDB (Debian's `mariadb-server`) on 127.0.0.1, with root allowed in without a
//! password for the test to create databases and users, stopped when dropped.

use std::net::SocketAddr;
use std::path::Path;

use crate::ports::free_port;
use crate::process::{Running, start_with_retry};
use crate::tools::{self, Tool};

/// As root, MariaDB must be told that root is the user it runs as.
fn root_user() -> Option<&'static str> {
    tools::is_root().then_some("--user=root")
}

pub struct MariaDb {
    _process: Running,
    pub port: u16,
}

impl MariaDb {
    pub fn start(dir: &Path) -> Self {
        tools::require(Tool::Mariadb);
        let root = dir.join("mariadb");
        std::fs::create_dir_all(&root).expect("mariadb directory");
        let data = root.join("data");
        let installed = tools::command(Tool::Mariadb, "mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(root_user())
            .output()
            .expect("mariadb-install-db");
        assert!(
            installed.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
        start_with_retry("MariaDB", || {
            let port = free_port();
            let mut command = tools::command(Tool::Mariadb, "mariadbd");
            command
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--port={port}"))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--socket={}", root.join("socket").display()))
                .arg(format!("--pid-file={}", root.join("pid").display()))
                .arg("--skip-log-bin")
                .args(root_user());
            let mut process = Running::spawn("mariadb", &mut command, &root);
            process.wait_for_tcp(&[SocketAddr::from(([127, 0, 0, 1], port))])?;
            Ok(MariaDb {
                _process: process,
                port,
            })
        })
    }

    /// Runs SQL as root; its output, or why it failed.
    pub fn sql(&self, database: &str, sql: &str) -> Result<String, String> {
        let out = tools::command(Tool::Mariadb, "mariadb")
            .args([
                "--no-defaults",
                "-h",
                "127.0.0.1",
                "-P",
                &self.port.to_string(),
            ])
            .args(["-u", "root", "-N", "-B", "-e", sql, database])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).to_string())
        }
    }
}
