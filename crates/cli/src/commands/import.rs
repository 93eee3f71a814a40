//! `signpost import ispdb FILE...`

use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use signpost_operations::ispdb::MAX_ISPDB_BYTES;

use super::Ctx;
use crate::cli::ImportCommand;
use crate::output::{self, Format};

/// Larger files are not autoconfig files.
#[derive(Serialize)]
struct Outcome {
    file: String,
    domain: Option<String>,
    status: &'static str,
    warnings: Vec<String>,
    error: Option<String>,
}

pub async fn run(ctx: &Ctx, command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Ispdb { files, replace } = command;
    let total = files.len();
    let mut outcomes = Vec::with_capacity(total);
    for (n, file) in files.iter().enumerate() {
        let outcome = import_file(ctx, file, replace).await;
        if ctx.format == Format::Table {
            report(&outcome, n + 1, total);
        }
        outcomes.push(outcome);
    }
    let failed = outcomes.iter().filter(|o| o.status == "failed").count();
    let skipped = outcomes.iter().filter(|o| o.status == "skipped").count();
    let warned = outcomes.iter().filter(|o| !o.warnings.is_empty()).count();
    match ctx.format {
        Format::Json => output::print_json(&outcomes)?,
        Format::Table => eprintln!(
            "{} imported ({warned} with warnings), {skipped} skipped, {failed} failed",
            total - failed - skipped
        ),
    }
    if failed + skipped > 0 {
        anyhow::bail!("{} of {total} files were not imported", failed + skipped);
    }
    Ok(())
}

fn report(outcome: &Outcome, n: usize, total: usize) {
    let domain = outcome.domain.as_deref().unwrap_or("-");
    match &outcome.error {
        Some(error) => eprintln!(
            "[{n}/{total}] {}: {} ({error})",
            outcome.file, outcome.status
        ),
        None => eprintln!(
            "[{n}/{total}] {}: {} {domain}",
            outcome.file, outcome.status
        ),
    }
    for warning in &outcome.warnings {
        eprintln!("    warning: {warning}");
    }
}

async fn import_file(ctx: &Ctx, file: &Path, replace: bool) -> Outcome {
    let mut outcome = Outcome {
        file: file.display().to_string(),
        domain: None,
        status: "failed",
        warnings: Vec::new(),
        error: None,
    };
    match try_import(ctx, file, replace, &mut outcome).await {
        Ok(status) => outcome.status = status,
        Err(e) => outcome.error = Some(format!("{e:#}")),
    }
    outcome
}

async fn try_import(
    ctx: &Ctx,
    file: &Path,
    replace: bool,
    outcome: &mut Outcome,
) -> anyhow::Result<&'static str> {
    let metadata =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if metadata.len() > MAX_ISPDB_BYTES as u64 {
        anyhow::bail!("larger than 1 MiB; not an autoconfig file");
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let imported = ctx.ops.import_ispdb(&ctx.actor, &bytes, replace).await?;
    outcome.domain = Some(imported.domain);
    outcome.warnings = imported.warnings;
    outcome.error = imported.reason.map(|reason| {
        if replace {
            reason
        } else {
            reason.replace("replace it to overwrite", "use --replace to overwrite")
        }
    });
    Ok(imported.status)
}
