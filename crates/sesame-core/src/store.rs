//! Storage traits. sesame-store implements them on SQLite and PostgreSQL; services only see these.

use crate::flow::FlowRecord;
use crate::identity::{Credential, CredentialType, Identity};
use crate::ids::{FlowId, IdentityId, SessionId};
use crate::session::Session;
use crate::token::TokenDigest;
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
    /// Anything else; the text is for logs only.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// A page of identities ordered by id.
#[derive(Debug, Clone, Default)]
pub struct IdentityQuery {
    /// Only the identity with this password identifier (normalised).
    pub credentials_identifier: Option<String>,
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

/// Everything a Sesame server stores.
#[async_trait]
pub trait Store: IdentityStore + SessionStore + FlowStore + Send + Sync {
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Whether the database answers and no migration is pending.
    async fn ready(&self) -> Result<(), StoreError>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}
