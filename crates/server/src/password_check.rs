//! Runs argon2 verifications off the async executor, a bounded number at a time, and against a
//! dummy hash for unknown users so their failures cost the same time as wrong passwords.
//! Identical checks in flight are made once: Outlook sends several requests with the same
//! credentials at once, and every client does again after a restart; the others wait for the
//! first one's answer (right or wrong) instead of computing their own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, watch};

/// What makes two checks the same: the credentials (as the credential cache keys them) and the
/// hash they are checked against (`None`: an unknown user).
pub type FlightKey = ([u8; 32], Option<String>);

pub struct PasswordChecker {
    permits: Arc<Semaphore>,
    allow_weak: bool,
    dummy_hash: String,
    /// How many hashes were computed, for metrics and for proving the cache works.
    computed: AtomicU64,
    /// Checks being computed, each with the channel its answer will be sent on. Bounded by
    /// the requests in progress.
    in_flight: Mutex<HashMap<FlightKey, watch::Receiver<Option<bool>>>>,
}

/// Removes a flight from the table when its computation ends (or is dropped half way, when its
/// request goes away: the waiters then compute for themselves).
struct Flight<'a> {
    table: &'a Mutex<HashMap<FlightKey, watch::Receiver<Option<bool>>>>,
    key: FlightKey,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if let Ok(mut table) = self.table.lock() {
            table.remove(&self.key);
        }
    }
}

impl PasswordChecker {
    pub fn new(concurrency: usize, allow_weak: bool) -> anyhow::Result<Self> {
        let throwaway: [u8; 16] = rand::random();
        let dummy_hash = signpost_core::password::hash_password(&format!("{throwaway:02x?}"))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            allow_weak,
            dummy_hash,
            computed: AtomicU64::new(0),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// [`PasswordChecker::verify`], made once for all identical checks in flight (`key`).
    pub async fn verify_once(&self, key: FlightKey, hash: Option<&str>, password: &str) -> bool {
        let (sender, flight) = {
            let Ok(mut table) = self.in_flight.lock() else {
                return self.verify(hash, password).await;
            };
            match table.get(&key) {
                Some(answer) => (None, Some(answer.clone())),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    table.insert(key.clone(), receiver);
                    (Some(sender), None)
                }
            }
        };
        if let Some(mut answer) = flight {
            loop {
                if let Some(matched) = *answer.borrow_and_update() {
                    return matched;
                }
                if answer.changed().await.is_err() {
                    // The first check went away unanswered: check here.
                    return self.verify(hash, password).await;
                }
            }
        }
        let _flight = Flight {
            table: &self.in_flight,
            key,
        };
        let matched = self.verify(hash, password).await;
        if let Some(sender) = sender {
            let _ = sender.send(Some(matched));
        }
        matched
    }

    /// Whether `password` matches `hash`; `None` (unknown user) always fails, in the same time.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_string();
        let password = password.to_string();
        let allow_weak = self.allow_weak;
        self.computed.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || {
            signpost_core::password::verify_password_allowing(&hash, &password, allow_weak)
        })
        .await
        .unwrap_or(false);
        matched && known
    }
}

impl PasswordChecker {
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }
}
