//! Test support for Signpost: the harness of the test binaries that start real servers, and the
//! real servers themselves (from Debian's packages), each on 127.0.0.1 in a temporary directory,
//! on ports of its own, stopped by the test that started it.
//!
//! - [`runner`]: `cargo test`'s interface, with tests that need a missing tool reported as
//!   skipped, naming it ([`tools`]).
//! - [`ports`], [`process`]: ports nobody else is handed, processes stopped without relying on
//!   the signal dispositions the test run inherited.
//! - One module per server, behind a feature of the same name.

pub mod ports;
pub mod process;
pub mod runner;
pub mod tools;

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "dnsmasq")]
pub mod dnsmasq;
#[cfg(feature = "dovecot")]
pub mod dovecot;
#[cfg(feature = "mariadb")]
pub mod mariadb;
#[cfg(feature = "pebble")]
pub mod pebble;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "slapd")]
pub mod slapd;
#[cfg(feature = "browser")]
pub mod ui_checks;
#[cfg(feature = "web")]
pub mod web;
