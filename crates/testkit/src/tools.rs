//! The outside programs tests use, and what happens when one is missing.
//!
//! A test asks for a tool with [`require`] (the server helpers of this crate do it for it). When
//! the tool is not installed the test is skipped, named as skipped with the tool and its Debian
//! package, unless `SIGNPOST_TEST_REQUIRE_TOOLS=1` is set (as `scripts/test` does): then a
//! missing tool fails the test, so a run that was meant to be whole can never skip silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// When set to `1`, a missing tool fails the test instead of skipping it.
pub const REQUIRE_TOOLS_VARIABLE: &str = "SIGNPOST_TEST_REQUIRE_TOOLS";

/// A program from Debian (or, for the web interface's checks, from npm) that some tests start
/// or call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    Apache,
    Caddy,
    Chromium,
    /// Building and checking a Debian package: dpkg-dev, lintian, man-db.
    DebianPackaging,
    Dnsmasq,
    Dovecot,
    Fail2ban,
    Mariadb,
    Nginx,
    /// openapi-core from PyPI (`tests/openapi/.venv`), run with Python.
    OpenapiCore,
    Openssl,
    Pebble,
    Postgres,
    Prometheus,
    Slapd,
    Sqlite3,
    SystemdAnalyze,
    Testssl,
    /// axe-core and Lighthouse from npm (`tests/ui-tools`), run with Node.js.
    UiChecks,
    Xmllint,
}

impl Tool {
    /// Every program that must be found for the tool to count as installed.
    fn programs(self) -> &'static [&'static str] {
        match self {
            Tool::Apache => &["apache2"],
            Tool::Caddy => &["caddy"],
            Tool::Chromium => &["chromium", "chromedriver"],
            Tool::DebianPackaging => &["dpkg-deb", "dpkg-shlibdeps", "strip", "lintian", "man"],
            Tool::Dnsmasq => &["dnsmasq"],
            Tool::Dovecot => &["dovecot", "doveadm"],
            Tool::Fail2ban => &["fail2ban-regex"],
            Tool::Mariadb => &["mariadbd", "mariadb-install-db", "mariadb"],
            Tool::Nginx => &["nginx"],
            Tool::OpenapiCore => &[],
            Tool::Openssl => &["openssl"],
            Tool::Pebble => &["pebble", "pebble-challtestsrv"],
            // The server programs live outside PATH; see `postgres_bin`.
            Tool::Postgres => &[],
            Tool::Prometheus => &["promtool"],
            Tool::Slapd => &["slapd", "slapadd"],
            Tool::Sqlite3 => &["sqlite3"],
            Tool::SystemdAnalyze => &["systemd-analyze"],
            Tool::Testssl => &["testssl"],
            Tool::UiChecks => &["node"],
            Tool::Xmllint => &["xmllint"],
        }
    }

    /// The Debian packages that install it.
    pub fn packages(self) -> &'static str {
        match self {
            Tool::Apache => "apache2",
            Tool::Caddy => "caddy",
            Tool::Chromium => "chromium chromium-driver",
            Tool::DebianPackaging => "dpkg-dev binutils lintian man-db",
            Tool::Dnsmasq => "dnsmasq-base",
            Tool::Dovecot => "dovecot-imapd dovecot-pop3d dovecot-submissiond",
            Tool::Fail2ban => "fail2ban",
            Tool::Mariadb => "mariadb-server mariadb-client",
            Tool::Nginx => "nginx",
            Tool::OpenapiCore => "python3-venv",
            Tool::Openssl => "openssl",
            Tool::Pebble => "pebble",
            Tool::Postgres => "postgresql",
            Tool::Prometheus => "prometheus",
            Tool::Slapd => "slapd ldap-utils",
            Tool::Sqlite3 => "sqlite3",
            Tool::SystemdAnalyze => "systemd",
            Tool::Testssl => "testssl.sh",
            Tool::UiChecks => "nodejs npm",
            Tool::Xmllint => "libxml2-utils",
        }
    }

    /// How to install it, for the message of a skipped test.
    pub fn how_to_install(self) -> String {
        match self {
            Tool::UiChecks => format!(
                "npm ci --prefix tests/ui-tools, which scripts/test runs; Node.js from Debian: apt-get install {}",
                self.packages()
            ),
            Tool::OpenapiCore => format!(
                "python3 -m venv tests/openapi/.venv && tests/openapi/.venv/bin/pip install -r tests/openapi/requirements.txt, which scripts/test runs; Debian: apt-get install {}",
                self.packages()
            ),
            _ => format!("Debian: apt-get install {}", self.packages()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Apache => "Apache",
            Tool::Caddy => "Caddy",
            Tool::Chromium => "Chromium with chromedriver",
            Tool::DebianPackaging => "dpkg-dev and lintian",
            Tool::Dnsmasq => "dnsmasq",
            Tool::Dovecot => "Dovecot",
            Tool::Fail2ban => "fail2ban",
            Tool::Mariadb => "MariaDB",
            Tool::Nginx => "nginx",
            Tool::OpenapiCore => "openapi-core",
            Tool::Openssl => "openssl",
            Tool::Pebble => "Pebble",
            Tool::Postgres => "PostgreSQL",
            Tool::Prometheus => "promtool",
            Tool::Slapd => "slapd",
            Tool::Sqlite3 => "sqlite3",
            Tool::SystemdAnalyze => "systemd-analyze",
            Tool::Testssl => "testssl.sh",
            Tool::UiChecks => "axe-core and Lighthouse",
            Tool::Xmllint => "xmllint",
        }
    }

    /// Whether every program of the tool can be found (checked once per process).
    pub fn is_installed(self) -> bool {
        static FOUND: OnceLock<std::sync::Mutex<std::collections::HashMap<Tool, bool>>> =
            OnceLock::new();
        let found = FOUND.get_or_init(Default::default);
        let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
        *found.entry(self).or_insert_with(|| match self {
            Tool::Postgres => postgres_bin().is_some(),
            // scripts/test marks the environment once pip has installed everything.
            Tool::OpenapiCore => {
                openapi_python().is_file()
                    && Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../../tests/openapi/.venv/installed")
                        .is_file()
            }
            Tool::UiChecks => {
                self.programs().iter().all(|p| find_program(p).is_some())
                    && ui_tools_dir().join(AXE_SCRIPT).is_file()
                    && ui_tools_dir().join(LIGHTHOUSE_SCRIPT).is_file()
            }
            _ => self.programs().iter().all(|p| find_program(p).is_some()),
        })
    }
}

