//! Server processes started by a test: logs kept in files, stopped when dropped, and stopped by
//! a watchdog when the test process itself ends without dropping them (a killed run, a static).
//!
//! Stopping never relies on a shell trapping a signal: a shell started with SIGINT ignored (a
//! background job, nohup, many CI runners and service managers) cannot trap it. Signals go to
//! the server itself.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a server gets to start listening, on a slow and busy machine.
pub const START_LIMIT: Duration = Duration::from_secs(90);
/// How long a server gets to stop after its stop signal before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// Ends the server when the test process is gone, and removes `cleanup` afterwards if given.
const WATCHDOG: &str = r#"
parent=$1 child=$2 signal=$3 cleanup=$4
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done
kill -0 "$parent" 2>/dev/null && exit 0
kill "-$signal" "$child" 2>/dev/null
tries=0
while kill -0 "$child" 2>/dev/null && [ $tries -lt 60 ]; do sleep 1; tries=$((tries + 1)); done
[ -n "$cleanup" ] && rm -rf "$cleanup"
exit 0
"#;

/// Stops a process (with `signal`) once the test process has ended, for as long as it lives.
pub struct Watchdog(Option<Child>);

impl Watchdog {
    /// Watches `pid`; if the test process ends first, `pid` gets `signal` and, once it has
    /// stopped, `cleanup` (a directory) is removed.
    pub fn start(pid: u32, signal: &str, cleanup: Option<&Path>) -> Self {
        let shell = Command::new("sh")
            .args(["-c", WATCHDOG, "watchdog"])
            .arg(std::process::id().to_string())
            .arg(pid.to_string())
            .arg(signal)
            .arg(cleanup.map(|p| p.as_os_str()).unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        Self(shell.ok())
    }

    /// Ends the watch (the process was stopped by its owner).
    pub fn stop(&mut self) {
        if let Some(mut shell) = self.0.take() {
            let _ = shell.kill();
            let _ = shell.wait();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running server.
pub struct Running {
    name: String,
    child: Child,
    /// `TERM` for most servers; PostgreSQL's fast shutdown is `INT`.
    stop_signal: &'static str,
    log_files: Vec<PathBuf>,
    watchdog: Watchdog,
}

impl Running {
    /// Starts `command` with its output in `dir/NAME.out` and `dir/NAME.err`.
    pub fn spawn(name: &str, command: &mut Command, dir: &Path) -> Self {
        Self::spawn_with(name, command, dir, "TERM", None)
    }

    /// Like [`Running::spawn`], stopped with `stop_signal`; if the test process ends without
    /// stopping it, `cleanup` (a directory) is removed once it has stopped.
    pub fn spawn_with(
        name: &str,
        command: &mut Command,
        dir: &Path,
        stop_signal: &'static str,
        cleanup: Option<&Path>,
    ) -> Self {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let out = dir.join(format!("{name}.out"));
        let err = dir.join(format!("{name}.err"));
        let file = |path: &Path| {
            std::fs::File::create(path)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(file(&out))
            .stderr(file(&err))
            .spawn()
            .unwrap_or_else(|e| panic!("{name} could not start: {e} ({command:?})"));
        let watchdog = Watchdog::start(child.id(), stop_signal, cleanup);
        Self {
            name: name.to_string(),
            child,
            stop_signal,
            log_files: vec![out, err],
            watchdog,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status if it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Also show this file (a server's own log) in [`Running::log`].
    pub fn add_log_file(&mut self, path: PathBuf) {
        self.log_files.push(path);
    }

    /// What it printed and logged so far.
    pub fn log(&self) -> String {
        let mut all = String::new();
        for path in &self.log_files {
            if let Ok(text) = std::fs::read_to_string(path)
                && !text.trim().is_empty()
            {
                all.push_str(&format!("--- {} ---\n{text}\n", path.display()));
            }
        }
        if all.is_empty() {
            format!("({} printed nothing)", self.name)
        } else {
            all
        }
    }

    /// Sends the stop signal and waits for the process to end (killing it if it will not).
    pub fn stop(&mut self) {
        if self.exited().is_none() {
            let _ = Command::new("kill")
                .arg(format!("-{}", self.stop_signal))
                .arg(self.child.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + STOP_LIMIT;
            while self.exited().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.exited().is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        self.watchdog.stop();
    }

    /// Waits until every address accepts TCP connections. Fails (with the log) if the process
    /// ends first or [`START_LIMIT`] passes.
    pub fn wait_for_tcp(&mut self, addresses: &[SocketAddr]) -> Result<(), StartFailure> {
        let deadline = Instant::now() + START_LIMIT;
        for address in addresses {
            while TcpStream::connect_timeout(address, Duration::from_secs(1)).is_err() {
                self.check_alive(&format!("listening on {address}"), deadline)?;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// Fails if the process has ended, or if `deadline` has passed while waiting for `what`.
    pub fn check_alive(&mut self, what: &str, deadline: Instant) -> Result<(), StartFailure> {
        if let Some(status) = self.exited() {
            return Err(StartFailure {
                message: format!("{} ended ({status}) before {what}", self.name),
                log: self.log(),
            });
        }
        if Instant::now() > deadline {
            return Err(StartFailure {
                message: format!(
                    "{} was not {what} after {} s",
                    self.name,
                    START_LIMIT.as_secs()
                ),
                log: self.log(),
            });
        }
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Everything in the log files of `dir` (for servers whose process has come and gone).
pub fn logs_in(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| Some((p, std::fs::read_to_string(p).ok()?)))
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(p, text)| format!("--- {} ---\n{text}\n", p.display()))
        .collect()
}

/// Why a server did not start.
#[derive(Debug)]
pub struct StartFailure {
    pub message: String,
    pub log: String,
}

impl StartFailure {
    /// Whether another port might do: the server could not bind the one it was given.
    fn port_was_taken(&self) -> bool {
        let log = self.log.to_ascii_lowercase();
        ["address already in use", "address in use", "eaddrinuse"]
            .iter()
            .any(|m| log.contains(m))
    }
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.message, self.log)
    }
}

/// Starts a server with `attempt`, which picks its ports afresh each time; tries again (up to 5
/// times) when the server could not bind because another process took a port meanwhile.
pub fn start_with_retry<T>(what: &str, mut attempt: impl FnMut() -> Result<T, StartFailure>) -> T {
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt() {
            Ok(started) => return started,
            Err(failure) if failure.port_was_taken() && tries < 5 => {
                eprintln!("{what}: a port was taken meanwhile; trying other ports");
            }
            Err(failure) => panic!("{what} did not start: {failure}"),
        }
    }
}
