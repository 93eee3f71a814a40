//! The domain model of Signpost and the decision of what each client is told.
//!
//! Everything here is pure (no I/O, no randomness except password salts), but for the failed-login
//! limiter's monotonic clock and reading this machine's host name.

pub mod admin;
pub mod answers;
pub mod auth_limiter;
pub mod certificate;
pub mod discovery;
pub mod dns_records;
pub mod ispdb;
pub mod model;
pub mod overrides;
pub mod packed_users;
pub mod password;
pub mod snapshot;
pub mod snippets;
pub mod user_import;
pub mod validate;

pub use model::{
    AuthPolicy, Domain, DomainChange, Encryption, OverrideKind, ProtocolChange, ProtocolKind,
    ProtocolSetting, ProtocolSettings, ServiceAccess, User, UserChange, UserRef, UserSource,
    XmlOverride,
};
pub use snapshot::Snapshot;
pub use validate::ValidationError;

/// This machine's host name (how running instances are told apart in the store).
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(253)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// `1 user`, `2 users`: a count with its noun (regular English plurals).
pub fn counted(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Lowercase hexadecimal of `bytes` (certificate serials, digests of secrets and content).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
