//! The optional in-process cache of whoami's lookups (`session.whoami.cache`): the active session
//! and its identity by token digest, bounded in entries and in age, dropped the moment anything
//! that could change the answer is written (see [`crate::caching_store`]) — on this node directly,
//! on the other nodes of a PostgreSQL database through an [`InvalidationBus`].
//!
//! Hand-written rather than a cache crate: invalidation needs the entries by session id and by
//! identity as well as by token digest, and a fill must be refused when an invalidation happened
//! while its database read was in flight (the epoch below). A general-purpose cache would need a
//! second structure kept in step with its evictions for the first, and cannot express the second.
//! Eviction is first-in first-out, which for entries that all live the same `ttl` is also
//! oldest-first; a hit takes a read lock and no write, and copies nothing: the session and its
//! identity are shared ([`SharedSession`]), and each entry has a [`Memo`] where the HTTP layer keeps
//! what it rendered from it.

use crate::identity::Identity;
use crate::ids::{IdentityId, SessionId};
use crate::session::Session;
use crate::store::StoreError;
use crate::token::TokenDigest;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// What a write may have changed, so the cached answers that depend on it are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// The session with this token digest.
    Token(TokenDigest),
    /// The session with this id.
    Session(SessionId),
    /// Every session of this identity (the identity itself changed, or all its sessions did).
    Identity(IdentityId),
    /// Everything.
    All,
}

/// Carries invalidations between the servers of one database (PostgreSQL: `LISTEN`/`NOTIFY`).
#[async_trait]
pub trait InvalidationBus: Send + Sync {
    /// Tells every node on the database about `batch`, and — when this node listens — waits
    /// (boundedly) until every node known to cache has confirmed that it dropped what the batch
    /// names, so that the write that caused it is answered only once no node serves the old answer.
    async fn publish(&self, batch: &[Invalidation]) -> Result<(), StoreError>;
    /// Joins the other nodes until the returned guard is dropped: hears their invalidations and
    /// applies them to `cache` (confirming each), and hears their confirmations of this node's.
    /// The cache is suspended (bypassed and empty) whenever the notification connection is down,
    /// and emptied again when it is back, since messages may have been missed meanwhile.
    fn listen(&self, cache: Option<Arc<WhoamiCache>>) -> Listening;
    /// Tells the other nodes that this one stops, so that they no longer wait for it.
    async fn leave(&self) {}
}

/// Stops a listener when dropped.
#[derive(Debug)]
pub struct Listening(Option<tokio::task::AbortHandle>);

