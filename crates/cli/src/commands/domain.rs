//! `signpost domain ...`

use anyhow::Context;
use serde::Serialize;
use signpost_core::{Domain, DomainChange, ProtocolKind, validate};

use super::Ctx;
use crate::cli::DomainCommand;
use crate::output::{self, Format, Table};

pub async fn run(ctx: &Ctx, command: DomainCommand) -> anyhow::Result<()> {
    match command {
        DomainCommand::Add {
            name,
            hostname,
            display_name,
            auth,
        } => {
            let mut domain = Domain::new(&name, &hostname)?;
            domain.apply(&DomainChange {
                display_name,
                auth,
                ..DomainChange::default()
            })?;
            ctx.store.create_domain(&domain).await?;
            match ctx.format {
                Format::Json => output::print_json(&domain)?,
                Format::Table => println!(
                    "added domain {} (hostname {}; IMAP 993 ssl, POP3 995 ssl, SMTP 587 starttls on; EWS and ActiveSync off)",
                    domain.name, domain.hostname
                ),
            }
        }
        DomainCommand::List => list(ctx).await?,
        DomainCommand::Show { name } => {
            let domain = load(ctx, &name).await?;
            show(ctx, &domain)?;
        }
        DomainCommand::Set {
            name,
            hostname,
            display_name,
            auth,
            redirect_to,
            no_redirect,
        } => {
            let mut domain = load(ctx, &name).await?;
            let redirect_to = match (redirect_to, no_redirect) {
                (Some(target), _) => Some(Some(target)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            domain.apply(&DomainChange {
                hostname,
                display_name,
                auth,
                redirect_to,
            })?;
            ctx.store.save_domain(&domain).await?;
            match ctx.format {
                Format::Json => output::print_json(&domain)?,
                Format::Table => println!("updated domain {}", domain.name),
            }
        }
        DomainCommand::Remove { name } => {
            let name = validate::domain_name("domain", &name)?;
            let users = ctx
                .store
                .user_counts()
                .await?
                .get(&name)
                .copied()
                .unwrap_or(0);
            ctx.store.delete_domain(&name).await?;
            println!("removed domain {name} and its {users} user(s)");
        }
    }
    Ok(())
}

/// Loads a domain by a name as a person typed it.
pub async fn load(ctx: &Ctx, name: &str) -> anyhow::Result<Domain> {
    let name = validate::domain_name("domain", name)?;
    ctx.store
        .domain(&name)
        .await?
        .with_context(|| format!("domain '{name}' does not exist (see: signpost domain list)"))
}

async fn list(ctx: &Ctx) -> anyhow::Result<()> {
    let domains = ctx.store.domains().await?;
    let counts = ctx.store.user_counts().await?;
    #[derive(Serialize)]
    struct Listed<'a> {
        #[serde(flatten)]
        domain: &'a Domain,
        users: u64,
    }
    match ctx.format {
        Format::Json => output::print_json(
            &domains
                .iter()
                .map(|domain| Listed {
                    domain,
                    users: counts.get(&domain.name).copied().unwrap_or(0),
                })
                .collect::<Vec<_>>(),
        )?,
        Format::Table => {
            let mut table = Table::new(&[
                "DOMAIN",
                "HOSTNAME",
                "AUTH",
                "PROTOCOLS",
                "USERS",
                "REDIRECT",
            ]);
            for domain in &domains {
                let enabled: Vec<&str> = ProtocolKind::ALL
                    .iter()
                    .filter(|k| domain.protocols.get(**k).enabled)
                    .map(|k| k.key())
                    .collect();
                table.row(vec![
                    domain.name.clone(),
                    domain.hostname.clone(),
                    domain.auth.key().into(),
                    enabled.join(","),
                    counts.get(&domain.name).copied().unwrap_or(0).to_string(),
                    domain.redirect_to.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            table.print();
            if domains.is_empty() {
                println!(
                    "(no domains yet: signpost domain add example.com --hostname mail.example.com)"
                );
            }
        }
    }
    Ok(())
}

fn override_state(o: &signpost_core::XmlOverride) -> String {
    match (o.enabled, &o.text) {
        (false, None) => "off".into(),
        (false, Some(_)) => "off (custom text saved)".into(),
        (true, None) => "on, no text saved: the generated answer is sent".into(),
        (true, Some(t)) if t.is_empty() => "on: an EMPTY answer is sent".into(),
        (true, Some(t)) => format!("on: custom text ({} bytes) is sent", t.len()),
    }
}

pub fn show(ctx: &Ctx, domain: &Domain) -> anyhow::Result<()> {
    if ctx.format == Format::Json {
        return output::print_json(domain);
    }
    output::print_fields(&[
        ("Domain", domain.name.clone()),
        ("Hostname", domain.hostname.clone()),
        ("Display name", domain.shown_name().to_string()),
        ("Authentication", domain.auth.key().to_string()),
        (
            "Redirect to",
            domain.redirect_to.clone().unwrap_or_else(|| "-".into()),
        ),
        ("Desktop override", override_state(&domain.desktop_override)),
        ("Mobile override", override_state(&domain.mobile_override)),
    ]);
    println!();
    let mut table = Table::new(&["PROTOCOL", "ENABLED", "HOST", "PORT", "ENCRYPTION"]);
    for kind in ProtocolKind::ALL {
        let setting = domain.protocols.get(kind);
        table.row(vec![
            kind.label().into(),
            if setting.enabled { "yes" } else { "no" }.into(),
            domain.host_for(kind).into(),
            setting.port.to_string(),
            if kind.is_https_only() {
                "https".into()
            } else {
                setting.encryption.key().into()
            },
        ]);
    }
    table.print();
    Ok(())
}
