//! The networks each account signed in from successfully in the last 30 days, shared by every
//! instance through the store, so that failed logins from elsewhere never lock a known network
//! out. Only digests are kept: of the account, and of the account with the network.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use signpost_core::auth_limiter::{FailureLimiter, LimiterSettings, Network};
use sqlx::AnyPool;

use crate::{Result, Store};

/// How long a network stays known after its last successful sign-in.
pub const KNOWN_FOR_SECONDS: i64 = 30 * 24 * 3600;
/// The most networks kept per account (the least recently used go first).
pub const NETWORKS_PER_ACCOUNT: i64 = 32;
/// The most known (account, network) pairs each process keeps in memory.
const MEMORY_CAPACITY: usize = 50_000;
/// A sign-in from a network already recorded this recently is not written again.
const REWRITE_AFTER_SECONDS: i64 = 24 * 3600;

/// The network an address belongs to for this purpose: its /24 (IPv4) or /64 (IPv6).
pub fn network_of(ip: IpAddr) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Whose sign-ins: mail clients' logins and administrators' names are apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accounts {
    Clients,
    Administrators,
}

/// The digests stored for `login` signing in from `ip`: (account, account with network).
pub fn digests(accounts: Accounts, login: &str, ip: IpAddr) -> (String, String) {
    let scope: &[u8] = match accounts {
        Accounts::Clients => b"signpost known network: client\0",
        Accounts::Administrators => b"signpost known network: administrator\0",
    };
    let account = Sha256::new()
        .chain_update(scope)
        .chain_update(login.trim().to_lowercase().as_bytes())
        .finalize();
    let pair = Sha256::new()
        .chain_update(account)
        .chain_update(b"\0")
        .chain_update(network_of(ip).as_bytes())
        .finalize();
    (signpost_core::hex(&account), signpost_core::hex(&pair))
}

pub async fn is_known(pool: &AnyPool, account: &str, network: &str, since: i64) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT last_success FROM known_networks WHERE account = $1 AND network = $2 AND last_success >= $3",
    )
    .bind(account)
    .bind(network)
    .bind(since)
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

