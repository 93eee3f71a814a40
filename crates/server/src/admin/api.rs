//! The handlers of `/api/v1`: everything the CLI can do, as JSON.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signpost_core::admin::{AdminRole, Administrator};
use signpost_core::answers::preview::{self, Preview, PreviewKind};
use signpost_core::dns_records::{self, DnsRecord};
use signpost_core::{
    AuthPolicy, Domain, DomainChange, OverrideKind, ProtocolChange, ProtocolKind, ServiceAccess,
    User, UserChange, XmlOverride, overrides, validate,
};
use signpost_diagnostics::check::CheckResult;
use signpost_diagnostics::probe::{Client, Probe, Report};
use signpost_store::{ApiToken, Export, IspdbImport};

use super::AdminState;
use super::auth::{self, Caller};
use super::error::{ApiError, ApiJson, ApiResult};
use crate::recent::{RecentFilter, RecentRequest};

type Admin = State<Arc<AdminState>>;

// ---- sessions -------------------------------------------------------------------------------

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub name: String,
    pub password: String,
}

/// The signed-in administrator.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Whoami {
    pub name: String,
    #[serde(flatten)]
    pub role: AdminRole,
    /// Send this in `X-CSRF-Token` with every change made with the session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

pub async fn login(
    State(admin): Admin,
    parts: axum::http::request::Parts,
    ApiJson(login): ApiJson<Login>,
) -> ApiResult<Response> {
    let administrator = auth::check_login(
        &admin,
        &login.name,
        &login.password,
        auth::client_ip(&parts),
    )
    .await?;
    let (session, cookie) =
        auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await?;
    let body = Whoami {
        name: administrator.name,
        role: administrator.role,
        csrf_token: Some(session.csrf_token),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn whoami(caller: Caller) -> Json<Whoami> {
    Json(Whoami {
        name: caller.name,
        role: caller.role,
        csrf_token: caller.csrf_token,
    })
}

pub async fn logout(
    State(admin): Admin,
    _caller: Caller,
    parts: axum::http::request::Parts,
) -> ApiResult<Response> {
    auth::end_session(&admin, &parts.headers).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            auth::cleared_cookie(auth::is_secure(&parts)),
        )],
    )
        .into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// The token of the setup link printed at start.
    pub token: String,
    pub name: String,
    pub password: String,
}

/// Creates the first (system) administrator with the one-time setup token.
pub async fn setup(
    State(admin): Admin,
    parts: axum::http::request::Parts,
    ApiJson(setup): ApiJson<Setup>,
) -> ApiResult<Response> {
    let administrator = create_first_administrator(&admin, &setup).await?;
    let (session, cookie) =
        auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await?;
    let body = Whoami {
        name: administrator.name,
        role: administrator.role,
        csrf_token: Some(session.csrf_token),
    };
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(body),
    )
        .into_response())
}

pub async fn create_first_administrator(
    admin: &AdminState,
    setup: &Setup,
) -> ApiResult<Administrator> {
    // Validate before the token is spent, so a typo does not burn the link.
    let candidate = Administrator::new(&setup.name, &setup.password, AdminRole::System)?;
    if !admin.store.administrators().await?.is_empty() || !admin.take_setup_token(&setup.token) {
        return Err(ApiError::forbidden(
            "the setup link is used up or wrong; sign in, or add an administrator with `signpost admin add`",
        ));
    }
    admin.store.create_administrator(&candidate).await?;
    tracing::info!(administrator = %candidate.name, "first administrator created with the setup link");
    Ok(candidate)
}

// ---- domains --------------------------------------------------------------------------------

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct DomainQuery {
    /// Only domains whose name, hostname or display name contains this.
    pub search: Option<String>,
}

/// A domain in a list.
#[derive(Serialize, schemars::JsonSchema)]
pub struct DomainSummary {
    #[serde(flatten)]
    pub domain: Domain,
    pub users: u64,
}

