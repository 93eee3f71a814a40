//! Remembers, for a short time, that a login name and password were correct, so Outlook's
//! hourly polling does not cost an argon2 computation each time.
//!
//! Entries are keyed by HMAC-SHA256 of the login and password under a key that lives only in this
//! process: the cache never holds a password or anything that can be tested offline. Each entry
//! remembers what it was verified against (the stored hash, or the directory's settings), so a
//! password change in Signpost or a change of the domain's user source ends it at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use signpost_core::{User, UserRef, UserSource};

type CacheKey = [u8; 32];

/// Whose credentials a request carried, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// A built-in user, by address (the record is the snapshot's).
    Builtin(String),
    /// A user as the domain's directory described them.
    Directory(Arc<User>),
}

impl Verified {
    pub fn address(&self) -> &str {
        match self {
            Self::Builtin(address) => address,
            Self::Directory(user) => &user.address,
        }
    }

    /// The user's record: the snapshot's for built-in users, the directory's otherwise.
    pub fn user<'a>(&'a self, snapshot: &'a signpost_core::Snapshot) -> Option<UserRef<'a>> {
        match self {
            Self::Builtin(address) => snapshot.user(address),
            Self::Directory(user) => Some(user.view()),
        }
    }

    /// Directory users' details can change without Signpost's configuration changing, so
    /// answers for them are not remembered.
    pub fn is_from_directory(&self) -> bool {
        matches!(self, Self::Directory(_))
    }
}

/// What a remembered login was verified against.
#[derive(Debug, Clone)]
pub enum Proof {
    /// The built-in user's password hash at the time.
    Hash(String),
    /// The domain's directory settings at the time.
    Source(Arc<UserSource>),
}

struct Entry {
    verified: Verified,
    proof: Proof,
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

    /// The user remembered for `key`, if it has not expired and `still_current(user, proof)`
    /// says what it was verified against still holds.
    pub fn lookup(
        &self,
        key: &CacheKey,
        still_current: impl FnOnce(&Verified, &Proof) -> bool,
    ) -> Option<Verified> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        let valid = entry.expires > Instant::now() && still_current(&entry.verified, &entry.proof);
        if valid {
            Some(entry.verified.clone())
        } else {
            entries.remove(key);
            None
        }
    }

    pub fn remember(&self, key: CacheKey, verified: Verified, proof: Proof) {
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
                verified,
                proof,
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

    fn jo() -> Verified {
        Verified::Builtin("jo@x.y".into())
    }

    #[test]
    fn remembers_until_hash_changes_or_expiry() {
        let cache = CredentialCache::new(Duration::from_secs(60), 10);
        let key = cache.key_for("Jo@X.y", "pw");
        assert_eq!(key, cache.key_for("jo@x.y", "pw"));
        assert_ne!(key, cache.key_for("jo@x.y", "other"));
        let hash_is = |wanted: &'static str| move |_: &Verified, proof: &Proof| matches!(proof, Proof::Hash(h) if h == wanted);
        cache.remember(key, jo(), Proof::Hash("h1".into()));
        assert_eq!(cache.lookup(&key, hash_is("h1")), Some(jo()));
        assert_eq!(cache.lookup(&key, hash_is("h2")), None);
        assert_eq!(cache.lookup(&key, hash_is("h1")), None, "evicted");

        let short = CredentialCache::new(Duration::from_millis(0), 10);
        let key = short.key_for("a", "b");
        short.remember(key, jo(), Proof::Hash("h".into()));
        assert_eq!(short.lookup(&key, hash_is("h")), None);
    }

    #[test]
    fn stays_within_capacity() {
        let cache = CredentialCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.remember(
                cache.key_for(&format!("u{i}"), "p"),
                jo(),
                Proof::Hash("h".into()),
            );
            assert!(cache.len() <= 3);
        }
    }
}
