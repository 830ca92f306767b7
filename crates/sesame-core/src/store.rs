//! Storage traits. sesame-store implements them on SQLite and PostgreSQL; services only see these.

use crate::flow::FlowRecord;
use crate::identity::{Credential, CredentialType, Identity};
use crate::ids::{FlowId, IdentityId, SessionId};
use crate::session::Session;
use crate::throttle::{Admission, ThrottleCount, ThrottleKey, Ticket};
use crate::token::TokenDigest;
use crate::whoami_cache::SharedSession;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Storage failures, in storage terms. Database errors never travel further than this.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was violated (identifier, address, external id).
    #[error("a record with that value exists already")]
    Conflict,
    /// The record does not exist.
    #[error("record not found")]
    NotFound,
    /// The database could not be opened or reached at start-up; the text names it (without a
    /// password) and says why, for the person starting Sesame.
    #[error("{0}")]
    Open(String),
    /// The database cannot be reached right now (refused or dropped connections, a server
    /// shutting down or starting up, no pooled connection in time): a condition that ends by
    /// itself, so callers answer "try again" instead of failing for good. The text is for logs
    /// only; at start-up it names the database (without a password) and the cause.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the text is for logs only.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// A page of identities ordered by id.
#[derive(Debug, Clone, Default)]
pub struct IdentityQuery {
    /// Only the identity with this password identifier (normalised).
    pub credentials_identifier: Option<String>,
    /// Only these identities (no filter when empty).
    pub ids: Vec<IdentityId>,
    /// Only the identities of this organization.
    pub organization_id: Option<uuid::Uuid>,
    /// Keyset: ids strictly after this one.
    pub after: Option<IdentityId>,
    /// Page size.
    pub limit: u32,
}

/// Identities and their credentials.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Inserts an identity with its credentials. `Conflict` on a taken identifier, address or external id.
    async fn create_identity(
        &self,
        identity: &Identity,
        credentials: &[Credential],
    ) -> Result<(), StoreError>;
    /// Replaces an identity's columns; with `Some`, also replaces all its credentials.
    async fn update_identity(
        &self,
        identity: &Identity,
        credentials: Option<&[Credential]>,
    ) -> Result<(), StoreError>;
    /// One identity.
    async fn identity(&self, id: IdentityId) -> Result<Option<Identity>, StoreError>;
    /// The identity with this external id.
    async fn identity_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Identity>, StoreError>;
    /// All credentials of the given identities.
    async fn credentials(&self, ids: &[IdentityId]) -> Result<Vec<Credential>, StoreError>;
    /// The identity and credential that own an identifier.
    async fn find_by_identifier(
        &self,
        kind: CredentialType,
        identifier: &str,
    ) -> Result<Option<(Identity, Credential)>, StoreError>;
    /// Updates one credential's config (e.g. a re-hashed password).
    async fn update_credential_config(&self, credential: &Credential) -> Result<(), StoreError>;
    /// A page of identities.
    async fn list_identities(&self, query: &IdentityQuery) -> Result<Vec<Identity>, StoreError>;
    /// How many identities match the query's filter (paging fields ignored).
    async fn count_identities(&self, query: &IdentityQuery) -> Result<u64, StoreError>;
    /// Deletes an identity; its credentials, sessions and claims go with it. False if it did not
    /// exist.
    async fn delete_identity(&self, id: IdentityId) -> Result<bool, StoreError>;
    /// Claims a one-time use (a TOTP code in its time step, a backup code) for an identity, so that
    /// a replay is refused: `true` if the claim is new, `false` if `use_key` was claimed already.
    /// Atomic: of concurrent claims of one key exactly one gets `true`. First forgets the
    /// identity's claims made before `forget_before` (so a key claimed before then is new again).
    /// An unknown identity is an error.
    async fn claim_credential_use(
        &self,
        identity: IdentityId,
        use_key: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a new session.
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;
    /// Inserts many sessions at once (seeding, imports).
    async fn insert_sessions(&self, sessions: &[Session]) -> Result<(), StoreError>;
    /// Saves a re-authenticated session: its flag, level, factors, issue, authentication, expiry
    /// and update times (not its id, identity, tokens, devices or creation time).
    async fn update_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The hot path: the session with this token digest and its identity, in one round trip.
    async fn session_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(Session, Identity)>, StoreError>;
    /// [`SessionStore::session_by_token`] for whoami: shared rather than copied, with the memo of
    /// the whoami cache's entry when the answer comes from (or was just put in) the cache.
    async fn shared_session_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SharedSession>, StoreError> {
        Ok(self
            .session_by_token(digest)
            .await?
            .map(|(session, identity)| SharedSession::uncached(session, identity)))
    }
    /// Marks the session with this token digest inactive. False if there is none.
    async fn revoke_session_by_token(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Marks every session of `identity` that is still flagged active inactive (updated at `now`),
    /// except `except`; returns how many changed.
    async fn revoke_identity_sessions(
        &self,
        identity: IdentityId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Number of stored sessions.
    async fn count_sessions(&self) -> Result<u64, StoreError>;
}

/// Self-service flows.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Inserts or replaces a flow.
    async fn save_flow(&self, flow: &FlowRecord) -> Result<(), StoreError>;
    /// One flow.
    async fn flow(&self, id: FlowId) -> Result<Option<FlowRecord>, StoreError>;
}

/// What cleanup removes, each kind by its own end time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Sessions that expired before the cut-off, or that were deactivated (logout, revocation)
    /// before it: their `updated_at`.
    Sessions,
    /// Self-service flows that expired before the cut-off.
    Flows,
    /// One-time code claims (`credential_uses`) made before the cut-off.
    CredentialUses,
    /// Failed-attempt counts that count nothing any more since before the cut-off (forgotten
    /// failures, drained buckets); locked counts are never removed.
    ThrottleCounts,
}

