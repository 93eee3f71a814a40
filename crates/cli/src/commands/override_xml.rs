//! `signpost override ...`: the seed's Override Desktop XML / Override Mobile XML.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use signpost_core::overrides::{self, MAX_OVERRIDE_BYTES};
use signpost_core::{Domain, OverrideKind};
use signpost_operations::views::OverrideChange;

use super::Ctx;
use crate::cli::OverrideCommand;
use crate::output::{self, Format};
use crate::output::{out, outln};

pub async fn run(ctx: &Ctx, command: OverrideCommand) -> anyhow::Result<()> {
    let (domain_name, kind) = match &command {
        OverrideCommand::Set { domain, kind, .. }
        | OverrideCommand::On { domain, kind }
        | OverrideCommand::Off { domain, kind }
        | OverrideCommand::Clear { domain, kind }
        | OverrideCommand::Template { domain, kind }
        | OverrideCommand::Show { domain, kind } => (domain.clone(), *kind),
    };
    if let OverrideCommand::Template { .. } = command {
        let template = ctx
            .ops
            .override_template(&ctx.actor, &domain_name, kind)
            .await?;
        for warning in &template.warnings {
            eprintln!("warning: {warning}");
        }
        return match ctx.format {
            Format::Json => output::print_json(&template),
            Format::Table => {
                out!("{}", template.text);
                if !template.text.ends_with('\n') {
                    outln!();
                }
                Ok(())
            }
        };
    }
    let domain = super::domain::load(ctx, &domain_name).await?;
    let label = kind.key();
    let change =
        |enabled: Option<bool>, text: Option<Option<String>>| OverrideChange { enabled, text };
    let (verb, change) = match &command {
        OverrideCommand::Set { file, .. } => {
            let text = read_text(file)?;
            if let Some(problem) = overrides::xml_problem(&text) {
                eprintln!(
                    "warning: the text is not well-formed XML ({problem}); it is saved as given, but clients may not read it"
                );
            }
            ("saved", change(None, Some(Some(text))))
        }
        OverrideCommand::On { .. } => ("turned on", change(Some(true), None)),
        OverrideCommand::Off { .. } => ("turned off", change(Some(false), None)),
        OverrideCommand::Clear { .. } => ("cleared", change(None, Some(None))),
        OverrideCommand::Show { .. } | OverrideCommand::Template { .. } => ("", change(None, None)),
    };
    if !verb.is_empty() {
        ctx.ops
            .change_override(&ctx.actor, &domain.name, kind, &change)
            .await?;
        let domain = super::domain::load(ctx, &domain.name).await?;
        return report(ctx, &domain, kind, label, verb);
    }
    let state = domain.override_for(kind);
    match ctx.format {
        Format::Json => output::print_json(state)?,
        Format::Table => {
            report(ctx, &domain, kind, label, "")?;
            if let Some(text) = &state.text {
                outln!("--- saved text ---\n{text}");
            }
        }
    }
    Ok(())
}

fn report(
    ctx: &Ctx,
    domain: &Domain,
    kind: OverrideKind,
    label: &str,
    verb: &str,
) -> anyhow::Result<()> {
    let state = domain.override_for(kind);
    if ctx.format == Format::Json {
        return output::print_json(state);
    }
    let effect = match (state.enabled, &state.text) {
        (false, _) => "the generated answer is sent".to_string(),
        (true, None) => "no text is saved, so the generated answer is sent".to_string(),
        (true, Some(text)) if text.is_empty() => {
            "the saved text is EMPTY, so clients get an empty answer".to_string()
        }
        (true, Some(text)) => format!("the saved text ({} bytes) is sent", text.len()),
    };
    let prefix = if verb.is_empty() {
        String::new()
    } else {
        format!("{verb}: ")
    };
    outln!(
        "{prefix}{} {label} override is {}; {effect}",
        domain.name,
        if state.enabled { "on" } else { "off" }
    );
    Ok(())
}

fn read_text(file: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    let source = file.display().to_string();
    if source == "-" {
        std::io::stdin()
            .take(MAX_OVERRIDE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("cannot open {source}"))?
            .take(MAX_OVERRIDE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {source}"))?;
    }
    overrides::check_size(bytes.len()).with_context(|| format!("{source} cannot be saved"))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{source} is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
