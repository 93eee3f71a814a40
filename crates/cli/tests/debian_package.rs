//! The Debian package as an administrator meets it: `scripts/package-deb` builds it, lintian
//! judges it, and dpkg installs it on this machine, installs it again over an edited
//! configuration, removes it and purges it. Its own test binary, so the release build and the
//! system-wide install never overlap the black-box tests.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use signpost_testkit::tools::{self, Skipped, Tool};

signpost_testkit::tests![the_debian_package_installs_upgrades_removes_and_purges_cleanly];

fn main() -> std::process::ExitCode {
    signpost_testkit::runner::main([tests()])
}

const CONFIG: &str = "/etc/signpost/signpost.toml";
const DATA: &str = "/var/lib/signpost";
const UNIT: &str = "/lib/systemd/system/signpost.service";

/// Lintian warnings this package keeps on purpose, each with the reason.
const ACCEPTED_WARNINGS: &[(&str, &str)] = &[(
    "initial-upload-closes-no-bugs",
    "the package is built by the project, not uploaded to Debian, so there is no ITP bug to close",
)];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `command`, which must succeed; says what it printed when it does not.
fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

fn skip(reason: &str) -> ! {
    std::panic::resume_unwind(Box::new(Skipped {
        reason: reason.to_string(),
    }))
}

fn installed_version() -> Option<String> {
    let output = Command::new("dpkg-query")
        .args(["-W", "-f=${Status} ${Version}", "signpost"])
        .output()
        .ok()?;
    let status = text(&output.stdout);
    status
        .strip_prefix("install ok installed ")
        .map(str::to_string)
}

/// Purges the package when the test ends, however it ends (the system user `signpost` stays, as
/// after any purge).
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-P", "signpost"]).output();
    }
}

