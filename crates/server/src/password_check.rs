//! Runs argon2 verifications off the async executor, a bounded number at a time, and against a
//! dummy hash for unknown users so their failures cost the same time as wrong passwords.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

pub struct PasswordChecker {
    permits: Arc<Semaphore>,
    allow_weak: bool,
    dummy_hash: String,
    /// How many hashes were computed, for metrics and for proving the cache works.
    computed: AtomicU64,
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
        })
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
