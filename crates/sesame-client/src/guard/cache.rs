//! A small bounded cache of positive whoami answers, keyed by a digest of the credential.
//!
//! Hand-written on purpose: the TTL is the same for every entry, so insertion order is expiry
//! order and a `HashMap` plus a FIFO `VecDeque` is all a bounded TTL map needs — no cache crate
//! (and its dependencies) for that. Time is passed in, so the tests move it by hand.

use sesame_types::Session;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// A SHA-256 digest of the credential material: the credential itself is never a key.
pub(crate) type CacheKey = [u8; 32];

struct Entry {
    session: Session,
    inserted_at: Instant,
}

#[derive(Default)]
struct State {
    entries: HashMap<CacheKey, Entry>,
    /// Keys in insertion (and so expiry) order; always the same keys as `entries`.
    order: VecDeque<CacheKey>,
}

/// Sessions for at most `ttl` after whoami confirmed them, and never past their own expiry.
pub(crate) struct SessionCache {
    ttl: Duration,
    max_entries: usize,
    state: Mutex<State>,
}

impl SessionCache {
    /// A cache of up to `max_entries` sessions, each kept for `ttl`.
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            state: Mutex::new(State::default()),
        }
    }

    /// The configured time to live.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The configured bound.
    pub(crate) fn max_entries(&self) -> usize {
        self.max_entries
    }

    // A panic while the lock was held cannot leave the map half-updated in a way that matters
    // (every update is a plain insert or remove), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached session for `key`, unless its TTL has passed at `now` or the session itself
    /// has expired at `wall_now`.
    pub(crate) fn get(
        &self,
        key: &CacheKey,
        now: Instant,
        wall_now: SystemTime,
    ) -> Option<Session> {
        let mut state = self.lock();
        self.evict_stale(&mut state, now);
        let entry = state.entries.get(key)?;
        // The TTL is checked per entry too: `evict_stale` stops at the first live entry.
        if self.is_stale(entry, now) || SystemTime::from(entry.session.expires_at) <= wall_now {
            return None;
        }
        Some(entry.session.clone())
    }

    /// Remembers `session` for `key` from `now`, evicting the oldest entries past the bound.
    /// Sessions already expired at `wall_now` are not kept.
    pub(crate) fn insert(
        &self,
        key: CacheKey,
        session: Session,
        now: Instant,
        wall_now: SystemTime,
    ) {
        if self.max_entries == 0 || SystemTime::from(session.expires_at) <= wall_now {
            return;
        }
        let mut state = self.lock();
        self.evict_stale(&mut state, now);
        if state.entries.remove(&key).is_some() {
            // Rare (two concurrent misses for one credential, or a refreshed session): O(n) is
            // fine here and keeps `order` and `entries` in step.
            state.order.retain(|k| k != &key);
        }
        while state.entries.len() >= self.max_entries {
            let Some(oldest) = state.order.pop_front() else {
                break;
            };
            state.entries.remove(&oldest);
        }
        state.order.push_back(key);
        state.entries.insert(
            key,
            Entry {
                session,
                inserted_at: now,
            },
        );
    }

    /// How many entries are held (expired ones included until they are evicted).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Every key held, oldest first.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<CacheKey> {
        self.lock().order.iter().copied().collect()
    }

    fn is_stale(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.inserted_at) >= self.ttl
    }

    /// Drops entries whose TTL has passed, oldest first.
    fn evict_stale(&self, state: &mut State, now: Instant) {
        while let Some(oldest) = state.order.front() {
            match state.entries.get(oldest) {
                Some(entry) if !self.is_stale(entry, now) => break,
                _ => {
                    if let Some(oldest) = state.order.pop_front() {
                        state.entries.remove(&oldest);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn session(expires_at: DateTime<Utc>) -> Session {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::new_v4(),
            "active": true,
            "expires_at": expires_at.to_rfc3339(),
            "authenticated_at": "2024-01-01T00:00:00Z",
            "authenticator_assurance_level": "aal1",
            "issued_at": "2024-01-01T00:00:00Z",
            "identity": null,
        }))
        .unwrap()
    }

    fn key(n: u8) -> CacheKey {
        [n; 32]
    }

    /// A wall clock and a later session expiry.
    fn wall() -> (SystemTime, DateTime<Utc>) {
        let now = Utc::now();
        (SystemTime::from(now), now + chrono::Duration::hours(1))
    }

    #[test]
    fn a_fresh_entry_is_served_until_its_ttl_passes() {
        let cache = SessionCache::new(Duration::from_secs(10), 8);
        let (wall_now, expires) = wall();
        let t0 = Instant::now();
        let s = session(expires);
        cache.insert(key(1), s.clone(), t0, wall_now);
        assert_eq!(cache.get(&key(1), t0, wall_now), Some(s.clone()));
        let almost = t0 + Duration::from_millis(9_999);
        assert_eq!(cache.get(&key(1), almost, wall_now), Some(s));
        assert_eq!(
            cache.get(&key(1), t0 + Duration::from_secs(10), wall_now),
            None
        );
        assert_eq!(cache.len(), 0, "an expired entry is evicted");
        assert_eq!(cache.get(&key(2), t0, wall_now), None);
    }

    #[test]
    fn the_oldest_entries_are_evicted_past_the_bound() {
        let cache = SessionCache::new(Duration::from_secs(60), 3);
        let (wall_now, expires) = wall();
        let t0 = Instant::now();
        for n in 1..=5 {
            let at = t0 + Duration::from_secs(u64::from(n));
            cache.insert(key(n), session(expires), at, wall_now);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.keys(), [key(3), key(4), key(5)]);
        let later = t0 + Duration::from_secs(6);
        assert!(cache.get(&key(1), later, wall_now).is_none());
        assert!(cache.get(&key(2), later, wall_now).is_none());
        assert!(cache.get(&key(5), later, wall_now).is_some());
    }

    #[test]
    fn inserting_a_key_again_replaces_it_and_renews_its_ttl() {
        let cache = SessionCache::new(Duration::from_secs(10), 2);
        let (wall_now, expires) = wall();
        let t0 = Instant::now();
        cache.insert(key(1), session(expires), t0, wall_now);
        cache.insert(key(2), session(expires), t0, wall_now);
        let renewed = session(expires);
        cache.insert(
            key(1),
            renewed.clone(),
            t0 + Duration::from_secs(5),
            wall_now,
        );
        assert_eq!(cache.keys(), [key(2), key(1)]);
        let later = t0 + Duration::from_secs(12);
        assert_eq!(cache.get(&key(1), later, wall_now), Some(renewed));
        assert_eq!(cache.get(&key(2), later, wall_now), None);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_session_past_its_own_expiry_is_a_miss_within_the_ttl() {
        let cache = SessionCache::new(Duration::from_secs(60), 8);
        let now = Utc::now();
        let t0 = Instant::now();
        let expires = now + chrono::Duration::seconds(5);
        cache.insert(key(1), session(expires), t0, SystemTime::from(now));
        let before = SystemTime::from(expires - chrono::Duration::milliseconds(1));
        assert!(cache.get(&key(1), t0, before).is_some());
        assert!(cache.get(&key(1), t0, SystemTime::from(expires)).is_none());
    }

    #[test]
    fn an_already_expired_session_is_not_kept_and_a_zero_bound_keeps_nothing() {
        let now = Utc::now();
        let t0 = Instant::now();
        let cache = SessionCache::new(Duration::from_secs(60), 8);
        cache.insert(key(1), session(now), t0, SystemTime::from(now));
        assert_eq!(cache.len(), 0);
        let cache = SessionCache::new(Duration::from_secs(60), 0);
        let (wall_now, expires) = wall();
        cache.insert(key(1), session(expires), t0, wall_now);
        assert_eq!(cache.len(), 0);
    }
}
