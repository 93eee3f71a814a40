//! `POST|GET /autodiscover/autodiscover.xml`: Outlook's desktop answer and the ActiveSync
//! (mobilesync) answer, with Outlook's 401 -> Basic flow.

use std::future::Future;
use std::net::IpAddr;
use std::task::Poll;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use signpost_core::answers;
use signpost_core::discovery::{self, Asker, Discovery};
use signpost_core::{AuthPolicy, Snapshot};
use signpost_protocol::pox::{self, ErrorCode, MAX_REQUEST_BYTES, PoxRequest, ResponseSchema};
use tracing::debug;

use crate::basic_auth::{self, Presented};
use crate::client_auth;
use crate::connection::ClientConnection;
use crate::metrics::{ClientKind, Outcome};
use crate::parsed_pox::ParsedPox;
use crate::responses;
use crate::state::{AnswerKind, AppState, SharedState};

pub async fn handle(state: SharedState, request: Request) -> Response {
    // Taken apart rather than through extractors, which would copy the headers.
    let (parts, body) = request.into_parts();
    let (uri, headers) = (&parts.uri, &parts.headers);
    let client_ip = parts
        .extensions
        .get::<ClientConnection>()
        .map(|c| c.peer.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let body = match read_in_time(body, headers, state.config.request_timeout).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        // Delta Chat, MyMail and Spike send a GET without a body.
        Arc::new(ParsedPox::new(PoxRequest {
            email_address: super::query_value(uri.query(), &["Email", "EmailAddress"]),
            ..PoxRequest::default()
        }))
    } else {
        match parse_remembered(&state, &body) {
            Ok(request) => request,
            Err(reason) => {
                debug!(%reason, "autodiscover request refused");
                return error(
                    ClientKind::Unknown,
                    ErrorCode::InvalidRequest,
                    "malformed request",
                );
            }
        }
    };
    let schema = match request.request.response_schema() {
        Ok(schema) => schema,
        Err(unsupported) => {
            debug!(schema = %unsupported.chars().take(120).collect::<String>(), "unsupported response schema");
            return error(
                ClientKind::Unknown,
                ErrorCode::ProviderUnavailable,
                "unsupported response schema",
            );
        }
    };
    let client = match schema {
        ResponseSchema::Outlook => ClientKind::Outlook,
        ResponseSchema::MobileSync => ClientKind::ActiveSync,
    };
    let snapshot = state.snapshot.load();
    let requested = match requested_address(&snapshot, &request) {
        Ok(address) => address,
        Err(reason) => {
            debug!(%reason, "autodiscover request refused");
            return error(client, ErrorCode::InvalidRequest, "invalid address");
        }
    };
    let presented = basic_auth::from_headers(headers);

    // Without an address only the authenticated user can be answered for.
    let (address, mut verified) = match (requested, &presented) {
        (Some(address), _) => (address, None),
        (None, Presented::Basic(credentials)) => {
            match client_auth::verify(&state, &snapshot, credentials, None, client_ip).await {
                Ok(user) => (user.address().to_string(), Some(user)),
                Err(refusal) => return observed(refusal, client, None),
            }
        }
        (None, _) => return error(client, ErrorCode::InvalidRequest, "no address"),
    };

    crate::request_scope::note_address(&address);
    let domain_name = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let Some(domain) = snapshot.domain(domain_name) else {
        return error(client, ErrorCode::AddressNotFound, "domain not hosted");
    };
    if domain.redirect_to.is_none() && domain.auth != AuthPolicy::Off && verified.is_none() {
        match &presented {
            Presented::Basic(credentials) => {
                match client_auth::verify(&state, &snapshot, credentials, Some(&address), client_ip)
                    .await
                {
                    Ok(user) => verified = Some(user),
                    Err(refusal) => return observed(refusal, client, None),
                }
            }
            Presented::Nothing if domain.auth == AuthPolicy::Optional => {}
            Presented::Nothing => {
                let challenge = responses::unauthorized(&state.config.realm);
                return observed(challenge, client, Some(Outcome::Challenged));
            }
            Presented::Unreadable => {
                return observed(responses::unauthorized(&state.config.realm), client, None);
            }
        }
    }
    if domain.auth == AuthPolicy::Off {
        verified = None;
    }
    let asker = match verified.as_ref().and_then(|v| v.user(&snapshot)) {
        Some(user) if user.address != address => {
            debug!(asked = %address, login = %user.address, "authenticated user asked for another address");
            let refusal = responses::text(
                StatusCode::FORBIDDEN,
                "These credentials do not own this address\n",
            );
            return observed(refusal, client, Some(Outcome::Unauthorized));
        }
        Some(user) => Asker::Authenticated(user),
        None => Asker::Anonymous,
    };

    // The same question with the same configuration gets the same answer: Outlook asks again
    // at every start and every hour.
    let asker_verified = match asker {
        Asker::Authenticated(_) => verified.as_ref(),
        Asker::Anonymous | Asker::Public => None,
    };
    let kind = match schema {
        ResponseSchema::Outlook => AnswerKind::Desktop,
        ResponseSchema::MobileSync => AnswerKind::MobileSync,
    };
    let options = &state.config.answers;
    let answered = state.answer_for(snapshot.version, kind, &address, asker_verified, || {
        let body = match (discovery::discover(&snapshot, &address, asker), schema) {
            (Discovery::NotHosted, _) => {
                return Err((ErrorCode::AddressNotFound, "domain not hosted"));
            }
            (Discovery::RedirectAddress(to), ResponseSchema::Outlook) => {
                pox::write_desktop_redirect_address(&to)
            }
            (Discovery::RedirectAddress(to), ResponseSchema::MobileSync) => {
                pox::write_mobilesync_redirect(&to)
            }
            (Discovery::Account(account), ResponseSchema::Outlook) => {
                answers::desktop_answer(&account, options)
            }
            (Discovery::Account(account), ResponseSchema::MobileSync) => {
                answers::mobile_answer(&account, options)
                    .ok_or((ErrorCode::ProviderUnavailable, "ActiveSync is off"))?
            }
        };
        Ok(Bytes::from(body))
    });
    match answered {
        Ok(body) => observed(responses::xml(body), client, None),
        Err((code, why)) => error(client, code, why),
    }
}

