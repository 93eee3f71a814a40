//! A bounded memo for work whose result depends only on its input: parsed request bodies and
//! generated answers (those also on the configuration version, which their keys include). Outlook
//! asks the same question every time it starts and every hour after, so most answers are asked
//! for again and again.
//!
//! Shards with a mutex each, so threads rarely wait on one another. Each key is hashed once, with
//! a per-process random key (no one can aim requests at one shard); a full shard is emptied
//! rather than grown, and each shard has a byte budget too, which keeps memory bounded whatever
//! the traffic (large bodies or answers asked for by strangers included).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const SHARDS: usize = 16;

struct Shard<K, V> {
    /// Key, value and weight, by the key's hash.
    entries: HashMap<u64, (K, V, usize), BuildHasherDefault<PreHashed>>,
    bytes: usize,
}

pub struct Memo<K, V> {
    shards: Vec<Mutex<Shard<K, V>>>,
    per_shard: usize,
    bytes_per_shard: usize,
    hasher: RandomState,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K: PartialEq, V: Clone> Memo<K, V> {
    /// A memo of at most `capacity` entries weighing at most `bytes` in all; 0 keeps nothing.
    pub fn new(capacity: usize, bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::default(),
                        bytes: 0,
                    })
                })
                .collect(),
            per_shard: capacity.div_ceil(SHARDS),
            bytes_per_shard: bytes / SHARDS,
            hasher: RandomState::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.per_shard > 0
    }

    /// The hash to look `key` up by (any form of the key that hashes like the stored one).
    pub fn hash_of<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    fn shard(&self, hash: u64) -> &Mutex<Shard<K, V>> {
        &self.shards[(hash >> 60) as usize % SHARDS]
    }

    /// The value stored under `hash` whose key `matches`.
    pub fn get(&self, hash: u64, matches: impl FnOnce(&K) -> bool) -> Option<V> {
        if !self.is_enabled() {
            return None;
        }
        let found = self.shard(hash).lock().ok().and_then(|shard| {
            shard
                .entries
                .get(&hash)
                .filter(|(key, _, _)| matches(key))
                .map(|(_, value, _)| value.clone())
        });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Remembers `value` for `key`; `weight` is roughly the bytes both hold.
    pub fn insert(&self, hash: u64, key: K, value: V, weight: usize) {
        if !self.is_enabled() || weight > self.bytes_per_shard {
            return;
        }
        let Ok(mut shard) = self.shard(hash).lock() else {
            return;
        };
        if let Some((_, _, replaced)) = shard.entries.remove(&hash) {
            shard.bytes -= replaced;
        }
        if shard.entries.len() >= self.per_shard || shard.bytes + weight > self.bytes_per_shard {
            shard.entries.clear();
            shard.bytes = 0;
        }
        shard.entries.insert(hash, (key, value, weight));
        shard.bytes += weight;
    }

    /// Lookups answered from the memo, and not.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|s| s.entries.len()).unwrap_or(0))
            .sum()
    }
}

/// The maps are keyed by a hash already computed with the memo's random key: using it as it is
/// saves hashing twice.
#[derive(Default)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; fold anything else in rather than ignore it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_checks_keys_and_stays_bounded() {
        let memo: Memo<String, u32> = Memo::new(32, 1 << 20);
        let hash = memo.hash_of("a");
        assert_eq!(memo.get(hash, |k| k == "a"), None);
        memo.insert(hash, "a".into(), 1, 1);
        assert_eq!(memo.get(hash, |k| k == "a"), Some(1));
        // The same hash under another key (a collision) is not an answer.
        assert_eq!(memo.get(hash, |k| k == "b"), None);
        for i in 0..10_000 {
            let key = i.to_string();
            memo.insert(memo.hash_of(&key), key, i, 1);
        }
        assert!(memo.len() <= 32, "{}", memo.len());
        assert_eq!(memo.hits_and_misses(), (1, 2));

        // Heavy entries: the byte budget, not the count, is the bound.
        let heavy: Memo<u32, u32> = Memo::new(1000, 16 * 100);
        for i in 0..1000 {
            heavy.insert(heavy.hash_of(&i), i, i, 60);
        }
        assert!(heavy.len() <= 16, "{}", heavy.len());
        heavy.insert(1, 1, 1, 101);
        assert_eq!(
            heavy.get(1, |_| true),
            None,
            "heavier than a shard's budget"
        );

        let off: Memo<String, u32> = Memo::new(0, 0);
        off.insert(1, "a".into(), 1, 1);
        assert_eq!(off.get(1, |_| true), None);
    }
}
