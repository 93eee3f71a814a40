//! What the seed's Generate button fills the override box with: the answer Signpost would send,
//! with the variables (`%EmailAddress%`, `%DisplayName%`, `%LegacyDN%`, `%Base64EmailAddress%`)
//! where one user's values would be, so that the text saved as an override still tells each user
//! their own settings.

use base64::Engine;

use super::AnswerOptions;
use crate::answers::preview::PreviewError;
use crate::discovery::{self, Asker, Discovery};
use crate::model::{Domain, OverrideKind, ServiceAccess, User, derived_legacy_dn};
use crate::snapshot::Snapshot;

/// A local part and a display name no real user has; whatever of them is left in the text after
/// the substitution is something no variable can stand for.
const SAMPLE_LOCAL_PART: &str = "signpost-template-user-7f3a9c";
const SAMPLE_DISPLAY_NAME: &str = "Signpost Template Display Name 7f3a9c";

/// The generated answer with the variables in place of a user's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideTemplate {
    pub text: String,
    /// What the variables cannot say (a login name made of the address's local part, say).
    pub warnings: Vec<String>,
}

pub fn override_template(
    domain: &Domain,
    kind: OverrideKind,
    options: &AnswerOptions,
) -> Result<OverrideTemplate, PreviewError> {
    let address = format!("{SAMPLE_LOCAL_PART}@{}", domain.name);
    let sample = User {
        address: address.clone(),
        password_hash: String::new(),
        display_name: SAMPLE_DISPLAY_NAME.to_string(),
        login_name: None,
        legacy_dn: None,
        access: ServiceAccess::ALL,
    };
    // The domain as it is, without its override: the template is what would be generated.
    let mut plain = domain.clone();
    plain.desktop_override.enabled = false;
    plain.mobile_override.enabled = false;
    let snapshot = Snapshot::new(0, vec![plain], Vec::new());
    let account =
        match discovery::discover(&snapshot, &address, Asker::Authenticated(sample.view())) {
            Discovery::Account(account) => account,
            Discovery::RedirectAddress(to) => {
                return Err(PreviewError::Nothing(format!(
                    "{} redirects its clients to {to}; there is no answer to override",
                    domain.name
                )));
            }
            Discovery::NotHosted => {
                return Err(PreviewError::Nothing(format!(
                    "{} is not hosted",
                    domain.name
                )));
            }
        };
    let generated = match kind {
        OverrideKind::Desktop => super::generated_desktop_answer(&account, options),
        OverrideKind::Mobile => super::generated_mobile_answer(&account, options).ok_or_else(|| {
            PreviewError::Nothing(format!(
                "ActiveSync is off for {}, so there is no mobile answer to start from: turn ActiveSync on first",
                domain.name
            ))
        })?,
    };
    let base64 = base64::engine::general_purpose::STANDARD.encode(&address);
    let text = generated
        .replace(&base64, "%Base64EmailAddress%")
        .replace(&derived_legacy_dn(&address), "%LegacyDN%")
        .replace(&address, "%EmailAddress%")
        .replace(SAMPLE_DISPLAY_NAME, "%DisplayName%");
    let mut warnings = Vec::new();
    if text.contains(SAMPLE_LOCAL_PART) {
        warnings.push(format!(
            "a login name or host of {} is made from part of the address, which no variable stands for; the template shows it for a sample user ({SAMPLE_LOCAL_PART}): change it, or keep generated answers",
            domain.name
        ));
    }
    Ok(OverrideTemplate { text, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EndpointChange, ProtocolChange, ProtocolKind};
    use crate::overrides::xml_problem;

    #[test]
    fn the_desktop_template_carries_variables_and_no_user() {
        let domain = Domain::new("example.com", "mail.example.com").unwrap();
        let template =
            override_template(&domain, OverrideKind::Desktop, &AnswerOptions::default()).unwrap();
        for variable in ["%EmailAddress%", "%DisplayName%", "%LegacyDN%"] {
            assert!(
                template.text.contains(variable),
                "{variable} missing: {}",
                template.text
            );
        }
        assert!(
            !template.text.contains(SAMPLE_LOCAL_PART),
            "{}",
            template.text
        );
        assert!(
            !template.text.contains("Signpost Template"),
            "{}",
            template.text
        );
        assert_eq!(
            xml_problem(&template.text),
            None,
            "well-formed: {}",
            template.text
        );
        assert!(template.warnings.is_empty(), "{:?}", template.warnings);
    }

    #[test]
    fn the_mobile_template_needs_activesync_and_says_so() {
        let mut domain = Domain::new("example.com", "mail.example.com").unwrap();
        let off = override_template(&domain, OverrideKind::Mobile, &AnswerOptions::default())
            .unwrap_err();
        assert!(
            matches!(&off, PreviewError::Nothing(m) if m.contains("turn ActiveSync on")),
            "{off:?}"
        );
        domain
            .change_protocol(
                ProtocolKind::Eas,
                &ProtocolChange {
                    enabled: Some(true),
                    ..ProtocolChange::default()
                },
            )
            .unwrap();
        let on =
            override_template(&domain, OverrideKind::Mobile, &AnswerOptions::default()).unwrap();
        assert!(on.text.contains("%EmailAddress%") && on.text.contains("%DisplayName%"));
    }

    #[test]
    fn a_login_made_from_the_local_part_is_named_as_a_warning() {
        let mut domain = Domain::new("example.com", "mail.example.com").unwrap();
        domain
            .change_protocol(
                ProtocolKind::Imap,
                &ProtocolChange {
                    endpoint: EndpointChange {
                        username: Some("%EMAILLOCALPART%".into()),
                        ..EndpointChange::default()
                    },
                    ..ProtocolChange::default()
                },
            )
            .unwrap();
        let template =
            override_template(&domain, OverrideKind::Desktop, &AnswerOptions::default()).unwrap();
        assert_eq!(template.warnings.len(), 1, "{:?}", template.warnings);
    }
}
