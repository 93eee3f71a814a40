//! The last discovery requests, kept in a bounded ring so an administrator can see why a user's
//! phone failed. Never passwords: only who asked, from where, for which address, and the outcome.
//! Instances sharing a store also copy theirs into it every second, so each shows them all.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::http::HeaderValue;
pub use signpost_store::recent::{RecentFilter, RecentRequest};

/// The longest user agent and address kept (longer ones are cut).
const MAX_FIELD_CHARS: usize = 256;

/// What is noted while the request runs, turned into a [`RecentRequest`] only when it is kept.
pub struct Noted {
    pub time: i64,
    pub client_address: Option<IpAddr>,
    pub user_agent: Option<HeaderValue>,
    pub endpoint: &'static str,
    pub address: Option<String>,
    pub client: &'static str,
    pub outcome: &'static str,
    pub status: u16,
}

/// Shards, so request threads rarely meet on one lock; each thread writes to its own.
const SHARDS: usize = 8;

pub struct RecentRequests {
    capacity: usize,
    /// Each holds at most `capacity` entries, with a sequence number; lists show the newest
    /// `capacity` of them all.
    shards: [Mutex<VecDeque<(u64, Noted)>>; SHARDS],
    sequence: std::sync::atomic::AtomicU64,
}

thread_local! {
    static SHARD: usize = {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SHARDS
    };
}

impl RecentRequests {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            shards: std::array::from_fn(|_| Mutex::new(VecDeque::new())),
            sequence: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn push(&self, noted: Noted) {
        if self.capacity == 0 {
            return;
        }
        let sequence = self
            .sequence
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shard = SHARD.with(|s| *s);
        if let Ok(mut entries) = self.shards[shard].lock() {
            if entries.len() >= self.capacity {
                entries.pop_front();
            }
            entries.push_back((sequence, noted));
        }
    }

    /// Newest first, filtered.
    pub fn list(
        &self,
        filter: &RecentFilter,
        allowed: impl Fn(Option<&str>) -> bool,
    ) -> Vec<RecentRequest> {
        let limit = filter.limit.unwrap_or(200).min(self.capacity.max(1));
        let mut all: Vec<RecentRequest> = Vec::new();
        let mut order: Vec<u64> = Vec::new();
        for shard in &self.shards {
            let Ok(entries) = shard.lock() else {
                continue;
            };
            for (sequence, noted) in entries.iter() {
                order.push(*sequence);
                all.push(shown(noted));
            }
        }
        let mut indexed: Vec<(u64, RecentRequest)> = order.into_iter().zip(all).collect();
        indexed.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        indexed
            .into_iter()
            .map(|(_, request)| request)
            .filter(|r| {
                let domain = r.domain.as_deref();
                allowed(domain)
                    && filter
                        .domain
                        .as_deref()
                        .is_none_or(|d| domain.is_some_and(|have| have.eq_ignore_ascii_case(d)))
                    && filter.outcome.as_deref().is_none_or(|o| r.outcome == o)
            })
            .take(limit)
            .collect()
    }
}

impl RecentRequests {
    /// Entries noted after sequence `after`, oldest first, at most the newest `capacity` of
    /// them; and the sequence to ask after next time.
    pub fn since(&self, after: Option<u64>) -> (Vec<RecentRequest>, Option<u64>) {
        let mut found: Vec<(u64, RecentRequest)> = Vec::new();
        for shard in &self.shards {
            let Ok(entries) = shard.lock() else {
                continue;
            };
            found.extend(
                entries
                    .iter()
                    .filter(|(sequence, _)| after.is_none_or(|a| *sequence > a))
                    .map(|(sequence, noted)| (*sequence, shown(noted))),
            );
        }
        found.sort_by_key(|(sequence, _)| *sequence);
        let last = found.last().map(|(sequence, _)| *sequence).or(after);
        let skip = found.len().saturating_sub(self.capacity);
        (found.into_iter().skip(skip).map(|(_, r)| r).collect(), last)
    }
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect()
}

fn shown(noted: &Noted) -> RecentRequest {
    let address = noted.address.as_deref().map(cut);
    let domain = address
        .as_deref()
        .and_then(|a| a.rsplit_once('@'))
        .map(|(_, d)| d.to_string());
    RecentRequest {
        time: noted.time,
        client_address: noted
            .client_address
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
        user_agent: noted
            .user_agent
            .as_ref()
            .map(|v| cut(&String::from_utf8_lossy(v.as_bytes())))
            .unwrap_or_default(),
        endpoint: noted.endpoint.to_string(),
        address,
        domain,
        client: noted.client.to_string(),
        outcome: noted.outcome.to_string(),
        status: noted.status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noted(address: &str, outcome: &'static str) -> Noted {
        Noted {
            time: 1,
            client_address: None,
            user_agent: Some(HeaderValue::from_static("Outlook")),
            endpoint: "autodiscover_xml",
            address: Some(address.to_string()),
            client: "outlook",
            outcome,
            status: 200,
        }
    }

    #[test]
    fn keeps_the_newest_within_capacity_and_filters() {
        let ring = RecentRequests::new(3);
        for (i, outcome) in ["answered", "unauthorized", "answered", "not_found"]
            .into_iter()
            .enumerate()
        {
            ring.push(noted(&format!("u{i}@a.example"), outcome));
        }
        ring.push(noted("x@b.example", "answered"));
        let all = ring.list(&RecentFilter::default(), |_| true);
        let addresses: Vec<_> = all.iter().filter_map(|r| r.address.clone()).collect();
        assert_eq!(addresses, ["x@b.example", "u3@a.example", "u2@a.example"]);
        let filter = RecentFilter {
            domain: Some("a.example".into()),
            outcome: Some("not_found".into()),
            limit: None,
        };
        let found = ring.list(&filter, |_| true);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].address.as_deref(), Some("u3@a.example"));
        let (all, last) = ring.since(None);
        assert_eq!(all.len(), 3, "at most the capacity");
        assert_eq!(
            all[2].address.as_deref(),
            Some("x@b.example"),
            "oldest first"
        );
        let (none, same) = ring.since(last);
        assert!(none.is_empty());
        assert_eq!(same, last);
        ring.push(noted("y@b.example", "answered"));
        let (new, _) = ring.since(last);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].address.as_deref(), Some("y@b.example"));
        assert!(
            ring.list(&RecentFilter::default(), |d| d == Some("b.example"))
                .len()
                == 2
        );
    }
}
