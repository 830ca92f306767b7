//! One implementation of the storage traits, expanded for SQLite and for PostgreSQL by a macro.
//!
//! The SQL is written once with `$n` placeholders, which both backends accept; only the
//! migrations differ (column types). A macro rather than generics, because sqlx's generic bounds
//! over `Database` would be longer than the code they abstract.

use crate::rows::{
    CredentialRow, FlowRow, IDENTITY_COLUMNS, IdentityRow, SESSION_COLUMNS, SessionIdentityRow,
    flow_json, to_json,
};
use crate::sqlite_read::ReadPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sesame_core::flow::FlowRecord;
use sesame_core::identity::{Credential, CredentialType, Identity};
use sesame_core::session::Session;
use sesame_core::store::{
    FlowStore, IdentityQuery, IdentityStore, PoolStatus, SessionStore, Store, StoreError,
};
use sesame_core::whoami_cache::InvalidationBus;
use sesame_core::{FlowId, IdentityId, SessionId, TokenDigest};
use sqlx::QueryBuilder;
use std::sync::{Arc, LazyLock};

mod bulk;
mod sessions;
mod throttle;

fn db_err(e: sqlx::Error) -> StoreError {
    crate::errors::store_error(e)
}

fn json_opt(v: &Option<serde_json::Value>) -> Result<Option<String>, StoreError> {
    v.as_ref().map(to_json).transpose()
}

/// Rows per multi-row INSERT when seeding sessions (13 parameters each, under every backend's limit).
const SESSION_BATCH: usize = 500;

/// The store on SQLite.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: sqlx::Pool<sqlx::Sqlite>,
    readers: Option<Arc<ReadPool>>,
}

impl SqliteStore {
    /// Wraps a connected pool; with `readers`, whoami lookups use them (see `sqlite_read`).
    pub fn new(pool: sqlx::Pool<sqlx::Sqlite>, readers: Option<ReadPool>) -> Self {
        Self {
            pool,
            readers: readers.map(Arc::new),
        }
    }

    fn fast_session_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Option<Result<Option<(Session, Identity)>, StoreError>> {
        self.readers.as_ref().map(|r| r.session_by_token(digest))
    }

    fn bus(&self) -> Option<Arc<dyn InvalidationBus>> {
        // One server per SQLite file: nobody else to tell.
        None
    }

    fn other_pools(&self) -> Option<PoolStatus> {
        self.readers.as_ref().map(|r| r.status())
    }
}

/// The store on PostgreSQL.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: sqlx::Pool<sqlx::Postgres>,
    bus: crate::notify::PgBus,
}

impl PostgresStore {
    /// Wraps a connected pool.
    pub fn new(pool: sqlx::Pool<sqlx::Postgres>) -> Self {
        Self {
            bus: crate::notify::PgBus::new(pool.clone()),
            pool,
        }
    }

    fn bus(&self) -> Option<Arc<dyn InvalidationBus>> {
        Some(Arc::new(self.bus.clone()))
    }

    fn fast_session_by_token(
        &self,
        _: &TokenDigest,
    ) -> Option<Result<Option<(Session, Identity)>, StoreError>> {
        None
    }

    fn other_pools(&self) -> Option<PoolStatus> {
        None
    }
}

/// The state of a sqlx pool, as it is at the moment (no connection is taken).
fn sqlx_pool_status<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> PoolStatus {
    PoolStatus {
        pool: "main",
        size: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}

static SESSION_BY_TOKEN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS}, {IDENTITY_COLUMNS} FROM sessions s \
         JOIN identities i ON i.id = s.identity_id WHERE s.token_digest = $1"
    )
});

