//! [`BulkStore`] on both backends: identity imports as multi-row inserts, and cleanup as small
//! batched deletes, each its own short statement or transaction so that a server working on the
//! same database only ever waits milliseconds for a lock.

use super::{PostgresStore, SqliteStore, db_err, json_opt};
use crate::rows::to_json;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sesame_core::identity::{Credential, Identity};
use sesame_core::store::{BulkStore, Expired, StoreError};
use sqlx::QueryBuilder;
use uuid::Uuid;

/// Bind parameters per multi-row statement: far below SQLite's 32766 and PostgreSQL's 65535, and
/// small enough that one statement stays short.
const PARAMS_PER_STATEMENT: usize = 8000;

/// Rows per statement for a table with `columns` columns.
const fn rows_per_statement(columns: usize) -> usize {
    PARAMS_PER_STATEMENT / columns
}

/// `COUNT(*)` and the batch `DELETE` of one kind of expired row. `$1` is the cut-off, `$2` the
/// batch size. Inactive sessions that also expired are matched by the first branch only, so that
/// a batch never counts a row twice.
fn expired_sql(kind: Expired) -> (&'static str, &'static str) {
    match kind {
        Expired::Sessions => (
            "SELECT (SELECT COUNT(*) FROM sessions WHERE expires_at < $1) + \
             (SELECT COUNT(*) FROM sessions WHERE active = FALSE AND updated_at < $1 AND expires_at >= $1)",
            "DELETE FROM sessions WHERE id IN (SELECT id FROM (\
             SELECT id FROM sessions WHERE expires_at < $1 \
             UNION ALL SELECT id FROM sessions WHERE active = FALSE AND updated_at < $1 AND expires_at >= $1\
             ) AS candidates LIMIT $2)",
        ),
        Expired::Flows => (
            "SELECT COUNT(*) FROM selfservice_flows WHERE expires_at < $1",
            "DELETE FROM selfservice_flows WHERE id IN \
             (SELECT id FROM selfservice_flows WHERE expires_at < $1 LIMIT $2)",
        ),
        Expired::CredentialUses => (
            "SELECT COUNT(*) FROM credential_uses WHERE used_at < $1",
            "DELETE FROM credential_uses WHERE (identity_id, use_key) IN \
             (SELECT identity_id, use_key FROM credential_uses WHERE used_at < $1 LIMIT $2)",
        ),
        // `$1` in milliseconds here (see `cut_off`). Locked counts are never forgotten.
        Expired::ThrottleCounts => (
            "SELECT COUNT(*) FROM throttle_counts WHERE locked_at IS NULL AND forget_at < $1",
            "DELETE FROM throttle_counts WHERE key IN \
             (SELECT key FROM throttle_counts WHERE locked_at IS NULL AND forget_at < $1 LIMIT $2)",
        ),
    }
}

/// The cut-off as its table stores times: failed-attempt counts keep milliseconds.
enum CutOff {
    Time(DateTime<Utc>),
    Millis(i64),
}

fn cut_off(kind: Expired, before: DateTime<Utc>) -> CutOff {
    match kind {
        Expired::ThrottleCounts => CutOff::Millis(before.timestamp_millis()),
        _ => CutOff::Time(before),
    }
}

