//! Flag, then environment variable, then the configuration file, then the built-in default: one
//! rule for every setting, applied here without naming any of them.

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches};
use serde_json::Value;

use super::FileConfig;
use super::declared::ServeArgs;

/// Sections of the file, by the prefix their settings' flags carry (the first that fits wins;
/// settings of `[server]` have none).
const SECTIONS: [(&str, &[&str]); 5] = [
    ("acme_", &["server", "acme"]),
    ("profile_signing_", &["server", "profile_signing"]),
    ("admin_", &["admin"]),
    ("dns_", &["dns"]),
    ("check_", &["diagnostics"]),
];

/// Settings only the file can give (they have no flag).
const FILE_ONLY: [&[&str]; 1] = [&["server", "profile_signing", "domains"]];

/// Where in the file the setting with clap id `id` is: its section, then its key.
pub fn file_path(id: &str) -> Vec<&str> {
    for (prefix, section) in SECTIONS {
        if let Some(key) = id.strip_prefix(prefix) {
            return section.iter().copied().chain([key]).collect();
        }
    }
    vec!["server", id]
}

/// The ids of every setting of `serve` (its flags, not `--check-config`).
pub fn setting_ids() -> Vec<String> {
    ServeArgs::augment_args(clap::Command::new("serve"))
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .filter(|id| id != "check_config")
        .collect()
}

fn set(root: &mut Value, path: &[&str], value: Value) {
    let mut at = root;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    if let Some(last) = path.last() {
        at[*last] = value;
    }
}

/// `serve`'s settings: what the command line (`matches`) gives, else what the file gives, else
/// the default.
pub fn layered(matches: &ArgMatches, file: &FileConfig) -> anyhow::Result<ServeArgs> {
    let given = ServeArgs::from_arg_matches(matches)?;
    let mut merged = serde_json::to_value(&given)?;
    for id in setting_ids() {
        let from_command_line = matches!(
            matches.value_source(&id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        let path = file_path(&id);
        if !from_command_line && let Some(value) = file.written_at(&path) {
            set(&mut merged, &path, value.clone());
        }
    }
    for path in FILE_ONLY {
        if let Some(value) = file.written_at(path) {
            set(&mut merged, path, value.clone());
        }
    }
    let mut settings: ServeArgs = serde_json::from_value(merged)
        .map_err(|e| anyhow::anyhow!("the configuration file: {e}"))?;
    settings.check_config = given.check_config;
    Ok(settings)
}

/// The settings with no flag given: the environment, the file and the defaults (for commands
/// other than `serve` that read the server's settings, such as `signpost dns`).
pub fn without_flags(file: &FileConfig) -> anyhow::Result<ServeArgs> {
    let matches =
        ServeArgs::augment_args(clap::Command::new("serve")).try_get_matches_from(["serve"])?;
    layered(&matches, file)
}
