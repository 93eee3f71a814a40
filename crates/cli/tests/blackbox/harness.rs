//! Starts the real `signpost` binary on 127.0.0.1 with a fresh data directory, and the real tools
//! (xmllint) that check what it says.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use signpost_testkit::process::Watchdog;
use signpost_testkit::tools::{self, Tool};

/// How long to wait for something the server does by itself (a reload, a certificate, a log
/// line). Far longer than it ever takes: only a broken server waits this long, so no test
/// depends on how fast the machine is that minute.
pub const WAIT_LIMIT: Duration = Duration::from_secs(120);

pub const OUTLOOK_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
pub const MOBILESYNC_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A data directory and the binary to run against it.
pub struct Signpost {
    pub dir: tempfile::TempDir,
    /// `--database URL` (PostgreSQL), instead of the SQLite file in the data directory.
    pub database: Option<String>,
}

impl Signpost {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            database: None,
        }
    }

    /// Every command on the store at `url`.
    pub fn on_database(url: &str) -> Self {
        Self {
            database: Some(url.to_string()),
            ..Self::new()
        }
    }

    /// The global options that choose the store.
    pub fn store_args(&self) -> Vec<String> {
        let mut args = vec!["--data".to_string(), self.data().display().to_string()];
        if let Some(url) = &self.database {
            args.extend(["--database".to_string(), url.clone()]);
        }
        args
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_signpost"));
        command
            .args(self.store_args())
            .args(args)
            .env_remove("SIGNPOST_DATA")
            .env_remove("SIGNPOST_CONFIG")
            .env_remove("SIGNPOST_DATABASE_URL")
            .env_remove("SIGNPOST_LISTEN");
        command
    }

    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start signpost");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("signpost output")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with_stdin(args, "")
    }

    pub fn ok_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "signpost {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, "");
        assert!(
            !out.status.success(),
            "signpost {args:?} should have failed; printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    pub fn add_user(&self, address: &str, password: &str, extra: &[&str]) {
        let mut args = vec!["user", "add", address, "--password-stdin"];
        args.extend_from_slice(extra);
        self.ok_with_stdin(&args, &format!("{password}\n"));
    }

    /// The domain most tests use: example.com served by mail.example.com.
    /// `signpost cert add` of a chain and key (as [`crate::pki::TestCa::issue`] returns them);
    /// returns what it printed.
    pub fn add_cert(&self, (cert, key): &(PathBuf, PathBuf)) -> String {
        self.ok(&[
            "cert",
            "add",
            "--cert",
            cert.to_str().expect("UTF-8 path"),
            "--key",
            key.to_str().expect("UTF-8 path"),
        ])
    }

    pub fn with_example_domain(self) -> Self {
        self.ok(&[
            "domain",
            "add",
            "example.com",
            "--hostname",
            "mail.example.com",
        ]);
        self
    }

    pub fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    pub fn serve_with(&self, extra: &[&str]) -> Server {
        let mut args = vec!["serve"];
        if !extra
            .iter()
            .any(|a| *a == "--listen" || *a == "--listen-tls")
        {
            args.extend_from_slice(&["--listen", "127.0.0.1:0"]);
        }
        args.extend_from_slice(extra);
        self.start(&args)
    }

    /// Starts `signpost ARGS...` and waits for it to say it is ready.
    pub fn start(&self, args: &[&str]) -> Server {
        self.start_with_env(args, &[])
    }

    /// [`Signpost::start`] with environment variables set for the server.
    pub fn start_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = self.command(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start signpost serve");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        // Drained all the time, so a chatty server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut http = Vec::new();
        let mut https = Vec::new();
        let mut admin = Vec::new();
        let mut admin_tls = Vec::new();
        let mut setup_link = None;
        let watchdog = Watchdog::start(child.id(), "KILL", None);
        let deadline = std::time::Instant::now() + signpost_testkit::process::START_LIMIT;
        loop {
            let line = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) if std::time::Instant::now() < deadline => {
                    continue;
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                    // The log reader gets the last lines before it is read.
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "expected: signpost {args:?} to print \"signpost: ready\"\n    seen: it did not (exit status: {status})\nserver log:\n{}",
                        log.lock().map(|l| l.clone()).unwrap_or_default()
                    )
                }
            };
            if let Some(address) = line.strip_prefix("signpost: listening on http://") {
                http.push(address.parse::<std::net::SocketAddr>().expect("address"));
            } else if let Some(address) = line.strip_prefix("signpost: listening on https://") {
                https.push(address.parse::<std::net::SocketAddr>().expect("address"));
            } else if let Some(address) = line
                .strip_prefix("signpost: administration on http://")
                .and_then(|rest| rest.strip_suffix("/admin"))
            {
                admin.push(address.parse::<std::net::SocketAddr>().expect("address"));
            } else if let Some(address) = line
                .strip_prefix("signpost: administration on https://")
                .and_then(|rest| rest.strip_suffix("/admin"))
            {
                admin_tls.push(address.parse::<std::net::SocketAddr>().expect("address"));
            } else if let Some((_, link)) = line.split_once("create one at ") {
                setup_link = Some(link.to_string());
            } else if line == "signpost: ready" {
                break;
            }
        }
        let addr = http.first().or(https.first()).copied().expect("a listener");
        Server {
            child,
            _watchdog: watchdog,
            addr,
            https,
            admin,
            admin_tls,
            setup_link,
            log,
            store_args: self.store_args(),
            base: format!("http://{addr}"),
            client: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }
}

