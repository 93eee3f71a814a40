//! The router, and the request rewriting that must happen before routing.

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use crate::responses;
use crate::routes::{autoconfig, autodiscover_json, autodiscover_xml, health, mobileconfig, pacc};
use crate::state::SharedState;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route(
            "/autodiscover/autodiscover.xml",
            get(autodiscover_xml::handle).post(autodiscover_xml::handle),
        )
        .route(
            "/autodiscover/autodiscover.json",
            get(autodiscover_json::by_query),
        )
        .route(
            "/autodiscover/autodiscover.json/{*rest}",
            get(autodiscover_json::by_path),
        )
        .route("/mail/config-v1.1.xml", get(autoconfig::handle))
        .route(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            get(autoconfig::handle),
        )
        .route("/v1.1/mail/config-v1.1.xml", get(autoconfig::handle))
        .route(
            "/.well-known/user-agent-configuration.json",
            get(pacc::handle),
        )
        .route("/mobileconfig", get(mobileconfig::profile))
        .route("/apple", get(mobileconfig::profile))
        .route("/mobileconfig/link", get(mobileconfig::link))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::front::front_door,
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    responses::text(StatusCode::NOT_FOUND, "Not found\n")
}

/// Discovery paths whose letter case clients do not agree on.
const CASE_INSENSITIVE_PREFIXES: &[&str] = &["/autodiscover/", "/mail/", "/.well-known/", "/v1.1/"];

/// Lowercases the path of discovery requests (`/AutoDiscover/AutoDiscover.xml` and friends)
/// so the router matches them; the query string is kept as sent.
pub fn normalise_path(mut request: Request) -> Request {
    let path = request.uri().path();
    let needs_lowering = path.bytes().any(|b| b.is_ascii_uppercase())
        && CASE_INSENSITIVE_PREFIXES.iter().any(|prefix| {
            path.len() >= prefix.len() && path[..prefix.len()].eq_ignore_ascii_case(prefix)
        });
    if needs_lowering {
        let lowered = match request.uri().query() {
            Some(query) => format!("{}?{query}", path.to_ascii_lowercase()),
            None => path.to_ascii_lowercase(),
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(path_and_query) = lowered.parse() {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
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
        let kept = normalise_path(
            Request::builder()
                .uri("/Other/Path")
                .body(axum::body::Body::empty())
                .unwrap(),
        );
        assert_eq!(kept.uri(), "/Other/Path");
    }
}
