//! Real servers from Debian for the tests, each on 127.0.0.0/8 with its own configuration in a
//! temporary directory, stopped when dropped: dnsmasq (DNS), nginx, Apache and Caddy (a company
//! website), Dovecot (IMAP and submission), slapd (LDAP).

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pebble::free_port;

/// A child process killed on drop.
pub struct Running {
    child: Child,
}

impl Drop for Running {
    /// SIGTERM first, so servers with worker processes (nginx, Apache) take them along.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(name: &'static str, command: &mut Command, dir: &Path) -> Running {
    let log = |suffix: &str| {
        std::fs::File::create(dir.join(format!("{name}.{suffix}"))).expect("log file")
    };
    let child = command
        .stdin(Stdio::null())
        .stdout(log("out"))
        .stderr(log("err"))
        .spawn()
        .unwrap_or_else(|e| panic!("{name} could not start ({e}); scripts/test installs it"));
    Running { child }
}

pub fn wait_for_tcp(address: SocketAddr, what: &str, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(address).is_err() {
        if Instant::now() > deadline {
            let logs: String = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "err"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect();
            panic!("{what} does not listen on {address}:\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A port free on both 127.0.0.1 and 127.0.0.2 (for a website and Signpost side by side).
pub fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let port = free_port();
        if std::net::TcpListener::bind(("127.0.0.2", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 and 127.0.0.2");
}

pub struct Dnsmasq {
    _process: Running,
    pub address: SocketAddr,
}

impl Dnsmasq {
    /// Answers only from `records` (dnsmasq options such as `--host-record=...`); every other
    /// name under `zones` is NXDOMAIN, as a real authoritative server would say.
    pub fn start(dir: &Path, zones: &[&str], records: &[String]) -> Self {
        let port = free_port();
        let mut command = Command::new("dnsmasq");
        command.args([
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--conf-file=/dev/null",
            "--user=root",
            "--cache-size=0",
        ]);
        command.arg(format!("--port={port}"));
        for zone in zones {
            command.arg(format!("--local=/{zone}/"));
        }
        command.args(records);
        let process = spawn("dnsmasq", &mut command, dir);
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for_dns(address);
        Self {
            _process: process,
            address,
        }
    }
}

/// Waits until a DNS server answers a query (for anything; a refusal is an answer).
fn wait_for_dns(server: SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut query = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["probe", "invalid"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buffer = [0u8; 512];
    loop {
        let _ = socket.send_to(&query, server);
        if socket.recv_from(&mut buffer).is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "dnsmasq does not answer on {server}"
        );
    }
}

/// dnsmasq options for the records `signpost dns --format json` prints, every name pointed at
/// `ip` instead of the address in the record.
pub fn dnsmasq_records(
    records: &serde_json::Value,
    ip: &str,
    skip: impl Fn(&str, &str) -> bool,
) -> Vec<String> {
    let mut options = Vec::new();
    for record in records.as_array().expect("records") {
        let name = record["name"].as_str().unwrap().trim_end_matches('.');
        let kind = record["type"].as_str().unwrap();
        let value = record["value"].as_str().unwrap();
        if skip(name, kind) {
            continue;
        }
        match kind {
            "A" | "AAAA" | "CNAME" => options.push(format!("--host-record={name},{ip}")),
            "SRV" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                if parts[3] == "." {
                    options.push(format!("--srv-host={name}"));
                } else {
                    options.push(format!(
                        "--srv-host={name},{},{},{},{}",
                        parts[3].trim_end_matches('.'),
                        parts[2],
                        parts[0],
                        parts[1]
                    ));
                }
            }
            "TXT" => options.push(format!("--txt-record={name},{}", value.trim_matches('"'))),
            _ => {}
        }
    }
    options
}

/// nginx with one server block: plain HTTP on `http`, TLS too when `tls` gives a port, a chain
/// and a key; `body` inside the block.
pub fn nginx(
    dir: &Path,
    ip: &str,
    http: u16,
    tls: Option<(u16, &Path, &Path)>,
    name: &str,
    body: &str,
) -> Running {
    let tls_lines = match tls {
        Some((port, cert, key)) => format!(
            "    listen {ip}:{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n",
            cert.display(),
            key.display()
        ),
        None => String::new(),
    };
    let root = dir.join("nginx");
    nginx_http(
        dir,
        ip,
        http,
        &format!(
            "  server {{\n    listen {ip}:{http};\n{tls_lines}    server_name {name};\n    root {root};\n{body}\n  }}\n",
            root = root.display()
        ),
    )
}

/// nginx with `http_block` inside its `http { }` (server and upstream blocks); waits until
/// `ip:port` accepts connections.
pub fn nginx_http(dir: &Path, ip: &str, port: u16, http_block: &str) -> Running {
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("logs")).unwrap();
    let config = root.join("nginx.conf");
    std::fs::write(
        &config,
        format!(
            "daemon off;\nworker_processes 1;\npid {pid};\nerror_log {err};\nevents {{ worker_connections 64; }}\n\
http {{\n  access_log off;\n  client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n\
{http_block}}}\n",
            pid = root.join("nginx.pid").display(),
            err = root.join("logs/error.log").display(),
            tmp = root.display(),
        ),
    )
    .unwrap();
    let test = Command::new("nginx")
        .arg("-t")
        .arg("-c")
        .arg(&config)
        .arg("-p")
        .arg(&root)
        .output()
        .expect("nginx");
    assert!(
        test.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    let process = spawn(
        "nginx",
        Command::new("nginx")
            .arg("-c")
            .arg(&config)
            .arg("-p")
            .arg(&root),
        dir,
    );
    wait_for_tcp(SocketAddr::new(ip.parse().unwrap(), port), "nginx", dir);
    process
}

/// Apache serving `document_root` (where a `.htaccess` may be) on `ip:port`, overrides allowed.
pub fn apache(dir: &Path, ip: &str, port: u16, document_root: &Path) -> Running {
    let root = dir.join("apache");
    std::fs::create_dir_all(&root).unwrap();
    let modules = "/usr/lib/apache2/modules";
    let config = root.join("httpd.conf");
    std::fs::write(
        &config,
        format!(
            "ServerRoot {root}\nPidFile {root}/httpd.pid\nErrorLog {root}/error.log\nLogLevel warn\n\
LoadModule mpm_event_module {modules}/mod_mpm_event.so\nLoadModule authz_core_module {modules}/mod_authz_core.so\n\
LoadModule rewrite_module {modules}/mod_rewrite.so\nUser www-data\nGroup www-data\nServerName localhost\n\
Listen {ip}:{port}\nDocumentRoot {docs}\n<Directory {docs}>\n  AllowOverride All\n  Require all granted\n</Directory>\n",
            root = root.display(),
            docs = document_root.display(),
        ),
    )
    .unwrap();
    let check = Command::new("apache2")
        .arg("-t")
        .arg("-f")
        .arg(&config)
        .output()
        .expect("apache2");
    assert!(
        check.status.success(),
        "apache2 -t: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let process = spawn(
        "apache2",
        Command::new("apache2")
            .arg("-f")
            .arg(&config)
            .arg("-DFOREGROUND"),
        dir,
    );
    wait_for_tcp(SocketAddr::new(ip.parse().unwrap(), port), "apache2", dir);
    process
}

/// Caddy with one plain-HTTP site on `ip:port` holding `body`.
pub fn caddy(dir: &Path, ip: &str, port: u16, body: &str) -> Running {
    let root = dir.join("caddy");
    std::fs::create_dir_all(&root).unwrap();
    let config = root.join("Caddyfile");
    std::fs::write(
        &config,
        format!("{{\n  admin off\n  auto_https off\n  storage file_system {data}\n}}\nhttp://:{port} {{\n  bind {ip}\n{body}\n  respond \"website\" 200\n}}\n", data = root.display()),
    )
    .unwrap();
    let validate = Command::new("caddy")
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(&config)
        .env("HOME", &root)
        .env("XDG_DATA_HOME", &root)
        .env("XDG_CONFIG_HOME", &root)
        .output()
        .expect("caddy");
    assert!(
        validate.status.success(),
        "caddy validate: {}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    let process = spawn(
        "caddy",
        Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&config)
            .env("HOME", &root)
            .env("XDG_DATA_HOME", &root)
            .env("XDG_CONFIG_HOME", &root),
        dir,
    );
    wait_for_tcp(SocketAddr::new(ip.parse().unwrap(), port), "caddy", dir);
    process
}

/// Ports of a running Dovecot.
pub struct Dovecot {
    _process: Running,
    pub imaps: u16,
    pub imap: u16,
    pub submission: u16,
    pub pop3s: u16,
}

/// Dovecot with IMAP (implicit TLS and STARTTLS), POP3S and submission (STARTTLS), users from a
/// passwd-file of `(address, password)` hashed by `doveadm pw`.
pub fn dovecot(dir: &Path, tls: (&Path, &Path), users: &[(&str, &str)]) -> Dovecot {
    let users: Vec<DovecotUser> = users
        .iter()
        .map(|(address, password)| DovecotUser {
            address,
            password,
            disabled: false,
            pop_denied: false,
        })
        .collect();
    dovecot_with(dir, tls, &users)
}

/// A Dovecot account: `disabled` ones are refused whatever the password (`nologin`), and
/// `pop_denied` ones are refused by POP3 only (a deny passdb per service, as Dovecot's
/// documentation shows).
pub struct DovecotUser<'a> {
    pub address: &'a str,
    pub password: &'a str,
    pub disabled: bool,
    pub pop_denied: bool,
}

pub fn dovecot_with(dir: &Path, (cert, key): (&Path, &Path), users: &[DovecotUser]) -> Dovecot {
    let root = dir.join("dovecot");
    for sub in ["run", "state", "home"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    let _ = Command::new("chown")
        .args(["-R", "dovecot:dovecot"])
        .arg(root.join("home"))
        .status();
    let mut passwd = String::new();
    let mut pop_denied = String::new();
    for user in users {
        let hash = Command::new("doveadm")
            .args(["pw", "-s", "SHA512-CRYPT", "-p", user.password])
            .output()
            .expect("doveadm");
        let extra = if user.disabled {
            "nologin=y reason=disabled"
        } else {
            ""
        };
        passwd.push_str(&format!(
            "{}:{}::::::{extra}\n",
            user.address,
            String::from_utf8_lossy(&hash.stdout).trim()
        ));
        if user.pop_denied {
            pop_denied.push_str(&format!("{}\n", user.address));
        }
    }
    std::fs::write(root.join("users"), passwd).unwrap();
    for service in ["imap", "submission"] {
        std::fs::write(root.join(format!("deny-{service}")), "").unwrap();
    }
    std::fs::write(root.join("deny-pop3"), pop_denied).unwrap();
    let (imaps, imap, submission, pop3s) = (free_port(), free_port(), free_port(), free_port());
    let config = root.join("dovecot.conf");
    let d = root.display();
    std::fs::write(
        &config,
        format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap pop3 submission\n\
listen = 127.0.0.1\ndefault_login_user = dovenull\ndefault_internal_user = dovecot\nfirst_valid_uid = 1\n\
ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\nauth_mechanisms = plain login\nauth_failure_delay = 0\nlogin_trusted_networks = 127.0.0.0/8\n\
passdb {{\n  driver = passwd-file\n  deny = yes\n  args = {d}/deny-%s\n}}\n\
passdb {{\n  driver = passwd-file\n  args = scheme=SHA512-CRYPT {d}/users\n}}\n\
userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/home/%u\n}}\nmail_location = maildir:{d}/home/%u/Maildir\n\
service imap-login {{\n  inet_listener imap {{\n    port = {imap}\n  }}\n  inet_listener imaps {{\n    port = {imaps}\n    ssl = yes\n  }}\n}}\n\
service pop3-login {{\n  inet_listener pop3 {{\n    port = 0\n  }}\n  inet_listener pop3s {{\n    port = {pop3s}\n    ssl = yes\n  }}\n}}\n\
service submission-login {{\n  inet_listener submission {{\n    port = {submission}\n  }}\n}}\nsubmission_relay_host = 127.0.0.1\n",
            cert = cert.display(),
            key = key.display(),
        ),
    )
    .unwrap();
    let process = spawn(
        "dovecot",
        Command::new("dovecot").arg("-F").arg("-c").arg(&config),
        dir,
    );
    for port in [imaps, imap, submission, pop3s] {
        wait_for_tcp(SocketAddr::from(([127, 0, 0, 1], port)), "dovecot", &root);
    }
    Dovecot {
        _process: process,
        imaps,
        imap,
        submission,
        pop3s,
    }
}

