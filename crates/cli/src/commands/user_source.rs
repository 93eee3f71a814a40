//! `signpost domain user-source ...`: where a domain's users are authenticated.

use anyhow::Context;
use signpost_core::UserSource;

use super::Ctx;
use crate::output::{self, Format, outln};

/// Shows the source, or sets it from a JSON file (`-` for standard input), or goes back to
/// built-in users.
pub async fn run(
    ctx: &Ctx,
    name: &str,
    set: Option<&std::path::Path>,
    builtin: bool,
) -> anyhow::Result<()> {
    let domain = super::domain::load(ctx, name).await?;
    let new = match (set, builtin) {
        (_, true) => Some(UserSource::Builtin),
        (Some(file), false) => Some(read(file)?),
        (None, false) => None,
    };
    let shown = match new {
        Some(source) => {
            let source = ctx
                .ops
                .set_user_source(&ctx.actor, &domain.name, source)
                .await
                .with_context(|| format!("the user source of {} was not changed", domain.name))?;
            if ctx.format == Format::Table {
                outln!(
                    "users of {} now come from: {}",
                    domain.name,
                    source.describe()
                );
                if !source.is_builtin() {
                    outln!(
                        "try a login with: signpost user test ADDRESS@{} --password-stdin",
                        domain.name
                    );
                }
            }
            source
        }
        None => ctx.ops.user_source(&ctx.actor, &domain.name).await?,
    };
    match ctx.format {
        Format::Json => output::print_json(&shown)?,
        Format::Table => {
            let mut fields = vec![("Domain".to_string(), domain.name.clone())];
            flatten("", &serde_json::to_value(&shown)?, &mut fields);
            let fields: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            output::print_fields(&fields);
        }
    }
    Ok(())
}

/// Files of settings are small; this bounds what a mistaken path can make Signpost read.
const MAX_SOURCE_BYTES: u64 = 64 * 1024;

fn read(file: &std::path::Path) -> anyhow::Result<UserSource> {
    let shown = file.display().to_string();
    let reader: Box<dyn std::io::Read> = if shown == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("cannot open {shown}"))?)
    };
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(reader, MAX_SOURCE_BYTES),
        &mut text,
    )
    .with_context(|| format!("cannot read {shown} as UTF-8 text"))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{shown} is not a user source (JSON with \"kind\": \"builtin\", \"sql\", \"ldap\" or \"imap\"; see signpost domain user-source --help)"
        )
    })
}

/// `{"lookup": {"mode": "search"}}` as `lookup.mode: search`, for the table.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, out);
            }
        }
        serde_json::Value::String(text) => out.push((prefix.to_string(), text.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
