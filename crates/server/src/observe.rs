//! Around every request: an id on its log lines and in `X-Request-Id`, and its count and latency
//! in the metrics.

use std::future::Future;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::Response;
use tracing::debug;

use crate::connection::ClientConnection;
use crate::metrics::{ClientKind, Endpoint, Observation, Outcome};
use crate::request_scope::{self, RequestId};
use crate::state::AppState;

const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// What is known of a request when it arrives, kept until its answer leaves.
pub struct Observing {
    started: Instant,
    endpoint: Endpoint,
    method: Method,
    id: RequestId,
    client_address: Option<std::net::IpAddr>,
    user_agent: Option<HeaderValue>,
}

impl Observing {
    pub fn start(request: &Request) -> Self {
        let endpoint = endpoint_of(request.uri().path());
        // Only discovery requests go to the recent-requests log.
        let logged = is_discovery(endpoint);
        Self {
            started: Instant::now(),
            endpoint,
            method: request.method().clone(),
            id: RequestId::next(),
            client_address: logged
                .then(|| {
                    request
                        .extensions()
                        .get::<ClientConnection>()
                        .map(|c| c.peer.ip())
                })
                .flatten(),
            user_agent: logged
                .then(|| {
                    request
                        .headers()
                        .get(axum::http::header::USER_AGENT)
                        .cloned()
                })
                .flatten(),
        }
    }

    /// Runs `answering` as this request (see [`request_scope::run_as`]).
    pub fn scope<F: Future>(
        &self,
        answering: F,
    ) -> impl Future<Output = (F::Output, Option<Observation>, Option<String>)> {
        request_scope::run_as(self.id, answering)
    }

    /// Counts the answer, and labels it with the request id.
    pub fn finish(
        self,
        state: &AppState,
        mut response: Response,
        observation: Option<Observation>,
        address: Option<String>,
    ) -> Response {
        let status = response.status().as_u16();
        let client = observation
            .map(|o| o.client)
            .unwrap_or_else(|| default_client(self.endpoint));
        let outcome = observation
            .and_then(|o| o.outcome)
            .unwrap_or_else(|| Outcome::from_status(status));
        let elapsed = self.started.elapsed();
        state
            .metrics
            .observe(self.endpoint, client, outcome, elapsed);
        if is_discovery(self.endpoint) {
            state.recent.push(crate::recent::Noted {
                time: crate::clock::now(),
                client_address: self.client_address,
                user_agent: self.user_agent,
                endpoint: self.endpoint.label(),
                address,
                client: client.label(),
                outcome: outcome.label(),
                status,
            });
        }
        if let Ok(value) = HeaderValue::from_bytes(&self.id.hex()) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        debug!(
            id = %self.id,
            method = %self.method,
            endpoint = self.endpoint.label(),
            status,
            outcome = outcome.label(),
            micros = elapsed.as_micros() as u64,
            "answered"
        );
        response
    }
}

fn endpoint_of(path: &str) -> Endpoint {
    match path {
        "/autodiscover/autodiscover.xml" => Endpoint::AutodiscoverXml,
        p if p.starts_with("/autodiscover/autodiscover.json") => Endpoint::AutodiscoverJson,
        "/mail/config-v1.1.xml"
        | "/.well-known/autoconfig/mail/config-v1.1.xml"
        | "/v1.1/mail/config-v1.1.xml" => Endpoint::Autoconfig,
        "/mobileconfig" | "/apple" | "/mobileconfig/link" => Endpoint::Mobileconfig,
        "/.well-known/user-agent-configuration.json" => Endpoint::Pacc,
        p if p.starts_with("/.well-known/acme-challenge/") => Endpoint::AcmeChallenge,
        "/healthz" | "/readyz" => Endpoint::Health,
        "/metrics" => Endpoint::Metrics,
        _ => Endpoint::Other,
    }
}

fn is_discovery(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::AutodiscoverXml
            | Endpoint::AutodiscoverJson
            | Endpoint::Autoconfig
            | Endpoint::Mobileconfig
            | Endpoint::Pacc
    )
}

fn default_client(endpoint: Endpoint) -> ClientKind {
    match endpoint {
        Endpoint::AutodiscoverJson => ClientKind::V2,
        Endpoint::Autoconfig => ClientKind::Thunderbird,
        Endpoint::Mobileconfig => ClientKind::Apple,
        Endpoint::Pacc => ClientKind::Pacc,
        _ => ClientKind::Unknown,
    }
}
