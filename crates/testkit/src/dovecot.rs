//! A private Dovecot (Debian's `dovecot-imapd`, `dovecot-pop3d`, `dovecot-submissiond`) on
//! 127.0.0.1: IMAP with implicit TLS and STARTTLS, POP3S and submission (STARTTLS), users from a
//! passwd-file hashed by `doveadm pw`, stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ports::free_port;
use crate::process::{Running, start_with_retry};
use crate::tools::{self, Tool};

/// A running Dovecot and its ports.
pub struct Dovecot {
    _process: Running,
    root: PathBuf,
    pub imaps: u16,
    pub imap: u16,
    pub submission: u16,
    pub pop3s: u16,
}

impl Dovecot {
    /// Dovecot's own log (logins, with the client's address and the user).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("dovecot.log")).unwrap_or_default()
    }
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

/// Dovecot with `(address, password)` users, all allowed everything.
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

fn password_hash(password: &str) -> String {
    let hash = tools::command(Tool::Dovecot, "doveadm")
        .args(["pw", "-s", "SHA512-CRYPT", "-p", password])
        .output()
        .expect("doveadm pw");
    assert!(
        hash.status.success(),
        "doveadm pw failed: {}",
        String::from_utf8_lossy(&hash.stderr)
    );
    String::from_utf8_lossy(&hash.stdout).trim().to_string()
}

pub fn dovecot_with(dir: &Path, (cert, key): (&Path, &Path), users: &[DovecotUser]) -> Dovecot {
    tools::require(Tool::Dovecot);
    let root = dir.join("dovecot");
    for sub in ["run", "state", "home"] {
        std::fs::create_dir_all(root.join(sub)).expect("dovecot directory");
    }
    if tools::is_root() {
        let _ = Command::new("chown")
            .args(["-R", "dovecot:dovecot"])
            .arg(root.join("home"))
            .status();
    }
    let mut passwd = String::new();
    let mut pop_denied = String::new();
    for user in users {
        let extra = if user.disabled {
            "nologin=y reason=disabled"
        } else {
            ""
        };
        passwd.push_str(&format!(
            "{}:{}::::::{extra}\n",
            user.address,
            password_hash(user.password)
        ));
        if user.pop_denied {
            pop_denied.push_str(&format!("{}\n", user.address));
        }
    }
    let write = |name: &str, text: &str| {
        std::fs::write(root.join(name), text).expect("dovecot file");
    };
    write("users", &passwd);
    write("deny-imap", "");
    write("deny-submission", "");
    write("deny-pop3", &pop_denied);
    let d = root.display();
    start_with_retry("Dovecot", || {
        let (imaps, imap, submission, pop3s) = (free_port(), free_port(), free_port(), free_port());
        let config = root.join("dovecot.conf");
        write(
            "dovecot.conf",
            &format!(
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
        );
        let _ = std::fs::remove_file(root.join("dovecot.log"));
        let mut command = tools::command(Tool::Dovecot, "dovecot");
        command.arg("-F").arg("-c").arg(&config);
        let mut process = Running::spawn("dovecot", &mut command, &root);
        process.add_log_file(root.join("dovecot.log"));
        let addresses: Vec<SocketAddr> = [imaps, imap, submission, pop3s]
            .iter()
            .map(|&port| SocketAddr::from(([127, 0, 0, 1], port)))
            .collect();
        process.wait_for_tcp(&addresses)?;
        Ok(Dovecot {
            _process: process,
            root: root.clone(),
            imaps,
            imap,
            submission,
            pop3s,
        })
    })
}
