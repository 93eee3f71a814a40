//! `signpost`: the one binary. Parses the command line and hands each subcommand its job.

mod cli;
mod commands;
mod output;
mod settings;
mod systemd;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging(
        cli.global.log_format,
        matches!(cli.command, Command::Serve(_)),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `serve` layers its settings by where each came from, which only the matches know.
    let serve_matches = matches.subcommand_matches("serve");
    match runtime.block_on(commands::run(cli, serve_matches)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<output::AlreadySaid>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error; `SIGNPOST_LOG` (or `RUST_LOG`) sets the filter. The server logs
/// what it does at info; one-shot commands only warnings, since they print their own results.
fn init_logging(format: LogFormat, serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = std::env::var("SIGNPOST_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
