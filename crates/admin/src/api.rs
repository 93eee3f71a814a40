//! The handlers of `/api/v1`: each reads the request, calls one operation, and writes its
//! result as JSON. Who may call each is the extractor it takes (see [`crate::auth`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signpost_core::admin::AdminRole;
use signpost_core::answers::preview::Preview;
use signpost_core::dns_records::DnsRecord;
use signpost_core::{
    Domain, DomainChange, OverrideKind, ProtocolChange, ProtocolKind, UserChange, UserSource,
    validate,
};
use signpost_diagnostics::check::CheckResult;
use signpost_diagnostics::probe::Report;
use signpost_operations::health::HealthReport;
use signpost_operations::ispdb::IspdbImport;
use signpost_operations::views::*;
use signpost_operations::{Actor, Origin};
use signpost_server::recent::{RecentFilter, RecentRequest};
use signpost_store::{ApiToken, AuditEntry, AuditFilter, Export};

use super::AdminState;
use super::auth::{self, AnyAdmin, Caller, Public, SystemAdmin};
use super::error::{ApiError, ApiJson, ApiResult};

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
    _: Public,
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
    let (csrf_token, cookie) =
        auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await?;
    let body = Whoami {
        name: administrator.name,
        role: administrator.role,
        csrf_token: Some(csrf_token),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn whoami(AnyAdmin(caller): AnyAdmin) -> Json<Whoami> {
    Json(Whoami {
        name: caller.name,
        role: caller.role,
        csrf_token: caller.csrf_token,
    })
}

pub async fn logout(
    _: AnyAdmin,
    State(admin): Admin,
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
    _: Public,
    State(admin): Admin,
    parts: axum::http::request::Parts,
    ApiJson(setup): ApiJson<Setup>,
) -> ApiResult<Response> {
    let administrator = create_first_administrator(&admin, &setup, auth::client_ip(&parts)).await?;
    let (csrf_token, cookie) =
        auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await?;
    let body = Whoami {
        name: administrator.name,
        role: administrator.role,
        csrf_token: Some(csrf_token),
    };
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(body),
    )
        .into_response())
}

/// The setup link's administrator; the name and password are checked before the link is spent,
/// so a typo does not burn it.
pub async fn create_first_administrator(
    admin: &AdminState,
    setup: &Setup,
    client: std::net::IpAddr,
) -> ApiResult<signpost_core::admin::Administrator> {
    signpost_core::admin::admin_name(&setup.name)?;
    validate::password(&setup.password)?;
    if !admin.take_setup_token(&setup.token) {
        return Err(ApiError::forbidden(
            "the setup link is used up or wrong; sign in, or add an administrator with `signpost admin add`",
        ));
    }
    let actor = Actor::setup(Origin::Client(client));
    Ok(admin
        .ops
        .add_first_administrator(&actor, &setup.name, &setup.password)
        .await?)
}

// ---- domains --------------------------------------------------------------------------------

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct DomainQuery {
    /// Only domains whose name, hostname or display name contains this.
    pub search: Option<String>,
}

pub async fn list_domains(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Query(query): Query<DomainQuery>,
) -> ApiResult<Json<Vec<DomainSummary>>> {
    Ok(Json(
        admin
            .ops
            .domains(&caller.actor, query.search.as_deref())
            .await?,
    ))
}

pub async fn create_domain(
    system: SystemAdmin,
    State(admin): Admin,
    ApiJson(new): ApiJson<NewDomain>,
) -> ApiResult<(StatusCode, Json<Domain>)> {
    Ok((
        StatusCode::CREATED,
        Json(admin.ops.add_domain(&system.actor, &new).await?),
    ))
}

pub async fn get_domain(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(admin.ops.domain(&caller.actor, &name).await?))
}

pub async fn patch_domain(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<DomainChange>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(
        admin
            .ops
            .change_domain(&caller.actor, &name, &change)
            .await?,
    ))
}