/// Where `npm ci` installs the web interface's checkers (`tests/ui-tools` of the workspace).
pub fn ui_tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui-tools")
}

/// The Python of the virtual environment that holds openapi-core (`tests/openapi/.venv`).
pub fn openapi_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/openapi/.venv/bin/python")
}

/// axe-core's script, injected into pages, under [`ui_tools_dir`].
pub const AXE_SCRIPT: &str = "node_modules/axe-core/axe.min.js";
/// Lighthouse's command line, run with Node.js, under [`ui_tools_dir`].
pub const LIGHTHOUSE_SCRIPT: &str = "node_modules/lighthouse/cli/index.js";

/// The directory of PostgreSQL's server programs (`initdb`, `postgres`, `psql`), newest version.
pub fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

/// Where `program` is: on PATH, or in the system directories Debian puts daemons in (which a
/// non-root PATH often lacks).
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Why a test did not run: the tool it needs is missing (the runner reports it as skipped).
#[derive(Debug, Clone)]
pub struct Skipped {
    pub reason: String,
}

fn tools_are_required() -> bool {
    std::env::var(REQUIRE_TOOLS_VARIABLE).is_ok_and(|v| v == "1")
}

/// Makes sure `tool` is installed. If it is not, the test stops here: skipped, or failed when
/// `SIGNPOST_TEST_REQUIRE_TOOLS=1`.
pub fn require(tool: Tool) {
    if tool.is_installed() {
        return;
    }
    let reason = format!("needs {} ({})", tool.name(), tool.how_to_install());
    if tools_are_required() {
        panic!("{reason}, which is not installed; {REQUIRE_TOOLS_VARIABLE}=1 makes that a failure");
    }
    // Unwinds without the panic hook's message: a skip is not an error.
    std::panic::resume_unwind(Box::new(Skipped { reason }));
}

/// A command for `program` of `tool`, after [`require`]: found where Debian installs it.
pub fn command(tool: Tool, program: &str) -> Command {
    require(tool);
    let path = match tool {
        Tool::Postgres => postgres_bin().map(|bin| bin.join(program)),
        _ => find_program(program),
    };
    Command::new(path.unwrap_or_else(|| PathBuf::from(program)))
}

/// Whether the current user is root (servers that drop privileges need a user to run as).
pub fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    })
}
