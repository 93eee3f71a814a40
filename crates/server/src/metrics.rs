//! Counters and a latency histogram per endpoint, lock-free on the request path, rendered in the
//! Prometheus text format at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use signpost_core::auth_limiter::Network;

macro_rules! labelled {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

labelled!(
    /// Which family of paths a request went to.
    Endpoint {
        AutodiscoverXml => "autodiscover_xml",
        AutodiscoverJson => "autodiscover_json",
        Autoconfig => "autoconfig",
        Mobileconfig => "mobileconfig",
        Pacc => "pacc",
        AcmeChallenge => "acme_challenge",
        Health => "health",
        Metrics => "metrics",
        Other => "other",
    }
);

labelled!(
    /// Which kind of client the request came from, as far as the request shows.
    ClientKind {
        Outlook => "outlook",
        ActiveSync => "activesync",
        V2 => "autodiscover_v2",
        Thunderbird => "autoconfig",
        Apple => "apple",
        Pacc => "pacc",
        Unknown => "unknown",
    }
);

labelled!(
    /// How the request ended. `challenged`: asked without credentials and told to sign in
    /// (Outlook's normal first request); `unauthorized`: credentials refused, or not the
    /// address's owner.
    Outcome {
        Answered => "answered",
        ErrorAnswer => "error_answer",
        Challenged => "challenged",
        Unauthorized => "unauthorized",
        RateLimited => "rate_limited",
        Redirected => "redirected",
        NotFound => "not_found",
        BadRequest => "bad_request",
        ServerError => "server_error",
        DirectoryUnavailable => "directory_unavailable",
    }
);

/// What a handler knows about its request that the status code does not say (see
/// [`crate::request_scope::note`]).
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub client: ClientKind,
    pub outcome: Option<Outcome>,
}

impl Outcome {
    pub fn from_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Answered,
            300..=399 => Self::Redirected,
            401 => Self::Unauthorized,
            404 => Self::NotFound,
            429 => Self::RateLimited,
            400..=499 => Self::BadRequest,
            // Only a user directory that cannot be asked makes a discovery answer 503.
            503 => Self::DirectoryUnavailable,
            _ => Self::ServerError,
        }
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// One thread's share of the request counters and latency histograms. Threads count into their
/// own share, so no two cores fight over a cache line on every request; `/metrics` adds them up.
struct Share {
    requests: Vec<AtomicU64>,
    latency: Vec<Histogram>,
}

impl Share {
    fn new() -> Self {
        let cells = Endpoint::ALL.len() * ClientKind::ALL.len() * Outcome::ALL.len();
        Self {
            requests: (0..cells).map(|_| AtomicU64::new(0)).collect(),
            latency: Endpoint::ALL.iter().map(|_| Histogram::new()).collect(),
        }
    }
}

const SHARES: usize = 8;

/// The share the current thread counts into.
fn share_index() -> usize {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static SHARE: usize = (NEXT.fetch_add(1, Ordering::Relaxed) % SHARES as u64) as usize;
    }
    SHARE.with(|share| *share)
}

pub struct Metrics {
    shares: Vec<Share>,
    /// Failed logins, from known networks and from elsewhere.
    auth_failures: [AtomicU64; 2],
    /// Logins refused for too many recent failures, likewise.
    rate_limited: [AtomicU64; 2],
    /// Logins answered from the credential cache.
    pub remembered_logins: AtomicU64,
    /// Logins that could not be checked because the domain's directory was unavailable.
    pub directory_unavailable: AtomicU64,
    /// Completed looks over the certificates ACME manages.
    pub acme_checks: AtomicU64,
}

fn network_index(network: Network) -> usize {
    match network {
        Network::Known => 0,
        Network::Other => 1,
    }
}

