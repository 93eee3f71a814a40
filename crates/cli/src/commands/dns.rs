//! `signpost dns`: the records a domain needs.

use signpost_core::Domain;
use signpost_core::dns_records::{self, DnsRecord, DnsTarget};

use super::Ctx;
use crate::cli::{DnsArgs, DnsTargetArgs};
use crate::output::{self, Format, outln};
use crate::settings::FileConfig;

pub async fn run(ctx: &Ctx, args: &DnsArgs, file: &FileConfig) -> anyhow::Result<()> {
    let target = target(&args.target, file)?;
    let domains: Vec<Domain> = match &args.domain {
        Some(name) => vec![super::domain::load(ctx, name).await?],
        None => ctx.store.domains().await?,
    };
    let records: Vec<(String, Vec<DnsRecord>)> = domains
        .iter()
        .map(|d| (d.name.clone(), dns_records::records(d, &target)))
        .collect();
    match ctx.format {
        Format::Json => {
            let flat: Vec<&DnsRecord> = records.iter().flat_map(|(_, r)| r).collect();
            output::print_json(&flat)?;
        }
        Format::Table => {
            if target.addresses.is_empty() && target.cname.is_none() {
                outln!(
                    "; no public address known: give --public-address IP (or dns.public_addresses in the configuration) for the A/AAAA records"
                );
            }
            for (name, records) in &records {
                outln!("; {name}");
                let mut purpose = "";
                for record in records {
                    if record.purpose != purpose {
                        purpose = &record.purpose;
                        outln!("; {purpose}");
                    }
                    outln!("{}", record.zone_line());
                }
                outln!();
            }
        }
    }
    Ok(())
}

/// Flags first, then the configuration file's `[dns]`.
pub fn target(args: &DnsTargetArgs, file: &FileConfig) -> anyhow::Result<DnsTarget> {
    let configured = crate::settings::without_flags(file)?.dns;
    let cname = args
        .cname
        .clone()
        .or_else(|| configured.cname.clone())
        .map(|c| signpost_core::validate::domain_name("cname", &c))
        .transpose()?;
    Ok(DnsTarget {
        addresses: if args.public_addresses.is_empty() {
            configured.public_addresses.clone()
        } else {
            args.public_addresses.clone()
        },
        cname,
        ttl: args.ttl.unwrap_or(configured.ttl),
    })
}
