//! Who is calling the administration surface: an API token (`Authorization: Bearer`) or a
//! browser session (an HttpOnly, SameSite=Strict cookie, with a CSRF token on every change),
//! and what they may call. Access is declared by the extractor a handler takes ([`Public`],
//! [`AnyAdmin`], [`SystemAdmin`]): the route table reads the same declaration for the OpenAPI
//! document, so documentation and enforcement cannot differ.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use signpost_core::admin::{AdminRole, Administrator};
use signpost_operations::{Actor, Credential, Origin, SystemActor};
use signpost_server::connection::ClientConnection;

use super::AdminState;
use super::error::{ApiError, ApiResult};

pub const SESSION_COOKIE: &str = "signpost_admin";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (signing in).
    Public,
    /// Any administrator (domain administrators within their domains).
    Administrator,
    /// System administrators only.
    System,
}

impl Access {
    pub fn label(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Administrator => "administrator",
            Self::System => "system",
        }
    }
}

/// The access an extractor grants (and so the route whose handler takes it).
pub trait AccessLevel {
    const ACCESS: Access;
}

/// An authenticated administrator.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: AdminRole,
    /// The session's CSRF token; `None` for API tokens, which need none.
    pub csrf_token: Option<String>,
    /// The same, for the operations: who, by which credential, from where.
    pub actor: Actor,
}

/// Anyone at all: routes for signing in.
pub struct Public;

/// Any signed-in administrator.
pub struct AnyAdmin(pub Caller);

/// A signed-in system administrator.
pub struct SystemAdmin {
    pub actor: SystemActor,
}

impl AccessLevel for Public {
    const ACCESS: Access = Access::Public;
}

impl AccessLevel for AnyAdmin {
    const ACCESS: Access = Access::Administrator;
}

impl AccessLevel for SystemAdmin {
    const ACCESS: Access = Access::System;
}

impl<S: Send + Sync> FromRequestParts<S> for Public {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self)
    }
}

impl FromRequestParts<Arc<AdminState>> for AnyAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        admin: &Arc<AdminState>,
    ) -> Result<Self, ApiError> {
        caller(parts, admin).await.map(Self)
    }
}

impl FromRequestParts<Arc<AdminState>> for SystemAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        admin: &Arc<AdminState>,
    ) -> Result<Self, ApiError> {
        let caller = caller(parts, admin).await?;
        Ok(Self {
            actor: SystemActor::try_from(caller.actor)?,
        })
    }
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn is_secure(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<ClientConnection>()
        .is_some_and(|c| c.secure)
}

pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ClientConnection>()
        .map(|c| c.peer.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// The caller as one of the operations' actors.
pub fn actor_of(administrator: &Administrator, credential: Credential, parts: &Parts) -> Actor {
    Actor::administrator(administrator, credential, Origin::Client(client_ip(parts)))
}

/// The caller of a browser session, if its cookie names a live one.
pub async fn session_caller(admin: &AdminState, parts: &Parts) -> ApiResult<Option<Caller>> {
    let Some(id) = cookie_value(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((session, administrator)) = admin.ops.session(id).await? else {
        return Ok(None);
    };
    Ok(Some(Caller {
        actor: actor_of(&administrator, Credential::Session, parts),
        name: administrator.name,
        role: administrator.role,
        csrf_token: Some(session.csrf_token),
    }))
}

async fn caller(parts: &Parts, admin: &AdminState) -> ApiResult<Caller> {
    if let Some(token) = bearer_token(&parts.headers) {
        return match admin.ops.token_holder(token).await? {
            Some((token, administrator)) => Ok(Caller {
                actor: actor_of(
                    &administrator,
                    Credential::Token { name: token.name },
                    parts,
                ),
                name: administrator.name,
                role: administrator.role,
                csrf_token: None,
            }),
            None => Err(ApiError::unauthorized(
                "the API token is not valid (revoked, or never issued)",
            )),
        };
    }
    let Some(caller) = session_caller(admin, parts).await? else {
        return Err(ApiError::unauthorized(
            "sign in first: send a session cookie from POST /api/v1/session, or an API token as Authorization: Bearer",
        ));
    };
    let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let expected = caller.csrf_token.as_deref().unwrap_or_default();
        if !crate::csrf::matches(sent, expected) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "csrf_failed",
                "a change from a browser session needs the session's CSRF token in X-CSRF-Token",
            ));
        }
    }
    Ok(caller)
}

/// A new session for `administrator`, the cookie that carries it, and its CSRF token.
pub async fn start_session(
    admin: &AdminState,
    administrator: &Administrator,
    secure: bool,
) -> ApiResult<(String, HeaderValue)> {
    let lifetime = admin.settings.session_lifetime;
    let started = admin.ops.start_session(administrator, lifetime).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        started.id,
        lifetime.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|e| ApiError::internal("could not write the session cookie", e))?;
    Ok((started.session.csrf_token, cookie))
}

/// The cookie that removes the session cookie.
pub fn cleared_cookie(secure: bool) -> HeaderValue {
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
}

/// Ends the session the request's cookie names, if any.
pub async fn end_session(admin: &AdminState, headers: &HeaderMap) -> ApiResult<()> {
    if let Some(id) = cookie_value(headers, SESSION_COOKIE) {
        admin.ops.end_session(id).await?;
    }
    Ok(())
}

/// Checks a name and password (limited per client and per name).
pub async fn check_login(
    admin: &AdminState,
    name: &str,
    password: &str,
    client: IpAddr,
) -> ApiResult<Administrator> {
    Ok(admin
        .ops
        .sign_in(name, password, client, &admin.passwords())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_and_bearer_tokens() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; signpost_admin=abc; b=2"),
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok"),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&headers, "c"), None);
        assert_eq!(bearer_token(&headers), Some("tok"));
    }
}
