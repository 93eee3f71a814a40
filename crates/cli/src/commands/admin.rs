//! `signpost admin ...`: administrators of the web interface and API, and their tokens.

use serde::Serialize;
use signpost_core::admin::{self, AdminRole, Administrator};
use signpost_operations::views::NewAdministrator;

use super::{Ctx, read_password_from_stdin};
use crate::cli::{AdminCommand, TokenCommand};
use crate::output::{self, Format, Table, outln};

#[derive(Serialize)]
struct AdministratorView<'a> {
    name: &'a str,
    #[serde(flatten)]
    role: &'a AdminRole,
}

fn role_summary(role: &AdminRole) -> String {
    match role {
        AdminRole::System => "system (every domain)".into(),
        AdminRole::Domain(domains) => format!("domain: {}", domains.join(", ")),
    }
}

pub async fn run(ctx: &Ctx, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Add {
            name,
            password_stdin: _,
            domains,
        } => {
            let role = if domains.is_empty() {
                "system"
            } else {
                "domain"
            };
            // Check what can be checked before asking for the password.
            AdminRole::parse(role, &domains)?;
            for domain in &domains {
                super::domain::load(ctx, domain).await?;
            }
            let name = admin::admin_name(&name)?;
            let password = read_password_from_stdin()?;
            let administrator = ctx
                .ops
                .add_administrator(
                    &ctx.actor,
                    &NewAdministrator {
                        name,
                        password,
                        role: role.to_string(),
                        domains,
                    },
                )
                .await?;
            match ctx.format {
                Format::Json => output::print_json(&AdministratorView {
                    name: &administrator.name,
                    role: &administrator.role,
                })?,
                Format::Table => outln!(
                    "added administrator {} ({})",
                    administrator.name,
                    role_summary(&administrator.role)
                ),
            }
        }
        AdminCommand::List => {
            let administrators = ctx.store.administrators().await?;
            match ctx.format {
                Format::Json => output::print_json(
                    &administrators
                        .iter()
                        .map(|a| AdministratorView {
                            name: &a.name,
                            role: &a.role,
                        })
                        .collect::<Vec<_>>(),
                )?,
                Format::Table => {
                    let mut table = Table::new(&["NAME", "ROLE"]);
                    for a in &administrators {
                        table.row(vec![a.name.clone(), role_summary(&a.role)]);
                    }
                    table.print();
                    if administrators.is_empty() {
                        outln!(
                            "(no administrators yet: printf '%s\\n' \"$PASSWORD\" | signpost admin add NAME --password-stdin)"
                        );
                    }
                }
            }
        }
        AdminCommand::Passwd {
            name,
            password_stdin: _,
        } => {
            let administrator = load(ctx, &name).await?;
            let password = read_password_from_stdin()?;
            ctx.ops
                .set_administrator_password(&ctx.actor, &administrator.name, &password)
                .await?;
            outln!("password changed for administrator {}", administrator.name);
        }
        AdminCommand::Remove { name } => {
            let name = admin::admin_name(&name)?;
            ctx.ops.remove_administrator(&ctx.actor, &name).await?;
            outln!("removed administrator {name} with their tokens and sessions");
        }
        AdminCommand::Token(command) => token(ctx, command).await?,
    }
    Ok(())
}

async fn load(ctx: &Ctx, name: &str) -> anyhow::Result<Administrator> {
    Ok(ctx.ops.administrator(&ctx.actor, name).await?)
}

/// The administrator a token command is about: the one named, or the only one there is.
async fn whose(ctx: &Ctx, named: Option<String>) -> anyhow::Result<String> {
    if let Some(name) = named {
        return Ok(load(ctx, &name).await?.name);
    }
    let administrators = ctx.store.administrators().await?;
    match administrators.as_slice() {
        [only] => Ok(only.name.clone()),
        [] => anyhow::bail!(
            "there is no administrator yet: add one with signpost admin add NAME --password-stdin"
        ),
        _ => anyhow::bail!("there are several administrators: say whose token with --admin NAME"),
    }
}

async fn token(ctx: &Ctx, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            name,
            administrator,
        } => {
            let administrator = whose(ctx, administrator).await?;
            let issued = ctx
                .ops
                .issue_token(&ctx.actor, &administrator, &name)
                .await?;
            match ctx.format {
                Format::Json => output::print_json(&issued)?,
                // Alone on standard output, so `TOKEN=$(signpost admin token create ...)` works.
                Format::Table => {
                    outln!("{}", issued.token);
                    eprintln!(
                        "issued API token '{}' for {}; it is shown only now (send it as Authorization: Bearer)",
                        issued.name, issued.administrator
                    );
                }
            }
        }
        TokenCommand::List => {
            let tokens = ctx.store.api_tokens(None).await?;
            match ctx.format {
                Format::Json => output::print_json(&tokens)?,
                Format::Table => {
                    let mut table = Table::new(&["ADMINISTRATOR", "TOKEN NAME", "CREATED"]);
                    for token in &tokens {
                        table.row(vec![
                            token.administrator.clone(),
                            token.name.clone(),
                            output::unix_time(token.created_at),
                        ]);
                    }
                    table.print();
                }
            }
        }
        TokenCommand::Revoke {
            name,
            administrator,
        } => {
            let administrator = whose(ctx, administrator).await?;
            ctx.ops
                .revoke_token(&ctx.actor, &administrator, &name)
                .await?;
            outln!("revoked API token '{name}' of {administrator}");
        }
    }
    Ok(())
}
