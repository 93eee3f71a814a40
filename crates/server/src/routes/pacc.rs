//! PACC: `GET /.well-known/user-agent-configuration.json`, chosen by host name
//! (`ua-auto-config.<domain>`, where clients look, or the domain itself). The body's SHA-256 is
//! what the domain's `_ua-auto-config` TXT record must carry.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use signpost_core::answers::pacc;

use super::{domain_for_host, request_host};
use crate::responses;
use crate::state::AppState;

pub fn handle(state: &AppState, request: &Request) -> Response {
    let snapshot = state.snapshot.load();
    let found = request_host(request.headers(), request.uri())
        .and_then(|host| domain_for_host(&snapshot, &host, "ua-auto-config"));
    match found {
        Some((domain, asked)) if domain.redirect_to.is_none() => {
            let (body, _txt) = pacc::pacc_answer(domain, &asked);
            responses::json(StatusCode::OK, body)
        }
        _ => responses::json(
            StatusCode::NOT_FOUND,
            "{\"error\":\"no configuration for this host\"}".to_string(),
        ),
    }
}
