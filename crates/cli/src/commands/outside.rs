//! `signpost check` and `signpost probe`: looking at a deployment the way clients do.

use std::sync::Arc;

use signpost_core::dns_records;
use signpost_diagnostics::http::Fetcher;
use signpost_diagnostics::probe::{Client, Probe};
use signpost_diagnostics::tls::Roots;
use signpost_diagnostics::{Ports, Status, check, dns::Dns};

use super::{Ctx, read_password_from_stdin};
use crate::cli::{CheckArgs, HealthArgs, OutsideArgs, ProbeArgs};
use crate::output::{self, Format, Table, outln};
use crate::settings::FileConfig;

fn fetcher(args: &OutsideArgs) -> anyhow::Result<Fetcher> {
    let dns = Arc::new(Dns::new(args.resolver)?);
    let roots = Roots::load(&args.ca)?;
    Ok(Fetcher::new(
        dns,
        roots,
        Ports {
            http: args.http_port,
            https: args.https_port,
        },
    ))
}

pub async fn check(ctx: &Ctx, args: &CheckArgs, file: &FileConfig) -> anyhow::Result<()> {
    let domain = super::domain::load(ctx, &args.domain).await?;
    let target = super::dns::target(&args.target, file)?;
    let expected = dns_records::records(&domain, &target);
    let fetcher = fetcher(&args.outside)?;
    if ctx.format == Format::Table {
        eprintln!("checking {} ...", domain.name);
    }
    let results = check::run(&domain, &expected, &target.addresses, &fetcher).await;
    match ctx.format {
        Format::Json => output::print_json(&results)?,
        Format::Table => {
            for result in &results {
                outln!("{:<5} {}: {}", result.status, result.check, result.detail);
                if let Some(fix) = &result.fix {
                    outln!("      fix: {fix}");
                }
            }
            let count = |s: Status| results.iter().filter(|r| r.status == s).count();
            outln!(
                "\n{} passed, {} warnings, {} failed",
                count(Status::Pass),
                count(Status::Warn),
                count(Status::Fail)
            );
        }
    }
    if results.iter().any(|r| r.status == Status::Fail) {
        anyhow::bail!("{} has problems (see FAIL above)", domain.name);
    }
    Ok(())
}

/// `signpost health`: the dashboard's checks, run now from here.
pub async fn health(ctx: &Ctx, args: &HealthArgs, file: &FileConfig) -> anyhow::Result<()> {
    let settings = signpost_operations::Settings {
        dns: super::dns::target(&args.target, file)?,
        diagnostics: signpost_operations::DiagnosticsSettings {
            resolver: args.outside.resolver,
            ca: args.outside.ca.clone(),
            ports: Ports {
                http: args.outside.http_port,
                https: args.outside.https_port,
            },
        },
        ..signpost_operations::Settings::default()
    };
    let ops = ctx.with_settings(settings);
    // A shared store has every instance's recent requests; otherwise only the server knows them.
    let recent = if ctx.store.is_shared() {
        let filter = signpost_store::recent::RecentFilter {
            limit: Some(10_000),
            ..Default::default()
        };
        Some(ctx.store.recent_requests(&filter, None).await?)
    } else {
        None
    };
    if ctx.format == Format::Table {
        eprintln!("checking ...");
    }
    let report = ops
        .health(&ctx.actor, args.domain.as_deref(), recent.as_deref())
        .await?;
    match ctx.format {
        Format::Json => output::print_json(&report)?,
        Format::Table => {
            let mut table = Table::new(&["DOMAIN", "STATUS", "CHECK", "RESULT", "DETAIL", "FIX"]);
            for domain in &report.domains {
                for (n, check) in domain.checks.iter().enumerate() {
                    table.row(vec![
                        if n == 0 {
                            domain.domain.clone()
                        } else {
                            String::new()
                        },
                        if n == 0 {
                            domain.status.to_string()
                        } else {
                            String::new()
                        },
                        check.check.label().to_string(),
                        check.status.to_string(),
                        check.detail.clone(),
                        check.fix.clone().unwrap_or_default(),
                    ]);
                }
            }
            table.print();
            if report.domains.is_empty() {
                outln!("(no domains)");
            }
        }
    }
    let failing: Vec<&str> = report
        .domains
        .iter()
        .filter(|d| d.status == Status::Fail)
        .map(|d| d.domain.as_str())
        .collect();
    if !failing.is_empty() {
        anyhow::bail!("{} failed a check: {}", failing.len(), failing.join(", "));
    }
    Ok(())
}

pub async fn probe(ctx: &Ctx, args: &ProbeArgs) -> anyhow::Result<()> {
    let address = signpost_core::validate::address("address", &args.address)?;
    let clients = Client::parse(&args.client).map_err(anyhow::Error::msg)?;
    let password = if args.password_stdin {
        Some(read_password_from_stdin()?)
    } else {
        None
    };
    let fetcher = fetcher(&args.outside)?;
    let mut probe = Probe::new(&fetcher, &address, password);
    probe.run(&clients, args.connect).await;
    let report = probe.report;
    match ctx.format {
        Format::Json => output::print_json(&report)?,
        Format::Table => {
            outln!("Tried:");
            let mut table = Table::new(&["CLIENT", "STATUS", "REQUEST", "OUTCOME"]);
            for attempt in &report.attempts {
                table.row(vec![
                    format!("{:?}", attempt.client).to_lowercase(),
                    attempt.status.to_string(),
                    attempt.request.clone(),
                    attempt.outcome.clone(),
                ]);
            }
            table.print();
            outln!("\nFound:");
            for found in &report.found {
                outln!("  {:?} from {}", found.client, found.source);
                for setting in &found.settings {
                    outln!(
                        "    {} {}:{} {:?} login {}",
                        setting.protocol,
                        setting.host,
                        setting.port,
                        setting.security,
                        setting.login.as_deref().unwrap_or("-")
                    );
                }
                for url in &found.urls {
                    outln!("    {url}");
                }
            }
            for client in &clients {
                if !report.found.iter().any(|f| f.client == *client) {
                    outln!("  {client:?}: nothing found");
                }
            }
            if !report.connections.is_empty() {
                outln!("\nConnections:");
                for connection in &report.connections {
                    outln!(
                        "  {:<5} {:?} {}:{} {:?}: {}",
                        connection.status,
                        connection.protocol,
                        connection.host,
                        connection.port,
                        connection.security,
                        connection.detail
                    );
                }
            }
        }
    }
    if report.failed(&clients) {
        anyhow::bail!("discovery failed for at least one client or connection");
    }
    Ok(())
}
