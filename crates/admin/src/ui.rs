//! The web interface: server-rendered pages shaped like the seed's (Domains; a domain's Options
//! and Autodiscover cards with a settings dialog per protocol; the desktop and mobile overrides
//! with Generate), plus users, DNS, tests and recent requests. Forms post back here with the
//! session's CSRF token and are answered with a redirect (so reloading never repeats a change).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use signpost_core::answers::preview::PreviewKind;
use signpost_core::{
    DomainChange, Encryption, OverrideKind, ProtocolChange, ProtocolKind, UserChange,
};
use signpost_diagnostics::probe::Client;

use signpost_core::validate::domain_of;
use signpost_operations::views::{
    NewDomain, NewUser, OverrideChange, PreviewRequest, ProbeRequest,
};
use signpost_operations::{OpError, SystemActor, random_secret, same_secret};
use signpost_server::recent::RecentFilter;

use super::AdminState;
use super::api;
use super::auth::{self, Caller};
use super::error::ApiError;

type Admin = State<Arc<AdminState>>;

const LOGIN_COOKIE: &str = "signpost_login";

pub fn router() -> Router<Arc<AdminState>> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/static/app.css", get(stylesheet))
        .route("/admin/static/app.js", get(script))
        .route("/admin/login", get(login_page).post(login_submit))
        .route("/admin/logout", post(logout))
        .route("/admin/setup", get(setup_page).post(setup_submit))
        .route("/admin/domains", get(domains_page).post(domain_create))
        .route("/admin/domains/{domain}", get(domain_page))
        .route("/admin/domains/{domain}/options", post(options_submit))
        .route(
            "/admin/domains/{domain}/protocols/{protocol}",
            post(protocol_submit),
        )
        .route(
            "/admin/domains/{domain}/overrides/{kind}",
            post(override_submit),
        )
        .route("/admin/domains/{domain}/remove", post(domain_remove))
        .route(
            "/admin/domains/{domain}/users",
            get(users_page).post(user_create),
        )
        .route(
            "/admin/domains/{domain}/user-source",
            post(user_source_submit),
        )
        .route("/admin/users/{address}", post(user_submit))
        .route("/admin/users/{address}/password", post(password_submit))
        .route("/admin/users/{address}/remove", post(user_remove))
        .route("/admin/domains/{domain}/dns", get(dns_page))
        .route("/admin/domains/{domain}/dns/check", post(dns_check))
        .route("/admin/test", get(test_page).post(test_submit))
        .route("/admin/requests", get(requests_page))
        .route("/admin/audit", get(audit_page))
        .route("/admin/{*rest}", get(not_found))
}

// ---- plumbing -------------------------------------------------------------------------------

/// A signed-in administrator on a page; without a session, the page redirects to sign-in.
struct Signed {
    caller: Caller,
    csrf: String,
}

impl FromRequestParts<Arc<AdminState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        admin: &Arc<AdminState>,
    ) -> Result<Self, Response> {
        match auth::session_caller(admin, parts).await {
            Ok(Some(caller)) => Ok(Self {
                csrf: caller.csrf_token.clone().unwrap_or_default(),
                caller,
            }),
            Ok(None) => Err(Redirect::to("/admin/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A form posted by a signed-in administrator, with this session's CSRF token checked: a handler
/// that takes it cannot forget the check.
struct Posted {
    signed: Signed,
    fields: Fields,
}

impl axum::extract::FromRequest<Arc<AdminState>> for Posted {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        admin: &Arc<AdminState>,
    ) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, admin).await?;
        let request = axum::extract::Request::from_parts(parts, body);
        let axum::Form(fields) = axum::Form::<Fields>::from_request(request, admin)
            .await
            .map_err(IntoResponse::into_response)?;
        signed.check(&fields).map_err(IntoResponse::into_response)?;
        Ok(Self { signed, fields })
    }
}

/// The posted fields of a form.
#[derive(Deserialize)]
#[serde(transparent)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "on" | "1"))
    }
}

