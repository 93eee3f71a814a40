//! Limits on failed logins, per client address and per account, over a sliding window, so
//! password guessing is slow and credential stuffing stands out. An account's failures are
//! counted apart by where they come from: from a network the account signed in from lately
//! ("known", with its own, lower, limit), or from anywhere else, so strangers guessing can never
//! lock the owner out of their usual network. Memory is bounded: past the capacity, expired
//! entries go first, then the oldest.

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
    /// Failures of one account from networks it is not known on.
    pub per_account: usize,
    /// Failures of one account from networks it signed in from lately.
    pub per_account_known: usize,
    /// Most keys remembered on each side.
    pub capacity: usize,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_client: 10,
            per_account: 20,
            per_account_known: 10,
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

/// Where a login came from, as far as the account is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A network the account signed in from successfully lately.
    Known,
    /// Anywhere else.
    Other,
}

impl Network {
    pub fn label(self) -> &'static str {
        match self {
            Self::Known => "known",
            Self::Other => "other",
        }
    }
}

pub struct FailureLimiter {
    settings: LimiterSettings,
    clients: Mutex<Window<IpAddr>>,
    accounts: Mutex<Window<String>>,
    accounts_known: Mutex<Window<String>>,
}

impl FailureLimiter {
    pub fn new(settings: LimiterSettings) -> Self {
        Self {
            settings,
            clients: Mutex::new(Window::new()),
            accounts: Mutex::new(Window::new()),
            accounts_known: Mutex::new(Window::new()),
        }
    }

    fn account_side(&self, network: Network) -> (&Mutex<Window<String>>, usize) {
        match network {
            Network::Known => (&self.accounts_known, self.settings.per_account_known),
            Network::Other => (&self.accounts, self.settings.per_account),
        }
    }

    /// `Some(retry_after)` when the client, or the account from this kind of network, has
    /// failed too often lately.
    pub fn blocked_for(&self, client: IpAddr, login: &str, network: Network) -> Option<Duration> {
        let now = Instant::now();
        let s = &self.settings;
        let by_client = self
            .clients
            .lock()
            .ok()
            .and_then(|mut w| w.blocked_for(&client, s.per_client, s.window, now));
        let (accounts, limit) = self.account_side(network);
        let by_account = accounts
            .lock()
            .ok()
            .and_then(|mut w| w.blocked_for(&login.to_lowercase(), limit, s.window, now));
        by_client.max(by_account)
    }

    /// Whether either kind of network would be refused now: when neither is, nobody needs to
    /// look up where the login comes from.
    pub fn any_blocked(&self, client: IpAddr, login: &str) -> bool {
        self.blocked_for(client, login, Network::Other).is_some()
            || self.blocked_for(client, login, Network::Known).is_some()
    }

    pub fn record_failure(&self, client: IpAddr, login: &str, network: Network) {
        let now = Instant::now();
        let s = &self.settings;
        if let Ok(mut clients) = self.clients.lock() {
            clients.record(client, s.per_client, s, now);
        }
        let (accounts, limit) = self.account_side(network);
        if let Ok(mut accounts) = accounts.lock() {
            accounts.record(login.to_lowercase(), limit, s, now);
        }
    }

    /// How many clients and accounts are remembered (for metrics and tests).
    pub fn tracked(&self) -> (usize, usize) {
        let accounts = |side: &Mutex<Window<String>>| side.lock().map(|w| w.len()).unwrap_or(0);
        (
            self.clients.lock().map(|w| w.len()).unwrap_or(0),
            accounts(&self.accounts) + accounts(&self.accounts_known),
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
            per_account_known: per_account,
            capacity,
        })
    }

    #[test]
    fn blocks_a_client_after_its_limit() {
        let l = limiter(3, 100, 100);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..3 {
            assert!(
                l.blocked_for(ip, &format!("user{i}"), Network::Other)
                    .is_none()
            );
            l.record_failure(ip, &format!("user{i}"), Network::Other);
        }
        let wait = l
            .blocked_for(ip, "anyone", Network::Other)
            .expect("blocked");
        assert!(wait <= Duration::from_secs(60) && wait >= Duration::from_secs(1));
        assert!(
            l.blocked_for("192.0.2.2".parse().unwrap(), "user0", Network::Other)
                .is_none()
        );
    }

    #[test]
    fn blocks_an_account_guessed_from_many_clients() {
        let l = limiter(100, 3, 100);
        for i in 0..3u8 {
            l.record_failure(
                IpAddr::from([198, 51, 100, i]),
                "Victim@Example.com",
                Network::Other,
            );
        }
        assert!(
            l.blocked_for(
                "203.0.113.9".parse().unwrap(),
                "victim@example.com",
                Network::Other
            )
            .is_some()
        );
    }

    #[test]
    fn strangers_never_lock_a_known_network_out() {
        let l = FailureLimiter::new(LimiterSettings {
            window: Duration::from_secs(60),
            per_client: 5,
            per_account: 3,
            per_account_known: 2,
            capacity: 100,
        });
        for i in 0..10u8 {
            l.record_failure(
                IpAddr::from([203, 0, 113, i]),
                "jo@example.com",
                Network::Other,
            );
        }
        let home: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(
            l.blocked_for(home, "jo@example.com", Network::Other)
                .is_some()
        );
        assert!(
            l.blocked_for(home, "jo@example.com", Network::Known)
                .is_none()
        );
        assert!(l.any_blocked(home, "jo@example.com"));
        // The known network has its own, lower, count.
        l.record_failure(home, "jo@example.com", Network::Known);
        assert!(
            l.blocked_for(home, "jo@example.com", Network::Known)
                .is_none()
        );
        l.record_failure(home, "jo@example.com", Network::Known);
        assert!(
            l.blocked_for(home, "jo@example.com", Network::Known)
                .is_some()
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let l = limiter(5, 5, 50);
        for i in 0..1000u32 {
            l.record_failure(
                IpAddr::from(i.to_be_bytes()),
                &format!("u{i}"),
                Network::Other,
            );
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
            per_account_known: 1,
            capacity: 10,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        l.record_failure(ip, "a", Network::Other);
        assert!(l.blocked_for(ip, "a", Network::Other).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(l.blocked_for(ip, "a", Network::Other).is_none());
        assert_eq!(l.tracked(), (0, 0), "expired entries are dropped");
    }
}
