//! One-at-a-time per key: the OBM service serialises requests per node, the VM service
//! hypervisor calls per VM.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

pub struct KeyedLocks<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K: Eq + Hash + Clone> Default for KeyedLocks<K> {
    fn default() -> Self {
        KeyedLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    /// The lock of `key`; lock it (e.g. `lock_owned`) to take `key`'s turn.
    pub fn of(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        // Locks nobody holds or waits for are dropped, so the map does not grow with every
        // node or VM ever seen.
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(key.clone()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_key_and_idle_locks_are_forgotten() {
        let locks = KeyedLocks::default();
        let a = locks.of(&1).lock_owned().await;
        assert!(locks.of(&1).try_lock().is_err(), "key 1 is taken");
        assert!(locks.of(&2).try_lock().is_ok(), "other keys are free");
        drop(a);
        assert!(locks.of(&1).try_lock().is_ok());
        assert_eq!(locks.locks.lock().unwrap().len(), 1);
    }
}