impl Signed {
    /// The same administrator as a system administrator, if they are one.
    fn system(&self) -> Result<SystemActor, OpError> {
        SystemActor::try_from(self.caller.actor.clone())
    }

    /// Refuses a form without this session's CSRF token.
    fn check(&self, fields: &Fields) -> Result<(), ApiError> {
        if same_secret(fields.get("csrf").unwrap_or_default(), &self.csrf) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "the form's CSRF token is missing or stale; reload the page and try again",
            ))
        }
    }

    fn chrome(&self, messages: &Messages) -> Chrome {
        Chrome {
            administrator: self.caller.name.clone(),
            csrf: self.csrf.clone(),
            notice: messages.notice.clone(),
            error: messages.error.clone(),
        }
    }
}

/// What every page shows around its content.
struct Chrome {
    administrator: String,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
}

impl Chrome {
    fn anonymous(error: Option<String>) -> Self {
        Self {
            administrator: String::new(),
            csrf: String::new(),
            notice: None,
            error,
        }
    }
}

/// The outcome of the last change, carried through the redirect.
#[derive(Deserialize, Default)]
struct Messages {
    notice: Option<String>,
    error: Option<String>,
}

fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response(),
        Err(e) => ApiError::internal("a page could not be rendered", e).into_response(),
    }
}

