//! Around every request: an id on its log lines and in `X-Request-Id`, a time limit (slow
//! clients get 408), and its count and latency in the metrics.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::{Instrument, debug};

use crate::metrics::{ClientKind, Endpoint, Observation, Outcome};
use crate::responses;
use crate::state::SharedState;

pub async fn observe(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let endpoint = endpoint_of(request.uri().path());
    let id = format!("{:016x}", rand::random::<u64>());
    let span = tracing::info_span!("request", id = %id);
    let method = request.method().clone();
    let timeout = state.config.request_timeout;
    let answered = tokio::time::timeout(timeout, next.run(request))
        .instrument(span.clone())
        .await;
    let mut response = answered.unwrap_or_else(|_| {
        responses::text(StatusCode::REQUEST_TIMEOUT, "The request took too long\n")
    });
    let status = response.status().as_u16();
    let observation = response.extensions().get::<Observation>().copied();
    let client = observation
        .map(|o| o.client)
        .unwrap_or_else(|| default_client(endpoint));
    let outcome = observation
        .and_then(|o| o.outcome)
        .unwrap_or_else(|| Outcome::from_status(status));
    let elapsed = started.elapsed();
    state.metrics.observe(endpoint, client, outcome, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    span.in_scope(|| {
        debug!(%method, endpoint = endpoint.label(), status, outcome = outcome.label(), micros = elapsed.as_micros() as u64, "answered")
    });
    response
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

fn default_client(endpoint: Endpoint) -> ClientKind {
    match endpoint {
        Endpoint::AutodiscoverJson => ClientKind::V2,
        Endpoint::Autoconfig => ClientKind::Thunderbird,
        Endpoint::Mobileconfig => ClientKind::Apple,
        Endpoint::Pacc => ClientKind::Pacc,
        _ => ClientKind::Unknown,
    }
}
