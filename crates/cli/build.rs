//! Records the git commit the binary is built from, for `signpost --version`. A build outside a
//! git checkout (a source tarball) can name it in SIGNPOST_GIT_COMMIT; otherwise it says unknown.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=SIGNPOST_GIT_COMMIT");
    let given = std::env::var("SIGNPOST_GIT_COMMIT")
        .ok()
        .filter(|commit| !commit.trim().is_empty());
    let commit = given
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SIGNPOST_GIT_COMMIT={commit}");
    // Built again when HEAD moves: HEAD itself, the branch it names, and the packed refs, where
    // git keeps them (a worktree's branches live in the shared directory). Only files that exist
    // are named (cargo treats a missing one as always changed).
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        let path = git(&["rev-parse", "--path-format=absolute", "--git-path", &name]);
        if let Some(path) = path.filter(|path| Path::new(path).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