macro_rules! impl_bulk {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Inserts every item in one transaction; the first conflict rolls all of them back.
            async fn insert_identities(
                &self,
                items: &[(Identity, Vec<Credential>)],
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for chunk in items.chunks(rows_per_statement(14)) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for (i, _) in chunk {
                        rows.push((
                            i,
                            to_json(&i.traits)?,
                            json_opt(&i.metadata_public)?,
                            json_opt(&i.metadata_admin)?,
                            to_json(&i.verifiable_addresses)?,
                            to_json(&i.recovery_addresses)?,
                        ));
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO identities (id, schema_id, traits, state, state_changed_at, metadata_public, \
                         metadata_admin, external_id, organization_id, verifiable_addresses, recovery_addresses, \
                         available_aal, created_at, updated_at) ",
                    );
                    q.push_values(rows, |mut b, (i, traits, public, admin, verifiable, recovery)| {
                        b.push_bind(i.id.0)
                            .push_bind(i.schema_id.clone())
                            .push_bind(traits)
                            .push_bind(i.state.as_str())
                            .push_bind(i.state_changed_at)
                            .push_bind(public)
                            .push_bind(admin)
                            .push_bind(i.external_id.clone())
                            .push_bind(i.organization_id)
                            .push_bind(verifiable)
                            .push_bind(recovery)
                            .push_bind(i.available_aal.as_str())
                            .push_bind(i.created_at)
                            .push_bind(i.updated_at);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }

                let addresses: Vec<(&'static str, &str, &str, Uuid)> = items
                    .iter()
                    .flat_map(|(i, _)| {
                        let verifiable = i
                            .verifiable_addresses
                            .iter()
                            .map(|a| ("verifiable", a.via.as_str(), a.value.as_str(), i.id.0));
                        let recovery = i
                            .recovery_addresses
                            .iter()
                            .map(|a| ("recovery", a.via.as_str(), a.value.as_str(), i.id.0));
                        verifiable.chain(recovery)
                    })
                    .collect();
                for chunk in addresses.chunks(rows_per_statement(4)) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO identity_addresses (kind, via, value, identity_id) ",
                    );
                    q.push_values(chunk, |mut b, (kind, via, value, owner)| {
                        b.push_bind(*kind)
                            .push_bind(*via)
                            .push_bind(*value)
                            .push_bind(*owner);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }

                let credentials: Vec<(&Identity, &Credential)> = items
                    .iter()
                    .flat_map(|(i, creds)| creds.iter().map(move |c| (i, c)))
                    .collect();
                for chunk in credentials.chunks(rows_per_statement(8)) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for (i, c) in chunk {
                        rows.push((i.id.0, *c, to_json(&c.identifiers)?, to_json(&c.config)?));
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO identity_credentials (id, identity_id, type, identifiers, config, version, \
                         created_at, updated_at) ",
                    );
                    q.push_values(rows, |mut b, (owner, c, identifiers, config)| {
                        b.push_bind(c.id)
                            .push_bind(owner)
                            .push_bind(c.kind.as_str())
                            .push_bind(identifiers)
                            .push_bind(config)
                            .push_bind(c.version)
                            .push_bind(c.created_at)
                            .push_bind(c.updated_at);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }

                let identifiers: Vec<(&Identity, &Credential, &str)> = credentials
                    .iter()
                    .flat_map(|(i, c)| c.identifiers.iter().map(move |id| (*i, *c, id.as_str())))
                    .collect();
                for chunk in identifiers.chunks(rows_per_statement(4)) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO identity_credential_identifiers (type, identifier, credential_id, identity_id) ",
                    );
                    q.push_values(chunk, |mut b, (i, c, identifier)| {
                        b.push_bind(c.kind.as_str())
                            .push_bind(*identifier)
                            .push_bind(c.id)
                            .push_bind(i.id.0);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }
        }

        #[async_trait]
        impl BulkStore for $store {
            async fn create_identities(
                &self,
                items: &[(Identity, Vec<Credential>)],
            ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
                // Optimistic: the whole batch at once. A conflict splits the failing range in
                // halves, left before right (so an earlier item wins over a later duplicate),
                // until it is pinned on single items: one bad record in a thousand costs about
                // twenty small transactions, not a thousand.
                let mut results: Vec<Option<Result<(), StoreError>>> =
                    items.iter().map(|_| None).collect();
                let mut pending = vec![(0, items.len())];
                while let Some((start, end)) = pending.pop() {
                    if start >= end {
                        continue;
                    }
                    match self.insert_identities(&items[start..end]).await {
                        Ok(()) => results[start..end].iter_mut().for_each(|r| *r = Some(Ok(()))),
                        Err(StoreError::Conflict) if end - start > 1 => {
                            let mid = start + (end - start) / 2;
                            pending.push((mid, end));
                            pending.push((start, mid));
                        }
                        Err(StoreError::Conflict) => results[start] = Some(Err(StoreError::Conflict)),
                        Err(e) => return Err(e),
                    }
                }
                Ok(results
                    .into_iter()
                    .map(|r| r.unwrap_or(Err(StoreError::Conflict)))
                    .collect())
            }

            async fn count_expired(
                &self,
                kind: Expired,
                before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let q = sqlx::query_scalar(expired_sql(kind).0);
                let q = match cut_off(kind, before) {
                    CutOff::Time(t) => q.bind(t),
                    CutOff::Millis(ms) => q.bind(ms),
                };
                let n: i64 = q
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn delete_expired(
                &self,
                kind: Expired,
                before: DateTime<Utc>,
                limit: u32,
            ) -> Result<u64, StoreError> {
                let q = sqlx::query(expired_sql(kind).1);
                let q = match cut_off(kind, before) {
                    CutOff::Time(t) => q.bind(t),
                    CutOff::Millis(ms) => q.bind(ms),
                };
                let done = q
                    .bind(i64::from(limit))
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_bulk!(SqliteStore, sqlx::Sqlite);
impl_bulk!(PostgresStore, sqlx::Postgres);
