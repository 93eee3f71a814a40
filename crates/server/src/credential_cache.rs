//! Remembers, for a short time, that a login name and password were correct, so Outlook's
//! hourly polling does not cost an argon2 computation each time.
//!
//! Entries are keyed by HMAC-SHA256 of the login and password under a key that lives only in this
//! process: the cache never holds a password or anything that can be tested offline. Each entry
//! remembers the stored hash it was verified against, so a password change ends it at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type CacheKey = [u8; 32];

struct Entry {
    address: String,
    password_hash: String,
    expires: Instant,
}

pub struct CredentialCache {
    key: [u8; 32],
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl CredentialCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            key: rand::random(),
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn key_for(&self, login: &str, password: &str) -> CacheKey {
        // The key is 32 bytes, which HMAC always accepts; fall back to an unusable key otherwise.
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&self.key) else {
            return [0; 32];
        };
        // Login names match ignoring case; lowercase them into the MAC a piece at a time.
        let mut buffer = [0u8; 4];
        for c in login.chars().flat_map(char::to_lowercase) {
            mac.update(c.encode_utf8(&mut buffer).as_bytes());
        }
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The address remembered for `key`, if it has not expired and `still_current(address,
    /// hash)` says the password hash it was verified against is still that address's.
    pub fn lookup(
        &self,
        key: &CacheKey,
        still_current: impl FnOnce(&str, &str) -> bool,
    ) -> Option<String> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        let valid =
            entry.expires > Instant::now() && still_current(&entry.address, &entry.password_hash);
        if valid {
            Some(entry.address.clone())
        } else {
            entries.remove(key);
            None
        }
    }

    pub fn remember(&self, key: CacheKey, address: &str, password_hash: &str) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.expires > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live entries: forget everything rather than grow. Users pay one
            // argon2 check each on their next poll.
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                address: address.to_string(),
                password_hash: password_hash.to_string(),
                expires: now + self.ttl,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_hash_changes_or_expiry() {
        let cache = CredentialCache::new(Duration::from_secs(60), 10);
        let key = cache.key_for("Jo@X.y", "pw");
        assert_eq!(key, cache.key_for("jo@x.y", "pw"));
        assert_ne!(key, cache.key_for("jo@x.y", "other"));
        cache.remember(key, "jo@x.y", "h1");
        assert_eq!(
            cache.lookup(&key, |_, hash| hash == "h1").as_deref(),
            Some("jo@x.y")
        );
        assert_eq!(cache.lookup(&key, |_, hash| hash == "h2"), None);
        assert_eq!(cache.lookup(&key, |_, hash| hash == "h1"), None, "evicted");

        let short = CredentialCache::new(Duration::from_millis(0), 10);
        let key = short.key_for("a", "b");
        short.remember(key, "a@x.y", "h");
        assert_eq!(short.lookup(&key, |_, hash| hash == "h"), None);
    }

    #[test]
    fn stays_within_capacity() {
        let cache = CredentialCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.remember(cache.key_for(&format!("u{i}"), "p"), "a@x.y", "h");
            assert!(cache.len() <= 3);
        }
    }
}