impl Listening {
    /// A guard for a listening task.
    pub fn new(task: tokio::task::AbortHandle) -> Self {
        Self(Some(task))
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Taken before a database read; a fill with a ticket from before the latest invalidation is
/// refused, because the read may have seen the data the invalidation was about.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

struct Entry {
    session: Arc<Session>,
    filled_at: DateTime<Utc>,
    seq: u64,
    memo: Arc<Memo>,
}

/// A place for what a caller derives from one cached answer (the server keeps whoami's rendered
/// body there). It belongs to the cache entry: an invalidation or eviction drops the entry and its
/// memo with it, and a refill starts with an empty one, so nothing kept here outlives the answer.
/// The session of an entry never changes; its identity is shared with the identity's other
/// cached sessions and is replaced when one of them is filled again, so a memo that depends on
/// the identity records which one it was made from (compare with [`Arc::ptr_eq`]).
#[derive(Default)]
pub struct Memo(OnceLock<Arc<dyn Any + Send + Sync>>);

impl Memo {
    /// The kept value, made by `make` if nothing was kept yet; `None` if what is kept is not a `T`.
    pub fn get_or_init<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Option<Arc<T>> {
        let kept: Arc<dyn Any + Send + Sync> = self.0.get_or_init(|| Arc::new(make())).clone();
        kept.downcast::<T>().ok()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("kept", &self.0.get().is_some())
            .finish()
    }
}

/// A session and its identity as whoami's lookup found them, shared rather than copied, with the
/// [`Memo`] of the cache entry they are (when they come from, or were just put in, the cache).
#[derive(Debug, Clone)]
pub struct SharedSession {
    /// The session.
    pub session: Arc<Session>,
    /// Its identity.
    pub identity: Arc<Identity>,
    /// The cache entry's memo.
    pub memo: Option<Arc<Memo>>,
}

impl SharedSession {
    /// An answer that is not in the cache.
    pub fn uncached(session: Session, identity: Identity) -> Self {
        Self {
            session: Arc::new(session),
            identity: Arc::new(identity),
            memo: None,
        }
    }
}

/// An identity shared by the cached sessions of it, and which those are.
struct Owner {
    identity: Arc<Identity>,
    tokens: Vec<TokenDigest>,
}

#[derive(Default)]
struct Entries {
    by_token: HashMap<TokenDigest, Arc<Entry>>,
    by_session: HashMap<SessionId, TokenDigest>,
    by_identity: HashMap<IdentityId, Owner>,
    /// Insertion order for eviction; an item whose `seq` no longer matches its entry is stale.
    order: VecDeque<(TokenDigest, u64)>,
    next_seq: u64,
}

impl Entries {
    fn remove(&mut self, token: &TokenDigest) {
        let Some(entry) = self.by_token.remove(token) else {
            return;
        };
        let session = &entry.session;
        if self.by_session.get(&session.id) == Some(token) {
            self.by_session.remove(&session.id);
        }
        if let Some(owner) = self.by_identity.get_mut(&session.identity_id) {
            owner.tokens.retain(|t| t != token);
            if owner.tokens.is_empty() {
                self.by_identity.remove(&session.identity_id);
            }
        }
    }

    fn remove_identity(&mut self, id: IdentityId) {
        if let Some(owner) = self.by_identity.remove(&id) {
            for token in owner.tokens {
                if let Some(entry) = self.by_token.remove(&token) {
                    self.by_session.remove(&entry.session.id);
                }
            }
        }
    }

    fn clear(&mut self) {
        *self = Entries {
            next_seq: self.next_seq,
            ..Entries::default()
        };
    }

    /// Drops stale items from the eviction queue once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.by_token.len() + 1024 {
            let by_token = &self.by_token;
            self.order
                .retain(|(token, seq)| by_token.get(token).is_some_and(|e| e.seq == *seq));
        }
    }
}

/// The cache. Cheap to share: every method takes `&self`.
pub struct WhoamiCache {
    ttl: chrono::Duration,
    max_entries: usize,
    epoch: AtomicU64,
    serving: AtomicBool,
    entries: RwLock<Entries>,
    stats: Counters,
}

/// What the cache did since it was made, for monitoring. Relaxed atomics: a lookup pays one
/// increment and takes no lock for it, and a reader needs each number exact on its own, not
/// consistent with the others at one instant.
#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
}

/// A snapshot of the cache's counters and size (see [`WhoamiCache::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups the cache could not answer (absent, too old, or the cache suspended), which went to
    /// the database.
    pub misses: u64,
    /// Invalidations applied (each write's, this node's or heard from another node, and each
    /// suspension), whether or not they found an entry to drop.
    pub invalidations: u64,
    /// Answers cached now.
    pub entries: u64,
    /// Whether the cache answers lookups (false while a node cannot hear the others).
    pub serving: bool,
}

impl std::fmt::Debug for WhoamiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhoamiCache")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("serving", &self.is_serving())
            .field("len", &self.len())
            .finish()
    }
}

