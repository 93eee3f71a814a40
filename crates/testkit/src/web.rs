//! Web servers from Debian running a company website on 127.0.0.0/8: nginx, Apache and Caddy,
//! each with its own configuration in a temporary directory, checked by the server's own
//! configuration test first, and stopped when dropped.
//!
//! The caller chooses the port (often one Signpost must be told about too); take it from
//! [`crate::ports`], which never hands out a port the kernel might give someone else meanwhile.

use std::net::SocketAddr;
use std::path::Path;

use crate::process::Running;
use crate::tools::{self, Tool};

fn started(mut process: Running, ip: &str, port: u16, what: &str) -> Running {
    let address = SocketAddr::new(
        ip.parse().unwrap_or_else(|_| panic!("an IP address: {ip}")),
        port,
    );
    if let Err(failure) = process.wait_for_tcp(&[address]) {
        panic!("{what} did not start: {failure}");
    }
    process
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
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
    nginx_file(
        dir,
        ip,
        port,
        &format!(
            "daemon off;\nworker_processes 1;\npid {pid};\nerror_log {err};\nevents {{ worker_connections 64; }}\n\
http {{\n  access_log off;\n  client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n\
{http_block}}}\n",
            pid = dir.join("nginx/nginx.pid").display(),
            err = dir.join("nginx/logs/error.log").display(),
            tmp = dir.join("nginx").display(),
        ),
    )
}

/// nginx with `config` as its whole configuration file (run in the foreground); waits until
/// `ip:port` accepts connections.
pub fn nginx_file(dir: &Path, ip: &str, port: u16, config: &str) -> Running {
    tools::require(Tool::Nginx);
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("logs")).expect("nginx directory");
    let file = root.join("nginx.conf");
    write(&file, config);
    let test = tools::command(Tool::Nginx, "nginx")
        .arg("-t")
        .arg("-c")
        .arg(&file)
        .arg("-p")
        .arg(&root)
        .output()
        .expect("nginx -t");
    assert!(
        test.status.success(),
        "nginx -t refused the configuration: {}\n{config}",
        String::from_utf8_lossy(&test.stderr)
    );
    let mut command = tools::command(Tool::Nginx, "nginx");
    command.arg("-c").arg(&file).arg("-p").arg(&root);
    if !config.contains("daemon off") {
        command.args(["-g", "daemon off;"]);
    }
    let mut process = Running::spawn("nginx", &mut command, &root);
    process.add_log_file(root.join("logs/error.log"));
    started(process, ip, port, "nginx")
}

/// Apache serving `document_root` (where a `.htaccess` may be) on `ip:port`, overrides allowed.
pub fn apache(dir: &Path, ip: &str, port: u16, document_root: &Path) -> Running {
    tools::require(Tool::Apache);
    let root = dir.join("apache");
    std::fs::create_dir_all(&root).expect("apache directory");
    let modules = "/usr/lib/apache2/modules";
    let config = root.join("httpd.conf");
    write(
        &config,
        &format!(
            "ServerRoot {root}\nPidFile {root}/httpd.pid\nErrorLog {root}/error.log\nLogLevel warn\n\
LoadModule mpm_event_module {modules}/mod_mpm_event.so\nLoadModule authz_core_module {modules}/mod_authz_core.so\n\
LoadModule rewrite_module {modules}/mod_rewrite.so\nUser www-data\nGroup www-data\nServerName localhost\n\
Listen {ip}:{port}\nDocumentRoot {docs}\n<Directory {docs}>\n  AllowOverride All\n  Require all granted\n</Directory>\n",
            root = root.display(),
            docs = document_root.display(),
        ),
    );
    let check = tools::command(Tool::Apache, "apache2")
        .arg("-t")
        .arg("-f")
        .arg(&config)
        .output()
        .expect("apache2 -t");
    assert!(
        check.status.success(),
        "apache2 -t refused the configuration: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut command = tools::command(Tool::Apache, "apache2");
    command.arg("-f").arg(&config).arg("-DFOREGROUND");
    let mut process = Running::spawn("apache2", &mut command, &root);
    process.add_log_file(root.join("error.log"));
    started(process, ip, port, "apache2")
}

/// Caddy with one plain-HTTP site on `ip:port` holding `body`.
pub fn caddy(dir: &Path, ip: &str, port: u16, body: &str) -> Running {
    tools::require(Tool::Caddy);
    let root = dir.join("caddy");
    std::fs::create_dir_all(&root).expect("caddy directory");
    let config = root.join("Caddyfile");
    write(
        &config,
        &format!(
            "{{\n  admin off\n  auto_https off\n  storage file_system {data}\n}}\nhttp://:{port} {{\n  bind {ip}\n{body}\n  respond \"website\" 200\n}}\n",
            data = root.display()
        ),
    );
    let caddy = || {
        let mut command = tools::command(Tool::Caddy, "caddy");
        command
            .env("HOME", &root)
            .env("XDG_DATA_HOME", &root)
            .env("XDG_CONFIG_HOME", &root);
        command
    };
    let validate = caddy()
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(&config)
        .output()
        .expect("caddy validate");
    assert!(
        validate.status.success(),
        "caddy validate refused the configuration: {}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    let mut command = caddy();
    command
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&config);
    let process = Running::spawn("caddy", &mut command, &root);
    started(process, ip, port, "caddy")
}
