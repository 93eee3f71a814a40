//! One module per subcommand family.

mod admin;
mod audit;
mod cert;
mod dns;
mod domain;
mod export;
mod generate;
mod import;
mod manual;
mod migrate;
mod outside;
mod override_xml;
mod protocol;
mod serve;
mod snippet;
mod store_owner;
mod user;
mod user_source;

use std::io::BufRead;
use std::sync::Arc;

use anyhow::Context;
use signpost_operations::{Actor, Operations, RunningInstances, SystemActor};
use signpost_store::{Location, Store};

use crate::cli::{Cli, Command};
use crate::output::{Format, outln};
use crate::settings::{self, FileConfig};

/// What every command gets: the store, the operations over it (as the person at this command
/// line, waiting for running servers to serve each change), and how to print.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub ops: Operations,
    pub actor: SystemActor,
    pub format: Format,
}

impl Ctx {
    /// The operations over the same store with other settings (a command's own flags).
    pub fn with_settings(&self, settings: signpost_operations::Settings) -> Operations {
        let live = Arc::new(RunningInstances::new(self.store.clone()));
        Operations::new(self.store.clone(), live, settings)
    }

    fn new(store: Arc<dyn Store>, format: Format) -> Self {
        let live = Arc::new(RunningInstances::new(store.clone()));
        Self {
            ops: Operations::new(
                store.clone(),
                live,
                signpost_operations::Settings::default(),
            ),
            actor: Actor::cli(),
            store,
            format,
        }
    }
}

pub async fn run(cli: Cli, serve_matches: Option<&clap::ArgMatches>) -> anyhow::Result<()> {
    // Describe the command line itself: no store, no configuration file.
    match &cli.command {
        Command::Completions { shell } => return manual::completions(*shell),
        Command::Manpages { dir } => return manual::manpages(dir),
        _ => {}
    }
    let file = FileConfig::load(cli.global.config.as_deref())?;
    // Names both of its stores itself: the default one is not opened (nor created).
    if let Command::MigrateStore { from, to, replace } = &cli.command {
        return migrate::run(from, to, *replace, cli.global.format).await;
    }
    let place = settings::store_place(&cli.global, &file);
    let location = Location::resolve(&place.data_dir, place.database.as_deref())?;
    if let Location::SqliteFile(database) = &location {
        store_owner::refuse_root_in_others_store(database)?;
    }
    let store: Arc<dyn Store> = Arc::from(
        signpost_store::open(&location)
            .await
            .with_context(|| format!("cannot open the store at {location}"))?,
    );
    let ctx = Ctx::new(store, cli.global.format);
    match cli.command {
        Command::Serve(_) => match serve_matches {
            Some(matches) => serve::run(&ctx, &settings::layered(matches, &file)?).await,
            None => anyhow::bail!("serve was not parsed from the command line"),
        },
        Command::Domain(command) => domain::run(&ctx, command).await,
        Command::Protocol(command) => protocol::run(&ctx, command).await,
        Command::User(command) => user::run(&ctx, command).await,
        Command::Override(command) => override_xml::run(&ctx, command).await,
        Command::Cert(command) => cert::run(&ctx, command, &file).await,
        Command::Status { verify } => status(&ctx, &location, verify).await,
        Command::Backup { file } => {
            ctx.ops.backup(&ctx.actor, &file).await?;
            outln!("backed up {location} to {}", file.display());
            Ok(())
        }
        Command::Export { output } => export::export(&ctx, output.as_deref()).await,
        Command::Dns(args) => dns::run(&ctx, &args, &file).await,
        Command::Check(args) => outside::check(&ctx, &args, &file).await,
        Command::Health(args) => outside::health(&ctx, &args, &file).await,
        Command::Probe(args) => outside::probe(&ctx, &args).await,
        Command::Snippet(args) => snippet::run(&ctx, &args).await,
        Command::Import(args) => match args.command {
            Some(command) => import::run(&ctx, command).await,
            None => export::import(&ctx, args.file.as_deref(), args.replace).await,
        },
        Command::Generate(args) => generate::run(&ctx, &args).await,
        Command::Admin(command) => admin::run(&ctx, command).await,
        Command::Audit {
            domain,
            since,
            limit,
        } => audit::run(&ctx, domain, since, limit).await,
        Command::MigrateStore { .. } | Command::Completions { .. } | Command::Manpages { .. } => {
            unreachable!("handled before the store is opened")
        }
    }
}

async fn status(ctx: &Ctx, location: &Location, verify: bool) -> anyhow::Result<()> {
    if verify {
        ctx.store.verify().await?;
    }
    let version = ctx.store.version().await?;
    let domains = ctx.store.domains().await?.len();
    let users: u64 = ctx.store.user_counts().await?.values().sum();
    let certificates = ctx.store.certificates().await?.len();
    match ctx.format {
        crate::output::Format::Json => crate::output::print_json(&serde_json::json!({
            "store": location.to_string(),
            "version": version,
            "domains": domains,
            "users": users,
            "certificates": certificates,
            "verified": verify,
        })),
        crate::output::Format::Table => {
            crate::output::print_fields(&[
                ("Store", location.to_string()),
                ("Configuration version", version.to_string()),
                ("Domains", domains.to_string()),
                ("Users", users.to_string()),
                ("Certificates", certificates.to_string()),
                (
                    "Integrity",
                    if verify {
                        "ok"
                    } else {
                        "not checked (--verify)"
                    }
                    .to_string(),
                ),
            ]);
            Ok(())
        }
    }
}

/// Reads a password from the first line of standard input (never from an argument, where it
/// would show in the process list and shell history).
pub fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        anyhow::bail!(
            "no password on standard input (pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | signpost ...)"
        );
    }
    Ok(password)
}
