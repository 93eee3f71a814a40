//! Thunderbird's autoconfig: `GET /mail/config-v1.1.xml`,
//! `/.well-known/autoconfig/mail/config-v1.1.xml` and `/v1.1/mail/config-v1.1.xml`, on any host,
//! never authenticated, and the same answer whether or not the address exists.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use signpost_core::answers::autoconfig;
use signpost_core::{Domain, Snapshot, validate};
use tracing::{debug, warn};

use super::{domain_for_host, domain_of, query_value, request_host};
use crate::request_scope::CurrentRequest;
use crate::responses;
use crate::state::{AnswerKind, AppState};

pub fn handle(state: &AppState, request: &Request) -> Response {
    let snapshot = state.snapshot.load();
    let Some(domain) = find_domain(&snapshot, request.headers(), request.uri()) else {
        return not_found();
    };
    let answered = state.answer_once(
        snapshot.version,
        AnswerKind::Autoconfig,
        &domain.name,
        None,
        || autoconfig::autoconfig_answer(domain).map(Bytes::from),
    );
    match answered {
        Ok(body) => responses::xml(body),
        Err(why) => {
            warn!(id = %CurrentRequest, domain = %domain.name, %why, "no autoconfig answer for this domain");
            not_found()
        }
    }
}

/// The domain from `emailaddress`, else from the host name (`autoconfig.<domain>`, the domain,
/// or its mail hostname); a domain that redirects is followed when the target is hosted here.
fn find_domain<'s>(snapshot: &'s Snapshot, headers: &HeaderMap, uri: &Uri) -> Option<&'s Domain> {
    let asked = query_value(uri.query(), &["emailaddress"]);
    let mut domain = match asked
        .as_deref()
        .map(|a| validate::address("emailaddress", a))
    {
        Some(Ok(address)) => {
            crate::request_scope::note_address(&address);
            snapshot.domain(domain_of(&address))
        }
        Some(Err(e)) => {
            debug!(error = %e, "autoconfig request with an unusable address");
            None
        }
        None => request_host(headers, uri)
            .and_then(|host| domain_for_host(snapshot, &host, "autoconfig").map(|(d, _)| d)),
    }?;
    for _ in 0..5 {
        match &domain.redirect_to {
            Some(target) => domain = snapshot.domain(target)?,
            None => return Some(domain),
        }
    }
    None
}

fn not_found() -> Response {
    responses::text(StatusCode::NOT_FOUND, "No configuration for this domain\n")
}
