//! Building HTTP answers with the content types clients insist on.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use signpost_protocol::pox::{self, ErrorAnswer, ErrorCode};

pub const XML: &str = "text/xml; charset=utf-8";
pub const JSON: &str = "application/json; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";

pub fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn xml(body: impl Into<Body>) -> Response {
    with_type(StatusCode::OK, XML, body)
}

pub fn json(status: StatusCode, body: String) -> Response {
    with_type(status, JSON, body)
}

pub fn text(status: StatusCode, body: &'static str) -> Response {
    with_type(status, TEXT, body)
}

/// A POX error answer (HTTP 200, as clients expect) with a fresh id for the log.
pub fn pox_error(code: ErrorCode) -> (Response, u32) {
    let id: u32 = rand::random();
    let body = pox::write_error(&ErrorAnswer {
        code,
        time: time_of_day(),
        id,
    });
    (xml(body), id)
}

/// The current UTC time of day as Exchange writes it: `HH:MM:SS.fffffff`.
fn time_of_day() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:07}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        now.subsec_nanos() / 100
    )
}

/// 401 asking for Basic credentials (the second step of Outlook's flow).
pub fn unauthorized(realm: &str) -> Response {
    let mut response = text(StatusCode::UNAUTHORIZED, "Authentication required\n");
    let challenge = format!(
        "Basic realm=\"{}\", charset=\"UTF-8\"",
        realm.replace('"', "'")
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_of_day_has_exchange_shape() {
        let t = super::time_of_day();
        assert_eq!(t.len(), 16, "{t}");
        assert_eq!(&t[2..3], ":");
        assert_eq!(&t[8..9], ".");
    }
}
