//! Around every request: an id on its log lines and in `X-Request-Id`, and its count and latency
//! in the metrics.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::Response;
use tracing::{Instrument, debug};

use crate::metrics::{ClientKind, Endpoint, Observation, Outcome};
use crate::state::AppState;

const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id: unique within a run, not guessable from the one before.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(u64);

impl RequestId {
    fn next() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static KEY: OnceLock<u64> = OnceLock::new();
        let key = *KEY.get_or_init(rand::random);
        // splitmix64's finaliser is a bijection, so distinct counters give distinct ids.
        let mut z = COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(key)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self(z ^ (z >> 31))
    }

    /// Sixteen lowercase hex digits.
    fn hex(self) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = DIGITS[((self.0 >> (60 - 4 * i)) & 0xF) as usize];
        }
        out
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What a handler learns about its request that the status code does not say (which client,
/// how it ended), kept beside the request id for the request's task.
struct RequestScope {
    id: RequestId,
    observation: Cell<Option<Observation>>,
    /// The address the request asked about, for the recent-requests log.
    address: Cell<Option<String>>,
}

tokio::task_local! {
    static CURRENT: RequestScope;
}

/// Records what kind of client the request came from and how it ended, for the metrics.
/// Outside a request (a test calling a handler directly) it does nothing.
pub fn note(client: ClientKind, outcome: Option<Outcome>) {
    let _ = CURRENT.try_with(|scope| scope.observation.set(Some(Observation { client, outcome })));
}

/// Records the address a discovery request asked about (already validated), for the
/// recent-requests log.
pub fn note_address(address: &str) {
    let _ = CURRENT.try_with(|scope| scope.address.set(Some(address.to_string())));
}

/// The id of the request being answered, for log lines: `info!(id = %CurrentRequest, ...)`.
/// Debug lines carry it from their span; lines at info and above name it themselves, so the
/// span need not exist (and cost) at the default level.
pub struct CurrentRequest;

impl std::fmt::Display for CurrentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match CURRENT.try_with(|scope| scope.id) {
            Ok(id) => id.fmt(f),
            Err(_) => f.write_str("-"),
        }
    }
}

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
                        .get::<crate::listener::ClientConnection>()
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

    /// Runs `answering` as this request: its debug lines in a span with the id,
    /// [`CurrentRequest`] naming it, and [`note`] recording into it. Returns the answer and
    /// what was noted.
    pub fn scope<F: Future>(
        &self,
        answering: F,
    ) -> impl Future<Output = (F::Output, Option<Observation>, Option<String>)> {
        let scope = RequestScope {
            id: self.id,
            observation: Cell::new(None),
            address: Cell::new(None),
        };
        let span = tracing::debug_span!("request", id = %self.id);
        CURRENT.scope(scope, async move {
            let answer = answering.instrument(span).await;
            let (noted, address) =
                CURRENT.with(|scope| (scope.observation.get(), scope.address.take()));
            (answer, noted, address)
        })
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
                time: crate::tls::resolver_now(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_hex() {
        let ids: std::collections::HashSet<[u8; 16]> =
            (0..10_000).map(|_| RequestId::next().hex()).collect();
        assert_eq!(ids.len(), 10_000);
        let id = RequestId::next();
        assert_eq!(id.hex().as_slice(), id.to_string().as_bytes());
    }
}
