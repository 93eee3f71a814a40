//! The web interface: server-rendered pages shaped like the seed's (a domain's Options and
//! Autodiscover cards, the desktop and mobile overrides with Generate), plus a health dashboard,
//! users, DNS, tests, recent requests and changes.
//!
//! A change posts a form (with the session's CSRF token) and is answered by a redirect to the
//! page it was made on, focused on what was changed, with the outcome kept on the server for
//! that page: nothing travels in the URL, and reloading never repeats a change. A change that
//! fails is answered in place instead: the same page, with what was typed, and the reason next to
//! the field at fault.

mod dashboard;
mod domain;
mod domains;
mod form;
mod records;
mod session;
mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use signpost_operations::{OpError, SystemActor};

use super::AdminState;
use super::auth::{self, Caller};
use super::error::ApiError;
pub use form::{Fields, Form};

type Admin = State<Arc<AdminState>>;

pub fn router() -> Router<Arc<AdminState>> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/", get(dashboard::show))
        .route("/admin/health/check", post(dashboard::check_now))
        .route("/admin/static/app.css", get(stylesheet))
        .route("/admin/static/app.js", get(script))
        .route("/favicon.ico", get(favicon))
        .route(
            "/admin/login",
            get(session::login_page).post(session::login_submit),
        )
        .route("/admin/logout", post(session::logout))
        .route(
            "/admin/setup",
            get(session::setup_page).post(session::setup_submit),
        )
        .route("/admin/domains", get(domains::list).post(domains::create))
        .route("/admin/domains/{domain}", get(domain::show))
        .route(
            "/admin/domains/{domain}/options",
            post(domain::options_submit),
        )
        .route(
            "/admin/domains/{domain}/protocols/{protocol}",
            post(domain::protocol_submit),
        )
        .route(
            "/admin/domains/{domain}/overrides/{kind}",
            post(domain::override_submit),
        )
        .route("/admin/domains/{domain}/remove", post(domain::remove))
        .route(
            "/admin/domains/{domain}/users",
            get(users::list).post(users::create),
        )
        .route(
            "/admin/domains/{domain}/user-source",
            post(users::source_submit),
        )
        .route("/admin/users/{address}", post(users::change))
        .route("/admin/users/{address}/remove", post(users::remove))
        .route("/admin/domains/{domain}/dns", get(records::dns_page))
        .route(
            "/admin/domains/{domain}/dns/check",
            post(records::dns_check),
        )
        .route(
            "/admin/test",
            get(records::test_page).post(records::test_submit),
        )
        .route("/admin/requests", get(records::requests_page))
        .route("/admin/audit", get(records::audit_page))
        .route("/admin/{*rest}", get(not_found))
}

// ---- who is on the page ---------------------------------------------------------------------

/// A signed-in administrator on a page; without a session, the page sends them to sign in. The
/// outcome of their last change, kept for this page, comes with them.
pub struct Signed {
    pub caller: Caller,
    pub csrf: String,
    pub flash: Flash,
}

impl FromRequestParts<Arc<AdminState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        admin: &Arc<AdminState>,
    ) -> Result<Self, Response> {
        match auth::session_caller(admin, parts).await {
            Ok(Some(caller)) => {
                let csrf = caller.csrf_token.clone().unwrap_or_default();
                let flash = admin.flashes.take(&csrf, parts.uri.path());
                Ok(Self {
                    caller,
                    csrf,
                    flash,
                })
            }
            Ok(None) => Err(Redirect::to("/admin/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl Signed {
    /// The same administrator as a system administrator, if they are one.
    pub fn system(&self) -> Result<SystemActor, OpError> {
        SystemActor::try_from(self.caller.actor.clone())
    }

    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome {
            administrator: self.caller.name.clone(),
            csrf: crate::csrf::mask(&self.csrf),
            notice: self.flash.notice.clone(),
            error: self.flash.error.clone(),
            section,
        }
    }

    /// Refuses a form without this session's CSRF token.
    fn check(&self, fields: &Fields) -> Result<(), ApiError> {
        if crate::csrf::matches(fields.get("csrf").unwrap_or_default(), &self.csrf) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "the form's CSRF token is missing or stale; reload the page and try again",
            ))
        }
    }

    /// After a change: back to `path` (with `#anchor` to focus what was changed), saying how it
    /// went on that page.
    pub fn done(&self, admin: &AdminState, path: &str, notice: String) -> Response {
        let flash = Flash {
            notice: Some(notice),
            error: None,
        };
        admin.flashes.leave(&self.csrf, path, flash);
        Redirect::to(path).into_response()
    }

    /// After a change that could not be shown in place: back to `path` with the reason.
    pub fn failed(&self, admin: &AdminState, path: &str, error: impl Into<ApiError>) -> Response {
        let flash = Flash {
            notice: None,
            error: Some(error.into().message),
        };
        admin.flashes.leave(&self.csrf, path, flash);
        Redirect::to(path).into_response()
    }
}

