//! The test harness of the test binaries that start real servers (`harness = false`), built on
//! libtest-mimic: the same command line and output as `cargo test`, plus
//!
//! - a test whose tool is missing is reported as `ignored (needs TOOL ...)`, never as passed
//!   (see [`crate::tools::require`]), and the run ends with a list of what was skipped and why;
//! - a test that has not finished after [`TEST_TIME_LIMIT`] fails with that said, instead of
//!   holding the whole run (its servers are stopped by their watchdogs when the process ends).
//!
//! Register a module's tests with [`tests!`](crate::tests) and run them from `main` with
//! [`main`].

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::tools::Skipped;

/// Longer than any test takes on a slow, busy machine; only a hung test reaches it.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Tests skipped for a missing tool, with the reason, for the list at the end.
static SKIPPED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// One test: a name (`module::function`) and its body.
pub struct Test {
    pub name: String,
    pub body: fn(),
}

impl Test {
    /// A test named after its module path without the crate's own name, as libtest names it.
    pub fn new(module_path: &str, function: &str, body: fn()) -> Self {
        let module = module_path.split_once("::").map_or("", |(_, rest)| rest);
        let name = if module.is_empty() {
            function.to_string()
        } else {
            format!("{module}::{function}")
        };
        Self { name, body }
    }
}

/// Lists a module's test functions as `pub fn tests() -> Vec<Test>`. A function left out is
/// never called, which the compiler reports as dead code: none can be forgotten.
#[macro_export]
macro_rules! tests {
    ($($function:ident),* $(,)?) => {
        pub fn tests() -> Vec<$crate::runner::Test> {
            vec![$($crate::runner::Test::new(module_path!(), stringify!($function), $function)),*]
        }
    };
}

/// What became of a test body run to its end.
enum Ending {
    Passed,
    Skipped(String),
    Failed(String),
}

fn run_body(body: fn()) -> Ending {
    match std::panic::catch_unwind(body) {
        Ok(()) => Ending::Passed,
        Err(payload) => {
            if let Some(skipped) = payload.downcast_ref::<Skipped>() {
                Ending::Skipped(skipped.reason.clone())
            } else if let Some(message) = payload.downcast_ref::<String>() {
                Ending::Failed(message.clone())
            } else if let Some(message) = payload.downcast_ref::<&str>() {
                Ending::Failed((*message).to_string())
            } else {
                Ending::Failed("the test panicked".to_string())
            }
        }
    }
}

/// Runs the body on its own thread so that a hung test fails instead of stopping the run.
fn run_with_time_limit(name: &str, body: fn()) -> Ending {
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let _ = sender.send(run_body(body));
        });
    if let Err(e) = spawned {
        return Ending::Failed(format!("could not start the test's thread: {e}"));
    }
    receiver.recv_timeout(TEST_TIME_LIMIT).unwrap_or_else(|_| {
        Ending::Failed(format!(
            "did not finish within {} minutes; left running",
            TEST_TIME_LIMIT.as_secs() / 60
        ))
    })
}

/// Runs every registered test as `cargo test` would, and says at the end which were skipped.
pub fn main(groups: impl IntoIterator<Item = Vec<Test>>) -> ExitCode {
    let arguments = Arguments::from_args();
    let trials: Vec<Trial> = groups
        .into_iter()
        .flatten()
        .map(|test| {
            let name = test.name.clone();
            Trial::ignorable_test(test.name, move || {
                match run_with_time_limit(&name, test.body) {
                    Ending::Passed => Ok(Completion::Completed),
                    Ending::Skipped(reason) => {
                        if let Ok(mut list) = SKIPPED.lock() {
                            list.push((name, reason.clone()));
                        }
                        Ok(Completion::ignored_with(reason))
                    }
                    Ending::Failed(message) => Err(Failed::from(message)),
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&arguments, trials);
    let skipped = SKIPPED.lock().map(|l| l.clone()).unwrap_or_default();
    if !skipped.is_empty() {
        print_skips(&skipped);
    }
    conclusion.exit_code()
}

fn print_skips(skipped: &[(String, String)]) {
    let mut by_reason: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (name, reason) in skipped {
        by_reason.entry(reason).or_default().push(name);
    }
    println!(
        "skipped {} test(s) for missing tools (scripts/test installs them; {}=1 makes a missing tool fail):",
        skipped.len(),
        crate::tools::REQUIRE_TOOLS_VARIABLE
    );
    for (reason, names) in by_reason {
        println!("  {reason}: {}", names.join(", "));
    }
    println!();
}
