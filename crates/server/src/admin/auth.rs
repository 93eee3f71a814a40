//! Who is calling the administration surface: an API token (`Authorization: Bearer`) or a
//! browser session (an HttpOnly, SameSite=Strict cookie, with a CSRF token on every change).

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use sha2::{Digest, Sha256};
use signpost_core::admin::{AdminRole, Administrator};
use signpost_store::AdminSession;
use tracing::{info, warn};

use super::AdminState;
use super::error::{ApiError, ApiResult};
use crate::listener::ClientConnection;

pub const SESSION_COOKIE: &str = "signpost_admin";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated administrator.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: AdminRole,
    /// The session's CSRF token; `None` for API tokens, which need none.
    pub csrf_token: Option<String>,
}

impl Caller {
    /// Refuses callers who may not manage `domain`.
    pub fn require_domain(&self, domain: &str) -> ApiResult<()> {
        if self.role.manages(domain) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} may not manage the domain {domain}",
                self.name
            )))
        }
    }

    /// Refuses callers who are not system administrators.
    pub fn require_system(&self) -> ApiResult<()> {
        if self.role.is_system() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} is a domain administrator; this needs a system administrator",
                self.name
            )))
        }
    }
}

/// A random secret, URL-safe: session ids, CSRF tokens, API tokens, the setup token.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How secrets are kept in the store: a stolen database does not give working tokens.
pub fn secret_hash(secret: &str) -> String {
    signpost_core::hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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

/// The session a request's cookie names, with its administrator, if it is still valid.
pub async fn session_of(
    admin: &AdminState,
    headers: &HeaderMap,
) -> ApiResult<Option<(AdminSession, Administrator)>> {
    let Some(id) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let now = crate::tls::resolver_now();
    let Some(session) = admin.store.session_by_hash(&secret_hash(id), now).await? else {
        return Ok(None);
    };
    let Some(administrator) = admin.store.administrator(&session.administrator).await? else {
        return Ok(None);
    };
    Ok(Some((session, administrator)))
}

impl FromRequestParts<Arc<AdminState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        admin: &Arc<AdminState>,
    ) -> Result<Self, ApiError> {
        if let Some(token) = bearer_token(&parts.headers) {
            let found = admin.store.api_token_by_hash(&secret_hash(token)).await?;
            let administrator = match found {
                Some(token) => admin.store.administrator(&token.administrator).await?,
                None => None,
            };
            return match administrator {
                Some(administrator) => Ok(Self {
                    name: administrator.name,
                    role: administrator.role,
                    csrf_token: None,
                }),
                None => Err(ApiError::unauthorized(
                    "the API token is not valid (revoked, or never issued)",
                )),
            };
        }
        let Some((session, administrator)) = session_of(admin, &parts.headers).await? else {
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
            if !same_secret(sent, &session.csrf_token) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "a change from a browser session needs the session's CSRF token in X-CSRF-Token",
                ));
            }
        }
        Ok(Self {
            name: administrator.name,
            role: administrator.role,
            csrf_token: Some(session.csrf_token),
        })
    }
}

/// A new session for `administrator`, and the cookie that carries it.
pub async fn start_session(
    admin: &AdminState,
    administrator: &Administrator,
    secure: bool,
) -> ApiResult<(AdminSession, HeaderValue)> {
    let id = random_secret();
    let now = crate::tls::resolver_now();
    let lifetime = admin.settings.session_lifetime.as_secs();
    let session = AdminSession {
        id_hash: secret_hash(&id),
        administrator: administrator.name.clone(),
        csrf_token: random_secret(),
        expires_at: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
    };
    admin.store.create_session(&session, now).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={lifetime}{}",
        if secure { "; Secure" } else { "" }
    );
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|e| ApiError::internal("could not write the session cookie", e))?;
    Ok((session, cookie))
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
        admin.store.delete_session(&secret_hash(id)).await?;
    }
    Ok(())
}

/// Checks a name and password, rate-limited per client and per name; unknown names cost the
/// same hash as wrong passwords.
pub async fn check_login(
    admin: &AdminState,
    name: &str,
    password: &str,
    client: IpAddr,
) -> ApiResult<Administrator> {
    let name = name.trim().to_ascii_lowercase();
    if let Some(wait) = admin.login_limiter.blocked_for(client, &name) {
        return Err(ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many failed sign-ins; try again in {} seconds",
                wait.as_secs().max(1)
            ),
        ));
    }
    let found = admin.store.administrator(&name).await?;
    let hash = found.as_ref().map(|a| a.password_hash.as_str());
    if admin.app.passwords.verify(hash, password).await
        && let Some(administrator) = found
    {
        info!(administrator = %administrator.name, %client, "administrator signed in");
        return Ok(administrator);
    }
    admin.login_limiter.record_failure(client, &name);
    warn!(%client, "administrator sign-in failed");
    Err(ApiError::unauthorized("wrong name or password"))
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
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert_ne!(random_secret(), random_secret());
        assert_eq!(secret_hash("x").len(), 64);
    }
}