/// A form posted by a signed-in administrator, with this session's CSRF token checked: a handler
/// that takes it cannot forget the check.
pub struct Posted {
    pub signed: Signed,
    pub fields: Fields,
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

// ---- messages kept for the next page ----------------------------------------------------------

/// What the last change said, for the page it returns to.
#[derive(Debug, Clone, Default)]
pub struct Flash {
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// Messages waiting for the page a session's change returned to (another page opened meanwhile,
/// in another tab, leaves them waiting); bounded: a full store starts over, losing at most one
/// message per session.
#[derive(Default)]
pub struct Flashes(Mutex<HashMap<String, (String, Flash)>>);

const MAX_FLASHES: usize = 10_000;

/// The path of a redirect target, without its query and anchor.
fn page_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

impl Flashes {
    /// Keeps `flash` for `session`'s next visit to `target`'s page.
    pub fn leave(&self, session: &str, target: &str, flash: Flash) {
        if let Ok(mut waiting) = self.0.lock() {
            if waiting.len() >= MAX_FLASHES {
                waiting.clear();
            }
            waiting.insert(session.to_string(), (page_of(target).to_string(), flash));
        }
    }

    /// The message waiting for `session` on `page`, if any (taken: a reload does not repeat it).
    fn take(&self, session: &str, page: &str) -> Flash {
        let Ok(mut waiting) = self.0.lock() else {
            return Flash::default();
        };
        if waiting.get(session).is_some_and(|(path, _)| path == page) {
            waiting
                .remove(session)
                .map(|(_, flash)| flash)
                .unwrap_or_default()
        } else {
            Flash::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_waits_for_its_page_and_shows_once() {
        let flashes = Flashes::default();
        let saved = Flash {
            notice: Some("saved".into()),
            error: None,
        };
        flashes.leave(
            "session",
            "/admin/domains/example.com/users?q=a&page=2#user-x",
            saved,
        );
        assert_eq!(
            flashes
                .take("other session", "/admin/domains/example.com/users")
                .notice,
            None
        );
        assert_eq!(
            flashes.take("session", "/admin/domains").notice,
            None,
            "another page"
        );
        assert_eq!(
            flashes
                .take("session", "/admin/domains/example.com/users")
                .notice
                .as_deref(),
            Some("saved")
        );
        assert_eq!(
            flashes
                .take("session", "/admin/domains/example.com/users")
                .notice,
            None
        );
    }
}

// ---- pages ----------------------------------------------------------------------------------

/// What every page shows around its content.
pub struct Chrome {
    pub administrator: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Which main section the page belongs to (for the navigation's current item).
    pub section: &'static str,
}

impl Chrome {
    pub fn anonymous(error: Option<String>) -> Self {
        Self {
            administrator: String::new(),
            csrf: String::new(),
            notice: None,
            error,
            section: "",
        }
    }
}

/// Renders a page with `status`.
pub fn page_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
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

pub fn page(template: &impl Template) -> Response {
    page_with(StatusCode::OK, template)
}

/// A page answered in place after a failed change: what was typed is kept, the reason is at the
/// field (422 says the form was understood but not accepted).
pub fn refused(template: &impl Template) -> Response {
    page_with(StatusCode::UNPROCESSABLE_ENTITY, template)
}

/// An address to try the domain's answers with: its first user's, else a made-up one.
pub async fn sample_address(admin: &AdminState, signed: &Signed, domain: &str) -> String {
    let first = signpost_operations::views::UserQuery {
        search: None,
        page: Some(1),
        per_page: Some(1),
    };
    admin
        .ops
        .users_page(&signed.caller.actor, domain, &first)
        .await
        .ok()
        .and_then(|page| page.users.into_iter().next())
        .map(|user| user.address)
        .unwrap_or_else(|| format!("user@{domain}"))
}

pub fn domain_path(name: &str) -> String {
    format!("/admin/domains/{}", encode(name))
}

pub fn encode(segment: &str) -> String {
    serde_urlencoded::to_string([("", segment)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin/not_found.html")]
struct NotFoundPage {
    chrome: Chrome,
}

async fn not_found(State(admin): Admin, parts: Parts) -> Response {
    let chrome = match auth::session_caller(&admin, &parts).await {
        Ok(Some(caller)) => Chrome {
            administrator: caller.name,
            csrf: crate::csrf::mask(&caller.csrf_token.unwrap_or_default()),
            notice: None,
            error: None,
            section: "",
        },
        _ => Chrome::anonymous(None),
    };
    page_with(StatusCode::NOT_FOUND, &NotFoundPage { chrome })
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../templates/admin/static/app.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../templates/admin/static/app.js"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_bytes!("../../templates/admin/static/favicon.ico").as_slice(),
    )
        .into_response()
}

/// A status for a chip: its class and its words.
pub fn status_chip(status: signpost_diagnostics::Status) -> (&'static str, &'static str) {
    match status {
        signpost_diagnostics::Status::Pass => ("pass", "PASS"),
        signpost_diagnostics::Status::Warn => ("warn", "WARN"),
        signpost_diagnostics::Status::Fail => ("fail", "FAIL"),
    }
}