/// Records a successful sign-in; keeps the account's newest networks and forgets the old.
pub async fn remember(pool: &AnyPool, account: &str, network: &str, now: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO known_networks (account, network, last_success) VALUES ($1, $2, $3)
         ON CONFLICT (account, network) DO UPDATE SET last_success = excluded.last_success",
    )
    .bind(account)
    .bind(network)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM known_networks WHERE account = $1 AND network NOT IN
         (SELECT network FROM known_networks WHERE account = $1 ORDER BY last_success DESC LIMIT $2)",
    )
    .bind(account)
    .bind(NETWORKS_PER_ACCOUNT)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM known_networks WHERE last_success < $1")
        .bind(now - KNOWN_FOR_SECONDS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The known networks as the login paths use them: answers from memory when it can, from the
/// store otherwise (another instance may have seen the sign-in), and writes a success at most
/// once a day per account and network.
pub struct KnownNetworks {
    accounts: Accounts,
    /// Set once the store is open; until then (and in tests without one) nothing is known.
    store: OnceLock<Arc<dyn Store>>,
    /// (account digest, pair digest) → last success recorded, Unix seconds.
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl KnownNetworks {
    pub fn new(accounts: Accounts) -> Self {
        Self {
            accounts,
            store: OnceLock::new(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps the networks in `store` from now on.
    pub fn attach(&self, store: Arc<dyn Store>) {
        let _ = self.store.set(store);
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn recall(&self, key: &(String, String), since: i64) -> Option<i64> {
        let seen = self.seen.lock().ok()?;
        seen.get(key).copied().filter(|at| *at >= since)
    }

    fn note(&self, key: (String, String), at: i64) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() >= MEMORY_CAPACITY && !seen.contains_key(&key) {
                // Full: the store still knows everything; memory starts over.
                seen.clear();
            }
            seen.insert(key, at);
        }
    }

    /// Whether `login` signed in successfully from `ip`'s network in the last 30 days. A store
    /// that cannot be read counts as "not known" (the stricter limit applies).
    pub async fn is_known(&self, login: &str, ip: IpAddr) -> bool {
        let key = digests(self.accounts, login, ip);
        let since = Self::now() - KNOWN_FOR_SECONDS;
        if self.recall(&key, since).is_some() {
            return true;
        }
        let Some(store) = self.store.get() else {
            return false;
        };
        match store.is_known_network(&key.0, &key.1, since).await {
            Ok(true) => {
                self.note(key, Self::now());
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the known networks; counting the login as from elsewhere");
                false
            }
        }
    }

    /// Records that `login` signed in successfully from `ip`.
    pub async fn remember(&self, login: &str, ip: IpAddr) {
        let key = digests(self.accounts, login, ip);
        let now = Self::now();
        if self.recall(&key, now - REWRITE_AFTER_SECONDS).is_some() {
            return;
        }
        let Some(store) = self.store.get() else {
            return;
        };
        match store.remember_network(&key.0, &key.1, now).await {
            Ok(()) => self.note(key, now),
            Err(e) => tracing::warn!(error = %e, "cannot record a known network"),
        }
    }
}

/// The failed-login limits as a login path uses them: per client, and per account apart for
/// the account's known networks and for anywhere else (looked up only when it matters: a
/// failure, or an account already at a limit).
pub struct SignInGuard {
    limiter: FailureLimiter,
    pub known: KnownNetworks,
}

impl SignInGuard {
    pub fn new(accounts: Accounts, settings: LimiterSettings) -> Self {
        Self {
            limiter: FailureLimiter::new(settings),
            known: KnownNetworks::new(accounts),
        }
    }

    async fn network(&self, login: &str, client: IpAddr) -> Network {
        if self.known.is_known(login, client).await {
            Network::Known
        } else {
            Network::Other
        }
    }

    /// How long `client` must wait before trying `login` again, and from which kind of network
    /// it asked, when it must.
    pub async fn blocked_for(&self, client: IpAddr, login: &str) -> Option<(Duration, Network)> {
        if !self.limiter.any_blocked(client, login) {
            return None;
        }
        let network = self.network(login, client).await;
        self.limiter
            .blocked_for(client, login, network)
            .map(|wait| (wait, network))
    }

    /// Counts a failed login; says from which kind of network it came.
    pub async fn failed(&self, client: IpAddr, login: &str) -> Network {
        let network = self.network(login, client).await;
        self.limiter.record_failure(client, login, network);
        network
    }

    /// Remembers a successful login's network.
    pub async fn succeeded(&self, client: IpAddr, login: &str) {
        self.known.remember(login, client).await;
    }

    /// How many clients and accounts the limiter remembers.
    pub fn tracked(&self) -> (usize, usize) {
        self.limiter.tracked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_a_slash_24_or_a_slash_64() {
        assert_eq!(
            network_of("198.51.100.7".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(
            network_of("::ffff:198.51.100.7".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        let client = Accounts::Clients;
        let (account, pair) = digests(client, "Jo@Example.com", "198.51.100.7".parse().unwrap());
        assert_eq!((account.len(), pair.len()), (64, 64));
        assert_eq!(
            digests(client, "jo@example.com", "198.51.100.200".parse().unwrap()),
            (account.clone(), pair.clone()),
            "the same account and network"
        );
        assert_ne!(
            digests(client, "jo@example.com", "198.51.101.7".parse().unwrap()).1,
            pair
        );
        assert_ne!(
            digests(client, "ann@example.com", "198.51.100.7".parse().unwrap()).1,
            pair
        );
        assert_ne!(
            digests(
                Accounts::Administrators,
                "jo@example.com",
                "198.51.100.7".parse().unwrap()
            )
            .0,
            account,
            "administrators apart from clients"
        );
    }
}
