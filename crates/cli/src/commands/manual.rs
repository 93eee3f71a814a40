//! The command line described for shells and for `man`: completion scripts and manual pages,
//! both generated from the clap definitions so they never drift from `--help`.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::output::out;

/// `signpost completions SHELL`: the script on standard output.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "signpost", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(())
}

/// `signpost manpages DIR`: signpost.1 and signpost-SUBCOMMAND.1 for every subcommand (nested
/// ones too, as signpost-domain-add.1); hidden commands have none.
pub fn manpages(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let command = Cli::command();
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
    let written = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".1"))
        .count();
    eprintln!("wrote {written} manual pages into {}", dir.display());
    Ok(())
}
