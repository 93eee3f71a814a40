//! A private PostgreSQL cluster (Debian's `postgresql` package) for one test or one test
//! process: `initdb` in a temporary directory, `postgres` on a free port of 127.0.0.1 with trust
//! authentication for loopback only. As root, the cluster runs as the `postgres` user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct PostgresServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    process: Option<Child>,
}

/// The directory of PostgreSQL's programs (`initdb`, `postgres`, `psql`).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (Debian package postgresql; scripts/test installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no /usr/lib/postgresql/*/bin/initdb (Debian package postgresql)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the cluster's owner (setpriv execs in place: signals reach the program).
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Runs the server under a shell that stops it (and removes the cluster if asked) when the test
/// process ends, even if nothing is dropped: statics, a panicking test harness.
const WATCHDOG: &str = r#"
"$@" & pg=$!
trap 'kill -INT $pg 2>/dev/null; wait $pg; exit 0' INT TERM
while kill -0 "$SIGNPOST_TEST_PARENT" 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 1; done
kill -INT $pg 2>/dev/null; wait $pg
[ -n "$SIGNPOST_TEST_REMOVE" ] && rm -rf "$SIGNPOST_TEST_REMOVE"
exit 0
"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PostgresServer {
    /// Creates and starts a cluster.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("signpost-pg-")
            .tempdir()
            .expect("temporary directory");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data directory");
        if is_root() {
            for path in [dir.path(), data.as_path()] {
                let status = Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(path)
                    .status()
                    .expect("chown");
                assert!(status.success(), "chown {}", path.display());
            }
        }
        let bin = postgres_bin();
        let out = as_owner(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut server = Self {
            dir,
            bin,
            port: free_port(),
            process: None,
        };
        server.start_again();
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the (stopped) cluster again on the same port, and waits until it accepts logins.
    pub fn start_again(&mut self) {
        assert!(self.process.is_none(), "already running");
        let log =
            std::fs::File::create(self.dir.path().join(format!("postgres-{}.log", self.port)))
                .expect("log file");
        let owner = as_owner(&self.bin.join("postgres"));
        let mut command = Command::new("sh");
        command
            .args(["-c", WATCHDOG, "watchdog"])
            .arg(owner.get_program())
            .args(owner.get_args())
            .env("SIGNPOST_TEST_PARENT", std::process::id().to_string())
            // Only matters when nothing drops this server (see `shared`).
            .env("SIGNPOST_TEST_REMOVE", self.dir.path());
        let process = command
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.dir.path().display()
            ))
            .args(["-c", "fsync=off", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start postgres");
        self.process = Some(process);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.accepts_logins() {
            assert!(
                Instant::now() < deadline,
                "postgres did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the cluster (fast shutdown: clients are disconnected).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = Command::new("kill")
                .args(["-INT", &process.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = process.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    fn accepts_logins(&self) -> bool {
        self.psql("postgres", "SELECT 1").is_ok()
    }

    /// Runs SQL with psql; its output, or why it failed.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).to_string())
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its URL.
    pub fn new_database(&self) -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "signpost_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        self.url(&name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("postgres-"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One cluster shared by every test of this process that only needs a database of its own.
pub fn shared() -> &'static PostgresServer {
    static SHARED: OnceLock<PostgresServer> = OnceLock::new();
    SHARED.get_or_init(PostgresServer::start)
}
