//! The router, and the request rewriting that must happen before routing.

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use crate::edge::Edge;
use crate::responses;
use crate::routes::{health, mobileconfig};
use crate::state::SharedState;

/// The whole application: every request goes through the [`Edge`].
pub type App = Edge;

/// The public application; `admin` (the administration surface) is served beside the discovery
/// endpoints when given.
pub fn router(state: SharedState, admin: Option<Router>) -> App {
    if let Some(target) = state.config.redirect_only.clone() {
        return redirect_only_router(state, target);
    }
    // The discovery endpoints are [`DiscoveryRoute`]s; the router serves the rest.
    let others = Router::new()
        .route("/mobileconfig/link", get(mobileconfig::link))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .with_state(state.clone());
    let others = match admin {
        Some(admin) => others.merge(admin),
        None => others,
    };
    Edge::new(state, others)
}

/// A listener that serves only the administration surface (and health checks).
pub fn admin_only_router(state: SharedState, admin: Router) -> App {
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .fallback(not_found)
        .with_state(state.clone())
        .merge(admin);
    Edge::router_only(state, routes)
}

/// The redirector a company website's host can run instead of a rewrite rule: autodiscover, in
/// any letter case, goes to the mail host (302 for GET, as Outlook expects from its http step;
/// 307 for POST, which keeps the body); nothing else is answered.
fn redirect_only_router(state: SharedState, target: String) -> App {
    let base = target.trim_end_matches('/').to_string();
    let redirect = move |method: axum::http::Method| {
        let location = format!("{base}/autodiscover/autodiscover.xml");
        async move {
            let status = if method == axum::http::Method::GET || method == axum::http::Method::HEAD
            {
                StatusCode::FOUND
            } else {
                StatusCode::TEMPORARY_REDIRECT
            };
            let mut response = responses::text(status, "Moved\n");
            if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
                response
                    .headers_mut()
                    .insert(axum::http::header::LOCATION, value);
            }
            response
        }
    };
    let routes = Router::new()
        .route(
            "/autodiscover/autodiscover.xml",
            axum::routing::any(redirect),
        )
        .route("/healthz", get(health::healthz))
        .fallback(not_found)
        .with_state(state.clone());
    Edge::router_only(state, routes)
}

async fn not_found() -> Response {
    responses::text(StatusCode::NOT_FOUND, "Not found\n")
}

/// Discovery paths whose letter case clients do not agree on: everything under `/autodiscover/`,
/// and these exactly. (Not every path: ACME tokens, for one, are case-sensitive.)
const CASE_INSENSITIVE_PREFIX: &str = "/autodiscover/";
const CASE_INSENSITIVE_PATHS: &[&str] = &[
    "/mail/config-v1.1.xml",
    "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/v1.1/mail/config-v1.1.xml",
    "/.well-known/user-agent-configuration.json",
];

/// Lowercases the path of discovery requests (`/AutoDiscover/AutoDiscover.xml` and friends)
/// so the router matches them; the query string is kept as sent.
pub fn normalise_path(mut request: Request) -> Request {
    let path = request.uri().path();
    if !path.bytes().any(|b| b.is_ascii_uppercase()) {
        return request;
    }
    let lowered = path.to_ascii_lowercase();
    if !lowered.starts_with(CASE_INSENSITIVE_PREFIX)
        && !CASE_INSENSITIVE_PATHS.contains(&lowered.as_str())
    {
        return request;
    }
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{lowered}?{query}"),
        None => lowered,
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = path_and_query.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_discovery_paths_only() {
        let lowered = normalise_path(
            Request::builder()
                .uri("/AutoDiscover/AutoDiscover.XML?Email=A%40B.c")
                .body(axum::body::Body::empty())
                .unwrap(),
        );
        assert_eq!(
            lowered.uri(),
            "/autodiscover/autodiscover.xml?Email=A%40B.c"
        );
        for kept in [
            "/Other/Path",
            "/.well-known/acme-challenge/AbC",
            "/MobileConfig",
        ] {
            let request = normalise_path(
                Request::builder()
                    .uri(kept)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            );
            assert_eq!(request.uri(), kept);
        }
        let pacc = normalise_path(
            Request::builder()
                .uri("/.well-known/User-Agent-Configuration.json")
                .body(axum::body::Body::empty())
                .unwrap(),
        );
        assert_eq!(pacc.uri(), "/.well-known/user-agent-configuration.json");
    }
}
