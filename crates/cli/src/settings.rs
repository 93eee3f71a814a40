//! Layered settings: command-line flag, then environment variable (both through clap), then the
//! TOML configuration file, then the built-in default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use std::sync::Arc;

use signpost_server::ServerConfig;
use signpost_server::config::ProfileSigning;
use signpost_server::profile_signing::ProfileSigner;

use crate::cli::{GlobalOptions, ServeArgs};

/// The configuration file's shape. Unknown keys are errors, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database: Option<String>,
    #[serde(default)]
    pub server: ServerSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen: Option<Vec<SocketAddr>>,
    pub ttl_hours: Option<u32>,
    pub culture: Option<String>,
    pub realm: Option<String>,
    pub credential_cache_seconds: Option<u64>,
    pub credential_cache_entries: Option<usize>,
    pub concurrent_password_checks: Option<usize>,
    pub reload_interval_ms: Option<u64>,
    #[serde(default)]
    pub profile_signing: ProfileSigningSection,
}

/// `[server.profile_signing]`: a certificate for every domain, and per-domain ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSigningSection {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    #[serde(default)]
    pub domains: std::collections::BTreeMap<String, SigningFiles>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message().trim()))
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

pub fn server_config(args: &ServeArgs, file: &FileConfig) -> anyhow::Result<ServerConfig> {
    let defaults = ServerConfig::default();
    let section = &file.server;
    let mut config = ServerConfig {
        listen: if !args.listen.is_empty() {
            args.listen.clone()
        } else {
            section.listen.clone().unwrap_or(defaults.listen.clone())
        },
        ..defaults.clone()
    };
    if config.listen.is_empty() {
        anyhow::bail!(
            "no listen address: give --listen ADDR:PORT or server.listen in the configuration file"
        );
    }
    config.answers.ttl_hours = args
        .ttl_hours
        .or(section.ttl_hours)
        .unwrap_or(defaults.answers.ttl_hours);
    if let Some(culture) = args.culture.clone().or_else(|| section.culture.clone()) {
        config.answers.culture = culture;
    }
    if let Some(realm) = args.realm.clone().or_else(|| section.realm.clone()) {
        config.realm = realm;
    }
    if let Some(seconds) = args
        .credential_cache_seconds
        .or(section.credential_cache_seconds)
    {
        config.credential_cache_ttl = Duration::from_secs(seconds);
    }
    if let Some(entries) = args
        .credential_cache_entries
        .or(section.credential_cache_entries)
    {
        config.credential_cache_entries = entries;
    }
    if let Some(checks) = args
        .concurrent_password_checks
        .or(section.concurrent_password_checks)
    {
        config.concurrent_password_checks = checks.max(1);
    }
    if let Some(ms) = args.reload_interval_ms.or(section.reload_interval_ms) {
        config.reload_interval = Duration::from_millis(ms.max(10));
    }
    config.profile_signing = profile_signing(args, &section.profile_signing)?;
    Ok(config)
}

/// Loads every signing certificate now, so a bad file stops the server with a clear error
/// instead of failing on the first download.
fn profile_signing(
    args: &ServeArgs,
    section: &ProfileSigningSection,
) -> anyhow::Result<ProfileSigning> {
    let default_files = match (&args.profile_signing_cert, &args.profile_signing_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => match (&section.cert, &section.key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (None, None) => None,
            _ => anyhow::bail!("[server.profile_signing] needs both cert and key"),
        },
    };
    let mut signing = ProfileSigning::default();
    if let Some((cert, key)) = default_files {
        signing.default = Some(Arc::new(ProfileSigner::from_pem_files(&cert, &key)?));
    }
    for (domain, files) in &section.domains {
        let name = signpost_core::validate::domain_name("profile_signing domain", domain)?;
        signing.per_domain.insert(
            name,
            Arc::new(ProfileSigner::from_pem_files(&files.cert, &files.key)?),
        );
    }
    Ok(signing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<FileConfig>("[server]\nlisten = [\"127.0.0.1:1\"]\nlisen = 1\n")
            .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let file: FileConfig = toml::from_str(
            "[server]\nlisten = [\"127.0.0.1:9000\"]\nttl_hours = 4\nrealm = \"R\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            listen: vec![],
            ttl_hours: Some(2),
            culture: None,
            realm: None,
            credential_cache_seconds: None,
            credential_cache_entries: None,
            concurrent_password_checks: None,
            reload_interval_ms: None,
            profile_signing_cert: None,
            profile_signing_key: None,
        };
        let config = server_config(&args, &file).unwrap();
        assert_eq!(config.listen, vec!["127.0.0.1:9000".parse().unwrap()]);
        assert_eq!(config.answers.ttl_hours, 2);
        assert_eq!(config.realm, "R");
        assert_eq!(config.answers.culture, "en:us");
    }
}