pub async fn delete_domain(
    system: SystemAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    admin.ops.remove_domain(&system.actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A domain's user source, its secrets shown as `********`.
pub async fn get_user_source(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<UserSource>> {
    Ok(Json(admin.ops.user_source(&caller.actor, &name).await?))
}

/// Sets where a domain's users are authenticated. A `********` sent back keeps the stored secret.
pub async fn put_user_source(
    system: SystemAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
    ApiJson(source): ApiJson<UserSource>,
) -> ApiResult<Json<UserSource>> {
    Ok(Json(
        admin
            .ops
            .set_user_source(&system.actor, &name, source)
            .await?,
    ))
}

pub fn protocol_kind(value: &str) -> ApiResult<ProtocolKind> {
    ProtocolKind::parse(value).map_err(|e| ApiError::invalid("protocol", e.message))
}

pub async fn patch_protocol(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path((name, protocol)): Path<(String, String)>,
    ApiJson(change): ApiJson<ProtocolChange>,
) -> ApiResult<Json<Domain>> {
    let kind = protocol_kind(&protocol)?;
    Ok(Json(
        admin
            .ops
            .change_protocol(&caller.actor, &name, kind, &change)
            .await?,
    ))
}

// ---- overrides ------------------------------------------------------------------------------

pub fn override_kind(value: &str) -> ApiResult<OverrideKind> {
    OverrideKind::parse(value).map_err(|e| ApiError::invalid("kind", e.message))
}

pub async fn get_override(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path((name, kind)): Path<(String, String)>,
) -> ApiResult<Json<OverrideView>> {
    let kind = override_kind(&kind)?;
    Ok(Json(
        admin.ops.override_state(&caller.actor, &name, kind).await?,
    ))
}

pub async fn put_override(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path((name, kind)): Path<(String, String)>,
    ApiJson(change): ApiJson<OverrideChange>,
) -> ApiResult<Json<OverrideView>> {
    let kind = override_kind(&kind)?;
    Ok(Json(
        admin
            .ops
            .change_override(&caller.actor, &name, kind, &change)
            .await?,
    ))
}

pub async fn generate_override(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path((name, kind)): Path<(String, String)>,
) -> ApiResult<Json<OverrideTemplateView>> {
    let kind = override_kind(&kind)?;
    Ok(Json(
        admin
            .ops
            .override_template(&caller.actor, &name, kind)
            .await?,
    ))
}

pub async fn create_preview(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(admin.ops.preview(&caller.actor, &request).await?))
}

// ---- DNS, checks, probes --------------------------------------------------------------------

pub async fn get_dns_records(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<DnsRecord>>> {
    Ok(Json(admin.ops.dns_records(&caller.actor, &name).await?))
}

pub async fn create_check(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<CheckResult>>> {
    Ok(Json(admin.ops.check(&caller.actor, &name).await?))
}

pub async fn create_probe(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    ApiJson(request): ApiJson<ProbeRequest>,
) -> ApiResult<Json<Report>> {
    Ok(Json(admin.ops.probe(&caller.actor, request).await?))
}

// ---- users ----------------------------------------------------------------------------------

pub async fn list_users(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
    Query(query): Query<UserQuery>,
) -> ApiResult<Json<UserPage>> {
    Ok(Json(
        admin.ops.users_page(&caller.actor, &name, &query).await?,
    ))
}

pub async fn create_user(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(admin.ops.add_user(&caller.actor, &new).await?),
    ))
}

pub async fn get_user(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(address): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(UserView::from(
        &admin.ops.user(&caller.actor, &address).await?,
    )))
}

pub async fn patch_user(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(address): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(
        admin
            .ops
            .change_user(&caller.actor, &address, &change)
            .await?,
    ))
}