fn dpkg(args: &[&str]) -> String {
    let output = run(Command::new("dpkg")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive"));
    text(&output.stdout) + &text(&output.stderr)
}

fn the_debian_package_installs_upgrades_removes_and_purges_cleanly() {
    tools::require(Tool::DebianPackaging);
    tools::require(Tool::SystemdAnalyze);
    let root = workspace_root();

    // Built by the script the README names; its last line is the package.
    let built = run(Command::new(root.join("scripts/package-deb")).current_dir(&root));
    let stdout = text(&built.stdout);
    let package = root.join(stdout.lines().last().expect("the package's path").trim());
    assert!(
        package.extension().is_some_and(|e| e == "deb") && package.is_file(),
        "scripts/package-deb ended with {stdout:?}, not a .deb that exists"
    );
    let size = std::fs::metadata(&package).expect("package").len();
    eprintln!(
        "debian_package: {} is {size} bytes ({:.1} MiB)",
        package.display(),
        size as f64 / 1048576.0
    );
    let version = text(
        &run(Command::new("dpkg-deb")
            .args(["-f"])
            .arg(&package)
            .arg("Version"))
        .stdout,
    )
    .trim()
    .to_string();

    // What the package holds, before anything is installed.
    let contents = text(&run(Command::new("dpkg-deb").arg("-c").arg(&package)).stdout);
    for path in [
        "./usr/bin/signpost",
        "./lib/systemd/system/signpost.service",
        "./etc/signpost/signpost.toml",
        "./usr/share/man/man1/signpost.1.gz",
        "./usr/share/man/man1/signpost-domain-add.1.gz",
        "./usr/share/bash-completion/completions/signpost",
        "./usr/share/zsh/vendor-completions/_signpost",
        "./usr/share/fish/vendor_completions.d/signpost.fish",
        "./usr/share/doc/signpost/copyright",
        "./usr/share/doc/signpost/changelog.Debian.gz",
        "./usr/share/doc/signpost/bundled-crates.txt.gz",
    ] {
        assert!(
            contents.lines().any(|line| line.ends_with(path)),
            "{path} is not in the package:\n{contents}"
        );
    }
    let conffiles = text(
        &run(Command::new("dpkg-deb")
            .arg("-I")
            .arg(&package)
            .arg("conffiles"))
        .stdout,
    );
    assert_eq!(
        conffiles.lines().collect::<Vec<_>>(),
        [CONFIG, "/etc/logrotate.d/signpost"],
        "the package's conffiles"
    );

    // Lintian: no error, and no warning but the ones accepted above.
    let lintian = Command::new("lintian")
        .args(["--pedantic", "--info"])
        .arg(&package)
        .output()
        .expect("run lintian");
    let report = text(&lintian.stdout);
    // 0: clean, 1: tags found; anything else means lintian itself failed.
    assert!(
        matches!(lintian.status.code(), Some(0 | 1)),
        "lintian did not run through ({}): {}{report}",
        lintian.status,
        text(&lintian.stderr)
    );
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian reports errors:\n{report}");
    for warning in report.lines().filter(|l| l.starts_with("W:")) {
        assert!(
            ACCEPTED_WARNINGS
                .iter()
                .any(|(tag, _)| warning.contains(&format!(" {tag}"))),
            "lintian warns of something not accepted here:\n{warning}\n\nwhole report:\n{report}"
        );
    }

    if !tools::is_root() {
        skip("installing the package with dpkg needs root; built and checked with lintian only");
    }
    if let Some(version) = installed_version() {
        skip(&format!(
            "signpost {version} is installed on this machine already; the test does not touch it"
        ));
    }
    let _purge = Purge;

    // Installed: said not started, the binary, its manual, completions and unit in place.
    let installed = dpkg(&["-i", &package.to_string_lossy()]);
    assert!(
        installed.contains("not started") && installed.contains("systemctl enable --now signpost"),
        "the install should say the service is not started and how to start it:\n{installed}"
    );
    let reported = text(&run(Command::new("/usr/bin/signpost").arg("--version")).stdout);
    let upstream = version.split('-').next().unwrap_or(&version);
    assert!(
        reported.starts_with(&format!("signpost {upstream} (commit ")),
        "--version says {reported:?}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&root)
        .output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        let head = text(&head.stdout).trim().to_string();
        assert!(
            reported.contains(&format!("(commit {head})")),
            "--version says {reported:?}, the checkout is at {head}"
        );
    }
    // The crates inside the binary, each with its licence.
    let bundled = text(
        &run(Command::new("zcat").arg("/usr/share/doc/signpost/bundled-crates.txt.gz")).stdout,
    );
    for crate_name in ["rustls", "tokio", "sqlx-core", "ring"] {
        assert!(
            bundled.contains(&format!("\n{crate_name} ")),
            "{crate_name} is not among the bundled crates' licences"
        );
    }
    assert!(
        bundled.contains("Permission is hereby granted"),
        "no MIT licence text"
    );
    let page = text(&run(Command::new("man").args(["-w", "signpost"])).stdout);
    assert_eq!(page.trim(), "/usr/share/man/man1/signpost.1.gz");
    let page = text(&run(Command::new("man").args(["-w", "signpost-user-add"])).stdout);
    assert_eq!(page.trim(), "/usr/share/man/man1/signpost-user-add.1.gz");
    let completion = std::fs::read_to_string("/usr/share/bash-completion/completions/signpost")
        .expect("the bash completion");
    assert!(
        completion.contains("complete -F _signpost") && completion.contains("migrate-store"),
        "the bash completion does not complete signpost's subcommands"
    );

    // The unit verifies; the packaged configuration is accepted, as the service's user.
    let verify = run(tools::command(Tool::SystemdAnalyze, "systemd-analyze")
        .arg("verify")
        .arg(UNIT));
    let complaints = text(&verify.stderr);
    assert!(
        !complaints.contains("signpost.service"),
        "systemd-analyze verify complains:\n{complaints}"
    );
    let owner = std::fs::metadata(DATA).expect("the data directory");
    let config = std::fs::metadata(CONFIG).expect("the configuration");
    assert_eq!(config.uid(), 0, "{CONFIG} belongs to root");
    assert_eq!(
        config.gid(),
        owner.gid(),
        "{CONFIG} is readable by the service's group"
    );
    assert_eq!(
        config.mode() & 0o777,
        0o640,
        "{CONFIG} is not world-readable"
    );
    assert_eq!(owner.mode() & 0o777, 0o700, "{DATA} is the service's alone");
    let checked = run(Command::new("runuser").args([
        "-u",
        "signpost",
        "--",
        "/usr/bin/signpost",
        "serve",
        "--check-config",
        "--config",
        CONFIG,
    ]));
    let checked = text(&checked.stdout);
    assert!(
        checked.contains("configuration OK") && checked.contains("127.0.0.1:8080"),
        "the packaged configuration, checked:\n{checked}"
    );
    // Root is refused in the service's store, with the command that works, and writes nothing.
    let as_root = Command::new("/usr/bin/signpost")
        .args(["--config", CONFIG, "domain", "list"])
        .output()
        .expect("run signpost as root");
    let refusal = text(&as_root.stderr);
    assert!(
        !as_root.status.success()
            && refusal.contains(
                "sudo -u signpost signpost --config /etc/signpost/signpost.toml domain list"
            ),
        "root in the service's store: {refusal}"
    );
    for entry in std::fs::read_dir(DATA)
        .expect("list the data directory")
        .flatten()
    {
        let metadata = entry.metadata().expect("metadata");
        assert_eq!(
            metadata.uid(),
            owner.uid(),
            "{} does not belong to the service's user",
            entry.path().display()
        );
    }

    // Installed again over an edited configuration: the edit stays, silently.
    let packaged = std::fs::read_to_string(CONFIG).expect("read the configuration");
    let edited = packaged.replace(
        "listen = [\"127.0.0.1:8080\"]",
        "listen = [\"127.0.0.1:8089\"] # edited",
    );
    assert_ne!(
        edited, packaged,
        "the packaged configuration listens on 127.0.0.1:8080"
    );
    std::fs::write(CONFIG, &edited).expect("edit the configuration");
    dpkg(&["-i", &package.to_string_lossy()]);
    assert_eq!(
        std::fs::read_to_string(CONFIG).expect("read the configuration"),
        edited,
        "installing again replaced the edited configuration"
    );

    // Removed: the binary goes; the store and the configuration stay.
    dpkg(&["-r", "signpost"]);
    assert!(
        !Path::new("/usr/bin/signpost").exists(),
        "dpkg -r left the binary"
    );
    assert!(
        Path::new(DATA).join("signpost.db").is_file(),
        "dpkg -r removed the store"
    );
    assert!(
        Path::new(CONFIG).is_file(),
        "dpkg -r removed the configuration"
    );

    // Purged: configuration and data gone too.
    dpkg(&["-P", "signpost"]);
    assert!(
        !Path::new("/etc/logrotate.d/signpost").exists(),
        "dpkg -P left the logrotate configuration"
    );
    assert!(
        !Path::new("/etc/signpost").exists(),
        "dpkg -P left /etc/signpost"
    );
    assert!(!Path::new(DATA).exists(), "dpkg -P left {DATA}");
    assert_eq!(installed_version(), None, "signpost is still installed");
}