pub async fn domain_summaries(
    admin: &AdminState,
    caller: &Caller,
    search: Option<&str>,
) -> ApiResult<Vec<DomainSummary>> {
    let counts = admin.store.user_counts().await?;
    let needle = search.map(|s| s.trim().to_lowercase());
    Ok(admin
        .store
        .domains()
        .await?
        .into_iter()
        .filter(|d| caller.role.manages(&d.name))
        .filter(|d| {
            needle.as_deref().is_none_or(|n| {
                d.name.contains(n)
                    || d.hostname.contains(n)
                    || d.display_name.to_lowercase().contains(n)
            })
        })
        .map(|domain| DomainSummary {
            users: counts.get(&domain.name).copied().unwrap_or(0),
            domain,
        })
        .collect())
}

pub async fn list_domains(
    State(admin): Admin,
    caller: Caller,
    Query(query): Query<DomainQuery>,
) -> ApiResult<Json<Vec<DomainSummary>>> {
    Ok(Json(
        domain_summaries(&admin, &caller, query.search.as_deref()).await?,
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    pub name: String,
    /// The name returned to clients (the seed's Hostname on the Options card).
    pub hostname: String,
    pub display_name: Option<String>,
    pub auth: Option<AuthPolicy>,
}

pub async fn add_domain(admin: &AdminState, caller: &Caller, new: &NewDomain) -> ApiResult<Domain> {
    caller.require_system()?;
    let mut domain = Domain::new(&new.name, &new.hostname)?;
    domain.apply(&DomainChange {
        display_name: new.display_name.clone(),
        auth: new.auth,
        ..DomainChange::default()
    })?;
    admin.store.create_domain(&domain).await?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, "domain added");
    Ok(domain)
}

pub async fn create_domain(
    State(admin): Admin,
    caller: Caller,
    ApiJson(new): ApiJson<NewDomain>,
) -> ApiResult<(StatusCode, Json<Domain>)> {
    Ok((
        StatusCode::CREATED,
        Json(add_domain(&admin, &caller, &new).await?),
    ))
}

/// Loads a domain the caller manages, by the name as given.
pub async fn load_domain(admin: &AdminState, caller: &Caller, name: &str) -> ApiResult<Domain> {
    let name = validate::domain_name("domain", name)?;
    caller.require_domain(&name)?;
    admin
        .store
        .domain(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("domain '{name}' does not exist")))
}

pub async fn get_domain(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(load_domain(&admin, &caller, &name).await?))
}

pub async fn change_domain(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
    change: &DomainChange,
) -> ApiResult<Domain> {
    let mut domain = load_domain(admin, caller, name).await?;
    if *change == DomainChange::default() {
        return Err(ApiError::invalid("body", "nothing to change"));
    }
    domain.apply(change)?;
    admin.store.save_domain(&domain).await?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, "domain changed");
    Ok(domain)
}

pub async fn patch_domain(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<DomainChange>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(change_domain(&admin, &caller, &name, &change).await?))
}

pub async fn delete_domain(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_system()?;
    let domain = load_domain(&admin, &caller, &name).await?;
    admin.store.delete_domain(&domain.name).await?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, "domain removed");
    Ok(StatusCode::NO_CONTENT)
}

/// A domain's user source, its secrets shown as `********`.
pub async fn get_user_source(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<signpost_core::UserSource>> {
    let domain = load_domain(&admin, &caller, &name).await?;
    Ok(Json(
        admin.store.user_source(&domain.name).await?.redacted(),
    ))
}

/// Sets where a domain's users are authenticated. Only system administrators: a directory is a
/// connection Signpost opens to another server. A `********` sent back keeps the stored secret.
pub async fn put_user_source(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(source): ApiJson<signpost_core::UserSource>,
) -> ApiResult<Json<signpost_core::UserSource>> {
    Ok(Json(set_user_source(&admin, &caller, &name, source).await?))
}

/// Saves a domain's user source; the answer is the saved source, redacted.
pub async fn set_user_source(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
    source: signpost_core::UserSource,
) -> ApiResult<signpost_core::UserSource> {
    caller.require_system()?;
    let domain = load_domain(admin, caller, name).await?;
    let current = admin.store.user_source(&domain.name).await?;
    let source = source.keeping_secrets_of(&current)?;
    source.validate_for(&domain)?;
    admin.store.set_user_source(&domain.name, &source).await?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, source = source.kind(), "user source changed");
    Ok(source.redacted())
}

