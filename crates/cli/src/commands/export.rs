//! `signpost export` and `signpost import FILE`: the whole configuration as JSON.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use signpost_store::Export;

use super::Ctx;
use crate::output::outln;

/// An export of a large installation is well under this; more is not an export file.
const MAX_IMPORT_BYTES: u64 = 1024 * 1024 * 1024;

pub async fn export(ctx: &Ctx, output: Option<&Path>) -> anyhow::Result<()> {
    let export = ctx.ops.export(&ctx.actor).await?;
    let mut json = serde_json::to_string_pretty(&export)?;
    json.push('\n');
    match output {
        None => std::io::stdout().write_all(json.as_bytes())?,
        Some(path) => {
            signpost_store::write_private_file(path, json.as_bytes())?;
            eprintln!(
                "exported {} domains, {} users, {} certificates to {}",
                export.domains.len(),
                export.users.len(),
                export.certificates.len(),
                path.display()
            );
        }
    }
    Ok(())
}

pub async fn import(ctx: &Ctx, file: Option<&Path>, replace: bool) -> anyhow::Result<()> {
    let file = file.context("give a `signpost export` file (or - for standard input), or use `signpost import ispdb FILE...`")?;
    let mut text = String::new();
    let source = file.display().to_string();
    if source == "-" {
        std::io::stdin()
            .take(MAX_IMPORT_BYTES)
            .read_to_string(&mut text)?;
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("cannot open {source}"))?
            .take(MAX_IMPORT_BYTES)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {source}"))?;
    }
    let export: Export = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{source} is not a Signpost export: {e}"))?;
    let summary = ctx
        .ops
        .import(
            &ctx.actor,
            &export,
            replace,
            Some(&crate::output::progress_line("import")),
        )
        .await
        .with_context(|| format!("{source} was not imported (nothing was changed)"))?;
    outln!(
        "imported {} domains, {} users, {} certificates from {source}",
        summary.domains,
        summary.users,
        summary.certificates
    );
    Ok(())
}
