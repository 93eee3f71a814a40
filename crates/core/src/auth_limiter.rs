//! Limits on failed logins, per client address and per account, over a sliding window, so
//! password guessing is slow and credential stuffing stands out. Memory is bounded: past the
//! capacity, expired entries go first, then the oldest.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits and window, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct LimiterSettings {
    pub window: Duration,
    pub per_client: usize,
    pub per_account: usize,
    /// Most keys remembered on each side.
    pub capacity: usize,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_client: 10,
            per_account: 20,
            capacity: 100_000,
        }
    }
}

/// Recent failures by key.
struct Window<K> {
    failures: HashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> Window<K> {
    fn new() -> Self {
        Self {
            failures: HashMap::new(),
        }
    }

    /// How long until `key` may try again, if it is over `limit` now.
    fn blocked_for(
        &mut self,
        key: &K,
        limit: usize,
        window: Duration,
        now: Instant,
    ) -> Option<Duration> {
        let recent = self.failures.get_mut(key)?;
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            recent.pop_front();
        }
        if recent.is_empty() {
            self.failures.remove(key);
            return None;
        }
        (recent.len() >= limit).then(|| {
            let oldest = recent.front().copied().unwrap_or(now);
            window
                .saturating_sub(now.duration_since(oldest))
                .max(Duration::from_secs(1))
        })
    }

    fn record(&mut self, key: K, limit: usize, settings: &LimiterSettings, now: Instant) {
        if self.failures.len() >= settings.capacity && !self.failures.contains_key(&key) {
            self.prune(settings.window, settings.capacity, now);
        }
        let recent = self.failures.entry(key).or_default();
        recent.push_back(now);
        // Only the last `limit` failures matter for the decision.
        while recent.len() > limit {
            recent.pop_front();
        }
    }

    fn prune(&mut self, window: Duration, capacity: usize, now: Instant) {
        self.failures.retain(|_, recent| {
            recent
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
        });
        if self.failures.len() >= capacity {
            // Still full of live entries: drop the least recently failing tenth.
            let mut by_age: Vec<(K, Instant)> = self
                .failures
                .iter()
                .filter_map(|(k, v)| v.back().map(|t| (k.clone(), *t)))
                .collect();
            by_age.sort_by_key(|(_, t)| *t);
            for (key, _) in by_age.into_iter().take(capacity / 10 + 1) {
                self.failures.remove(&key);
            }
        }
    }

    fn len(&self) -> usize {
        self.failures.len()
    }
}

pub struct FailureLimiter {
    settings: LimiterSettings,
    clients: Mutex<Window<IpAddr>>,
    accounts: Mutex<Window<String>>,
}

impl FailureLimiter {
    pub fn new(settings: LimiterSettings) -> Self {
        Self {
            settings,
            clients: Mutex::new(Window::new()),
            accounts: Mutex::new(Window::new()),
        }
    }

    /// `Some(retry_after)` when the client or the account has failed too often lately.
    pub fn blocked_for(&self, client: IpAddr, login: &str) -> Option<Duration> {
        let now = Instant::now();
        let s = &self.settings;
        let by_client = self
            .clients
            .lock()
            .ok()
            .and_then(|mut w| w.blocked_for(&client, s.per_client, s.window, now));
        let by_account =
            self.accounts.lock().ok().and_then(|mut w| {
                w.blocked_for(&login.to_lowercase(), s.per_account, s.window, now)
            });
        by_client.max(by_account)
    }

    pub fn record_failure(&self, client: IpAddr, login: &str) {
        let now = Instant::now();
        let s = &self.settings;
        if let Ok(mut clients) = self.clients.lock() {
            clients.record(client, s.per_client, s, now);
        }
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.record(login.to_lowercase(), s.per_account, s, now);
        }
    }

    /// How many clients and accounts are remembered (for metrics and tests).
    pub fn tracked(&self) -> (usize, usize) {
        (
            self.clients.lock().map(|w| w.len()).unwrap_or(0),
            self.accounts.lock().map(|w| w.len()).unwrap_or(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_client: usize, per_account: usize, capacity: usize) -> FailureLimiter {
        FailureLimiter::new(LimiterSettings {
            window: Duration::from_secs(60),
            per_client,
            per_account,
            capacity,
        })
    }

    #[test]
    fn blocks_a_client_after_its_limit() {
        let l = limiter(3, 100, 100);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..3 {
            assert!(l.blocked_for(ip, &format!("user{i}")).is_none());
            l.record_failure(ip, &format!("user{i}"));
        }
        let wait = l.blocked_for(ip, "anyone").expect("blocked");
        assert!(wait <= Duration::from_secs(60) && wait >= Duration::from_secs(1));
        assert!(
            l.blocked_for("192.0.2.2".parse().unwrap(), "user0")
                .is_none()
        );
    }

    #[test]
    fn blocks_an_account_guessed_from_many_clients() {
        let l = limiter(100, 3, 100);
        for i in 0..3u8 {
            l.record_failure(IpAddr::from([198, 51, 100, i]), "Victim@Example.com");
        }
        assert!(
            l.blocked_for("203.0.113.9".parse().unwrap(), "victim@example.com")
                .is_some()
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let l = limiter(5, 5, 50);
        for i in 0..1000u32 {
            l.record_failure(IpAddr::from(i.to_be_bytes()), &format!("u{i}"));
            let (clients, accounts) = l.tracked();
            assert!(clients <= 50 && accounts <= 50, "{clients} {accounts}");
        }
    }

    #[test]
    fn failures_expire() {
        let l = FailureLimiter::new(LimiterSettings {
            window: Duration::from_millis(30),
            per_client: 1,
            per_account: 1,
            capacity: 10,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        l.record_failure(ip, "a");
        assert!(l.blocked_for(ip, "a").is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(l.blocked_for(ip, "a").is_none());
        assert_eq!(l.tracked(), (0, 0), "expired entries are dropped");
    }
}