impl WhoamiCache {
    /// A serving cache of at most `max_entries` answers, each kept at most `ttl`.
    pub fn new(ttl: chrono::Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries: max_entries.max(1),
            epoch: AtomicU64::new(0),
            serving: AtomicBool::new(true),
            entries: RwLock::new(Entries::default()),
            stats: Counters::default(),
        }
    }

    /// The counters since the cache was made, its size and whether it serves.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.stats.hits.load(Ordering::Relaxed),
            misses: self.stats.misses.load(Ordering::Relaxed),
            invalidations: self.stats.invalidations.load(Ordering::Relaxed),
            entries: self.len() as u64,
            serving: self.is_serving(),
        }
    }

    /// Whether lookups are answered from the cache (false while a node cannot hear the others).
    pub fn is_serving(&self) -> bool {
        self.serving.load(Ordering::Acquire)
    }

    /// How many answers are cached.
    pub fn len(&self) -> usize {
        self.read().by_token.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached session with this token digest and its identity, if one was cached less than
    /// `ttl` before `now`. The caller still applies the activity and AAL rules at `now`.
    pub fn get(&self, token: &TokenDigest, now: DateTime<Utc>) -> Option<SharedSession> {
        let found = self.lookup(token, now);
        let counter = if found.is_some() {
            &self.stats.hits
        } else {
            &self.stats.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn lookup(&self, token: &TokenDigest, now: DateTime<Utc>) -> Option<SharedSession> {
        if !self.is_serving() {
            return None;
        }
        let (entry, identity) = {
            let entries = self.read();
            let entry = entries.by_token.get(token)?.clone();
            let identity = entries
                .by_identity
                .get(&entry.session.identity_id)?
                .identity
                .clone();
            (entry, identity)
        };
        if now - entry.filled_at >= self.ttl || now < entry.filled_at {
            return None;
        }
        Some(SharedSession {
            session: entry.session.clone(),
            identity,
            memo: Some(entry.memo.clone()),
        })
    }

    /// Taken before reading the database for [`WhoamiCache::fill`]; `None` while not serving.
    pub fn ticket(&self) -> Option<Ticket> {
        self.is_serving()
            .then(|| Ticket(self.epoch.load(Ordering::Acquire)))
    }

    /// Caches what the database answered for a ticket taken before the read, if the session is
    /// active at `now` (only positive answers are kept) and nothing was invalidated since.
    pub fn fill(&self, ticket: Ticket, session: &Session, identity: &Identity, now: DateTime<Utc>) {
        self.fill_shared(
            ticket,
            &SharedSession::uncached(session.clone(), identity.clone()),
            now,
        );
    }

    /// [`WhoamiCache::fill`] without copying: caches `found` (whose memo is ignored) and returns
    /// the new entry's memo, or `None` if nothing was cached.
    pub fn fill_shared(
        &self,
        ticket: Ticket,
        found: &SharedSession,
        now: DateTime<Utc>,
    ) -> Option<Arc<Memo>> {
        let (session, identity) = (&found.session, &found.identity);
        if !session.is_active(now, Some(identity)) || session.identity_id != identity.id {
            return None;
        }
        let mut entries = self.write();
        if self.epoch.load(Ordering::Acquire) != ticket.0 || !self.is_serving() {
            return None;
        }
        let token = session.token_digest.clone();
        entries.remove(&token);
        while entries.by_token.len() >= self.max_entries {
            let Some((oldest, seq)) = entries.order.pop_front() else {
                break;
            };
            if entries.by_token.get(&oldest).is_some_and(|e| e.seq == seq) {
                entries.remove(&oldest);
            }
        }
        let seq = entries.next_seq;
        entries.next_seq += 1;
        entries.order.push_back((token.clone(), seq));
        entries.by_session.insert(session.id, token.clone());
        let identity = identity.clone();
        entries
            .by_identity
            .entry(session.identity_id)
            .and_modify(|o| {
                o.identity = identity.clone();
                o.tokens.push(token.clone());
            })
            .or_insert_with(|| Owner {
                identity,
                tokens: vec![token.clone()],
            });
        let memo = Arc::new(Memo::default());
        entries.by_token.insert(
            token,
            Arc::new(Entry {
                session: session.clone(),
                filled_at: now,
                seq,
                memo: memo.clone(),
            }),
        );
        entries.compact();
        Some(memo)
    }

    /// Drops what `what` names, and refuses the fills of reads that began before.
    pub fn invalidate(&self, what: &Invalidation) {
        self.stats.invalidations.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.write();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match what {
            Invalidation::Token(token) => entries.remove(token),
            Invalidation::Session(id) => {
                if let Some(token) = entries.by_session.get(id).cloned() {
                    entries.remove(&token);
                }
            }
            Invalidation::Identity(id) => entries.remove_identity(*id),
            Invalidation::All => entries.clear(),
        }
        entries.compact();
    }

    /// Stops answering and empties the cache: this node may be missing invalidations.
    pub fn suspend(&self) {
        self.stats.invalidations.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.write();
        self.serving.store(false, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Empties the cache and answers from it again: this node hears every invalidation from now on.
    pub fn resume(&self) {
        let mut entries = self.write();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.serving.store(true, Ordering::Release);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[path = "whoami_cache_tests.rs"]
mod tests;
