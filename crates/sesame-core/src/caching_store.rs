//! The one place where whoami's cache meets writes: a [`Store`] that wraps the real one, answers
//! token lookups from a [`WhoamiCache`], and after every write that can change a whoami answer
//! drops what it touched — here, and through the [`InvalidationBus`] on every other node of the
//! database. Services never invalidate anything themselves, so a new write path cannot forget to.
//!
//! Which writes invalidate what:
//! - sessions by token (logout) or by their `Session` (re-authentication, AAL upgrade): the token;
//! - sessions by id (revoke, admin disable, extend, bulk by id): the session;
//! - an identity (update, state, credentials, delete) or all its sessions: the identity;
//! - bulk operations on every session: everything.
//!
//! New identities and sessions change no cached answer (only positive answers are cached), and
//! neither does cleanup: it deletes sessions that expired (every hit checks the expiry) or that
//! were deactivated, which invalidated them then.

use crate::clock::Clock;
use crate::flow::FlowRecord;
use crate::identity::{Credential, CredentialType, Identity};
use crate::ids::{FlowId, IdentityId, SessionId};
use crate::session::Session;
use crate::store::{
    BulkStore, Expired, FlowStore, IdentityQuery, IdentityStore, SessionAdminStore, SessionQuery,
    SessionSelector, SessionStore, Store, StoreError,
};
use crate::token::TokenDigest;
use crate::whoami_cache::{Invalidation, InvalidationBus, SharedSession, WhoamiCache};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Above this many items a bulk invalidation is sent as "everything".
const MAX_BATCH: usize = 1000;

/// A store that caches whoami lookups and invalidates on writes.
pub struct CachingStore {
    inner: Arc<dyn Store>,
    cache: Option<Arc<WhoamiCache>>,
    bus: Option<Arc<dyn InvalidationBus>>,
    clock: Arc<dyn Clock>,
}

impl CachingStore {
    /// Wraps `inner`. Without a cache, writes are still announced on `bus`, for the nodes that
    /// have one.
    pub fn new(
        inner: Arc<dyn Store>,
        cache: Option<Arc<WhoamiCache>>,
        bus: Option<Arc<dyn InvalidationBus>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner,
            cache,
            bus,
            clock,
        }
    }

    /// Runs a write, then invalidates `batch` unless `changed` says it changed nothing. The guard
    /// invalidates even when the request is dropped mid-write (a client hanging up after the
    /// commit), so a revocation can never be left cached.
    async fn write<T, F>(
        &self,
        batch: Vec<Invalidation>,
        changed: impl FnOnce(&T) -> bool,
        write: F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        let mut pending = Pending {
            store: self,
            batch: Some(batch),
        };
        let result = write.await;
        let batch = pending.batch.take().unwrap_or_default();
        if result.as_ref().is_ok_and(|r| !changed(r)) {
            return result;
        }
        self.invalidate_local(&batch);
        if let Some(bus) = self.bus.clone() {
            // A task of its own, so that a request dropped now still tells the other nodes.
            let publishing = tokio::spawn(publish(bus, batch));
            // A write that failed for want of the database most likely changed nothing, and the
            // announcement needs the same database: it goes on trying, but the 503 does not
            // wait for it.
            if !matches!(result, Err(StoreError::Unavailable(_))) {
                let _ = publishing.await;
            }
        }
        result
    }

    fn invalidate_local(&self, batch: &[Invalidation]) {
        if let Some(cache) = &self.cache {
            for what in batch {
                cache.invalidate(what);
            }
        }
    }
}

struct Pending<'a> {
    store: &'a CachingStore,
    batch: Option<Vec<Invalidation>>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let Some(batch) = self.batch.take() else {
            return;
        };
        self.store.invalidate_local(&batch);
        if let (Some(bus), Ok(rt)) = (
            self.store.bus.clone(),
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(publish(bus, batch));
        }
    }
}

async fn publish(bus: Arc<dyn InvalidationBus>, batch: Vec<Invalidation>) {
    if let Err(e) = bus.publish(&batch).await {
        // The write stands; the other nodes' caches keep the old answer for at most their ttl,
        // unless they lost their connection too (then they dropped their caches).
        tracing::error!(error = %e, "could not tell the other nodes to drop cached sessions");
    }
}

fn always<T>(_: &T) -> bool {
    true
}

fn if_true(changed: &bool) -> bool {
    *changed
}