/// A running `signpost serve`, stopped when dropped.
pub struct Server {
    child: Child,
    /// Kills the server if the test process ends without dropping it.
    _watchdog: Watchdog,
    pub base: String,
    /// The first plain HTTP listener (or the first HTTPS one when there is none).
    pub addr: std::net::SocketAddr,
    pub https: Vec<std::net::SocketAddr>,
    /// Listeners of the administration surface alone (`--admin-listen`).
    pub admin: Vec<std::net::SocketAddr>,
    /// The same over HTTPS (`--admin-listen-tls`).
    pub admin_tls: Vec<std::net::SocketAddr>,
    /// The one-time setup link printed when there is no administrator yet.
    pub setup_link: Option<String>,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    /// `--data DIR` of the store this server uses.
    store_args: Vec<String>,
    pub client: reqwest::blocking::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (at most `seconds`) for the process to exit; its exit status.
    pub fn terminate(&mut self, seconds: u64) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn send(&self, request: reqwest::blocking::RequestBuilder) -> Answer {
        let response = request.send().expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.text().expect("body");
        Answer {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub fn post(&self, path: &str, body: &str, credentials: Option<(&str, &str)>) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "text/xml; charset=utf-8")
            .body(body.to_string());
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        self.send(request)
    }

    pub fn get(&self, path_and_query: &str, credentials: Option<(&str, &str)>) -> Answer {
        let mut request = self.client.get(format!("{}{path_and_query}", self.base));
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        self.send(request)
    }

    /// A GET with the Host header a client would send for `host`.
    pub fn get_as(&self, host: &str, path_and_query: &str) -> Answer {
        self.send(
            self.client
                .get(format!("{}{path_and_query}", self.base))
                .header("host", host),
        )
    }

    /// Outlook's POST to the canonical path.
    pub fn autodiscover(
        &self,
        email: &str,
        schema: &str,
        credentials: Option<(&str, &str)>,
    ) -> Answer {
        self.post(
            "/autodiscover/autodiscover.xml",
            &pox_request(email, schema),
            credentials,
        )
    }