pub fn protocol_kind(value: &str) -> ApiResult<ProtocolKind> {
    ProtocolKind::parse(value).map_err(|e| ApiError::invalid("protocol", e.message))
}

pub async fn change_protocol(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
    protocol: &str,
    change: &ProtocolChange,
) -> ApiResult<Domain> {
    let kind = protocol_kind(protocol)?;
    let mut domain = load_domain(admin, caller, name).await?;
    if *change == ProtocolChange::default() {
        return Err(ApiError::invalid(
            "body",
            "nothing to change: give enabled, host, port, encryption, username or authentication",
        ));
    }
    domain.change_protocol(kind, change)?;
    admin.store.save_domain(&domain).await?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, protocol = kind.key(), "protocol changed");
    Ok(domain)
}

pub async fn patch_protocol(
    State(admin): Admin,
    caller: Caller,
    Path((name, protocol)): Path<(String, String)>,
    ApiJson(change): ApiJson<ProtocolChange>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(
        change_protocol(&admin, &caller, &name, &protocol, &change).await?,
    ))
}

// ---- overrides ------------------------------------------------------------------------------

/// An override's state, and what clients get because of it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct OverrideView {
    #[serde(flatten)]
    pub state: XmlOverride,
    /// What clients are sent, in words (the seed's blank-text rule included).
    pub effect: String,
    /// Why the saved text would not parse as XML, if it would not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

pub fn override_view(state: &XmlOverride) -> OverrideView {
    let effect = match (state.enabled, &state.text) {
        (false, _) => "the override is off: the generated answer is sent".to_string(),
        (true, None) => "nothing was ever saved, so the generated answer is sent".to_string(),
        (true, Some(text)) if text.is_empty() => {
            "the saved text is EMPTY, so clients get an empty answer".to_string()
        }
        (true, Some(text)) => format!("the saved text ({} bytes) is sent", text.len()),
    };
    OverrideView {
        warning: state.text.as_deref().and_then(overrides::xml_problem),
        state: state.clone(),
        effect,
    }
}

pub fn override_kind(value: &str) -> ApiResult<OverrideKind> {
    OverrideKind::parse(value).map_err(|e| ApiError::invalid("kind", e.message))
}

pub async fn get_override(
    State(admin): Admin,
    caller: Caller,
    Path((name, kind)): Path<(String, String)>,
) -> ApiResult<Json<OverrideView>> {
    let kind = override_kind(&kind)?;
    let domain = load_domain(&admin, &caller, &name).await?;
    Ok(Json(override_view(domain.override_for(kind))))
}

/// A change to an override: `text: null` forgets the saved text (the generated answer is sent
/// again even when on); an empty string saves an empty answer.
#[derive(Deserialize, Default, schemars::JsonSchema)]
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

pub async fn save_override(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
    kind: OverrideKind,
    change: &OverrideChange,
) -> ApiResult<OverrideView> {
    let mut domain = load_domain(admin, caller, name).await?;
    if change.enabled.is_none() && change.text.is_none() {
        return Err(ApiError::invalid(
            "body",
            "nothing to change: give enabled or text",
        ));
    }
    if let Some(Some(text)) = &change.text {
        overrides::check_size(text.len())?;
    }
    let state = domain.override_for_mut(kind);
    if let Some(enabled) = change.enabled {
        state.enabled = enabled;
    }
    if let Some(text) = &change.text {
        state.text = text.clone();
    }
    admin.store.save_domain(&domain).await?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, ?kind, "override changed");
    Ok(override_view(domain.override_for(kind)))
}

