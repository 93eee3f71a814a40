//! The domain model of Signpost and the decision of what each client is told.
//!
//! Everything here is pure: no I/O, no clock, no randomness except password salts.

pub mod admin;
pub mod answers;
pub mod certificate;
pub mod discovery;
pub mod dns_records;
pub mod ispdb;
pub mod model;
pub mod overrides;
pub mod password;
pub mod snapshot;
pub mod snippets;
pub mod user_import;
pub mod validate;

pub use model::{
    AuthPolicy, Domain, DomainChange, Encryption, OverrideKind, ProtocolChange, ProtocolKind,
    ProtocolSetting, ProtocolSettings, ServiceAccess, User, UserChange, UserSource, XmlOverride,
};
pub use snapshot::Snapshot;
pub use validate::ValidationError;

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
