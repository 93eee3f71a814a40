//! Servers stop however the test run was started: with SIGINT and SIGQUIT ignored (as a
//! background job or nohup leaves them, and as many CI runners and service managers do), and
//! when the test process ends without stopping them.
//!
//! Each case runs a scenario in a child process of this binary, started through a shell that
//! ignores the signals first, and looks at what is left afterwards.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use signpost_testkit::postgres::PostgresServer;

signpost_testkit::tests![
    postgres_stops_when_the_run_ignores_sigint,
    postgres_is_stopped_when_the_test_process_dies_without_stopping_it,
];

/// The scenario a child process runs, named in this variable.
const SCENARIO: &str = "SIGNPOST_TESTKIT_SCENARIO";

fn main() -> std::process::ExitCode {
    match std::env::var(SCENARIO).as_deref() {
        Ok("stop") => stop_scenario(),
        Ok("abandon") => abandon_scenario(),
        _ => signpost_testkit::runner::main([tests()]),
    }
}

/// Starts a cluster, prints its pid, stops it the normal way, and says whether it is gone.
fn stop_scenario() -> std::process::ExitCode {
    let mut server = PostgresServer::start();
    let pid = postmaster_pid(&server);
    server.stop();
    println!("pid {pid} running after stop: {}", is_running(pid));
    std::process::ExitCode::SUCCESS
}

/// Starts a cluster, prints its pid, and exits without stopping it.
fn abandon_scenario() -> std::process::ExitCode {
    let server = PostgresServer::start();
    println!("pid {}", postmaster_pid(&server));
    std::mem::forget(server);
    std::process::exit(0)
}

fn postmaster_pid(server: &PostgresServer) -> u32 {
    server.pid().expect("a running PostgreSQL")
}

fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        // A zombie has ended; it only waits for its parent to read its status.
        .is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
}

/// Runs `scenario` in a child of this binary whose shell ignored SIGINT and SIGQUIT; its output.
fn run_with_ignored_signals(scenario: &str) -> String {
    signpost_testkit::tools::require(signpost_testkit::tools::Tool::Postgres);
    let binary = std::env::current_exe().expect("this test binary");
    let out = Command::new("sh")
        .args(["-c", "trap '' INT QUIT; exec \"$0\""])
        .arg(binary)
        .env(SCENARIO, scenario)
        .stdin(Stdio::null())
        .output()
        .expect("run the scenario");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "expected the {scenario} scenario to succeed; it ended with {}:\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn postgres_stops_when_the_run_ignores_sigint() {
    let out = run_with_ignored_signals("stop");
    assert!(
        out.contains("running after stop: false"),
        "expected PostgreSQL to have stopped; the scenario printed: {out}"
    );
}

fn postgres_is_stopped_when_the_test_process_dies_without_stopping_it() {
    let out = run_with_ignored_signals("abandon");
    let pid: u32 = out
        .trim()
        .strip_prefix("pid ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected the scenario to print a pid; it printed: {out}"));
    // The watchdog looks once a second and PostgreSQL's fast shutdown is quick; a minute is
    // only reached if it never happens.
    let deadline = Instant::now() + Duration::from_secs(60);
    while is_running(pid) {
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!(
                "expected the watchdog to stop PostgreSQL (pid {pid}); it was still running after 60 s"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
