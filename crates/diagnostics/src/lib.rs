//! Looking at a Signpost deployment from the outside, the way mail clients do: DNS records,
//! certificates, the HTTP paths of each client's discovery, and the mail servers it points to.

pub mod check;
pub mod dns;
pub mod http;
pub mod mail;
pub mod probe;
pub mod tls;

/// The outcome of one check or step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so report columns can align with `{:<5}`.
        f.pad(match self {
            Self::Pass => "PASS",
            Self::Warn => "WARN",
            Self::Fail => "FAIL",
        })
    }
}

/// Ports to use where clients would use the standard ones (tests and NAT setups change them).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub http: u16,
    pub https: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            http: 80,
            https: 443,
        }
    }
}