    /// The configuration version the server answers from (from /readyz).
    pub fn config_version(&self) -> u64 {
        let ready = self.get("/readyz", None).body;
        ready
            .split("configuration version ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("unexpected /readyz: {ready}"))
    }

    /// Runs CLI changes and waits until the server has loaded all of them.
    pub fn after_change(&self, change: impl FnOnce()) {
        change();
        self.wait_for_store();
    }

    /// Waits until the server answers from the store's current version.
    pub fn wait_for_store(&self) {
        let status = Command::new(env!("CARGO_BIN_EXE_signpost"))
            .args(&self.store_args)
            .args(["status", "--format", "json"])
            .output()
            .expect("signpost status");
        let status: serde_json::Value =
            serde_json::from_slice(&status.stdout).expect("status JSON");
        let wanted = status["version"].as_u64().expect("version");
        self.wait_until(
            &format!("configuration version {wanted} or later on /readyz"),
            |s| s.config_version(),
            |&version| version >= wanted,
        );
    }

    /// Polls `look` until `ok` holds for what it returns, and returns that. After
    /// [`WAIT_LIMIT`] the test fails, naming what was expected and the last thing seen, then the
    /// server's log.
    pub fn wait_until<T: std::fmt::Debug>(
        &self,
        expected: &str,
        mut look: impl FnMut(&Server) -> T,
        ok: impl Fn(&T) -> bool,
    ) -> T {
        let deadline = std::time::Instant::now() + WAIT_LIMIT;
        loop {
            let seen = look(self);
            if ok(&seen) {
                return seen;
            }
            if std::time::Instant::now() > deadline {
                self.fail(
                    &format!("{expected} (waited {} s)", WAIT_LIMIT.as_secs()),
                    &format!("{seen:?}"),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The sum of every sample of the metric `name` in `/metrics`, whatever its labels.
    pub fn metric(&self, name: &str) -> f64 {
        self.get("/metrics", None)
            .body
            .lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with([' ', '{']))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Fails the test: what was expected, what was seen, then the server's log.
    pub fn fail(&self, expected: &str, seen: &str) -> ! {
        panic!(
            "expected: {expected}\n    seen: {seen}\nserver log:\n{}",
            self.log()
        )
    }
}

/// A form as a browser posts it (`application/x-www-form-urlencoded`).
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub fn pox_request(email: &str, schema: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{email}</EMailAddress>
    <AcceptableResponseSchema>{schema}</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#
    )
}

fn xmllint(args: &[&str], xml: &str) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("answer.xml");
    std::fs::write(&file, xml).expect("write answer");
    tools::command(Tool::Xmllint, "xmllint")
        .args(args)
        .arg(&file)
        .output()
        .expect("run xmllint")
}

/// Validates `xml` against the schema at `schema` (relative to the workspace root).
pub fn assert_valid(xml: &str, schema: &str) {
    let schema = workspace_root().join(schema);
    let out = xmllint(
        &[
            "--noout",
            "--nonet",
            "--schema",
            schema.to_str().expect("path"),
        ],
        xml,
    );
    assert!(
        out.status.success(),
        "answer does not validate against {}:\n{}\n{xml}",
        schema.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates `xml` against a RELAX NG schema (relative to the workspace root).
pub fn assert_valid_relaxng(xml: &str, schema: &str) {
    let schema = workspace_root().join(schema);
    let out = xmllint(
        &[
            "--noout",
            "--nonet",
            "--relaxng",
            schema.to_str().expect("path"),
        ],
        xml,
    );
    assert!(
        out.status.success(),
        "answer does not validate against {}:\n{}\n{xml}",
        schema.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The string value of an XPath expression, evaluated by xmllint (a real XML parser).
pub fn xpath(xml: &str, expression: &str) -> String {
    let out = xmllint(&["--nonet", "--xpath", expression], xml);
    assert!(
        out.status.success() || out.status.code() == Some(10),
        "xmllint --xpath {expression} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut value = String::from_utf8(out.stdout).expect("utf-8");
    // xmllint ends its output with a newline of its own.
    if value.ends_with('\n') {
        value.pop();
    }
    value
}

/// `//*[local-name()='Name']` text values.
pub fn element_text(xml: &str, name: &str) -> String {
    xpath(xml, &format!("string(//*[local-name()='{name}'])"))
}

pub fn count(xml: &str, expression: &str) -> usize {
    xpath(xml, &format!("count({expression})"))
        .trim()
        .parse()
        .expect("a count")
}

/// Compares with `tests/golden/NAME`, after blanking what changes per answer (error times and
/// ids). `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn assert_golden(name: &str, actual: &str) {
    let normalised = normalise_error_stamps(actual);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &normalised).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden file {}", path.display()));
    assert_eq!(
        normalised,
        expected,
        "answer differs from {}",
        path.display()
    );
}

fn normalise_error_stamps(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<Error Time=\"") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find('>').expect("end of Error tag");
        out.push_str("<Error Time=\"TIME\" Id=\"ID\">");
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}
