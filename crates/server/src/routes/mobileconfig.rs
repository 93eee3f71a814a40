//! Apple configuration profiles: `GET /mobileconfig?emailaddress=A` (also `/apple`) returns the
//! profile; without an address, a small form; `/mobileconfig/link?emailaddress=A` shows the
//! download link and a QR code of it, for a person at a desk with a phone in hand.
//!
//! Credentials are optional: with valid Basic credentials the profile is the user's own (their
//! name, login name and service access); without, it carries the domain's settings.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use signpost_core::answers::apple;
use signpost_core::discovery::{self, Asker, Discovery};
use signpost_core::{Snapshot, validate};
use signpost_protocol::html::escape;
use tracing::{debug, warn};

use super::{domain_of, query_value, request_host};
use crate::basic_auth::{self, Presented};
use crate::client_auth;
use crate::connection::ClientConnection;
use crate::request_scope::CurrentRequest;
use crate::responses;
use crate::state::{AnswerKind, SharedState};

const ADDRESS_PARAMETERS: &[&str] = &["emailaddress", "email"];

pub async fn profile(state: SharedState, request: Request) -> Response {
    let (uri, headers) = (request.uri(), request.headers());
    let Some(raw) = query_value(uri.query(), ADDRESS_PARAMETERS) else {
        return page(StatusCode::OK, &form(None, None));
    };
    let address = match validate::address("emailaddress", &raw) {
        Ok(address) => {
            crate::request_scope::note_address(&address);
            address
        }
        Err(e) => return page(StatusCode::BAD_REQUEST, &form(Some(&raw), Some(&e.message))),
    };
    let snapshot = state.snapshot.load();
    if snapshot.domain(domain_of(&address)).is_none() {
        return page(
            StatusCode::NOT_FOUND,
            &form(
                Some(&address),
                Some("This address's domain is not served here."),
            ),
        );
    }
    let verified = match basic_auth::from_headers(headers) {
        Presented::Nothing => None,
        Presented::Unreadable => return responses::unauthorized(&state.config.realm),
        Presented::Basic(credentials) => {
            let client = request
                .extensions()
                .get::<ClientConnection>()
                .map(|c| c.peer.ip())
                .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
            match client_auth::verify(&state, &snapshot, &credentials, Some(&address), client).await
            {
                Ok(user) if user.address() == address => Some(user),
                Ok(_) => {
                    return responses::text(
                        StatusCode::FORBIDDEN,
                        "These credentials do not own this address\n",
                    );
                }
                Err(refusal) => return refusal,
            }
        }
    };
    let user = verified.as_ref().and_then(|v| v.user(&snapshot));
    let asker = match user {
        Some(user) => Asker::Authenticated(user),
        None => Asker::Public,
    };
    let asker_verified = verified.as_ref().filter(|_| user.is_some());
    // Signing costs about a millisecond: the same profile is signed once per configuration.
    let answered = state.answer_for(
        snapshot.version,
        AnswerKind::Profile,
        &address,
        asker_verified,
        || {
            let Some((plist, domain_name)) = build(&snapshot, &address, asker) else {
                return Err(NothingToSetUp);
            };
            let signer = state.config.profile_signing.for_domain(&domain_name);
            let body = match signer {
                Some(signer) => match signer.sign(plist.as_bytes()) {
                    Ok(signed) => signed,
                    Err(e) => {
                        warn!(id = %CurrentRequest, domain = %domain_name, error = %e, "profile signing failed; sending it unsigned");
                        plist.into_bytes()
                    }
                },
                None => plist.into_bytes(),
            };
            debug!(%address, signed = signer.is_some(), "configuration profile");
            Ok(Bytes::from(body))
        },
    );
    let Ok(body) = answered else {
        return page(
            StatusCode::NOT_FOUND,
            &form(
                Some(&address),
                Some("There is nothing to set up for this address."),
            ),
        );
    };
    let mut response =
        responses::with_type(StatusCode::OK, "application/x-apple-aspen-config", body);
    // Named after the address's own domain (what the person asked about).
    let disposition = format!(
        "attachment; filename=\"{}.mobileconfig\"",
        domain_of(&address)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// No profile can be made for the address (every service it could carry is off).
struct NothingToSetUp;

/// The profile's property list and the domain it belongs to, following a domain redirect to a
/// domain hosted here.
fn build(snapshot: &Snapshot, address: &str, asker: Asker<'_>) -> Option<(String, String)> {
    let mut address = address.to_string();
    let mut asker = asker;
    for _ in 0..5 {
        match discovery::discover(snapshot, &address, asker) {
            Discovery::Account(account) => {
                let plist = apple::profile_answer(&account)?;
                return Some((plist, account.domain.name.clone()));
            }
            Discovery::RedirectAddress(to) => {
                address = to;
                asker = Asker::Public;
            }
            Discovery::NotHosted => return None,
        }
    }
    None
}

pub async fn link(
    State(state): State<SharedState>,
    connection: Option<Extension<ClientConnection>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(raw) = query_value(uri.query(), ADDRESS_PARAMETERS) else {
        return page(StatusCode::OK, &form(None, None));
    };
    let address = match validate::address("emailaddress", &raw) {
        Ok(address) => address,
        Err(e) => return page(StatusCode::BAD_REQUEST, &form(Some(&raw), Some(&e.message))),
    };
    if state.snapshot.load().domain(domain_of(&address)).is_none() {
        return page(
            StatusCode::NOT_FOUND,
            &form(
                Some(&address),
                Some("This address's domain is not served here."),
            ),
        );
    }
    let path = format!("/mobileconfig?emailaddress={}", encode_component(&address));
    let scheme = match connection {
        Some(Extension(c)) if c.secure => "https",
        _ => "http",
    };
    let absolute = match request_host(&headers, &uri).or_else(|| raw_host(&headers)) {
        Some(host) => format!("{scheme}://{host}{path}"),
        None => path.clone(),
    };
    let qr = qr_svg(&absolute).unwrap_or_default();
    let body = format!(
        "<h1>Set up {address} on iPhone, iPad or Mac</h1>\n\
         <p><a class=\"button\" href=\"{href}\">Download the profile</a></p>\n\
         <p>On the device itself, tap the button above. At a computer, point the phone's camera \
         at this code:</p>\n<figure>{qr}<figcaption>{shown}</figcaption></figure>\n\
         <p>Then open Settings, tap <em>Profile Downloaded</em> and <em>Install</em>. \
         Your password is asked for while installing; it is never part of the profile.</p>\n\
         <p><a href=\"/mobileconfig\">Another address</a></p>",
        address = escape(&address),
        href = escape(&path),
        shown = escape(&absolute),
    );
    page(StatusCode::OK, &body)
}

/// The Host header as sent, when it is an address rather than a name (a server reached by IP).
fn raw_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    host.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']' | '-'))
        .then(|| host.to_string())
}

