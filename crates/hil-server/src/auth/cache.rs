//! Credentials checked recently, so that a request does not pay for a full password hash: one
//! cache holds the verified ones, another the rejected ones. An entry is keyed by a keyed MAC
//! of (user, password), never the password, and holds the stored hash it was checked against:
//! a password change or a deleted user makes it miss, in every process sharing the database,
//! because the caller always reads the current user row first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Entries kept at most; when full, expired ones go, and if none had expired, all of them
/// (the cache only saves work, forgetting is always safe).
const CAPACITY: usize = 10_000;

pub struct CredentialCache {
    ttl: Duration,
    /// Random per process: the MACs mean nothing outside it.
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

struct Entry {
    user: String,
    stored_hash: String,
    expires: Instant,
}

impl CredentialCache {
    /// A cache whose entries live `ttl` (zero: a cache that never hits).
    pub fn new(ttl: Duration) -> CredentialCache {
        CredentialCache {
            ttl,
            key: rand::random(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, user: &str, password: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether (user, password) was remembered against this very stored hash.
    pub fn hit(&self, user: &str, password: &str, stored_hash: &str) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let mac = self.mac(user, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&mac).is_some_and(|e| {
            e.expires > Instant::now() && e.user == user && e.stored_hash == stored_hash
        })
    }

    /// Whether (user, password) has an unexpired entry, whatever hash it was checked against.
    pub fn remembers(&self, user: &str, password: &str) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let mac = self.mac(user, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&mac)
            .is_some_and(|e| e.expires > Instant::now() && e.user == user)
    }

    pub fn remember(&self, user: &str, password: &str, stored_hash: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let mac = self.mac(user, password);
        let entry = Entry {
            user: user.to_string(),
            stored_hash: stored_hash.to_string(),
            expires: Instant::now() + self.ttl,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            let now = Instant::now();
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(mac, entry);
    }

    /// Forgets every entry of `user` (user deleted or password changed).
    pub fn forget(&self, user: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, e| e.user != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_the_same_password_and_hash() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        cache.remember("alice", "pw", "$h1");
        cache.remember("alice", "pw2", "$h1");
        assert!(cache.hit("alice", "pw", "$h1"));
        assert!(cache.hit("alice", "pw2", "$h1"));
        assert!(cache.remembers("alice", "pw") && !cache.remembers("alice", "other"));
        assert!(!cache.hit("alice", "other", "$h1"));
        assert!(!cache.hit("alice", "pw", "$h2"), "a changed hash must miss");
        assert!(!cache.hit("bob", "pw", "$h1"));
        cache.forget("alice");
        assert!(!cache.hit("alice", "pw", "$h1"));
        assert!(!cache.hit("alice", "pw2", "$h1"));
    }

    #[test]
    fn entries_expire() {
        let cache = CredentialCache::new(Duration::from_millis(1));
        cache.remember("alice", "pw", "$h1");
        std::thread::sleep(Duration::from_millis(5));
        assert!(!cache.hit("alice", "pw", "$h1"));
    }

    #[test]
    fn a_zero_ttl_never_hits() {
        let cache = CredentialCache::new(Duration::ZERO);
        cache.remember("alice", "pw", "$h1");
        assert!(!cache.hit("alice", "pw", "$h1"));
    }
}