/// A running slapd with the test tree of `testdata/ldap`, on plain LDAP (with StartTLS) and LDAPS.
pub struct Slapd {
    process: Option<Running>,
    command: Vec<String>,
    dir: std::path::PathBuf,
    pub ldap: u16,
    pub ldaps: u16,
}

impl Slapd {
    pub fn stop(&mut self) {
        self.process = None;
    }

    pub fn start_again(&mut self) {
        let mut command = Command::new(&self.command[0]);
        command.args(&self.command[1..]);
        self.process = Some(spawn("slapd", &mut command, &self.dir));
        wait_for_tcp(
            SocketAddr::from(([127, 0, 0, 1], self.ldap)),
            "slapd",
            &self.dir,
        );
    }
}

/// slapd (Debian's, with the mdb backend) serving `dc=example,dc=com` from
/// `testdata/ldap/tree.ldif`, with TLS from `cert`/`key`. Passwords are readable by nobody;
/// the search account `cn=reader` reads entries, and users read their own.
pub fn slapd(dir: &Path, (cert, key): (&Path, &Path)) -> Slapd {
    let root = dir.join("slapd");
    std::fs::create_dir_all(root.join("db")).unwrap();
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ldap");
    let config = root.join("slapd.conf");
    std::fs::write(
        &config,
        format!(
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
include /etc/ldap/schema/inetorgperson.schema\ninclude {schema}\n\
modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {r}/slapd.pid\n\
TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
database mdb\nsuffix \"dc=example,dc=com\"\nrootdn \"cn=admin,dc=example,dc=com\"\n\
directory {r}/db\n\
access to attrs=userPassword by anonymous auth by * none\n\
access to * by dn.exact=\"cn=reader,dc=example,dc=com\" read by self read by * none\n",
            schema = testdata.join("mail.schema").display(),
            r = root.display(),
            cert = cert.display(),
            key = key.display(),
        ),
    )
    .unwrap();
    let loaded = Command::new("slapadd")
        .arg("-f")
        .arg(&config)
        .arg("-l")
        .arg(testdata.join("tree.ldif"))
        .output()
        .expect("slapadd (scripts/test installs slapd)");
    assert!(
        loaded.status.success(),
        "slapadd: {}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let (ldap, ldaps) = (free_port(), free_port());
    let command: Vec<String> = vec![
        "slapd".into(),
        "-d".into(),
        "0".into(),
        "-f".into(),
        config.display().to_string(),
        "-h".into(),
        format!("ldap://127.0.0.1:{ldap}/ ldaps://127.0.0.1:{ldaps}/"),
    ];
    let mut server = Slapd {
        process: None,
        command,
        dir: root,
        ldap,
        ldaps,
    };
    server.start_again();
    wait_for_tcp(
        SocketAddr::from(([127, 0, 0, 1], ldaps)),
        "slapd",
        &server.dir,
    );
    server
}

/// A private MariaDB (Debian's mariadb-server) on 127.0.0.1: root without a password, for the
/// test to create databases and users.
pub struct MariaDb {
    _process: Running,
    pub port: u16,
}

impl MariaDb {
    /// Runs SQL as root; its output, or why it failed.
    pub fn sql(&self, database: &str, sql: &str) -> Result<String, String> {
        let out = Command::new("mariadb")
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

pub fn mariadb(dir: &Path) -> MariaDb {
    let root = dir.join("mariadb");
    std::fs::create_dir_all(&root).unwrap();
    let data = root.join("data");
    let installed = Command::new("mariadb-install-db")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--user=root",
            "--skip-test-db",
        ])
        .output()
        .expect("mariadb-install-db (scripts/test installs mariadb-server)");
    assert!(
        installed.status.success(),
        "mariadb-install-db: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let port = free_port();
    let process = spawn(
        "mariadb",
        Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", root.join("socket").display()))
            .arg(format!("--pid-file={}", root.join("pid").display()))
            .args(["--user=root", "--skip-log-bin"]),
        &root,
    );
    wait_for_tcp(SocketAddr::from(([127, 0, 0, 1], port)), "mariadb", &root);
    MariaDb {
        _process: process,
        port,
    }
}