fn encode_component(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An inline SVG QR code of `data`.
fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    // Inline SVG in HTML takes no XML declaration.
    svg.find("<svg").map(|start| svg[start..].to_string())
}

fn form(address: Option<&str>, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p class=\"problem\" role=\"alert\">{}</p>\n", escape(p)))
        .unwrap_or_default();
    format!(
        "<h1>Set up mail on iPhone, iPad or Mac</h1>\n{problem}\
         <form method=\"get\" action=\"/mobileconfig/link\">\n\
         <label for=\"emailaddress\">Email address</label>\n\
         <input id=\"emailaddress\" name=\"emailaddress\" type=\"email\" required \
         autocomplete=\"email\" autocapitalize=\"off\" value=\"{value}\">\n\
         <button type=\"submit\">Get the profile</button>\n</form>",
        value = escape(address.unwrap_or_default()),
    )
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Mail setup</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;margin:0;padding:1rem;max-width:36rem}}\n\
         label,input,button{{display:block;font-size:1.1rem;margin:.4rem 0}}\n\
         input{{width:100%;padding:.5rem;box-sizing:border-box}}\n\
         button,.button{{padding:.6rem 1rem;background:#0a5;color:#fff;border:0;border-radius:.3rem;text-decoration:none;display:inline-block}}\n\
         .problem{{color:#a00}} svg{{max-width:100%;height:auto}} figcaption{{word-break:break-all;font-size:.8rem}}\n\
         </style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    );
    let mut response = responses::with_type(status, "text/html; charset=utf-8", html);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'"),
    );
    response
}
