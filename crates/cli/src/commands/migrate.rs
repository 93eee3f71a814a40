//! `signpost migrate-store`: everything from one store into another, in one transaction, then
//! read back and compared.

use anyhow::Context;
use signpost_operations::{Actor, Operations, RunningInstances, Settings};
use signpost_store::{Export, Location, Store};

use crate::output::{self, Format, Table, outln};

async fn open(url: &str, role: &str) -> anyhow::Result<Box<dyn Store>> {
    let location = Location::resolve(std::path::Path::new("."), Some(url))?;
    if let Location::SqliteFile(database) = &location {
        super::store_owner::refuse_root_in_others_store(database)?;
    }
    signpost_store::open(&location)
        .await
        .with_context(|| format!("cannot open the {role} store {location}"))
}

fn counts(export: &Export) -> [(&'static str, usize); 6] {
    [
        ("domains", export.domains.len()),
        ("users", export.users.len()),
        ("certificates", export.certificates.len()),
        ("ACME accounts", export.acme_accounts.len()),
        ("administrators", export.administrators.len()),
        ("API tokens", export.api_tokens.len()),
    ]
}

pub async fn run(from: &str, to: &str, replace: bool, format: Format) -> anyhow::Result<()> {
    let progress = |step: &str| {
        if format == Format::Table {
            eprintln!("migrate-store: {step}");
        }
    };
    progress("reading the source");
    let source = open(from, "source").await?;
    let exported = source.export().await?;
    let wanted = exported.checksum();
    progress("reading the target");
    let target: std::sync::Arc<dyn Store> = std::sync::Arc::from(open(to, "target").await?);
    let before = target.export().await?;
    let status = if before.checksum() == wanted {
        "already identical; nothing written"
    } else {
        let holds_something = counts(&before).iter().any(|(_, n)| *n > 0);
        if holds_something && !replace {
            anyhow::bail!(
                "the target already holds other data ({}); give --replace to overwrite it with the source",
                counts(&before)
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(what, n)| format!("{n} {what}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        progress(&format!(
            "writing {} domains and {} users in one transaction",
            exported.domains.len(),
            exported.users.len()
        ));
        let live = std::sync::Arc::new(RunningInstances::new(target.clone()));
        Operations::new(target.clone(), live, Settings::default())
            .import(
                &Actor::cli(),
                &exported,
                true,
                (format == Format::Table)
                    .then_some(&crate::output::progress_line("migrate-store") as _),
            )
            .await?;
        "copied"
    };
    progress("verifying");
    let after = target.export().await?;
    let got = after.checksum();
    let verified = got == wanted && counts(&after) == counts(&exported);
    match format {
        Format::Json => output::print_json(&serde_json::json!({
            "status": status,
            "verified": verified,
            "source_checksum": wanted,
            "target_checksum": got,
            "counts": counts(&after).iter().map(|(k, v)| (k.to_string(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        }))?,
        Format::Table => {
            let mut table = Table::new(&["WHAT", "SOURCE", "TARGET"]);
            for ((what, source), (_, target)) in counts(&exported).iter().zip(counts(&after)) {
                table.row(vec![
                    what.to_string(),
                    source.to_string(),
                    target.to_string(),
                ]);
            }
            table.row(vec![
                "checksum".into(),
                wanted[..16].to_string(),
                got[..16].to_string(),
            ]);
            table.print();
            outln!(
                "{status}; {}",
                if verified {
                    "verified: the target holds exactly what the source holds"
                } else {
                    "VERIFICATION FAILED"
                }
            );
        }
    }
    if !verified {
        anyhow::bail!(
            "the target differs from the source after the copy (checksums {wanted} and {got})"
        );
    }
    Ok(())
}
