//! Settings: declared once ([`declared`]), layered as flag, then environment variable (both
//! through clap), then the TOML configuration file, then the built-in default ([`layering`]),
//! and turned into what the server and its administration run with ([`resolve`]).

pub mod declared;
pub mod layering;
#[cfg(test)]
mod reference;
mod resolve;

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

pub use declared::ServeArgs;
pub use layering::{layered, without_flags};
pub use resolve::server_config;

use crate::cli::GlobalOptions;
use declared::{AdminSection, DiagnosticsSection, DnsSection, ServerSection};

/// The configuration file: its sections are the declared ones. Unknown keys are errors, so a
/// typo is not silently ignored.
#[derive(Debug, Default)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database: Option<String>,
    /// The file as written: only the keys it names take part in the layering.
    written: serde_json::Value,
}

/// The file's typed shape (what it must parse as; the sections are read again when layered).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FileShape {
    data: Option<PathBuf>,
    database: Option<String>,
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    admin: AdminSection,
    #[serde(default)]
    dns: DnsSection,
    #[serde(default)]
    diagnostics: DiagnosticsSection,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let shape: FileShape = toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
        let written: toml::Value =
            toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
        Ok(Self {
            data: shape.data,
            database: shape.database,
            written: serde_json::to_value(written).map_err(|e| e.to_string())?,
        })
    }

    /// The value the file gives at `path` (section names, then the key), if it names it.
    pub fn written_at(&self, path: &[&str]) -> Option<&serde_json::Value> {
        path.iter()
            .try_fold(&self.written, |value, key| value.get(*key))
    }
}

pub const DEFAULT_DATA_DIR: &str = "./signpost-data";

/// Where the store is, after layering.
pub struct StorePlace {
    pub data_dir: PathBuf,
    pub database: Option<String>,
}

pub fn store_place(global: &GlobalOptions, file: &FileConfig) -> StorePlace {
    StorePlace {
        data_dir: global
            .data
            .clone()
            .or_else(|| file.data.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        database: global.database.clone().or_else(|| file.database.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    /// `signpost serve FLAGS` as the binary parses it (environment variables included).
    fn serve_matches(flags: &[&str]) -> clap::ArgMatches {
        let args = ["signpost", "serve"]
            .into_iter()
            .chain(flags.iter().copied());
        let matches = crate::cli::Cli::command().get_matches_from(args);
        matches.subcommand_matches("serve").cloned().expect("serve")
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            FileConfig::parse("[server]\nlisten = [\"127.0.0.1:1\"]\nlisen = 1\n").unwrap_err();
        assert!(err.contains("lisen"), "{err}");
        let err = FileConfig::parse("[admin]\nsession_seconds = \"long\"\n").unwrap_err();
        assert!(
            err.contains("session_seconds") || err.contains("invalid type"),
            "{err}"
        );
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let file = FileConfig::parse(
            "[server]\nlisten = [\"127.0.0.1:9000\"]\nttl_hours = 4\nrealm = \"R\"\n\n[server.acme]\ncheck_seconds = 7\n\n[admin]\nsession_seconds = 60\nenabled = false\n",
        )
        .unwrap();
        let settings = layered(&serve_matches(&["--ttl-hours", "2"]), &file).unwrap();
        let config = server_config(&settings).unwrap();
        assert_eq!(
            config.server.listen,
            vec!["127.0.0.1:9000".parse().unwrap()]
        );
        assert_eq!(config.server.answers.ttl_hours, 2, "the flag wins");
        assert_eq!(config.server.realm, "R", "the file wins over the default");
        assert_eq!(config.server.answers.culture, "en:us", "the default");
        assert_eq!(
            config.server.acme.as_ref().map(|a| a.check_interval),
            None,
            "no directory, no ACME"
        );
        assert!(config.admin.is_none(), "[admin] enabled = false");
        assert_eq!(settings.admin.session_seconds, 60);
        assert_eq!(settings.server.acme.check_seconds, 7);
        let defaults =
            server_config(&layered(&serve_matches(&[]), &FileConfig::default()).unwrap()).unwrap();
        assert_eq!(
            defaults.server.listen,
            vec!["127.0.0.1:8080".parse().unwrap()]
        );
        let tls_only = server_config(
            &layered(
                &serve_matches(&["--listen-tls", "127.0.0.1:8443"]),
                &FileConfig::default(),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(
            tls_only.server.listen.is_empty(),
            "HTTPS alone, no HTTP on 8080"
        );
        let defaults = layered(&serve_matches(&[]), &FileConfig::default()).unwrap();
        assert!(defaults.admin.enabled);
        let off = layered(&serve_matches(&["--no-admin"]), &FileConfig::default()).unwrap();
        assert!(!off.admin.enabled);
    }

    #[test]
    fn every_flag_stands_for_a_file_key_and_every_setting_has_a_default_or_is_optional() {
        let defaults =
            serde_json::to_value(ServeArgs::from_arg_matches(&serve_matches(&[])).unwrap())
                .unwrap();
        for id in layering::setting_ids() {
            let path = layering::file_path(&id);
            let mut at = &defaults;
            for key in &path {
                at = at.get(*key).unwrap_or_else(|| {
                    panic!("expected the flag id {id} to name a file key; {path:?} is not one")
                });
            }
        }
        // The sections' defaults (what a file leaves out) are the declared ones.
        assert_eq!(
            declared::ServerSection::default().realm,
            declared::defaults::REALM
        );
        assert!(declared::AdminSection::default().enabled);
    }

    #[test]
    fn the_readme_carries_the_settings_table() {
        let readme_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let readme = std::fs::read_to_string(&readme_path).expect("README.md");
        let table = reference::table();
        let (Some(start), Some(end)) = (
            readme.find(reference::README_BEGIN),
            readme.find(reference::README_END),
        ) else {
            panic!("expected the README to hold the settings table between its markers");
        };
        let written = readme[start + reference::README_BEGIN.len()..end].trim();
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!(
                "{}{}\n{}\n{}",
                &readme[..start],
                reference::README_BEGIN,
                table.trim(),
                &readme[end..]
            );
            std::fs::write(&readme_path, updated).expect("write README.md");
            return;
        }
        assert_eq!(
            written,
            table.trim(),
            "the README's settings table differs from the declaration; UPDATE_README=1 cargo test rewrites it"
        );
    }
}