fn if_any(changed: &u64) -> bool {
    *changed > 0
}

/// What a bulk session operation invalidates.
fn selected(which: &SessionSelector) -> Vec<Invalidation> {
    let batch: Vec<Invalidation> = match which {
        SessionSelector::All => vec![Invalidation::All],
        SessionSelector::Identities(ids) => {
            ids.iter().map(|i| Invalidation::Identity(*i)).collect()
        }
        SessionSelector::Sessions(ids) => ids.iter().map(|s| Invalidation::Session(*s)).collect(),
    };
    if batch.len() > MAX_BATCH {
        vec![Invalidation::All]
    } else {
        batch
    }
}

#[async_trait]
impl IdentityStore for CachingStore {
    async fn create_identity(
        &self,
        identity: &Identity,
        credentials: &[Credential],
    ) -> Result<(), StoreError> {
        self.inner.create_identity(identity, credentials).await
    }

    async fn update_identity(
        &self,
        identity: &Identity,
        credentials: Option<&[Credential]>,
    ) -> Result<(), StoreError> {
        let batch = vec![Invalidation::Identity(identity.id)];
        self.write(
            batch,
            always,
            self.inner.update_identity(identity, credentials),
        )
        .await
    }

    async fn identity(&self, id: IdentityId) -> Result<Option<Identity>, StoreError> {
        self.inner.identity(id).await
    }

    async fn identity_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Identity>, StoreError> {
        self.inner.identity_by_external_id(external_id).await
    }

    async fn credentials(&self, ids: &[IdentityId]) -> Result<Vec<Credential>, StoreError> {
        self.inner.credentials(ids).await
    }

    async fn find_by_identifier(
        &self,
        kind: CredentialType,
        identifier: &str,
    ) -> Result<Option<(Identity, Credential)>, StoreError> {
        self.inner.find_by_identifier(kind, identifier).await
    }

    async fn update_credential_config(&self, credential: &Credential) -> Result<(), StoreError> {
        // Credentials are not part of the answer, but a second factor's config decides the
        // identity's available AAL: drop its sessions rather than reason about which change can.
        let batch = vec![Invalidation::Identity(credential.identity_id)];
        self.write(
            batch,
            always,
            self.inner.update_credential_config(credential),
        )
        .await
    }

    async fn list_identities(&self, query: &IdentityQuery) -> Result<Vec<Identity>, StoreError> {
        self.inner.list_identities(query).await
    }

    async fn count_identities(&self, query: &IdentityQuery) -> Result<u64, StoreError> {
        self.inner.count_identities(query).await
    }

    async fn delete_identity(&self, id: IdentityId) -> Result<bool, StoreError> {
        let batch = vec![Invalidation::Identity(id)];
        self.write(batch, if_true, self.inner.delete_identity(id))
            .await
    }

    async fn claim_credential_use(
        &self,
        identity: IdentityId,
        use_key: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner
            .claim_credential_use(identity, use_key, now, forget_before)
            .await
    }
}

#[async_trait]
impl SessionStore for CachingStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.inner.insert_session(session).await
    }

    async fn insert_sessions(&self, sessions: &[Session]) -> Result<(), StoreError> {
        self.inner.insert_sessions(sessions).await
    }

    async fn update_session(&self, session: &Session) -> Result<(), StoreError> {
        let batch = vec![Invalidation::Token(session.token_digest.clone())];
        self.write(batch, always, self.inner.update_session(session))
            .await
    }

    async fn session_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(Session, Identity)>, StoreError> {
        if self.cache.is_none() {
            return self.inner.session_by_token(digest).await;
        }
        Ok(self.shared_session_by_token(digest).await?.map(|found| {
            (
                Arc::unwrap_or_clone(found.session),
                Arc::unwrap_or_clone(found.identity),
            )
        }))
    }

    async fn shared_session_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SharedSession>, StoreError> {
        let Some(cache) = &self.cache else {
            return self.inner.shared_session_by_token(digest).await;
        };
        let now = self.clock.now();
        if let Some(hit) = cache.get(digest, now) {
            return Ok(Some(hit));
        }
        let ticket = cache.ticket();
        let Some(mut found) = self.inner.shared_session_by_token(digest).await? else {
            return Ok(None);
        };
        if let Some(ticket) = ticket {
            found.memo = cache.fill_shared(ticket, &found, now);
        }
        Ok(Some(found))
    }

    async fn revoke_session_by_token(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let batch = vec![Invalidation::Token(digest.clone())];
        self.write(
            batch,
            if_true,
            self.inner.revoke_session_by_token(digest, now),
        )
        .await
    }

    async fn revoke_identity_sessions(
        &self,
        identity: IdentityId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let batch = vec![Invalidation::Identity(identity)];
        self.write(
            batch,
            if_any,
            self.inner.revoke_identity_sessions(identity, except, now),
        )
        .await
    }

    async fn count_sessions(&self) -> Result<u64, StoreError> {
        self.inner.count_sessions().await
    }
}