pub async fn put_password(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(address): Path<String>,
    ApiJson(body): ApiJson<NewPassword>,
) -> ApiResult<StatusCode> {
    admin
        .ops
        .set_password(&caller.actor, &address, &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_user(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    admin.ops.remove_user(&caller.actor, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- imports, certificates, recent requests, audit ------------------------------------------

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct ReplaceQuery {
    /// Overwrite what exists.
    #[serde(default)]
    pub replace: bool,
}

/// `POST /api/v1/imports/ispdb`: the body is one autoconfig (ISPDB) XML file.
pub async fn import_ispdb(
    system: SystemAdmin,
    State(admin): Admin,
    Query(query): Query<ReplaceQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<IspdbImport>> {
    Ok(Json(
        admin
            .ops
            .import_ispdb(&system.actor, &body, query.replace)
            .await?,
    ))
}

/// `POST /api/v1/imports`: a `signpost export` document, all or nothing.
pub async fn import_export(
    system: SystemAdmin,
    State(admin): Admin,
    Query(query): Query<ReplaceQuery>,
    ApiJson(export): ApiJson<Export>,
) -> ApiResult<Json<ImportSummary>> {
    Ok(Json(
        admin
            .ops
            .import(&system.actor, &export, query.replace, None)
            .await?,
    ))
}

pub async fn list_certificates(
    system: SystemAdmin,
    State(admin): Admin,
) -> ApiResult<Json<Vec<CertificateView>>> {
    Ok(Json(admin.ops.certificates(&system.actor).await?))
}

/// The recent requests the caller may see: every instance's from a shared store, else this
/// instance's own.
pub async fn recent_for(
    admin: &AdminState,
    caller: &Caller,
    filter: &RecentFilter,
) -> ApiResult<Vec<RecentRequest>> {
    if let Some(domain) = &filter.domain {
        signpost_operations::access::domain(&caller.actor, domain)?;
    }
    if admin.store.is_shared() {
        let domains = match &caller.role {
            AdminRole::System => None,
            AdminRole::Domain(domains) => Some(domains.as_slice()),
        };
        return Ok(admin
            .store
            .recent_requests(filter, domains)
            .await
            .map_err(signpost_operations::OpError::from)?);
    }
    Ok(admin.app.recent.list(filter, |domain| match domain {
        Some(domain) => caller.role.manages(domain),
        None => caller.role.is_system(),
    }))
}

pub async fn list_requests(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Query(filter): Query<RecentFilter>,
) -> ApiResult<Json<Vec<RecentRequest>>> {
    Ok(Json(recent_for(&admin, &caller, &filter).await?))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct HealthQuery {
    /// Only this domain.
    pub domain: Option<String>,
}

/// The latest health checks (run now if there are none yet for what is asked).
pub async fn get_health(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Query(query): Query<HealthQuery>,
) -> ApiResult<Json<HealthReport>> {
    let latest = admin.health.latest(&caller.actor);
    let known = match &query.domain {
        Some(domain) => latest.domains.iter().any(|d| &d.domain == domain),
        None => latest.checked_at > 0,
    };
    if !known {
        return Ok(Json(
            crate::health::check_now(&admin, &caller.actor, query.domain.as_deref()).await?,
        ));
    }
    Ok(Json(HealthReport {
        domains: latest
            .domains
            .into_iter()
            .filter(|d| query.domain.as_ref().is_none_or(|only| &d.domain == only))
            .collect(),
        checked_at: latest.checked_at,
    }))
}

/// Runs the health checks now.
pub async fn create_health(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Query(query): Query<HealthQuery>,
) -> ApiResult<Json<HealthReport>> {
    Ok(Json(
        crate::health::check_now(&admin, &caller.actor, query.domain.as_deref()).await?,
    ))
}

pub async fn list_audit(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(admin.ops.audit(&caller.actor, &filter).await?))
}

// ---- administrators and tokens --------------------------------------------------------------

pub async fn list_administrators(
    system: SystemAdmin,
    State(admin): Admin,
) -> ApiResult<Json<Vec<AdministratorView>>> {
    Ok(Json(admin.ops.administrators(&system.actor).await?))
}

pub async fn create_administrator(
    system: SystemAdmin,
    State(admin): Admin,
    ApiJson(new): ApiJson<NewAdministrator>,
) -> ApiResult<(StatusCode, Json<AdministratorView>)> {
    Ok((
        StatusCode::CREATED,
        Json(admin.ops.add_administrator(&system.actor, &new).await?),
    ))
}

pub async fn delete_administrator(
    system: SystemAdmin,
    State(admin): Admin,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    admin.ops.remove_administrator(&system.actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_tokens(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(admin.ops.tokens(&caller.actor).await?))
}

pub async fn create_token(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path(administrator): Path<String>,
    ApiJson(new): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let issued = admin
        .ops
        .issue_token(&caller.actor, &administrator, &new.name)
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub async fn delete_token(
    AnyAdmin(caller): AnyAdmin,
    State(admin): Admin,
    Path((administrator, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    admin
        .ops
        .revoke_token(&caller.actor, &administrator, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