/// Back to `path`, saying how the change went.
fn back(path: &str, outcome: Result<String, ApiError>) -> Response {
    let (key, message) = match outcome {
        Ok(notice) => ("notice", notice),
        Err(error) => ("error", error.message),
    };
    let query = serde_urlencoded::to_string([(key, message)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

fn domain_path(name: &str) -> String {
    format!("/admin/domains/{}", encode(name))
}

fn encode(segment: &str) -> String {
    serde_urlencoded::to_string([("", segment)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "No such page\n").into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../templates/admin/static/app.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../templates/admin/static/app.js"),
    )
        .into_response()
}

async fn home(State(admin): Admin) -> Response {
    if admin.setup_path().is_some() {
        // Nobody can sign in yet. The link itself is only printed at start: whoever reads this
        // page is not necessarily who started the server.
        return back(
            "/admin/login",
            Err(ApiError::forbidden(
                "there is no administrator yet: open the setup link Signpost printed when it started, or run signpost admin add",
            )),
        );
    }
    Redirect::to("/admin/domains").into_response()
}

// ---- signing in -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    chrome: Chrome,
    login_token: String,
}

async fn login_page(Query(messages): Query<Messages>, parts: Parts) -> Response {
    let token = random_secret();
    let mut chrome = Chrome::anonymous(messages.error);
    chrome.notice = messages.notice;
    let mut response = page(&LoginPage {
        chrome,
        login_token: token.clone(),
    });
    // Double-submit: a sign-in form posted from elsewhere has no matching cookie.
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if auth::is_secure(&parts) {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn login_submit(
    State(admin): Admin,
    parts: Parts,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let sent = fields.get("csrf").unwrap_or_default();
    if !auth::cookie_value(&parts.headers, LOGIN_COOKIE)
        .is_some_and(|cookie| same_secret(cookie, sent))
    {
        return back(
            "/admin/login",
            Err(ApiError::forbidden("the sign-in form expired; try again")),
        );
    }
    let client = auth::client_ip(&parts);
    let administrator = match auth::check_login(
        &admin,
        &fields.text("name"),
        &fields.text("password"),
        client,
    )
    .await
    {
        Ok(administrator) => administrator,
        Err(e) => return back("/admin/login", Err(e)),
    };
    match auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await {
        Ok((_, cookie)) => {
            let mut response = Redirect::to("/admin/domains").into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn logout(State(admin): Admin, parts: Parts, _checked: Posted) -> Response {
    if let Err(e) = auth::end_session(&admin, &parts.headers).await {
        return e.into_response();
    }
    let mut response = back("/admin/login", Ok("signed out".into()));
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::cleared_cookie(auth::is_secure(&parts)),
    );
    response
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
struct SetupPage {
    chrome: Chrome,
    token: String,
}

#[derive(Deserialize)]
struct SetupQuery {
    token: Option<String>,
}

async fn setup_page(State(admin): Admin, Query(query): Query<SetupQuery>) -> Response {
    if admin.setup_path().is_none() {
        return back(
            "/admin/login",
            Err(ApiError::forbidden(
                "an administrator exists already; sign in",
            )),
        );
    }
    page(&SetupPage {
        chrome: Chrome::anonymous(None),
        token: query.token.unwrap_or_default(),
    })
}

async fn setup_submit(
    State(admin): Admin,
    parts: Parts,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let setup = api::Setup {
        token: fields.text("token"),
        name: fields.text("name"),
        password: fields.text("password"),
    };
    let administrator =
        match api::create_first_administrator(&admin, &setup, auth::client_ip(&parts)).await {
            Ok(administrator) => administrator,
            Err(e) => {
                let path = format!("/admin/setup?token={}", encode(&setup.token));
                let query = serde_urlencoded::to_string([("error", e.message)]).unwrap_or_default();
                return Redirect::to(&format!("{path}&{query}")).into_response();
            }
        };
    match auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await {
        Ok((_, cookie)) => {
            let mut response = back(
                "/admin/domains",
                Ok(format!("welcome, {}", administrator.name)),
            );
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => e.into_response(),
    }
}

// ---- domains --------------------------------------------------------------------------------

struct DomainRow {
    name: String,
    hostname: String,
    protocols: String,
    users: u64,
}

#[derive(Template)]
#[template(path = "admin/domains.html")]
struct DomainsPage {
    chrome: Chrome,
    search: String,
    rows: Vec<DomainRow>,
    system: bool,
}

#[derive(Deserialize, Default)]
struct DomainsQuery {
    q: Option<String>,
    #[serde(flatten)]
    messages: Messages,
}

async fn domains_page(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<DomainsQuery>,
) -> Response {
    let search = query.q.unwrap_or_default();
    let summaries = match admin.ops.domains(&signed.caller.actor, Some(&search)).await {
        Ok(summaries) => summaries,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows = summaries
        .into_iter()
        .map(|s| DomainRow {
            protocols: ProtocolKind::ALL
                .iter()
                .filter(|k| s.domain.protocols.get(**k).enabled)
                .map(|k| k.label())
                .collect::<Vec<_>>()
                .join(", "),
            name: s.domain.name,
            hostname: s.domain.hostname,
            users: s.users,
        })
        .collect();
    page(&DomainsPage {
        chrome: signed.chrome(&query.messages),
        search,
        rows,
        system: signed.caller.role.is_system(),
    })
}

async fn domain_create(State(admin): Admin, Posted { signed, fields }: Posted) -> Response {
    let new = NewDomain {
        name: fields.text("name"),
        hostname: fields.text("hostname"),
        display_name: None,
        auth: None,
    };
    let added = match signed.system() {
        Ok(system) => admin.ops.add_domain(&system, &new).await,
        Err(e) => Err(e),
    };
    match added {
        Ok(domain) => back(
            &domain_path(&domain.name),
            Ok(format!(
                "added {}: IMAP 993 SSL, POP3 995 SSL, SMTP 587 STARTTLS on; EWS and ActiveSync off",
                domain.name
            )),
        ),
        Err(e) => back("/admin/domains", Err(e.into())),
    }
}

struct ProtocolRow {
    key: &'static str,
    label: &'static str,
    enabled: bool,
    host: String,
    host_setting: String,
    port: u16,
    encryption: &'static str,
    encryption_label: &'static str,
    fixed: bool,
}

struct OverrideCard {
    kind: &'static str,
    title: &'static str,
    clients: &'static str,
    enabled: bool,
    text: String,
    effect: String,
    warning: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/domain.html")]
struct DomainPage {
    chrome: Chrome,
    name: String,
    hostname: String,
    display_name: String,
    protocols: Vec<ProtocolRow>,
    encryptions: Vec<(&'static str, &'static str)>,
    overrides: Vec<OverrideCard>,
    system: bool,
}

fn encryption_label(encryption: Encryption) -> &'static str {
    match encryption {
        Encryption::Ssl => "SSL",
        Encryption::Starttls => "STARTTLS",
        Encryption::None => "None",
    }
}

async fn domain_page(
    State(admin): Admin,
    signed: Signed,
    Path(name): Path<String>,
    Query(messages): Query<Messages>,
) -> Response {
    let domain = match admin.ops.domain(&signed.caller.actor, &name).await {
        Ok(domain) => domain,
        Err(e) => return back("/admin/domains", Err(e.into())),
    };
    let protocols = ProtocolKind::ALL
        .iter()
        .map(|kind| {
            let setting = domain.protocols.get(*kind);
            let fixed = kind.is_https_only();
            ProtocolRow {
                key: kind.key(),
                label: kind.label(),
                enabled: setting.enabled,
                host: domain.host_of(&setting.primary).to_string(),
                host_setting: setting.primary.host.clone().unwrap_or_default(),
                port: if fixed { 443 } else { setting.primary.port },
                encryption: setting.primary.encryption.key(),
                encryption_label: if fixed {
                    "SSL (https)"
                } else {
                    encryption_label(setting.primary.encryption)
                },
                fixed,
            }
        })
        .collect();
    let overrides = [
        (
            OverrideKind::Desktop,
            "desktop",
            "Desktop",
            "Outlook client",
        ),
        (
            OverrideKind::Mobile,
            "mobile",
            "Mobile",
            "ActiveSync device",
        ),
    ]
    .into_iter()
    .map(|(kind, key, title, clients)| {
        let state = domain.override_for(kind);
        let view = signpost_operations::views::OverrideView::from(state);
        OverrideCard {
            kind: key,
            title,
            clients,
            enabled: state.enabled,
            text: state.text.clone().unwrap_or_default(),
            effect: view.effect,
            warning: view.warning,
        }
    })
    .collect();
    page(&DomainPage {
        chrome: signed.chrome(&messages),
        hostname: domain.hostname.clone(),
        display_name: domain.display_name.clone(),
        name: domain.name,
        protocols,
        encryptions: [Encryption::Ssl, Encryption::Starttls, Encryption::None]
            .into_iter()
            .map(|e| (e.key(), encryption_label(e)))
            .collect(),
        overrides,
        system: signed.caller.role.is_system(),
    })
}

async fn options_submit(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let change = DomainChange {
        hostname: fields.get("hostname").map(str::to_string),
        display_name: fields.get("display_name").map(str::to_string),
        ..DomainChange::default()
    };
    let outcome = admin
        .ops
        .change_domain(&signed.caller.actor, &name, &change)
        .await
        .map(|d| format!("saved the options of {}", d.name))
        .map_err(ApiError::from);
    back(&domain_path(&name), outcome)
}

async fn protocol_submit(
    State(admin): Admin,
    Path((name, protocol)): Path<(String, String)>,
    Posted { signed, fields }: Posted,
) -> Response {
    let outcome = match (protocol_change(&fields), api::protocol_kind(&protocol)) {
        (Ok(change), Ok(kind)) => admin
            .ops
            .change_protocol(&signed.caller.actor, &name, kind, &change)
            .await
            .map(|domain| format!("saved {} for {}", kind.label(), domain.name))
            .map_err(ApiError::from),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    back(&domain_path(&name), outcome)
}

/// The protocol change a toggle or a settings dialog posted.
fn protocol_change(fields: &Fields) -> Result<ProtocolChange, ApiError> {
    let mut change = ProtocolChange::default();
    if let Some(enabled) = fields.get("enabled") {
        change.enabled = Some(enabled == "true");
    }
    if let Some(host) = fields.get("host") {
        change.endpoint.host = Some(host.to_string());
    }
    if let Some(port) = fields.get("port").filter(|p| !p.trim().is_empty()) {
        change.endpoint.port = Some(port.trim().parse().map_err(|_| {
            ApiError::invalid("port", format!("'{port}' is not a port number (1-65535)"))
        })?);
    }
    if let Some(encryption) = fields.get("encryption") {
        change.endpoint.encryption = Some(
            Encryption::parse(encryption)
                .map_err(|e| ApiError::invalid("encryption", e.message))?,
        );
    }
    Ok(change)
}

async fn override_submit(
    State(admin): Admin,
    Path((name, kind)): Path<(String, String)>,
    Posted { signed, fields }: Posted,
) -> Response {
    let path = domain_path(&name);
    let kind = match api::override_kind(&kind) {
        Ok(kind) => kind,
        Err(e) => return back(&path, Err(e)),
    };
    // Browsers send text areas with CRLF line ends; clients get what the administrator typed.
    let text = fields.text("text").replace("\r\n", "\n");
    let change = OverrideChange {
        enabled: Some(fields.flag("enabled")),
        text: Some(if fields.flag("clear") {
            None
        } else {
            Some(text)
        }),
    };
    let outcome = admin
        .ops
        .change_override(&signed.caller.actor, &name, kind, &change)
        .await
        .map(|view| format!("saved: {}", view.effect))
        .map_err(ApiError::from);
    back(&path, outcome)
}

async fn domain_remove(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    if !fields.flag("confirm") {
        return back(
            &domain_path(&name),
            Err(ApiError::invalid("confirm", "tick the box to confirm")),
        );
    }
    let outcome = async {
        let removed = admin.ops.remove_domain(&signed.system()?, &name).await?;
        Ok::<_, OpError>(format!(
            "removed {} and its {} user(s)",
            removed.name, removed.users
        ))
    }
    .await
    .map_err(ApiError::from);
    match outcome {
        Ok(notice) => back("/admin/domains", Ok(notice)),
        Err(e) => back(&domain_path(&name), Err(e)),
    }
}

// ---- users ----------------------------------------------------------------------------------

struct UserCard {
    address: String,
    display_name: String,
    /// (key, label, allowed)
    services: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    name: String,
    users: Vec<UserCard>,
    /// `builtin`, `sql`, `ldap` or `imap`.
    source_kind: &'static str,
    /// The source in words ("LDAP at ldaps://...").
    source_label: String,
    /// The source's settings as JSON, secrets shown as `********` (empty for built-in users).
    source_json: String,
    /// Only system administrators change where users sign in.
    may_change_source: bool,
}

async fn users_page(
    State(admin): Admin,
    signed: Signed,
    Path(name): Path<String>,
    Query(messages): Query<Messages>,
) -> Response {
    let domain = match admin.ops.domain(&signed.caller.actor, &name).await {
        Ok(domain) => domain,
        Err(e) => return back("/admin/domains", Err(e.into())),
    };
    let users = match admin.ops.users(&signed.caller.actor, &domain.name).await {
        Ok(users) => users,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let users = users
        .into_iter()
        .map(|u| UserCard {
            services: ProtocolKind::ALL
                .iter()
                .map(|k| (k.key(), k.label(), u.access.allows(*k)))
                .collect(),
            address: u.address,
            display_name: u.display_name,
        })
        .collect();
    let source = match admin
        .ops
        .user_source(&signed.caller.actor, &domain.name)
        .await
    {
        Ok(source) => source,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let source_json = if source.is_builtin() {
        String::new()
    } else {
        serde_json::to_string_pretty(&source).unwrap_or_default()
    };
    page(&UsersPage {
        chrome: signed.chrome(&messages),
        may_change_source: signed.caller.role.is_system(),
        name: domain.name,
        users,
        source_kind: source.kind(),
        source_label: source.describe(),
        source_json,
    })
}

fn users_path(domain: &str) -> String {
    format!("{}/users", domain_path(domain))
}

/// The user-source form: empty text means built-in users, else the source as JSON.
async fn user_source_submit(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let text = fields.text("source");
    let parsed = if text.trim().is_empty() {
        Ok(signpost_core::UserSource::Builtin)
    } else {
        serde_json::from_str(&text).map_err(|e| {
            ApiError::invalid(
                "source",
                format!("not a user source ({e}); see the README's examples"),
            )
        })
    };
    let outcome = match parsed {
        Ok(source) => async {
            let system = signed.system()?;
            admin.ops.set_user_source(&system, &name, source).await
        }
        .await
        .map(|s| format!("users of {name} now sign in with: {}", s.kind()))
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    back(&users_path(&name), outcome)
}

async fn user_create(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let display_name = fields.text("display_name");
    let new = NewUser {
        address: fields.text("address"),
        password: fields.text("password"),
        change: UserChange {
            display_name: (!display_name.trim().is_empty()).then_some(display_name),
            ..UserChange::default()
        },
    };
    let outcome = admin
        .ops
        .add_user(&signed.caller.actor, &new)
        .await
        .map(|u| format!("added {}", u.address))
        .map_err(ApiError::from);
    back(&users_path(&name), outcome)
}

async fn user_submit(
    State(admin): Admin,
    Path(address): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let (allow, deny): (Vec<ProtocolKind>, Vec<ProtocolKind>) = ProtocolKind::ALL
        .iter()
        .partition(|k| fields.flag(&format!("allow_{}", k.key())));
    let change = UserChange {
        display_name: fields.get("display_name").map(str::to_string),
        allow,
        deny,
        ..UserChange::default()
    };
    let outcome = admin
        .ops
        .change_user(&signed.caller.actor, &address, &change)
        .await
        .map(|u| format!("saved {}", u.address))
        .map_err(ApiError::from);
    back(&users_path(domain_of(&address)), outcome)
}

async fn password_submit(
    State(admin): Admin,
    Path(address): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let outcome = admin
        .ops
        .set_password(&signed.caller.actor, &address, &fields.text("password"))
        .await
        .map(|()| format!("password set for {address}"))
        .map_err(ApiError::from);
    back(&users_path(domain_of(&address)), outcome)
}

async fn user_remove(
    State(admin): Admin,
    Path(address): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    let outcome = admin
        .ops
        .remove_user(&signed.caller.actor, &address)
        .await
        .map(|user| format!("removed {}", user.address))
        .map_err(ApiError::from);
    back(&users_path(domain_of(&address)), outcome)
}

// ---- DNS ------------------------------------------------------------------------------------

struct CheckRow {
    status: String,
    status_class: &'static str,
    check: String,
    detail: String,
    fix: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/dns.html")]
struct DnsPage {
    chrome: Chrome,
    name: String,
    records: Vec<signpost_core::dns_records::DnsRecord>,
    zone: String,
    no_address: bool,
    checks: Option<Vec<CheckRow>>,
}

async fn dns_view(
    admin: &AdminState,
    signed: &Signed,
    name: &str,
    messages: &Messages,
    checks: Option<Vec<CheckRow>>,
) -> Response {
    let records = match admin
        .ops
        .dns_records(&signed.caller.actor, name)
        .await
        .map_err(ApiError::from)
    {
        Ok(records) => records,
        Err(e) => return back("/admin/domains", Err(e)),
    };
    let zone = records
        .iter()
        .map(|r| r.zone_line())
        .collect::<Vec<_>>()
        .join("\n");
    page(&DnsPage {
        chrome: signed.chrome(messages),
        name: validate_name(name),
        zone,
        records,
        no_address: admin.settings.operations.dns.addresses.is_empty()
            && admin.settings.operations.dns.cname.is_none(),
        checks,
    })
}

fn validate_name(name: &str) -> String {
    signpost_core::validate::domain_name("domain", name).unwrap_or_default()
}

async fn dns_page(
    State(admin): Admin,
    signed: Signed,
    Path(name): Path<String>,
    Query(messages): Query<Messages>,
) -> Response {
    dns_view(&admin, &signed, &name, &messages, None).await
}

async fn dns_check(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    let results = match admin
        .ops
        .check(&signed.caller.actor, &name)
        .await
        .map_err(ApiError::from)
    {
        Ok(results) => results,
        Err(e) => return back(&format!("{}/dns", domain_path(&name)), Err(e)),
    };
    let rows = results
        .into_iter()
        .map(|r| CheckRow {
            status: r.status.to_string(),
            status_class: status_class(r.status),
            check: r.check,
            detail: r.detail,
            fix: r.fix,
        })
        .collect();
    dns_view(&admin, &signed, &name, &Messages::default(), Some(rows)).await
}

fn status_class(status: signpost_diagnostics::Status) -> &'static str {
    match status {
        signpost_diagnostics::Status::Pass => "pass",
        signpost_diagnostics::Status::Warn => "warn",
        signpost_diagnostics::Status::Fail => "fail",
    }
}

// ---- test -----------------------------------------------------------------------------------

struct AnswerCard {
    client: &'static str,
    body: Option<String>,
    problem: Option<String>,
}

struct ProbeView {
    /// (client, status class, status, request, outcome)
    attempts: Vec<(String, &'static str, String, String, String)>,
    found: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/test.html")]
struct TestPage {
    chrome: Chrome,
    address: String,
    probe: bool,
    answers: Vec<AnswerCard>,
    probe_report: Option<ProbeView>,
}

#[derive(Deserialize, Default)]
struct TestQuery {
    address: Option<String>,
    #[serde(flatten)]
    messages: Messages,
}

async fn test_page(signed: Signed, Query(query): Query<TestQuery>) -> Response {
    page(&TestPage {
        chrome: signed.chrome(&query.messages),
        address: query.address.unwrap_or_default(),
        probe: false,
        answers: Vec::new(),
        probe_report: None,
    })
}

async fn test_submit(State(admin): Admin, Posted { signed, fields }: Posted) -> Response {
    let address = fields.text("address");
    let mut answers = Vec::new();
    for (client, kind) in [
        ("Outlook (desktop XML)", PreviewKind::Desktop),
        ("ActiveSync (mobile XML)", PreviewKind::Mobile),
        ("Thunderbird (autoconfig)", PreviewKind::Autoconfig),
        (
            "iPhone, iPad and Mac (configuration profile)",
            PreviewKind::Mobileconfig,
        ),
        ("PACC (user-agent-configuration.json)", PreviewKind::Pacc),
    ] {
        let request = PreviewRequest {
            address: address.clone(),
            kind,
            with_override: Some(true),
        };
        let card = match admin
            .ops
            .preview(&signed.caller.actor, &request)
            .await
            .map_err(ApiError::from)
        {
            Ok(preview) => AnswerCard {
                client,
                body: Some(preview.body),
                problem: None,
            },
            Err(e) => AnswerCard {
                client,
                body: None,
                problem: Some(e.message),
            },
        };
        answers.push(card);
    }
    let probe = fields.flag("probe");
    let probe_report = if probe {
        let request = ProbeRequest {
            address: address.clone(),
            password: fields.get("password").map(str::to_string),
            clients: Some(Client::ALL.to_vec()),
            connect: false,
        };
        match admin
            .ops
            .probe(&signed.caller.actor, request)
            .await
            .map_err(ApiError::from)
        {
            Ok(report) => Some(ProbeView {
                attempts: report
                    .attempts
                    .iter()
                    .map(|a| {
                        (
                            format!("{:?}", a.client),
                            status_class(a.status),
                            a.status.to_string(),
                            a.request.clone(),
                            a.outcome.clone(),
                        )
                    })
                    .collect(),
                found: report
                    .found
                    .iter()
                    .map(|f| {
                        let settings: Vec<String> = f
                            .settings
                            .iter()
                            .map(|s| {
                                format!("{} {}:{} ({:?})", s.protocol, s.host, s.port, s.security)
                            })
                            .chain(f.urls.iter().cloned())
                            .collect();
                        format!(
                            "{:?} found at {}: {}",
                            f.client,
                            f.source,
                            settings.join(", ")
                        )
                    })
                    .collect(),
            }),
            Err(e) => {
                answers.push(AnswerCard {
                    client: "Live probe",
                    body: None,
                    problem: Some(e.message),
                });
                None
            }
        }
    } else {
        None
    };
    page(&TestPage {
        chrome: signed.chrome(&Messages::default()),
        address,
        probe,
        answers,
        probe_report,
    })
}

// ---- recent requests ------------------------------------------------------------------------

struct RequestRow {
    time: String,
    client_address: String,
    user_agent: String,
    endpoint: String,
    address: String,
    outcome: String,
    status: u16,
}

#[derive(Template)]
#[template(path = "admin/requests.html")]
struct RequestsPage {
    chrome: Chrome,
    /// (name, selected)
    domains: Vec<(String, bool)>,
    /// (label, selected)
    outcomes: Vec<(&'static str, bool)>,
    rows: Vec<RequestRow>,
}

#[derive(Deserialize, Default)]
struct RequestsQuery {
    domain: Option<String>,
    outcome: Option<String>,
}

async fn requests_page(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<RequestsQuery>,
) -> Response {
    let domain = query.domain.filter(|d| !d.is_empty());
    let outcome = query.outcome.filter(|o| !o.is_empty());
    let filter = RecentFilter {
        domain: domain.clone(),
        outcome: outcome.clone(),
        limit: Some(500),
    };
    let rows = match api::recent_for(&admin, &signed.caller, &filter).await {
        Ok(rows) => rows,
        Err(e) => return e.into_response(),
    };
    let rows = rows
        .into_iter()
        .map(|r| RequestRow {
            time: signpost_server::state::time_format(r.time),
            client_address: r.client_address,
            user_agent: r.user_agent,
            endpoint: r.endpoint,
            address: r.address.unwrap_or_default(),
            outcome: r.outcome,
            status: r.status,
        })
        .collect();
    let domains = match domain_choices(&admin, &signed, domain.as_deref()).await {
        Ok(domains) => domains,
        Err(e) => return e.into_response(),
    };
    page(&RequestsPage {
        chrome: signed.chrome(&Messages::default()),
        domains,
        outcomes: signpost_server::metrics::Outcome::ALL
            .iter()
            .map(|o| (o.label(), outcome.as_deref() == Some(o.label())))
            .collect(),
        rows,
    })
}

// ---- the audit log --------------------------------------------------------------------------

/// The domains a filter may choose from (those the administrator manages), `selected` marked.
async fn domain_choices(
    admin: &AdminState,
    signed: &Signed,
    selected: Option<&str>,
) -> Result<Vec<(String, bool)>, ApiError> {
    Ok(admin
        .ops
        .domains(&signed.caller.actor, None)
        .await?
        .into_iter()
        .map(|s| {
            let chosen = selected == Some(s.domain.name.as_str());
            (s.domain.name, chosen)
        })
        .collect())
}

struct AuditRow {
    time: String,
    actor: String,
    origin: String,
    operation: String,
    target: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    domains: Vec<(String, bool)>,
    rows: Vec<AuditRow>,
    filtered: bool,
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    domain: Option<String>,
}

async fn audit_page(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Response {
    let domain = query.domain.filter(|d| !d.is_empty());
    let filter = signpost_store::AuditFilter {
        domain: domain.clone(),
        limit: Some(500),
        ..Default::default()
    };
    let entries = match admin.ops.audit(&signed.caller.actor, &filter).await {
        Ok(entries) => entries,
        Err(e) => return back("/admin/audit", Err(e.into())),
    };
    let domains = match domain_choices(&admin, &signed, domain.as_deref()).await {
        Ok(domains) => domains,
        Err(e) => return e.into_response(),
    };
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            time: signpost_server::state::time_format(e.record.at),
            actor: e.record.actor,
            origin: e.record.origin,
            operation: e.record.operation,
            target: e.record.target,
            summary: e.record.summary,
        })
        .collect();
    page(&AuditPage {
        chrome: signed.chrome(&Messages::default()),
        domains,
        rows,
        filtered: domain.is_some(),
    })
}
