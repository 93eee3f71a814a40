//! The shipped systemd unit and Dockerfile: checked with systemd's own tools, and their command
//! lines run through the real binary with `--check-config`.

use std::path::Path;
use std::process::Command;

use signpost_testkit::tools::{self, Tool};

use crate::harness::workspace_root;

signpost_testkit::tests![
    the_systemd_unit_verifies_is_sandboxed_and_starts_a_valid_command,
    the_dockerfile_builds_this_workspace_and_runs_a_valid_command,
];

const BINARY: &str = env!("CARGO_BIN_EXE_signpost");

/// `KEY=value` lines of a unit's sections, in order.
fn unit_settings(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('['))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect()
}

fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    settings
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Runs the binary with `args` plus `--check-config`; the store goes to a fresh directory.
fn check_config(args: &[&str], env: &[(&str, &str)]) -> String {
    let data = tempfile::tempdir().expect("temporary directory");
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .arg("--check-config")
        .env_clear()
        .env("SIGNPOST_DATA", data.path());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run signpost");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{args:?} --check-config failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("configuration OK"), "{stdout}");
    stdout
}

fn the_systemd_unit_verifies_is_sandboxed_and_starts_a_valid_command() {
    let root = workspace_root();
    let unit = std::fs::read_to_string(root.join("packaging/signpost.service")).expect("unit");
    let settings = unit_settings(&unit);
    assert_eq!(setting(&settings, "Type"), ["notify"], "READY=1 is sent");
    assert_eq!(
        setting(&settings, "AmbientCapabilities"),
        ["CAP_NET_BIND_SERVICE"]
    );
    assert_eq!(
        setting(&settings, "User"),
        ["signpost"],
        "the package's system user"
    );
    assert_eq!(setting(&settings, "StateDirectory"), ["signpost"]);
    assert_eq!(setting(&settings, "ProtectSystem"), ["strict"]);

    // systemd-analyze resolves ExecStart, so point it at the binary under test.
    let dir = tempfile::tempdir().expect("temporary directory");
    let unit_path = dir.path().join("signpost.service");
    let config = root.join("packaging/signpost.toml");
    let local_unit = unit
        .replace("/usr/bin/signpost", BINARY)
        .replace("/etc/signpost/signpost.toml", &config.to_string_lossy());
    std::fs::write(&unit_path, &local_unit).expect("write unit");

    let verify = tools::command(Tool::SystemdAnalyze, "systemd-analyze")
        .arg("verify")
        .arg(&unit_path)
        .output()
        .expect("systemd-analyze (Debian package systemd)");
    let complaints = String::from_utf8_lossy(&verify.stderr).to_string();
    assert!(verify.status.success(), "{complaints}");
    // Unknown or malformed directives are only warnings: none is allowed.
    let about_unit: Vec<&str> = complaints
        .lines()
        .filter(|line| line.contains("signpost.service"))
        .collect();
    assert!(about_unit.is_empty(), "{complaints}");

    // The exposure score systemd computes from the sandboxing directives: 0 (locked) to 10.
    let security = tools::command(Tool::SystemdAnalyze, "systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit_path)
        .output()
        .expect("systemd-analyze security");
    let report = String::from_utf8_lossy(&security.stdout).to_string();
    let score: f64 = report
        .lines()
        .find_map(|line| {
            line.split("Overall exposure level for signpost.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{report}"));
    assert!(score <= 2.0, "exposure {score}:\n{report}");

    // The unit's own command line, with the shipped example configuration, is accepted.
    let exec_start = setting(&unit_settings(&local_unit), "ExecStart")
        .first()
        .map(|line| line.to_string())
        .expect("ExecStart");
    let words: Vec<&str> = exec_start.split_whitespace().collect();
    assert_eq!(words[0], BINARY);
    let report = check_config(&words[1..], &[]);
    assert!(
        report.contains("HTTP:                   127.0.0.1:8080")
            && report.contains("ACME:                   off"),
        "the packaged configuration listens on loopback alone:\n{report}"
    );

    // Its commented settings for a public server, uncommented, are a configuration too.
    let public = public_configuration(&std::fs::read_to_string(&config).expect("configuration"));
    let public_path = dir.path().join("public.toml");
    std::fs::write(&public_path, &public).expect("write configuration");
    let report = check_config(&["serve", "--config", &public_path.to_string_lossy()], &[]);
    for expected in ["0.0.0.0:80", "0.0.0.0:443", "tls-alpn-01"] {
        assert!(
            report.contains(expected),
            "{expected} missing with the public settings uncommented:\n{public}\n{report}"
        );
    }
}

/// The packaged configuration with its commented TOML lines (`#   key = value`, `#   [section]`)
/// taking the place of the loopback listener.
fn public_configuration(packaged: &str) -> String {
    packaged
        .lines()
        .filter(|line| !line.starts_with("listen = [\"127.0.0.1:8080\"]"))
        .map(|line| match line.strip_prefix("#   ") {
            Some(toml)
                if toml.starts_with('[')
                    || toml.split_once(" = ").is_some_and(|(key, _)| {
                        key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
            {
                toml
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One Dockerfile instruction: its keyword and the rest, continuation lines joined.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => current.push_str(start),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .map(|instruction| {
            let (keyword, rest) = instruction
                .split_once(char::is_whitespace)
                .unwrap_or((&instruction, ""));
            (keyword.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect()
}

fn json_words(value: &str) -> Vec<String> {
    serde_json::from_str(value).unwrap_or_else(|e| panic!("{value} is not an exec-form list: {e}"))
}

fn the_dockerfile_builds_this_workspace_and_runs_a_valid_command() {
    // No Docker engine runs here, so the image is not built; what can be checked without one is.
    let root = workspace_root();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let instructions = instructions(&dockerfile);
    let known = [
        "FROM",
        "WORKDIR",
        "COPY",
        "RUN",
        "USER",
        "ENV",
        "VOLUME",
        "EXPOSE",
        "STOPSIGNAL",
        "ENTRYPOINT",
        "CMD",
    ];
    for (keyword, _) in &instructions {
        assert!(
            known.contains(&keyword.as_str()),
            "unknown instruction {keyword}"
        );
    }
    assert_eq!(
        instructions.iter().filter(|(k, _)| k == "FROM").count(),
        2,
        "a build stage and a slim runtime stage"
    );

    // Everything the build stage copies exists, and with it the workspace builds: every member
    // named in Cargo.toml is inside a copied directory.
    let copied: Vec<String> = instructions
        .iter()
        .filter(|(k, rest)| k == "COPY" && !rest.starts_with("--from"))
        .flat_map(|(_, rest)| {
            let words: Vec<String> = rest.split_whitespace().map(String::from).collect();
            words[..words.len() - 1].to_vec()
        })
        .collect();
    for source in &copied {
        assert!(root.join(source).exists(), "COPY {source}: no such file");
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = manifest.parse().expect("Cargo.toml parses");
    let members = manifest["workspace"]["members"]
        .as_array()
        .expect("workspace members");
    for member in members {
        let member = member.as_str().expect("member path");
        let top = member.split('/').next().unwrap_or(member);
        assert!(
            copied.iter().any(|source| source == top),
            "workspace member {member} is not copied into the build stage"
        );
    }
    let build = instructions
        .iter()
        .find(|(k, rest)| k == "RUN" && rest.contains("cargo build"))
        .map(|(_, rest)| rest.clone())
        .expect("a cargo build step");
    assert!(
        build.contains("--release") && build.contains("--locked"),
        "{build}"
    );
    assert!(build.contains("--bin signpost"), "{build}");
    let binary_name = Path::new(BINARY).file_name().expect("binary name");
    assert_eq!(binary_name, "signpost");

    // Never root at run time.
    let user = instructions
        .iter()
        .rev()
        .find(|(k, _)| k == "USER")
        .map(|(_, rest)| rest.as_str());
    assert!(
        matches!(user, Some(u) if u != "root" && u != "0"),
        "{user:?}"
    );

    // The container's command, with its environment, is a configuration Signpost accepts, and
    // it listens where EXPOSE says.
    let env: Vec<(String, String)> = instructions
        .iter()
        .filter(|(k, _)| k == "ENV")
        .map(|(_, rest)| {
            let (key, value) = rest.split_once('=').expect("ENV KEY=value");
            (key.to_string(), value.to_string())
        })
        .filter(|(key, _)| key != "SIGNPOST_DATA")
        .collect();
    let entrypoint = instructions
        .iter()
        .find(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, rest)| json_words(rest))
        .expect("ENTRYPOINT");
    assert_eq!(entrypoint, ["/usr/local/bin/signpost"]);
    let command = instructions
        .iter()
        .find(|(k, _)| k == "CMD")
        .map(|(_, rest)| json_words(rest))
        .expect("CMD");
    let args: Vec<&str> = command.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let report = check_config(&args, &env);
    let exposed = instructions
        .iter()
        .find(|(k, _)| k == "EXPOSE")
        .map(|(_, rest)| rest.clone())
        .expect("EXPOSE");
    for port in exposed.split_whitespace() {
        assert!(
            report.contains(&format!("0.0.0.0:{port}")),
            "EXPOSE {port} but:\n{report}"
        );
    }
}