impl Metrics {
    pub fn auth_failure(&self, network: Network) {
        self.auth_failures[network_index(network)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn rate_limited(&self, network: Network) {
        self.rate_limited[network_index(network)].fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            shares: (0..SHARES).map(|_| Share::new()).collect(),
            auth_failures: [AtomicU64::new(0), AtomicU64::new(0)],
            rate_limited: [AtomicU64::new(0), AtomicU64::new(0)],
            remembered_logins: AtomicU64::new(0),
            directory_unavailable: AtomicU64::new(0),
            acme_checks: AtomicU64::new(0),
        }
    }
}

fn cell(endpoint: Endpoint, client: ClientKind, outcome: Outcome) -> usize {
    (endpoint.index() * ClientKind::ALL.len() + client.index()) * Outcome::ALL.len()
        + outcome.index()
}

impl Metrics {
    pub fn observe(
        &self,
        endpoint: Endpoint,
        client: ClientKind,
        outcome: Outcome,
        elapsed: Duration,
    ) {
        let Some(share) = self.shares.get(share_index()) else {
            return;
        };
        if let Some(counter) = share.requests.get(cell(endpoint, client, outcome)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(histogram) = share.latency.get(endpoint.index()) {
            histogram.observe(elapsed);
        }
    }

    /// A counter summed over the threads' shares.
    fn total(&self, read: impl Fn(&Share) -> &AtomicU64) -> u64 {
        self.shares
            .iter()
            .map(|share| read(share).load(Ordering::Relaxed))
            .sum()
    }

    /// Counters and histograms in the text format; `extra` holds gauges computed at scrape time.
    pub fn render(&self, extra: &[Gauge<'_>]) -> String {
        let mut out = String::with_capacity(8192);
        let _ = writeln!(
            out,
            "# HELP signpost_requests_total Requests by endpoint, client kind and outcome."
        );
        let _ = writeln!(out, "# TYPE signpost_requests_total counter");
        for endpoint in Endpoint::ALL {
            for client in ClientKind::ALL {
                for outcome in Outcome::ALL {
                    let at = cell(*endpoint, *client, *outcome);
                    let value = self.total(|share| &share.requests[at]);
                    if value > 0 {
                        let _ = writeln!(
                            out,
                            "signpost_requests_total{{endpoint=\"{}\",client=\"{}\",outcome=\"{}\"}} {value}",
                            endpoint.label(),
                            client.label(),
                            outcome.label()
                        );
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP signpost_request_duration_seconds Time to answer, by endpoint."
        );
        let _ = writeln!(out, "# TYPE signpost_request_duration_seconds histogram");
        for endpoint in Endpoint::ALL {
            let at = endpoint.index();
            let count = self.total(|share| &share.latency[at].count);
            if count == 0 {
                continue;
            }
            let label = endpoint.label();
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += self.total(|share| &share.latency[at].buckets[i]);
                let _ = writeln!(
                    out,
                    "signpost_request_duration_seconds_bucket{{endpoint=\"{label}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "signpost_request_duration_seconds_bucket{{endpoint=\"{label}\",le=\"+Inf\"}} {count}"
            );
            let sum = self.total(|share| &share.latency[at].sum_micros) as f64 / 1e6;
            let _ = writeln!(
                out,
                "signpost_request_duration_seconds_sum{{endpoint=\"{label}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "signpost_request_duration_seconds_count{{endpoint=\"{label}\"}} {count}"
            );
        }
        for (name, help, counters) in [
            (
                "signpost_auth_failures_total",
                "Failed client logins, by network: one the account signed in from lately (known) or another.",
                &self.auth_failures,
            ),
            (
                "signpost_rate_limited_total",
                "Logins refused for too many recent failures, by network (known or other).",
                &self.rate_limited,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for network in [Network::Known, Network::Other] {
                let _ = writeln!(
                    out,
                    "{name}{{network=\"{}\"}} {}",
                    network.label(),
                    counters[network_index(network)].load(Ordering::Relaxed)
                );
            }
        }
        for (name, help, counter) in [
            (
                "signpost_remembered_logins_total",
                "Logins answered from remembered credentials, without hashing.",
                &self.remembered_logins,
            ),
            (
                "signpost_directory_unavailable_total",
                "Logins not checked because the domain's user directory was unavailable.",
                &self.directory_unavailable,
            ),
            (
                "signpost_acme_checks_total",
                "Completed looks over the certificates ACME manages (each may order or renew).",
                &self.acme_checks,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        for (name, help, samples) in extra {
            // Prometheus's rule: a counter's name ends in `_total`, nothing else's does.
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        }
        out
    }
}

/// A value computed at scrape time: name, help text, and `({labels}, value)` samples; a gauge,
/// or a counter when its name ends in `_total`.
pub type Gauge<'a> = (&'a str, &'a str, Vec<(String, f64)>);

/// Escapes a label value (quotes, backslashes, newlines).
pub fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe(
            Endpoint::Autoconfig,
            ClientKind::Thunderbird,
            Outcome::Answered,
            Duration::from_micros(300),
        );
        m.observe(
            Endpoint::Autoconfig,
            ClientKind::Thunderbird,
            Outcome::Answered,
            Duration::from_millis(3),
        );
        let text = m.render(&[(
            "signpost_domains",
            "Hosted domains.",
            vec![(String::new(), 2.0)],
        )]);
        assert!(text.contains("signpost_requests_total{endpoint=\"autoconfig\",client=\"autoconfig\",outcome=\"answered\"} 2"), "{text}");
        assert!(text.contains(
            "signpost_request_duration_seconds_bucket{endpoint=\"autoconfig\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "signpost_request_duration_seconds_bucket{endpoint=\"autoconfig\",le=\"0.005\"} 2"
        ));
        assert!(
            text.contains("signpost_request_duration_seconds_count{endpoint=\"autoconfig\"} 2")
        );
        assert!(text.contains("signpost_domains 2"));
        assert_eq!(label_value("a\"b\\c"), "a\\\"b\\\\c");
    }
}
