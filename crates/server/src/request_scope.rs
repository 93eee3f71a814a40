//! The request being answered, for whatever runs on its behalf: its id (on log lines, in
//! `X-Request-Id`), and what its handler notes about it (which client, how it ended, the address
//! asked about) for the metrics and the recent-requests log.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::Instrument;

use crate::metrics::{ClientKind, Observation, Outcome};

/// A request's id: unique within a run, not guessable from the one before.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(u64);

impl RequestId {
    pub fn next() -> Self {
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
    pub fn hex(self) -> [u8; 16] {
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

/// Runs `answering` as request `id`: its debug lines in a span with the id, [`CurrentRequest`]
/// naming it, and [`note`] recording into it. Returns the answer and what was noted.
pub fn run_as<F: Future>(
    id: RequestId,
    answering: F,
) -> impl Future<Output = (F::Output, Option<Observation>, Option<String>)> {
    let scope = RequestScope {
        id,
        observation: Cell::new(None),
        address: Cell::new(None),
    };
    let span = tracing::debug_span!("request", id = %id);
    CURRENT.scope(scope, async move {
        let answer = answering.instrument(span).await;
        let (noted, address) =
            CURRENT.with(|scope| (scope.observation.get(), scope.address.take()));
        (answer, noted, address)
    })
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
