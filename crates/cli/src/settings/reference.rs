//! The table of every setting (file key, flag, environment variable, default, meaning), written
//! from the declaration; the README carries it between markers, and a test keeps the two equal.

use clap::{ArgAction, Args};

use super::declared::ServeArgs;
use super::layering::file_path;

pub const README_BEGIN: &str =
    "<!-- settings table: written from crates/cli/src/settings/declared.rs -->";
pub const README_END: &str = "<!-- end of settings table -->";

/// The Markdown table of every setting.
pub fn table() -> String {
    let command = ServeArgs::augment_args(clap::Command::new("serve"));
    let mut out = String::from(
        "| File key | Flag | Environment | Default | What it does |\n|---|---|---|---|---|\n",
    );
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if id == "check_config" {
            continue;
        }
        let key = file_path(id).join(".");
        let flag = arg
            .get_long()
            .map(|long| format!("`--{long}`"))
            .unwrap_or_default();
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().to_string())
            .collect();
        let default = match (arg.get_action(), defaults.is_empty()) {
            (ArgAction::SetTrue, _) => "`false`".to_string(),
            (ArgAction::SetFalse, _) => "`true`".to_string(),
            (_, true) => "none".to_string(),
            (_, false) => format!("`{}`", defaults.join(", ")),
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('|', "\\|");
        out.push_str(&format!(
            "| `{key}` | {flag} | {env} | {default} | {help} |\n"
        ));
    }
    out.push_str("| `server.profile_signing.domains` | | | none | Per-domain profile signing: `[server.profile_signing.domains.\"example.com\"]` with `cert` and `key` (the file only) |\n");
    out
}