pub async fn put_override(
    State(admin): Admin,
    caller: Caller,
    Path((name, kind)): Path<(String, String)>,
    ApiJson(change): ApiJson<OverrideChange>,
) -> ApiResult<Json<OverrideView>> {
    let kind = override_kind(&kind)?;
    Ok(Json(
        save_override(&admin, &caller, &name, kind, &change).await?,
    ))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// The sample address (default: a user of the domain); `%EmailAddress%` and friends are
    /// what a saved override would use instead.
    pub address: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Generated {
    pub address: String,
    /// The generated answer, as the Generate button fills the text box with it.
    pub text: String,
}

/// The generated answer (never the override), for the Generate button.
pub async fn generate_text(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
    kind: OverrideKind,
    address: Option<&str>,
) -> ApiResult<Generated> {
    let domain = load_domain(admin, caller, name).await?;
    let address = match address.map(str::trim).filter(|a| !a.is_empty()) {
        Some(address) => address.to_string(),
        None => format!("user@{}", domain.name),
    };
    let snapshot = admin.store.load_snapshot().await?;
    let kind = match kind {
        OverrideKind::Desktop => PreviewKind::Desktop,
        OverrideKind::Mobile => PreviewKind::Mobile,
    };
    let shown = preview::preview(
        &snapshot,
        &domain,
        &address,
        kind,
        false,
        &admin.app.config.answers,
    )?;
    Ok(Generated {
        address,
        text: shown.body,
    })
}

pub async fn generate_override(
    State(admin): Admin,
    caller: Caller,
    Path((name, kind)): Path<(String, String)>,
    ApiJson(request): ApiJson<GenerateRequest>,
) -> ApiResult<Json<Generated>> {
    let kind = override_kind(&kind)?;
    Ok(Json(
        generate_text(&admin, &caller, &name, kind, request.address.as_deref()).await?,
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub address: String,
    pub kind: PreviewKind,
    /// Apply the saved override, as clients get it (default true).
    pub with_override: Option<bool>,
}

pub async fn preview_answer(
    admin: &AdminState,
    caller: &Caller,
    request: &PreviewRequest,
) -> ApiResult<Preview> {
    let address = validate::address("address", &request.address)?;
    let snapshot = admin.store.load_snapshot().await?;
    let domain_name = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let Some(domain) = snapshot.domain(domain_name) else {
        return Err(ApiError::not_found(format!(
            "{domain_name} is not a hosted domain"
        )));
    };
    caller.require_domain(&domain.name)?;
    let domain = domain.clone();
    Ok(preview::preview(
        &snapshot,
        &domain,
        &address,
        request.kind,
        request.with_override.unwrap_or(true),
        &admin.app.config.answers,
    )?)
}

pub async fn create_preview(
    State(admin): Admin,
    caller: Caller,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(preview_answer(&admin, &caller, &request).await?))
}

// ---- DNS, checks, probes --------------------------------------------------------------------

pub async fn dns_records_of(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
) -> ApiResult<Vec<DnsRecord>> {
    let domain = load_domain(admin, caller, name).await?;
    Ok(dns_records::records(&domain, &admin.settings.dns))
}

pub async fn get_dns_records(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<DnsRecord>>> {
    Ok(Json(dns_records_of(&admin, &caller, &name).await?))
}

fn fetcher(admin: &AdminState) -> ApiResult<signpost_diagnostics::http::Fetcher> {
    let settings = &admin.settings.diagnostics;
    let dns = signpost_diagnostics::dns::Dns::new(settings.resolver)
        .map_err(|e| ApiError::internal("cannot set up DNS lookups", e))?;
    let roots = signpost_diagnostics::tls::Roots::load(&settings.ca)
        .map_err(|e| ApiError::internal("cannot load the trusted CAs", e))?;
    Ok(signpost_diagnostics::http::Fetcher::new(
        Arc::new(dns),
        roots,
        settings.ports,
    ))
}

pub async fn run_check(
    admin: &AdminState,
    caller: &Caller,
    name: &str,
) -> ApiResult<Vec<CheckResult>> {
    let domain = load_domain(admin, caller, name).await?;
    let expected = dns_records::records(&domain, &admin.settings.dns);
    let fetcher = fetcher(admin)?;
    tracing::info!(administrator = %caller.name, domain = %domain.name, "running the live check");
    Ok(signpost_diagnostics::check::run(
        &domain,
        &expected,
        &admin.settings.dns.addresses,
        &fetcher,
    )
    .await)
}

pub async fn create_check(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<CheckResult>>> {
    Ok(Json(run_check(&admin, &caller, &name).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
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

pub async fn run_probe(
    admin: &AdminState,
    caller: &Caller,
    request: ProbeRequest,
) -> ApiResult<Report> {
    let address = validate::address("address", &request.address)?;
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    caller.require_domain(domain)?;
    let clients = request.clients.unwrap_or_else(|| Client::ALL.to_vec());
    let fetcher = fetcher(admin)?;
    let password = request.password.filter(|p| !p.is_empty());
    let mut probe = Probe::new(&fetcher, &address, password);
    probe.run(&clients, request.connect).await;
    Ok(probe.report)
}

pub async fn create_probe(
    State(admin): Admin,
    caller: Caller,
    ApiJson(request): ApiJson<ProbeRequest>,
) -> ApiResult<Json<Report>> {
    Ok(Json(run_probe(&admin, &caller, request).await?))
}

// ---- users ----------------------------------------------------------------------------------

/// A user as shown: everything but the password hash.
#[derive(Serialize, schemars::JsonSchema)]
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

pub async fn users_of(admin: &AdminState, caller: &Caller, name: &str) -> ApiResult<Vec<UserView>> {
    let domain = load_domain(admin, caller, name).await?;
    Ok(admin
        .store
        .users(Some(&domain.name))
        .await?
        .iter()
        .map(UserView::from)
        .collect())
}

pub async fn list_users(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(users_of(&admin, &caller, &name).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub address: String,
    pub password: String,
    #[serde(flatten)]
    pub change: UserChange,
}

pub async fn add_user(admin: &AdminState, caller: &Caller, new: &NewUser) -> ApiResult<UserView> {
    let address = validate::address("address", &new.address)?;
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    load_domain(admin, caller, domain).await?;
    let user = User::new(&address, &new.password, &new.change)?;
    admin.store.create_user(&user).await?;
    tracing::info!(administrator = %caller.name, user = %user.address, "user added");
    Ok(UserView::from(&user))
}

pub async fn create_user(
    State(admin): Admin,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(add_user(&admin, &caller, &new).await?),
    ))
}

pub async fn load_user(admin: &AdminState, caller: &Caller, address: &str) -> ApiResult<User> {
    let address = validate::address("address", address)?;
    let user = admin
        .store
        .user(&address)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user '{address}' does not exist")))?;
    caller.require_domain(user.domain())?;
    Ok(user)
}

pub async fn get_user(
    State(admin): Admin,
    caller: Caller,
    Path(address): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(UserView::from(
        &load_user(&admin, &caller, &address).await?,
    )))
}

pub async fn change_user(
    admin: &AdminState,
    caller: &Caller,
    address: &str,
    change: &UserChange,
) -> ApiResult<UserView> {
    let mut user = load_user(admin, caller, address).await?;
    if *change == UserChange::default() {
        return Err(ApiError::invalid("body", "nothing to change"));
    }
    user.apply(change)?;
    admin.store.save_user(&user).await?;
    tracing::info!(administrator = %caller.name, user = %user.address, "user changed");
    Ok(UserView::from(&user))
}

pub async fn patch_user(
    State(admin): Admin,
    caller: Caller,
    Path(address): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(change_user(&admin, &caller, &address, &change).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

pub async fn set_password(
    admin: &AdminState,
    caller: &Caller,
    address: &str,
    password: &str,
) -> ApiResult<()> {
    let mut user = load_user(admin, caller, address).await?;
    user.set_password(password)?;
    admin.store.save_user(&user).await?;
    tracing::info!(administrator = %caller.name, user = %user.address, "password changed");
    Ok(())
}

pub async fn put_password(
    State(admin): Admin,
    caller: Caller,
    Path(address): Path<String>,
    ApiJson(body): ApiJson<NewPassword>,
) -> ApiResult<StatusCode> {
    set_password(&admin, &caller, &address, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_user(
    State(admin): Admin,
    caller: Caller,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    let user = load_user(&admin, &caller, &address).await?;
    admin.store.delete_user(&user.address).await?;
    tracing::info!(administrator = %caller.name, user = %user.address, "user removed");
    Ok(StatusCode::NO_CONTENT)
}

// ---- imports, certificates, recent requests -------------------------------------------------

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct ReplaceQuery {
    /// Overwrite what exists.
    #[serde(default)]
    pub replace: bool,
}

/// `POST /api/v1/imports/ispdb`: the body is one autoconfig (ISPDB) XML file.
pub async fn import_ispdb(
    State(admin): Admin,
    caller: Caller,
    Query(query): Query<ReplaceQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<IspdbImport>> {
    caller.require_system()?;
    let imported = signpost_store::import_ispdb(admin.store.as_ref(), &body, query.replace).await?;
    tracing::info!(administrator = %caller.name, domain = %imported.domain, status = imported.status, "ISPDB file imported");
    Ok(Json(imported))
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ImportSummary {
    pub domains: usize,
    pub users: usize,
    pub certificates: usize,
}

/// `POST /api/v1/imports`: a `signpost export` document, all or nothing.
pub async fn import_export(
    State(admin): Admin,
    caller: Caller,
    Query(query): Query<ReplaceQuery>,
    ApiJson(export): ApiJson<Export>,
) -> ApiResult<Json<ImportSummary>> {
    caller.require_system()?;
    admin.store.import(&export, query.replace).await?;
    tracing::info!(administrator = %caller.name, domains = export.domains.len(), "export imported");
    Ok(Json(ImportSummary {
        domains: export.domains.len(),
        users: export.users.len(),
        certificates: export.certificates.len(),
    }))
}

/// A stored certificate, without its key.
#[derive(Serialize, schemars::JsonSchema)]
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

pub async fn certificate_views(admin: &AdminState) -> ApiResult<Vec<CertificateView>> {
    let now = crate::tls::resolver_now();
    Ok(admin
        .store
        .certificates()
        .await?
        .into_iter()
        .map(|c| CertificateView {
            id: c.id,
            source: c.source,
            days_left: (c.info.not_after - now).div_euclid(86_400),
            names: c.info.names,
            issuer: c.info.issuer,
            not_before: c.info.not_before,
            not_after: c.info.not_after,
            renew_requested: c.renew_requested,
        })
        .collect())
}

pub async fn list_certificates(
    State(admin): Admin,
    caller: Caller,
) -> ApiResult<Json<Vec<CertificateView>>> {
    caller.require_system()?;
    Ok(Json(certificate_views(&admin).await?))
}

/// The recent requests the caller may see: every instance's from a shared store, else this
/// instance's own.
pub async fn recent_for(
    admin: &AdminState,
    caller: &Caller,
    filter: &RecentFilter,
) -> ApiResult<Vec<RecentRequest>> {
    if admin.store.is_shared() {
        let domains = match &caller.role {
            AdminRole::System => None,
            AdminRole::Domain(domains) => Some(domains.as_slice()),
        };
        return Ok(admin.store.recent_requests(filter, domains).await?);
    }
    Ok(admin.app.recent.list(filter, |domain| match domain {
        Some(domain) => caller.role.manages(domain),
        None => caller.role.is_system(),
    }))
}

pub async fn list_requests(
    State(admin): Admin,
    caller: Caller,
    Query(filter): Query<RecentFilter>,
) -> ApiResult<Json<Vec<RecentRequest>>> {
    if let Some(domain) = &filter.domain {
        caller.require_domain(&validate::domain_name("domain", domain)?)?;
    }
    Ok(Json(recent_for(&admin, &caller, &filter).await?))
}

// ---- administrators and tokens --------------------------------------------------------------

#[derive(Serialize, schemars::JsonSchema)]
pub struct AdministratorView {
    pub name: String,
    #[serde(flatten)]
    pub role: AdminRole,
}

pub async fn list_administrators(
    State(admin): Admin,
    caller: Caller,
) -> ApiResult<Json<Vec<AdministratorView>>> {
    caller.require_system()?;
    Ok(Json(
        admin
            .store
            .administrators()
            .await?
            .into_iter()
            .map(|a| AdministratorView {
                name: a.name,
                role: a.role,
            })
            .collect(),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
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

pub async fn create_administrator(
    State(admin): Admin,
    caller: Caller,
    ApiJson(new): ApiJson<NewAdministrator>,
) -> ApiResult<(StatusCode, Json<AdministratorView>)> {
    caller.require_system()?;
    let role = AdminRole::parse(&new.role, &new.domains)?;
    let administrator = Administrator::new(&new.name, &new.password, role)?;
    admin.store.create_administrator(&administrator).await?;
    tracing::info!(by = %caller.name, administrator = %administrator.name, "administrator added");
    Ok((
        StatusCode::CREATED,
        Json(AdministratorView {
            name: administrator.name,
            role: administrator.role,
        }),
    ))
}

pub async fn delete_administrator(
    State(admin): Admin,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_system()?;
    let name = signpost_core::admin::admin_name(&name)?;
    if name == caller.name {
        return Err(ApiError::invalid(
            "name",
            "you cannot remove yourself; another system administrator can",
        ));
    }
    admin.store.delete_administrator(&name).await?;
    tracing::info!(by = %caller.name, administrator = %name, "administrator removed");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_tokens(State(admin): Admin, caller: Caller) -> ApiResult<Json<Vec<ApiToken>>> {
    let whose = (!caller.role.is_system()).then_some(caller.name.as_str());
    Ok(Json(admin.store.api_tokens(whose).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to tell the token apart (e.g. the script that uses it).
    pub name: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct IssuedToken {
    pub administrator: String,
    pub name: String,
    /// Shown this once; only its hash is kept.
    pub token: String,
}

/// Issues a token: stores its hash and returns the token, once.
pub async fn issue_token(
    store: &dyn signpost_store::Store,
    administrator: &str,
    name: &str,
) -> ApiResult<IssuedToken> {
    let name = signpost_core::admin::token_name(name)?;
    let token = format!("sp_{}", auth::random_secret());
    store
        .create_api_token(&ApiToken {
            administrator: administrator.to_string(),
            name: name.clone(),
            token_hash: auth::secret_hash(&token),
            created_at: crate::tls::resolver_now(),
        })
        .await?;
    Ok(IssuedToken {
        administrator: administrator.to_string(),
        name,
        token,
    })
}

fn require_self_or_system(caller: &Caller, administrator: &str) -> ApiResult<String> {
    let administrator = signpost_core::admin::admin_name(administrator)?;
    if administrator != caller.name {
        caller.require_system()?;
    }
    Ok(administrator)
}

pub async fn create_token(
    State(admin): Admin,
    caller: Caller,
    Path(administrator): Path<String>,
    ApiJson(new): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let administrator = require_self_or_system(&caller, &administrator)?;
    let issued = issue_token(admin.store.as_ref(), &administrator, &new.name).await?;
    tracing::info!(by = %caller.name, %administrator, token = %issued.name, "API token issued");
    Ok((StatusCode::CREATED, Json(issued)))
}

pub async fn delete_token(
    State(admin): Admin,
    caller: Caller,
    Path((administrator, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let administrator = require_self_or_system(&caller, &administrator)?;
    admin.store.delete_api_token(&administrator, &name).await?;
    tracing::info!(by = %caller.name, %administrator, token = %name, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
