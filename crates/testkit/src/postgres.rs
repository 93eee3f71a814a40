//! A private PostgreSQL cluster (Debian's `postgresql`) for one test: a copy of a cluster made
//! once by `initdb`, `postgres` on a free port of 127.0.0.1 with trust authentication for
//! loopback only, stopped (fast shutdown, SIGINT to the server itself) when dropped. As root,
//! the cluster runs as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::process::{Running, StartFailure, start_with_retry};
use crate::tools::{self, Tool};

pub struct PostgresServer {
    dir: tempfile::TempDir,
    port: u16,
    /// How many times it was started (each run logs to its own files).
    starts: u32,
    process: Option<Running>,
}

/// A command run as the cluster's owner (setpriv execs in place: signals reach the program).
fn as_owner(program: &str) -> Command {
    let program = tools::postgres_bin()
        .map(|bin| bin.join(program))
        .unwrap_or_else(|| PathBuf::from(program));
    if tools::is_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn chown_to_owner(path: &Path) {
    if tools::is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .expect("chown");
        assert!(status.success(), "chown postgres {}", path.display());
    }
}

const INITDB_ARGS: [&str; 7] = [
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
];

/// A freshly initialised cluster to copy, made once per machine and PostgreSQL version (it is
/// only ever read; a new one is built beside it and renamed into place, so it is never partial).
fn template() -> PathBuf {
    let bin = tools::postgres_bin().expect("required above");
    let version = bin
        .parent()
        .and_then(|v| v.file_name())
        .map(|v| v.to_string_lossy().to_string())
        .unwrap_or_default();
    let uid = if tools::is_root() { "root" } else { "user" };
    let template = std::env::temp_dir().join(format!("signpost-test-pg-template-{version}-{uid}"));
    if template.join("PG_VERSION").is_file() {
        return template;
    }
    let building = tempfile::Builder::new()
        .prefix("signpost-test-pg-building-")
        .tempdir()
        .expect("temporary directory");
    let data = building.path().join("data");
    std::fs::create_dir(&data).expect("data directory");
    chown_to_owner(building.path());
    let out = as_owner("initdb")
        .arg("-D")
        .arg(&data)
        .args(INITDB_ARGS)
        .output()
        .expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another process may have won the race; either copy is as good.
    if std::fs::rename(&data, &template).is_err() {
        assert!(
            template.join("PG_VERSION").is_file(),
            "cannot put the PostgreSQL template at {}",
            template.display()
        );
    }
    template
}

impl PostgresServer {
    /// A new cluster of its own, started.
    pub fn start() -> Self {
        tools::require(Tool::Postgres);
        let dir = tempfile::Builder::new()
            .prefix("signpost-pg-")
            .tempdir()
            .expect("temporary directory");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(template())
            .arg(dir.path().join("data"))
            .status()
            .expect("cp");
        assert!(copied.success(), "copying the PostgreSQL template failed");
        chown_to_owner(dir.path());
        let mut server = Self {
            dir,
            port: 0,
            starts: 0,
            process: None,
        };
        start_with_retry("PostgreSQL", || {
            server.port = crate::ports::free_port();
            server.launch()
        });
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts `postgres` on `self.port` and waits until it accepts logins.
    fn launch(&mut self) -> Result<(), StartFailure> {
        self.starts += 1;
        let mut command = as_owner("postgres");
        command
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.dir.path().display()
            ))
            .args(["-c", "fsync=off", "-c", "max_connections=200"]);
        let mut process = Running::spawn_with(
            &format!("postgres-{}-{}", self.port, self.starts),
            &mut command,
            &self.dir.path().join("logs"),
            "INT",
            Some(self.dir.path()),
        );
        let deadline = Instant::now() + crate::process::START_LIMIT;
        while !self.accepts_logins() {
            process.check_alive("accepting logins", deadline)?;
            std::thread::sleep(Duration::from_millis(100));
        }
        self.process = Some(process);
        Ok(())
    }

    /// Starts the (stopped) cluster again on the same port, and waits until it accepts logins.
    pub fn start_again(&mut self) {
        assert!(self.process.is_none(), "PostgreSQL is already running");
        if let Err(failure) = self.launch() {
            panic!(
                "PostgreSQL did not start again on port {}: {failure}",
                self.port
            );
        }
    }

    /// Stops the cluster (fast shutdown: clients are disconnected) and waits until it has.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    fn accepts_logins(&self) -> bool {
        self.psql("postgres", "SELECT 1").is_ok()
    }

    /// Runs SQL with psql; its output, or why it failed.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let out = tools::command(Tool::Postgres, "psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", database])
            .args(["-v", "ON_ERROR_STOP=1", "-Atc", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).to_string())
        }
    }

    /// The server process's id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Running::pid)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its URL.
    pub fn new_database(&self) -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!("signpost_test_{}", COUNTER.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        self.url(&name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// What the server logged, in every run so far.
    pub fn log(&self) -> String {
        crate::process::logs_in(&self.dir.path().join("logs"))
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}
