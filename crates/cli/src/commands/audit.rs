//! `signpost audit`: who changed what, when and from where.

use signpost_store::AuditFilter;

use super::Ctx;
use crate::output::{self, Format, Table, outln};

pub async fn run(
    ctx: &Ctx,
    domain: Option<String>,
    since: Option<i64>,
    limit: usize,
) -> anyhow::Result<()> {
    let filter = AuditFilter {
        domain,
        since,
        before: None,
        limit: Some(limit),
    };
    let entries = ctx.ops.audit(&ctx.actor, &filter).await?;
    match ctx.format {
        Format::Json => output::print_json(&entries)?,
        Format::Table => {
            let mut table = Table::new(&["TIME (UTC)", "WHO", "FROM", "WHAT", "TARGET", "CHANGE"]);
            for entry in &entries {
                let record = &entry.record;
                table.row(vec![
                    output::unix_time(record.at),
                    record.actor.clone(),
                    record.origin.clone(),
                    record.operation.clone(),
                    record.target.clone(),
                    record.summary.clone(),
                ]);
            }
            table.print();
            if entries.is_empty() {
                outln!(
                    "(no changes recorded{})",
                    if filter.domain.is_some() || since.is_some() {
                        " that match"
                    } else {
                        " yet"
                    }
                );
            }
        }
    }
    Ok(())
}
