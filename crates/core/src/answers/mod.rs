//! Turns an [`Account`](crate::discovery::Account) into each client's answer, through the
//! protocol crate's writers.

pub mod apple;
pub mod autoconfig;
pub mod outlook;
pub mod pacc;
pub mod preview;
pub mod template;

pub use outlook::*;

use crate::model::{Domain, ProtocolKind};

/// Server-wide answer settings.
#[derive(Debug, Clone)]
pub struct AnswerOptions {
    /// Hours Outlook may cache the desktop answer.
    pub ttl_hours: u32,
    /// The `Culture` of ActiveSync answers.
    pub culture: String,
}

impl Default for AnswerOptions {
    fn default() -> Self {
        Self {
            ttl_hours: 1,
            culture: "en:us".into(),
        }
    }
}

/// A stable identifier per domain for `DeploymentId` (UUIDv5 of the domain name).
pub fn deployment_id(domain: &Domain) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, domain.name.as_bytes()).to_string()
}

/// Where the POX autodiscover of a domain lives, for the v2 `AutodiscoverV1` answer.
pub fn autodiscover_v1_url(domain_name: &str) -> String {
    format!("https://autodiscover.{domain_name}/autodiscover/autodiscover.xml")
}

/// The https URL of an Exchange-style service on `kind`'s host for `address`.
pub(crate) fn exchange_url(
    domain: &Domain,
    kind: ProtocolKind,
    address: &str,
    path: &str,
) -> String {
    let host = crate::model::expand_pattern(domain.host_for(kind), address);
    format!("https://{host}{path}")
}
