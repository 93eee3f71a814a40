//! `signpost user ...`

use anyhow::Context;
use serde::Serialize;
use signpost_core::{ServiceAccess, User, UserChange, validate};

use super::{Ctx, read_password_from_stdin};
use crate::cli::UserCommand;
use crate::output::{self, Format, Table};

/// A user as shown: everything but the password hash.
#[derive(Serialize)]
struct UserView<'a> {
    address: &'a str,
    display_name: &'a str,
    login_name: &'a str,
    legacy_dn: String,
    access: ServiceAccess,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            address: &user.address,
            display_name: user.shown_name(),
            login_name: user.login(),
            legacy_dn: user.legacy_dn(),
            access: user.access,
        }
    }
}

pub async fn run(ctx: &Ctx, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            address,
            display_name,
            login_name,
            legacy_dn,
            deny,
            password_stdin: _,
        } => {
            let change = UserChange {
                display_name,
                login_name,
                legacy_dn,
                deny,
                allow: Vec::new(),
            };
            // Check everything cheap before asking for the password.
            let address = validate::address("address", &address)?;
            super::domain::load(ctx, address.rsplit_once('@').map(|(_, d)| d).unwrap_or(""))
                .await
                .with_context(|| format!("cannot add {address}"))?;
            let password = read_password_from_stdin()?;
            let user = User::new(&address, &password, &change)?;
            ctx.store.create_user(&user).await?;
            print_user(ctx, &user, "added user")?;
        }
        UserCommand::List { domain } => {
            let domain = domain
                .map(|d| validate::domain_name("domain", &d))
                .transpose()?;
            let users = ctx.store.users(domain.as_deref()).await?;
            match ctx.format {
                Format::Json => {
                    output::print_json(&users.iter().map(UserView::from).collect::<Vec<_>>())?
                }
                Format::Table => {
                    let mut table = Table::new(&["ADDRESS", "DISPLAY NAME", "LOGIN", "ACCESS"]);
                    for user in &users {
                        table.row(vec![
                            user.address.clone(),
                            user.shown_name().into(),
                            user.login().into(),
                            user.access.summary(),
                        ]);
                    }
                    table.print();
                }
            }
        }
        UserCommand::Show { address } => {
            let user = load(ctx, &address).await?;
            print_user(ctx, &user, "")?;
        }
        UserCommand::Set {
            address,
            display_name,
            login_name,
            legacy_dn,
            deny,
            allow,
        } => {
            let mut user = load(ctx, &address).await?;
            let change = UserChange {
                display_name,
                login_name,
                legacy_dn,
                deny,
                allow,
            };
            if change == UserChange::default() {
                anyhow::bail!(
                    "nothing to change: give --display-name, --login-name, --legacy-dn, --deny or --allow"
                );
            }
            user.apply(&change)?;
            ctx.store.save_user(&user).await?;
            print_user(ctx, &user, "updated user")?;
        }
        UserCommand::Passwd {
            address,
            password_stdin: _,
        } => {
            let mut user = load(ctx, &address).await?;
            let password = read_password_from_stdin()?;
            user.set_password(&password)?;
            ctx.store.save_user(&user).await?;
            println!("password changed for {}", user.address);
        }
        UserCommand::Remove { address } => {
            let address = validate::address("address", &address)?;
            ctx.store.delete_user(&address).await?;
            println!("removed user {address}");
        }
    }
    Ok(())
}

async fn load(ctx: &Ctx, address: &str) -> anyhow::Result<User> {
    let address = validate::address("address", address)?;
    ctx.store
        .user(&address)
        .await?
        .with_context(|| format!("user '{address}' does not exist (see: signpost user list)"))
}

fn print_user(ctx: &Ctx, user: &User, verb: &str) -> anyhow::Result<()> {
    match ctx.format {
        Format::Json => output::print_json(&UserView::from(user)),
        Format::Table => {
            if !verb.is_empty() {
                println!("{verb} {}", user.address);
            }
            output::print_fields(&[
                ("Address", user.address.clone()),
                ("Display name", user.shown_name().into()),
                ("Login name", user.login().into()),
                ("LegacyDN", user.legacy_dn()),
                ("Access", user.access.summary()),
            ]);
            Ok(())
        }
    }
}
