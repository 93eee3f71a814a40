//! Autodiscover v2: `GET /autodiscover/autodiscover.json?Email=A&Protocol=P` and
//! `GET /autodiscover/autodiscover.json/v1.0/A?Protocol=P`. Outlook mobile asks from Microsoft's
//! cloud without credentials, so this never asks for any.

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use signpost_core::answers;
use signpost_core::discovery::{self, Asker, Discovery};
use signpost_core::validate;
use signpost_protocol::autodiscover_v2::{self, V2Protocol};

use crate::responses;
use crate::state::AppState;

/// How many domain-level redirects are followed inside this server before giving up.
const MAX_LOCAL_REDIRECTS: usize = 5;

/// `GET /autodiscover/autodiscover.json?Email=A&Protocol=P`
pub fn by_query(state: &AppState, uri: &Uri) -> Response {
    let email = super::query_value(uri.query(), &["Email"]);
    answer(state, email.as_deref(), uri.query())
}

/// `GET /autodiscover/autodiscover.json/v1.0/A?Protocol=P`; `rest` is the path after
/// `autodiscover.json/`, still percent-encoded.
pub fn by_path(state: &AppState, rest: &str, uri: &Uri) -> Response {
    let rest = super::percent_decode(rest).unwrap_or_default();
    let Some(email) = rest
        .split_once('/')
        .filter(|(version, _)| version.eq_ignore_ascii_case("v1.0"))
        .map(|(_, email)| email)
    else {
        return responses::json(
            StatusCode::NOT_FOUND,
            autodiscover_v2::write_error(
                "NotFound",
                "Use /autodiscover/autodiscover.json/v1.0/<address>",
            ),
        );
    };
    answer(state, Some(email), uri.query())
}

fn answer(state: &AppState, email: Option<&str>, query: Option<&str>) -> Response {
    let given = super::query_value(query, &["Protocol"]).unwrap_or_default();
    let Some(protocol) = V2Protocol::parse(&given) else {
        return responses::json(
            StatusCode::BAD_REQUEST,
            autodiscover_v2::write_invalid_protocol(&given),
        );
    };
    let address = match email.map(|e| validate::address("Email", e)) {
        Some(Ok(address)) => {
            crate::request_scope::note_address(&address);
            address
        }
        Some(Err(e)) => {
            return responses::json(
                StatusCode::BAD_REQUEST,
                autodiscover_v2::write_error("InvalidUser", &e.to_string()),
            );
        }
        None => {
            return responses::json(
                StatusCode::BAD_REQUEST,
                autodiscover_v2::write_error("InvalidUser", "The Email parameter is missing"),
            );
        }
    };
    let snapshot = state.snapshot.load();
    let mut address = address;
    for _ in 0..MAX_LOCAL_REDIRECTS {
        match discovery::discover(&snapshot, &address, Asker::Public) {
            Discovery::Account(account) => {
                return match answers::v2_url(&account, protocol) {
                    Some(url) => responses::json(
                        StatusCode::OK,
                        autodiscover_v2::write_answer(protocol, &url),
                    ),
                    None => responses::json(
                        StatusCode::NOT_FOUND,
                        autodiscover_v2::write_error(
                            "ProtocolNotAvailable",
                            &format!("{} is not offered for this address", protocol.answer_name()),
                        ),
                    ),
                };
            }
            Discovery::RedirectAddress(to) => {
                if snapshot
                    .domain(to.rsplit_once('@').map(|(_, d)| d).unwrap_or_default())
                    .is_none()
                {
                    // Hosted elsewhere: only the other domain's POX endpoint can be named.
                    let domain = to.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
                    return if protocol == V2Protocol::AutodiscoverV1 {
                        responses::json(
                            StatusCode::OK,
                            autodiscover_v2::write_answer(
                                protocol,
                                &format!(
                                    "https://autodiscover.{domain}/autodiscover/autodiscover.xml"
                                ),
                            ),
                        )
                    } else {
                        not_found()
                    };
                }
                address = to;
            }
            Discovery::NotHosted => return not_found(),
        }
    }
    not_found()
}

fn not_found() -> Response {
    responses::json(
        StatusCode::NOT_FOUND,
        autodiscover_v2::write_error("UserNotFound", "The address is not hosted here"),
    )
}
