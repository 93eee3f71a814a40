//! A private slapd (Debian's `slapd`, mdb backend) on 127.0.0.1, plain LDAP (with StartTLS) and
//! LDAPS, loaded from an LDIF file by `slapadd`, stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ports::free_port;
use crate::process::{Running, StartFailure, start_with_retry};
use crate::tools::{self, Tool};

/// What the directory holds.
pub struct Tree<'a> {
    /// The suffix, e.g. `dc=example,dc=com`.
    pub suffix: &'a str,
    /// Schema files beyond core, cosine and inetOrgPerson.
    pub extra_schemas: &'a [&'a Path],
    /// Entries to load.
    pub ldif: &'a Path,
    /// `access to` lines, in order.
    pub access: &'a [&'a str],
}

pub struct Slapd {
    process: Option<Running>,
    root: PathBuf,
    config: PathBuf,
    pub ldap: u16,
    pub ldaps: u16,
}

impl Slapd {
    /// Serves `tree` with TLS from `cert` and `key`.
    pub fn start(dir: &Path, (cert, key): (&Path, &Path), tree: &Tree) -> Self {
        tools::require(Tool::Slapd);
        let root = dir.join("slapd");
        std::fs::create_dir_all(root.join("db")).expect("slapd directory");
        let schemas: String = ["core", "cosine", "inetorgperson"]
            .iter()
            .map(|s| format!("include /etc/ldap/schema/{s}.schema\n"))
            .chain(
                tree.extra_schemas
                    .iter()
                    .map(|s| format!("include {}\n", s.display())),
            )
            .collect();
        let access: String = tree.access.iter().map(|a| format!("{a}\n")).collect();
        let config = root.join("slapd.conf");
        std::fs::write(
            &config,
            format!(
                "{schemas}modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {r}/slapd.pid\n\
TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
database mdb\nsuffix \"{suffix}\"\nrootdn \"cn=admin,{suffix}\"\ndirectory {r}/db\n{access}",
                r = root.display(),
                cert = cert.display(),
                key = key.display(),
                suffix = tree.suffix,
            ),
        )
        .expect("slapd.conf");
        let loaded = tools::command(Tool::Slapd, "slapadd")
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(tree.ldif)
            .output()
            .expect("slapadd");
        assert!(
            loaded.status.success(),
            "slapadd refused {}: {}",
            tree.ldif.display(),
            String::from_utf8_lossy(&loaded.stderr)
        );
        let mut server = Slapd {
            process: None,
            root,
            config,
            ldap: 0,
            ldaps: 0,
        };
        start_with_retry("slapd", || {
            server.ldap = free_port();
            server.ldaps = free_port();
            server.launch()
        });
        server
    }

    fn launch(&mut self) -> Result<(), StartFailure> {
        let mut command: Command = tools::command(Tool::Slapd, "slapd");
        command
            .args(["-d", "0", "-f"])
            .arg(&self.config)
            .arg("-h")
            .arg(format!(
                "ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/",
                self.ldap, self.ldaps
            ));
        let mut process = Running::spawn("slapd", &mut command, &self.root);
        process.wait_for_tcp(&[
            SocketAddr::from(([127, 0, 0, 1], self.ldap)),
            SocketAddr::from(([127, 0, 0, 1], self.ldaps)),
        ])?;
        self.process = Some(process);
        Ok(())
    }

    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts it again on the same ports.
    pub fn start_again(&mut self) {
        assert!(self.process.is_none(), "slapd is already running");
        if let Err(failure) = self.launch() {
            panic!("slapd did not start again: {failure}");
        }
    }
}
