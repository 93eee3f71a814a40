//! What happens before routing, by connection kind: on HTTPS, requests for names Signpost does
//! not serve get 421; on plain HTTP (once https is in use), requests by name go to https, except
//! what must stay on http: ACME HTTP-01 challenges, autoconfig (Thunderbird falls back to http),
//! and Outlook's redirect step on `autodiscover.<domain>`, which gets its 302.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::connection::ClientConnection;
use crate::responses;
use crate::routes::request_host;
use crate::state::SharedState;

const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";
/// Paths answered for any host on any connection.
const ALWAYS_SERVED: [&str; 2] = ["/healthz", "/readyz"];
/// Paths Thunderbird fetches over http when https fails.
const AUTOCONFIG_PATHS: [&str; 3] = [
    "/mail/config-v1.1.xml",
    "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/v1.1/mail/config-v1.1.xml",
];

/// The answer given before routing, if any.
pub fn decide(state: &SharedState, request: &Request) -> Option<Response> {
    let secure = request
        .extensions()
        .get::<ClientConnection>()
        .is_some_and(|c| c.secure);
    let path = request.uri().path();
    if ALWAYS_SERVED.contains(&path) {
        return None;
    }
    if let Some(token) = path.strip_prefix(ACME_CHALLENGE_PREFIX) {
        return Some(acme_challenge(state, token));
    }
    let redirects = state.config.http_redirects_to_https() && !AUTOCONFIG_PATHS.contains(&path);
    if !secure && !redirects {
        return None;
    }
    // Requests by IP address (or without Host) are answered as they are: loopback tests,
    // load-balancer checks.
    let host = request_host(request.headers(), request.uri())?;
    let snapshot = state.snapshot.load();
    if secure {
        return (!snapshot.serves(&host)).then(|| {
            responses::text(
                StatusCode::MISDIRECTED_REQUEST,
                "This server has no configuration for that host name\n",
            )
        });
    }
    let port = state.config.https_port_suffix();
    if path == "/autodiscover/autodiscover.xml"
        && matches!(*request.method(), Method::GET | Method::HEAD)
    {
        // Outlook's third step: an unauthenticated GET to http://autodiscover.<domain>/..., whose
        // 302 it follows to https (re-sending its POST there).
        if let Some(domain) = host
            .strip_prefix("autodiscover.")
            .and_then(|d| snapshot.domain(d))
        {
            let location = format!(
                "https://{}{port}/autodiscover/autodiscover.xml",
                domain.hostname
            );
            return Some(redirect(StatusCode::FOUND, &location));
        }
    }
    let mut location = format!("https://{host}{port}{path}");
    if let Some(query) = request.uri().query() {
        location.push('?');
        location.push_str(query);
    }
    // 301 for reads; 308 keeps the method and body of anything else.
    let status = if matches!(*request.method(), Method::GET | Method::HEAD) {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    Some(redirect(status, &location))
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = responses::text(status, "Moved\n");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn acme_challenge(state: &SharedState, token: &str) -> Response {
    let answer = [&state.acme_own_http_challenges, &state.acme_http_challenges]
        .into_iter()
        .find_map(|map| map.lock().ok().and_then(|m| m.get(token).cloned()));
    match answer {
        Some(key_authorization) => responses::with_type(
            StatusCode::OK,
            "application/octet-stream",
            key_authorization,
        ),
        None => responses::text(StatusCode::NOT_FOUND, "No such challenge\n"),
    }
}
