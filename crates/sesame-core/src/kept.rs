//! A small bounded map of values derived from something expensive to derive again (a decoded row,
//! a rendered identity), each kept with what it was derived from so that the caller can check it
//! still applies. Not a cache of answers: a kept value is used only when its source is equal to
//! the one at hand, so using it never changes a result.
//!
//! Hand-written rather than a cache crate: eviction only has to bound memory (any one entry makes
//! room; a live key is simply derived again on its next use), which a `HashMap` does in a few lines.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock};

/// At most `capacity` values by key.
#[derive(Debug)]
pub struct Kept<K, V> {
    entries: RwLock<HashMap<K, Arc<V>>>,
    capacity: usize,
}

impl<K: Eq + Hash + Copy, V> Kept<K, V> {
    /// Keeps at most `capacity` (at least one) values.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The value kept for `key`.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Keeps `value` for `key`, in place of what was kept for it; when full, another key's value
    /// makes room.
    pub fn keep(&self, key: K, value: Arc<V>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity
            && !entries.contains_key(&key)
            && let Some(old) = entries.keys().next().copied()
        {
            entries.remove(&old);
        }
        entries.insert(key, value);
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Kept;
    use std::sync::Arc;

    #[test]
    fn a_value_is_replaced_by_its_key_and_the_bound_holds() {
        let kept = Kept::new(2);
        kept.keep(1, Arc::new("a"));
        kept.keep(1, Arc::new("b"));
        assert_eq!(kept.len(), 1);
        assert_eq!(*kept.get(&1).unwrap(), "b");
        kept.keep(2, Arc::new("c"));
        kept.keep(3, Arc::new("d"));
        assert_eq!(kept.len(), 2);
        assert_eq!(*kept.get(&3).unwrap(), "d");
        assert!(kept.get(&4).is_none());
    }
}