#[async_trait]
impl SessionAdminStore for CachingStore {
    async fn session(&self, id: SessionId) -> Result<Option<(Session, Identity)>, StoreError> {
        self.inner.session(id).await
    }

    async fn list_sessions(
        &self,
        query: &SessionQuery,
    ) -> Result<Vec<(Session, Identity)>, StoreError> {
        self.inner.list_sessions(query).await
    }

    async fn count_matching_sessions(&self, query: &SessionQuery) -> Result<u64, StoreError> {
        self.inner.count_matching_sessions(query).await
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        owner: Option<IdentityId>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let batch = vec![Invalidation::Session(id)];
        self.write(batch, if_true, self.inner.revoke_session(id, owner, now))
            .await
    }

    async fn revoke_other_sessions(
        &self,
        identity: IdentityId,
        except: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let batch = vec![Invalidation::Identity(identity)];
        self.write(
            batch,
            if_any,
            self.inner.revoke_other_sessions(identity, except, now),
        )
        .await
    }

    async fn set_session_expiry(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let batch = vec![Invalidation::Session(id)];
        self.write(
            batch,
            if_true,
            self.inner.set_session_expiry(id, expires_at, now),
        )
        .await
    }

    async fn disable_sessions(
        &self,
        which: &SessionSelector,
        limit: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write(
            selected(which),
            if_any,
            self.inner.disable_sessions(which, limit, now),
        )
        .await
    }

    async fn delete_sessions(
        &self,
        which: &SessionSelector,
        limit: Option<u32>,
    ) -> Result<u64, StoreError> {
        self.write(
            selected(which),
            if_any,
            self.inner.delete_sessions(which, limit),
        )
        .await
    }
}

#[async_trait]
impl FlowStore for CachingStore {
    async fn save_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
        self.inner.save_flow(flow).await
    }

    async fn flow(&self, id: FlowId) -> Result<Option<FlowRecord>, StoreError> {
        self.inner.flow(id).await
    }
}

#[async_trait]
impl BulkStore for CachingStore {
    async fn create_identities(
        &self,
        items: &[(Identity, Vec<Credential>)],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        self.inner.create_identities(items).await
    }

    async fn count_expired(&self, kind: Expired, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.count_expired(kind, before).await
    }

    async fn delete_expired(
        &self,
        kind: Expired,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.inner.delete_expired(kind, before, limit).await
    }
}

/// Failed-attempt counts change no whoami answer (a lock stops sign-ins, not sessions).
#[async_trait]
impl crate::store::ThrottleStore for CachingStore {
    async fn admit_attempt(
        &self,
        keys: &[crate::throttle::ThrottleKey],
        identity: Option<IdentityId>,
        now: DateTime<Utc>,
    ) -> Result<crate::throttle::Admission, StoreError> {
        self.inner.admit_attempt(keys, identity, now).await
    }

    async fn attempt_succeeded(
        &self,
        tickets: &[crate::throttle::Ticket],
        identity: Option<IdentityId>,
    ) -> Result<bool, StoreError> {
        self.inner.attempt_succeeded(tickets, identity).await
    }

    async fn throttle_counts(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::throttle::ThrottleCount>, StoreError> {
        self.inner.throttle_counts(identity, now).await
    }

    async fn clear_throttle_counts(&self, identity: IdentityId) -> Result<u64, StoreError> {
        self.inner.clear_throttle_counts(identity).await
    }
}

#[async_trait]
impl Store for CachingStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.migrate().await
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.inner.ready().await
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn invalidation_bus(&self) -> Option<Arc<dyn InvalidationBus>> {
        self.bus.clone()
    }

    fn pool_status(&self) -> Vec<crate::store::PoolStatus> {
        self.inner.pool_status()
    }
}