/// Bulk work for the command line (imports, cleanup), in short transactions so that a server
/// serving the same database is never held up for long.
#[async_trait]
pub trait BulkStore: Send + Sync {
    /// Inserts many identities with their credentials, in one transaction when none conflicts.
    /// One result per item, in order: `Conflict` for an item whose identifier, address, external
    /// id or id is taken (by a stored identity or an earlier item), which is then not stored; the
    /// others are. `Err` only when the storage itself fails.
    async fn create_identities(
        &self,
        items: &[(Identity, Vec<Credential>)],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError>;
    /// How many rows of `kind` ended before `before`.
    async fn count_expired(&self, kind: Expired, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Deletes at most `limit` rows of `kind` that ended before `before`, in one short
    /// statement; returns how many went (fewer than `limit`: nothing older is left).
    async fn delete_expired(
        &self,
        kind: Expired,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
}

/// Which sessions a listing returns, newest first (`created_at` descending, then id ascending).
#[derive(Debug, Clone)]
pub struct SessionQuery {
    /// Only this identity's sessions.
    pub identity: Option<IdentityId>,
    /// Leaves this session out (the caller's own, in `GET /sessions`).
    pub except: Option<SessionId>,
    /// `Some(true)`: flagged active and not expired at `now`; `Some(false)`: the others.
    pub active: Option<bool>,
    /// The time `active` is judged at.
    pub now: DateTime<Utc>,
    /// Keyset: only the sessions after this one in the order (its creation time and id).
    pub after: Option<(DateTime<Utc>, SessionId)>,
    /// Rows to skip (page pagination).
    pub offset: u64,
    /// Page size.
    pub limit: u32,
}

/// The sessions a bulk operation acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSelector {
    /// Every session.
    All,
    /// The sessions of these identities.
    Identities(Vec<IdentityId>),
    /// These sessions.
    Sessions(Vec<SessionId>),
}

/// Finding and ending sessions by id, by identity or in bulk: the "my sessions" and admin session
/// APIs.
#[async_trait]
pub trait SessionAdminStore: Send + Sync {
    /// One session with its identity.
    async fn session(&self, id: SessionId) -> Result<Option<(Session, Identity)>, StoreError>;
    /// A page of sessions, each with its identity.
    async fn list_sessions(
        &self,
        query: &SessionQuery,
    ) -> Result<Vec<(Session, Identity)>, StoreError>;
    /// How many sessions match the query's filters (paging fields ignored).
    async fn count_matching_sessions(&self, query: &SessionQuery) -> Result<u64, StoreError>;
    /// Marks a session inactive (updated at `now`) whatever its state; with `owner`, only if that
    /// identity owns it. False if no session matched.
    async fn revoke_session(
        &self,
        id: SessionId,
        owner: Option<IdentityId>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Marks every session of `identity` except `except` inactive; returns how many it matched,
    /// already inactive ones included (the count Kratos reports for `DELETE /sessions`). Only the
    /// sessions that were active get `updated_at = now`.
    async fn revoke_other_sessions(
        &self,
        identity: IdentityId,
        except: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Sets a session's expiry (updated at `now`). False if there is no such session.
    async fn set_session_expiry(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Marks the selected sessions that are still flagged active inactive (updated at `now`), at
    /// most `limit` of them when given; returns how many changed.
    async fn disable_sessions(
        &self,
        which: &SessionSelector,
        limit: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Deletes the selected sessions, at most `limit` of them when given; returns how many went.
    async fn delete_sessions(
        &self,
        which: &SessionSelector,
        limit: Option<u32>,
    ) -> Result<u64, StoreError>;
}

/// The limiter's failed-attempt counts (see [`crate::throttle`]), shared by every node of the
/// database. Times are kept to the millisecond.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Admits one attempt at `now`: if no key asks for a wait and none is locked, and `identity`
    /// has no other locked count, counts the attempt as a failure on every key and answers
    /// `Admitted` with one ticket per key, in the order of `keys`; otherwise counts nothing and
    /// answers `Locked` (a lock wins) or `Delayed` until the latest wait ends. All or nothing, and
    /// atomic per key: of concurrent attempts on one key, exactly as many are admitted as its limit
    /// allows. A key's row is created at its first attempt; a count of an identity goes with it.
    async fn admit_attempt(
        &self,
        keys: &[ThrottleKey],
        identity: Option<IdentityId>,
        now: DateTime<Utc>,
    ) -> Result<Admission, StoreError>;
    /// Settles an admitted attempt that succeeded: each backoff count forgets the failures counted
    /// up to and including the ticket's (later ones stay, as does a lock they set); each rate count
    /// gives the attempt back. Then answers whether `identity` is locked.
    async fn attempt_succeeded(
        &self,
        tickets: &[Ticket],
        identity: Option<IdentityId>,
    ) -> Result<bool, StoreError>;
    /// The counts of `identity` that still count something at `now` (locked ones always), by scope.
    async fn throttle_counts(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ThrottleCount>, StoreError>;
    /// Deletes every count of `identity`, locks included; returns how many there were.
    async fn clear_throttle_counts(&self, identity: IdentityId) -> Result<u64, StoreError>;
}

/// Everything a Sesame server stores.
#[async_trait]
pub trait Store:
    IdentityStore
    + SessionStore
    + SessionAdminStore
    + FlowStore
    + BulkStore
    + ThrottleStore
    + Send
    + Sync
{
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Whether the database answers and no migration is pending.
    async fn ready(&self) -> Result<(), StoreError>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// How the servers sharing this database tell each other to drop cached whoami answers
    /// (PostgreSQL `LISTEN`/`NOTIFY`); `None` for a database only one server uses (SQLite).
    fn invalidation_bus(&self) -> Option<std::sync::Arc<dyn crate::whoami_cache::InvalidationBus>> {
        None
    }
    /// The state of each connection pool, for monitoring (read at the moment of asking, without
    /// waiting for a connection); empty for a store without pools.
    fn pool_status(&self) -> Vec<PoolStatus> {
        Vec::new()
    }
}

/// One connection pool of a store, as [`Store::pool_status`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Which pool: `main` (every statement), or `whoami` (the read-only connections that answer
    /// whoami's lookups on a SQLite file).
    pub pool: &'static str,
    /// Connections open now.
    pub size: u32,
    /// Of those, connections not in use now.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}
