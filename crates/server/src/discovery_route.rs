//! The endpoints clients discover their settings at: nearly all the traffic, so they are matched
//! by hand rather than by the general router (see [`crate::edge`]).

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::responses;
use crate::routes::{autoconfig, autodiscover_json, autodiscover_xml, mobileconfig, pacc};
use crate::state::SharedState;

/// The endpoints clients discover their settings at: nearly all the traffic, so they are matched
/// by hand rather than by the general router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryRoute {
    AutodiscoverXml,
    AutodiscoverJson,
    /// `/autodiscover/autodiscover.json/...`
    AutodiscoverJsonPath,
    Autoconfig,
    Pacc,
    Profile,
}

const AUTODISCOVER_JSON: &str = "/autodiscover/autodiscover.json";

impl DiscoveryRoute {
    /// The route for a path (already lowercased where clients disagree on case).
    pub fn for_path(path: &str) -> Option<Self> {
        Some(match path {
            "/autodiscover/autodiscover.xml" => Self::AutodiscoverXml,
            AUTODISCOVER_JSON => Self::AutodiscoverJson,
            "/mail/config-v1.1.xml"
            | "/.well-known/autoconfig/mail/config-v1.1.xml"
            | "/v1.1/mail/config-v1.1.xml" => Self::Autoconfig,
            "/.well-known/user-agent-configuration.json" => Self::Pacc,
            "/mobileconfig" | "/apple" => Self::Profile,
            p if p
                .strip_prefix(AUTODISCOVER_JSON)
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/')) =>
            {
                Self::AutodiscoverJsonPath
            }
            _ => return None,
        })
    }

    /// The methods the route answers (GET also answers HEAD).
    fn allowed(self) -> &'static str {
        match self {
            Self::AutodiscoverXml => "GET,HEAD,POST",
            _ => "GET,HEAD",
        }
    }

    pub async fn answer(self, state: SharedState, request: Request) -> Response {
        let method = request.method();
        let allowed = *method == Method::GET
            || *method == Method::HEAD
            || (*method == Method::POST && self == Self::AutodiscoverXml);
        if !allowed {
            let mut response = responses::text(StatusCode::METHOD_NOT_ALLOWED, "");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(self.allowed()));
            return response;
        }
        match self {
            Self::AutodiscoverXml => autodiscover_xml::handle(state, request).await,
            Self::AutodiscoverJson => autodiscover_json::by_query(&state, request.uri()),
            Self::AutodiscoverJsonPath => {
                let uri = request.uri();
                let rest = uri
                    .path()
                    .strip_prefix(AUTODISCOVER_JSON)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .unwrap_or_default();
                autodiscover_json::by_path(&state, rest, uri)
            }
            Self::Autoconfig => autoconfig::handle(&state, &request),
            Self::Pacc => pacc::handle(&state, &request),
            Self::Profile => mobileconfig::profile(state, request).await,
        }
    }
}
