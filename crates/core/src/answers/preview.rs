//! What a client would get for an address, as the seed's Generate button shows it: used by
//! `signpost generate` and by the administration API alike.

use serde::{Deserialize, Serialize};

use super::{AnswerOptions, apple, autoconfig, pacc};
use crate::discovery::{self, Asker, Discovery};
use crate::model::Domain;
use crate::snapshot::Snapshot;
use crate::validate;

/// Which answer to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PreviewKind {
    /// Outlook's POX answer.
    Desktop,
    /// The ActiveSync answer.
    Mobile,
    /// Thunderbird's config-v1.1.xml.
    Autoconfig,
    /// The Apple configuration profile (unsigned).
    Mobileconfig,
    /// The PACC user-agent-configuration.json.
    Pacc,
}

/// A generated answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Preview {
    pub body: String,
    /// For PACC: the TXT record that pins the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txt: Option<String>,
}

/// Why there is nothing to show; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Invalid(#[from] validate::ValidationError),
    #[error("{0}")]
    Nothing(String),
}

/// The answer `kind` for `address` of `domain`, as a signed-in user would get it (autoconfig and
/// PACC are public anyway); `with_override` applies the domain's saved override text, as clients
/// get it, instead of the generated answer.
pub fn preview(
    snapshot: &Snapshot,
    domain: &Domain,
    address: &str,
    kind: PreviewKind,
    with_override: bool,
    options: &AnswerOptions,
) -> Result<Preview, PreviewError> {
    let address = validate::address("email", address)?;
    let address_domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !domain.all_names().any(|n| n == address_domain) {
        return Err(validate::ValidationError::new(
            "email",
            format!("{address} is not an address of {}", domain.name),
        )
        .into());
    }
    let asker = match snapshot.user(&address) {
        Some(user) => Asker::Authenticated(user),
        None => Asker::Anonymous,
    };
    let nothing = |message: String| Err(PreviewError::Nothing(message));
    let account = match discovery::discover(snapshot, &address, asker) {
        Discovery::Account(account) => account,
        Discovery::RedirectAddress(to) => {
            return nothing(format!(
                "{} redirects its clients to {to}; there are no settings to generate",
                domain.name
            ));
        }
        Discovery::NotHosted => {
            return nothing(format!(
                "{} is not hosted (is the domain saved yet?)",
                domain.name
            ));
        }
    };
    let body = match kind {
        PreviewKind::Desktop if with_override => super::desktop_answer(&account, options),
        PreviewKind::Desktop => super::generated_desktop_answer(&account, options),
        PreviewKind::Mobile => {
            let body = if with_override {
                super::mobile_answer(&account, options)
            } else {
                super::generated_mobile_answer(&account, options)
            };
            match body {
                Some(body) => body,
                None => {
                    return nothing(format!(
                        "ActiveSync is off for {} or for {address}, so ActiveSync clients get error \
                         601 (turn on EAS for the domain)",
                        domain.name
                    ));
                }
            }
        }
        PreviewKind::Autoconfig => match autoconfig::autoconfig_answer(domain) {
            Ok(body) => body,
            Err(why) => {
                return nothing(format!("{} has no autoconfig answer: {why}", domain.name));
            }
        },
        PreviewKind::Mobileconfig => match apple::profile_answer(&account) {
            Some(body) => body,
            None => {
                return nothing(format!(
                    "there is nothing to set up on an Apple device for {address}"
                ));
            }
        },
        PreviewKind::Pacc => {
            let (body, txt) = pacc::pacc_answer(domain, address_domain);
            return Ok(Preview {
                body,
                txt: Some(txt),
            });
        }
    };
    Ok(Preview { body, txt: None })
}