macro_rules! impl_store {
    ($store:ident, $db:ty, $migrations:literal, $name:literal) => {
        impl $store {
            async fn write_addresses(
                tx: &mut sqlx::Transaction<'_, $db>,
                identity: &Identity,
            ) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM identity_addresses WHERE identity_id = $1")
                    .bind(identity.id.0)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                let verifiable = identity.verifiable_addresses.iter().map(|a| ("verifiable", &a.via, &a.value));
                let recovery = identity.recovery_addresses.iter().map(|a| ("recovery", &a.via, &a.value));
                for (kind, via, value) in verifiable.chain(recovery) {
                    sqlx::query("INSERT INTO identity_addresses (kind, via, value, identity_id) VALUES ($1, $2, $3, $4)")
                        .bind(kind)
                        .bind(via)
                        .bind(value)
                        .bind(identity.id.0)
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }

            /// The `WHERE` conditions of an identity listing (after `WHERE 1 = 1`).
            fn push_identity_filters(q: &mut QueryBuilder<'_, $db>, query: &IdentityQuery) {
                if let Some(identifier) = &query.credentials_identifier {
                    // Password identifiers only (as the trait says, and as Kratos does): TOTP and lookup
                    // secret credentials are identified by the identity id, which is not a login name.
                    q.push(
                        " AND i.id IN (SELECT identity_id FROM identity_credential_identifiers \
                         WHERE type = 'password' AND identifier = ",
                    );
                    q.push_bind(identifier.clone());
                    q.push(")");
                }
                if !query.ids.is_empty() {
                    q.push(" AND i.id IN (");
                    let mut ids = q.separated(", ");
                    for id in &query.ids {
                        ids.push_bind(id.0);
                    }
                    q.push(")");
                }
                if let Some(organization) = query.organization_id {
                    q.push(" AND i.organization_id = ");
                    q.push_bind(organization);
                }
            }

            async fn write_credentials(
                tx: &mut sqlx::Transaction<'_, $db>,
                identity_id: IdentityId,
                credentials: &[Credential],
            ) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM identity_credentials WHERE identity_id = $1")
                    .bind(identity_id.0)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                for c in credentials {
                    sqlx::query(
                        "INSERT INTO identity_credentials (id, identity_id, type, identifiers, config, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(c.id)
                    .bind(identity_id.0)
                    .bind(c.kind.as_str())
                    .bind(to_json(&c.identifiers)?)
                    .bind(to_json(&c.config)?)
                    .bind(c.version)
                    .bind(c.created_at)
                    .bind(c.updated_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                    for identifier in &c.identifiers {
                        sqlx::query(
                            "INSERT INTO identity_credential_identifiers (type, identifier, credential_id, identity_id) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(c.kind.as_str())
                        .bind(identifier)
                        .bind(c.id)
                        .bind(identity_id.0)
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?;
                    }
                }
                Ok(())
            }
        }

        #[async_trait]
        impl IdentityStore for $store {
            async fn create_identity(&self, identity: &Identity, credentials: &[Credential]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO identities (id, schema_id, traits, state, state_changed_at, metadata_public, metadata_admin, \
                     external_id, organization_id, verifiable_addresses, recovery_addresses, available_aal, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(identity.id.0)
                .bind(&identity.schema_id)
                .bind(to_json(&identity.traits)?)
                .bind(identity.state.as_str())
                .bind(identity.state_changed_at)
                .bind(json_opt(&identity.metadata_public)?)
                .bind(json_opt(&identity.metadata_admin)?)
                .bind(&identity.external_id)
                .bind(identity.organization_id)
                .bind(to_json(&identity.verifiable_addresses)?)
                .bind(to_json(&identity.recovery_addresses)?)
                .bind(identity.available_aal.as_str())
                .bind(identity.created_at)
                .bind(identity.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                Self::write_addresses(&mut tx, identity).await?;
                Self::write_credentials(&mut tx, identity.id, credentials).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn update_identity(&self, identity: &Identity, credentials: Option<&[Credential]>) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let updated = sqlx::query(
                    "UPDATE identities SET schema_id = $2, traits = $3, state = $4, state_changed_at = $5, metadata_public = $6, \
                     metadata_admin = $7, external_id = $8, organization_id = $9, verifiable_addresses = $10, \
                     recovery_addresses = $11, available_aal = $12, updated_at = $13 WHERE id = $1",
                )
                .bind(identity.id.0)
                .bind(&identity.schema_id)
                .bind(to_json(&identity.traits)?)
                .bind(identity.state.as_str())
                .bind(identity.state_changed_at)
                .bind(json_opt(&identity.metadata_public)?)
                .bind(json_opt(&identity.metadata_admin)?)
                .bind(&identity.external_id)
                .bind(identity.organization_id)
                .bind(to_json(&identity.verifiable_addresses)?)
                .bind(to_json(&identity.recovery_addresses)?)
                .bind(identity.available_aal.as_str())
                .bind(identity.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Self::write_addresses(&mut tx, identity).await?;
                if let Some(credentials) = credentials {
                    Self::write_credentials(&mut tx, identity.id, credentials).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn identity(&self, id: IdentityId) -> Result<Option<Identity>, StoreError> {
                let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities i WHERE i.id = $1");
                sqlx::query_as::<_, IdentityRow>(&sql)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                    .map(Identity::try_from)
                    .transpose()
            }

            async fn identity_by_external_id(&self, external_id: &str) -> Result<Option<Identity>, StoreError> {
                let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities i WHERE i.external_id = $1");
                sqlx::query_as::<_, IdentityRow>(&sql)
                    .bind(external_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                    .map(Identity::try_from)
                    .transpose()
            }

            async fn credentials(&self, ids: &[IdentityId]) -> Result<Vec<Credential>, StoreError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, identity_id, type, identifiers, config, version, created_at, updated_at \
                     FROM identity_credentials WHERE identity_id IN (",
                );
                let mut sep = q.separated(", ");
                for id in ids {
                    sep.push_bind(id.0);
                }
                q.push(") ORDER BY type");
                q.build_query_as::<CredentialRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(Credential::try_from)
                    .collect()
            }

            async fn find_by_identifier(
                &self,
                kind: CredentialType,
                identifier: &str,
            ) -> Result<Option<(Identity, Credential)>, StoreError> {
                let sql = format!(
                    "SELECT {IDENTITY_COLUMNS} FROM identity_credential_identifiers ci \
                     JOIN identities i ON i.id = ci.identity_id WHERE ci.type = $1 AND ci.identifier = $2"
                );
                let Some(row) = sqlx::query_as::<_, IdentityRow>(&sql)
                    .bind(kind.as_str())
                    .bind(identifier)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                else {
                    return Ok(None);
                };
                let identity = Identity::try_from(row)?;
                let credential = self.credentials(&[identity.id]).await?.into_iter().find(|c| c.kind == kind);
                Ok(credential.map(|c| (identity, c)))
            }

            async fn update_credential_config(&self, credential: &Credential) -> Result<(), StoreError> {
                sqlx::query("UPDATE identity_credentials SET config = $2, updated_at = $3 WHERE id = $1")
                    .bind(credential.id)
                    .bind(to_json(&credential.config)?)
                    .bind(credential.updated_at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn list_identities(&self, query: &IdentityQuery) -> Result<Vec<Identity>, StoreError> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {IDENTITY_COLUMNS} FROM identities i WHERE 1 = 1"));
                Self::push_identity_filters(&mut q, query);
                if let Some(after) = query.after {
                    q.push(" AND i.id > ");
                    q.push_bind(after.0);
                }
                q.push(" ORDER BY i.id LIMIT ");
                q.push_bind(i64::from(query.limit));
                q.build_query_as::<IdentityRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(Identity::try_from)
                    .collect()
            }

            async fn count_identities(&self, query: &IdentityQuery) -> Result<u64, StoreError> {
                let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM identities i WHERE 1 = 1");
                Self::push_identity_filters(&mut q, query);
                let n: i64 = q.build_query_scalar().fetch_one(&self.pool).await.map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn delete_identity(&self, id: IdentityId) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM identities WHERE id = $1")
                    .bind(id.0)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn claim_credential_use(
                &self,
                identity: IdentityId,
                use_key: &str,
                now: DateTime<Utc>,
                forget_before: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                // Two single statements, no transaction: each is atomic on its own, and the primary
                // key decides a race (the loser's insert does nothing). On SQLite, times are RFC 3339
                // text in UTC written by one encoder, so text order is time order.
                sqlx::query("DELETE FROM credential_uses WHERE identity_id = $1 AND used_at < $2")
                    .bind(identity.0)
                    .bind(forget_before)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                let done = sqlx::query(
                    "INSERT INTO credential_uses (identity_id, use_key, used_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (identity_id, use_key) DO NOTHING",
                )
                .bind(identity.0)
                .bind(use_key)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
                self.insert_sessions(std::slice::from_ref(session)).await
            }

            async fn insert_sessions(&self, sessions: &[Session]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for chunk in sessions.chunks(SESSION_BATCH) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for s in chunk {
                        rows.push((s, to_json(&s.authentication_methods)?, to_json(&s.devices)?));
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO sessions (id, identity_id, token_digest, logout_token_digest, active, aal, \
                         authentication_methods, devices, issued_at, expires_at, authenticated_at, created_at, updated_at) ",
                    );
                    q.push_values(rows, |mut b, (s, amr, devices)| {
                        b.push_bind(s.id.0)
                            .push_bind(s.identity_id.0)
                            .push_bind(s.token_digest.as_bytes().to_vec())
                            .push_bind(s.logout_token_digest.as_bytes().to_vec())
                            .push_bind(s.active)
                            .push_bind(s.aal.as_str())
                            .push_bind(amr)
                            .push_bind(devices)
                            .push_bind(s.issued_at)
                            .push_bind(s.expires_at)
                            .push_bind(s.authenticated_at)
                            .push_bind(s.created_at)
                            .push_bind(s.updated_at);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn update_session(&self, s: &Session) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE sessions SET active = $2, aal = $3, authentication_methods = $4, expires_at = $5, \
                     authenticated_at = $6, updated_at = $7, issued_at = $8 WHERE id = $1",
                )
                .bind(s.id.0)
                .bind(s.active)
                .bind(s.aal.as_str())
                .bind(to_json(&s.authentication_methods)?)
                .bind(s.expires_at)
                .bind(s.authenticated_at)
                .bind(s.updated_at)
                .bind(s.issued_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn session_by_token(&self, digest: &TokenDigest) -> Result<Option<(Session, Identity)>, StoreError> {
                if let Some(found) = self.fast_session_by_token(digest) {
                    return found;
                }
                let Some(row) = sqlx::query_as::<_, SessionIdentityRow>(&SESSION_BY_TOKEN)
                    .bind(digest.as_bytes())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                else {
                    return Ok(None);
                };
                Ok(Some((Session::try_from(row.session)?, Identity::try_from(row.identity)?)))
            }

            async fn revoke_session_by_token(&self, digest: &TokenDigest, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE sessions SET active = $2, updated_at = $3 WHERE token_digest = $1")
                    .bind(digest.as_bytes())
                    .bind(false)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_identity_sessions(
                &self,
                identity: IdentityId,
                except: Option<SessionId>,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let mut q = QueryBuilder::<$db>::new("UPDATE sessions SET active = ");
                q.push_bind(false);
                q.push(", updated_at = ");
                q.push_bind(now);
                q.push(" WHERE identity_id = ");
                q.push_bind(identity.0);
                q.push(" AND active = ");
                q.push_bind(true);
                if let Some(kept) = except {
                    q.push(" AND id <> ");
                    q.push_bind(kept.0);
                }
                let done = q.build().execute(&self.pool).await.map_err(db_err)?;
                Ok(done.rows_affected())
            }

            async fn count_sessions(&self) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }

        #[async_trait]
        impl FlowStore for $store {
            async fn save_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO selfservice_flows (id, kind, body, csrf_token, expires_at, context) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body, csrf_token = excluded.csrf_token, \
                     expires_at = excluded.expires_at, context = excluded.context",
                )
                .bind(flow.body.id().0)
                .bind(flow.body.kind().as_str())
                .bind(flow_json(&flow.body)?)
                .bind(&flow.csrf_token)
                .bind(flow.body.expires_at())
                .bind(json_opt(&flow.context)?)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn flow(&self, id: FlowId) -> Result<Option<FlowRecord>, StoreError> {
                sqlx::query_as::<_, FlowRow>("SELECT kind, body, csrf_token, context FROM selfservice_flows WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                    .map(FlowRecord::try_from)
                    .transpose()
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn migrate(&self) -> Result<(), StoreError> {
                sqlx::migrate!($migrations)
                    .run(&self.pool)
                    .await
                    .map_err(crate::errors::migrate_error)
            }

            async fn ready(&self) -> Result<(), StoreError> {
                let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| match crate::errors::store_error(e) {
                        StoreError::Backend(e) => StoreError::Backend(format!("database not ready: {e}")),
                        other => other,
                    })?;
                let known = sqlx::migrate!($migrations).iter().count();
                if usize::try_from(applied).unwrap_or(0) < known {
                    return Err(StoreError::Backend("migrations are pending".into()));
                }
                Ok(())
            }

            fn backend(&self) -> &'static str {
                $name
            }

            fn invalidation_bus(&self) -> Option<Arc<dyn InvalidationBus>> {
                self.bus()
            }

            fn pool_status(&self) -> Vec<PoolStatus> {
                std::iter::once(sqlx_pool_status(&self.pool))
                    .chain(self.other_pools())
                    .collect()
            }
        }
    };
}

impl_store!(SqliteStore, sqlx::Sqlite, "./migrations/sqlite", "sqlite");
impl_store!(
    PostgresStore,
    sqlx::Postgres,
    "./migrations/postgres",
    "postgres"
);
