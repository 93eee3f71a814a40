//! The typed inputs and results of the operations, as every front end shows and takes them (the
//! API's JSON, the web interface's pages, the command line's tables and `--format json`).

use serde::{Deserialize, Serialize};
use signpost_core::admin::AdminRole;
use signpost_core::answers::preview::PreviewKind;
use signpost_core::{AuthPolicy, Domain, ServiceAccess, User, UserChange, XmlOverride, overrides};
use signpost_diagnostics::probe::Client;

/// A domain in a list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DomainSummary {
    #[serde(flatten)]
    pub domain: Domain,
    pub users: u64,
}

/// A domain to add.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    pub name: String,
    /// The name returned to clients (the seed's Hostname on the Options card).
    pub hostname: String,
    pub display_name: Option<String>,
    pub auth: Option<AuthPolicy>,
}

/// What removing a domain removed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RemovedDomain {
    pub name: String,
    pub users: u64,
}

/// An override's state, and what clients get because of it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OverrideView {
    #[serde(flatten)]
    pub state: XmlOverride,
    /// What clients are sent, in words (the seed's blank-text rule included).
    pub effect: String,
    /// Why the saved text would not parse as XML, if it would not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl From<&XmlOverride> for OverrideView {
    fn from(state: &XmlOverride) -> Self {
        let effect = match (state.enabled, &state.text) {
            (false, _) => "the override is off: the generated answer is sent".to_string(),
            (true, None) => "nothing was ever saved, so the generated answer is sent".to_string(),
            (true, Some(text)) if text.is_empty() => {
                "the saved text is EMPTY, so clients get an empty answer".to_string()
            }
            (true, Some(text)) => format!("the saved text ({} bytes) is sent", text.len()),
        };
        Self {
            warning: state.text.as_deref().and_then(overrides::xml_problem),
            state: state.clone(),
            effect,
        }
    }
}

/// A change to an override: `text: null` forgets the saved text (the generated answer is sent
/// again even when on); an empty string saves an empty answer.
#[derive(Debug, Clone, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideChange {
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub text: Option<Option<String>>,
}

/// Tells `"text": null` (clear) from a missing `text` (leave).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The generated answer with the variables in place of a user's values, to save as an override.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OverrideTemplateView {
    /// The answer, with `%EmailAddress%`, `%DisplayName%`, `%LegacyDN%` and
    /// `%Base64EmailAddress%` where a user's values go.
    pub text: String,
    /// What the variables cannot say.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub address: String,
    pub kind: PreviewKind,
    /// Apply the saved override, as clients get it (default true).
    pub with_override: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeRequest {
    pub address: String,
    /// To authenticate where clients would (never stored or logged).
    pub password: Option<String>,
    /// Which clients to play (default: all).
    pub clients: Option<Vec<Client>>,
    /// Also open every advertised IMAP, POP3 and SMTP endpoint.
    #[serde(default)]
    pub connect: bool,
}

/// A user as shown: everything but the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UserView {
    pub address: String,
    pub display_name: String,
    pub login_name: String,
    pub legacy_dn: String,
    pub access: ServiceAccess,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            address: user.address.clone(),
            display_name: user.display_name.clone(),
            login_name: user.login().to_string(),
            legacy_dn: user.legacy_dn(),
            access: user.access,
        }
    }
}

/// One page of a domain's users.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UserPage {
    pub users: Vec<UserView>,
    /// How many users match the search in all.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    pub pages: u64,
    pub per_page: u64,
}

/// Which page of users to show.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct UserQuery {
    /// Only users whose address or display name contains this (any case).
    pub search: Option<String>,
    /// The page, from 1 (default 1).
    pub page: Option<u64>,
    /// Users per page (default 50, at most 500).
    pub per_page: Option<u64>,
}

/// A user to add, with their password.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
// Said again for the schema: flattening would give it the description of `UserChange`.
#[schemars(
    description = "A user to add: their address and password, and optionally their display name, login name, LegacyDN and the services to deny or allow."
)]
pub struct NewUser {
    pub address: String,
    pub password: String,
    #[serde(flatten)]
    pub change: UserChange,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

/// Users read from a file of another mail server.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImportedUsers {
    pub domain: String,
    pub imported: usize,
    pub warnings: Vec<String>,
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImportSummary {
    pub domains: usize,
    pub users: usize,
    pub certificates: usize,
}

/// A stored certificate, without its key.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CertificateView {
    pub id: i64,
    pub source: signpost_core::certificate::CertificateSource,
    pub names: Vec<String>,
    pub issuer: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub days_left: i64,
    pub renew_requested: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AdministratorView {
    pub name: String,
    #[serde(flatten)]
    pub role: AdminRole,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdministrator {
    pub name: String,
    pub password: String,
    /// system or domain
    pub role: String,
    /// For role domain: the domains they manage.
    #[serde(default)]
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to tell the token apart (e.g. the script that uses it).
    pub name: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IssuedToken {
    pub administrator: String,
    pub name: String,
    /// Shown this once; only its hash is kept.
    pub token: String,
}