/// The request in `body`, parsed once for all the times the same bytes arrive.
fn parse_remembered(state: &AppState, body: &Bytes) -> Result<Arc<ParsedPox>, Arc<str>> {
    let hash = state.pox_requests.hash_of(&body[..]);
    if let Some(parsed) = state
        .pox_requests
        .get(hash, |stored| stored[..] == body[..])
    {
        return parsed;
    }
    let parsed = pox::parse_request(body)
        .map(|request| Arc::new(ParsedPox::new(request)))
        .map_err(|reason| Arc::from(reason.to_string()));
    // A copy: the body may be a slice of a much larger connection buffer.
    state.pox_requests.insert(
        hash,
        Bytes::copy_from_slice(body),
        parsed.clone(),
        body.len() * 2 + 64,
    );
    parsed
}

fn observed(response: Response, client: ClientKind, outcome: Option<Outcome>) -> Response {
    crate::request_scope::note(client, outcome);
    response
}

/// The address a request is about: its LegacyDN when that names someone (the spec says LegacyDN
/// wins), else its EMailAddress. `Ok(None)` when it names nobody at all.
fn requested_address(snapshot: &Snapshot, parsed: &ParsedPox) -> Result<Option<String>, String> {
    let request = &parsed.request;
    if let Some(address) = request
        .legacy_dn
        .as_deref()
        .and_then(|dn| snapshot.address_for_legacy_dn(dn))
    {
        return Ok(Some(address));
    }
    match &parsed.email {
        Some(normalised) => normalised.clone().map(Some),
        None if request.legacy_dn.is_some() => Err("unknown LegacyDN".into()),
        None => Ok(None),
    }
}

fn error(client: ClientKind, code: ErrorCode, why: &'static str) -> Response {
    let (response, id) = responses::pox_error(code);
    debug!(code = code.number(), id, why, "autodiscover error answer");
    observed(response, client, Some(Outcome::ErrorAnswer))
}

/// Reads the body, giving a client that sends it slowly `limit` in all (then 408). A body that
/// came with the headers, as nearly all do, is read without arming a timer.
async fn read_in_time(
    body: Body,
    headers: &HeaderMap,
    limit: std::time::Duration,
) -> Result<axum::body::Bytes, Response> {
    let mut reading = std::pin::pin!(read_limited(body, headers));
    let first = std::future::poll_fn(|cx| Poll::Ready(reading.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(read) => read,
        Poll::Pending => match tokio::time::timeout(limit, reading).await {
            Ok(read) => read,
            Err(_) => Err(responses::text(
                StatusCode::REQUEST_TIMEOUT,
                "The request took too long\n",
            )),
        },
    }
}

/// Past this, an oversized body is not even read to the end before the 413 is sent.
const MAX_DISCARDED_BYTES: usize = 1024 * 1024;

/// Reads at most [`MAX_REQUEST_BYTES`]. A larger body gets 413; up to a megabyte of it is read
/// and thrown away first, so the client is not reset while still sending and sees the 413.
async fn read_limited(body: Body, headers: &HeaderMap) -> Result<axum::body::Bytes, Response> {
    let too_large = || {
        let mut response = responses::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body larger than 64 KiB\n",
        );
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        response
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_DISCARDED_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = body;
    // A body in one piece (the usual case) is kept as it came; more pieces are joined.
    let mut first: Option<axum::body::Bytes> = None;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(responses::text(
                StatusCode::BAD_REQUEST,
                "The request body could not be read\n",
            ));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total <= MAX_REQUEST_BYTES {
            match first.take() {
                None if kept.is_empty() => first = Some(data),
                earlier => {
                    if let Some(earlier) = earlier {
                        kept.extend_from_slice(&earlier);
                    }
                    kept.extend_from_slice(&data);
                }
            }
        } else if total > MAX_DISCARDED_BYTES {
            return Err(too_large());
        }
    }
    if total > MAX_REQUEST_BYTES {
        return Err(too_large());
    }
    Ok(first.unwrap_or_else(|| kept.into()))
}
