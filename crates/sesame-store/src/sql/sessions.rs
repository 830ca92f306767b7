//! [`SessionAdminStore`] on both backends: session listings (keyset and offset pages over
//! `created_at DESC, id`), revocation by id or identity, extension, and bulk disable/delete.

use super::{PostgresStore, SqliteStore, db_err};
use crate::rows::{IDENTITY_COLUMNS, SESSION_COLUMNS, SessionIdentityRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sesame_core::identity::Identity;
use sesame_core::session::Session;
use sesame_core::store::{SessionAdminStore, SessionQuery, SessionSelector, StoreError};
use sesame_core::{IdentityId, SessionId};
use sqlx::{Database, QueryBuilder};

/// Appends the query's filters (every clause starts with ` AND `).
fn push_filters<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, query: &'a SessionQuery)
where
    uuid::Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(identity) = query.identity {
        q.push(" AND s.identity_id = ");
        q.push_bind(identity.0);
    }
    if let Some(except) = query.except {
        q.push(" AND s.id <> ");
        q.push_bind(except.0);
    }
    match query.active {
        Some(true) => {
            q.push(" AND s.active = TRUE AND s.expires_at >= ");
            q.push_bind(query.now);
        }
        Some(false) => {
            q.push(" AND (s.active = FALSE OR s.expires_at < ");
            q.push_bind(query.now);
            q.push(")");
        }
        None => {}
    }
}

/// Appends ` AND <column> IN (…)` for a selector (nothing for `All`); `false` when its list is
/// empty, so that nothing matches.
fn push_selector<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, which: &SessionSelector) -> bool
where
    uuid::Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let (column, ids): (&str, Vec<uuid::Uuid>) = match which {
        SessionSelector::All => return true,
        SessionSelector::Identities(ids) => ("identity_id", ids.iter().map(|i| i.0).collect()),
        SessionSelector::Sessions(ids) => ("id", ids.iter().map(|i| i.0).collect()),
    };
    if ids.is_empty() {
        return false;
    }
    q.push(format!(" AND {column} IN ("));
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id);
    }
    q.push(")");
    true
}

/// `WHERE id IN (SELECT id … LIMIT n)` around a filter, so that a bulk statement touches at most
/// `n` rows (neither backend has `UPDATE … LIMIT` by default).
fn push_limited<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    base: &str,
    which: &SessionSelector,
    limit: Option<u32>,
) -> bool
where
    uuid::Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match limit {
        Some(limit) => {
            q.push(" WHERE id IN (SELECT id FROM sessions WHERE ");
            q.push(base);
            let any = push_selector(q, which);
            q.push(" LIMIT ");
            q.push_bind(i64::from(limit));
            q.push(")");
            any
        }
        None => {
            q.push(" WHERE ");
            q.push(base);
            push_selector(q, which)
        }
    }
}

macro_rules! impl_session_admin {
    ($store:ident, $db:ty) => {
        #[async_trait]
        impl SessionAdminStore for $store {
            async fn session(
                &self,
                id: SessionId,
            ) -> Result<Option<(Session, Identity)>, StoreError> {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS}, {IDENTITY_COLUMNS} FROM sessions s \
                     JOIN identities i ON i.id = s.identity_id WHERE s.id = $1"
                );
                let Some(row) = sqlx::query_as::<_, SessionIdentityRow>(&sql)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                else {
                    return Ok(None);
                };
                Ok(Some((
                    Session::try_from(row.session)?,
                    Identity::try_from(row.identity)?,
                )))
            }

            async fn list_sessions(
                &self,
                query: &SessionQuery,
            ) -> Result<Vec<(Session, Identity)>, StoreError> {
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT {SESSION_COLUMNS}, {IDENTITY_COLUMNS} FROM sessions s \
                     JOIN identities i ON i.id = s.identity_id WHERE 1 = 1"
                ));
                push_filters(&mut q, query);
                if let Some((created_at, id)) = query.after {
                    q.push(" AND (s.created_at < ");
                    q.push_bind(created_at);
                    q.push(" OR (s.created_at = ");
                    q.push_bind(created_at);
                    q.push(" AND s.id > ");
                    q.push_bind(id.0);
                    q.push("))");
                }
                q.push(" ORDER BY s.created_at DESC, s.id ASC LIMIT ");
                q.push_bind(i64::from(query.limit));
                q.push(" OFFSET ");
                q.push_bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
                q.build_query_as::<SessionIdentityRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|row| {
                        Ok((
                            Session::try_from(row.session)?,
                            Identity::try_from(row.identity)?,
                        ))
                    })
                    .collect()
            }

            async fn count_matching_sessions(
                &self,
                query: &SessionQuery,
            ) -> Result<u64, StoreError> {
                let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM sessions s WHERE 1 = 1");
                push_filters(&mut q, query);
                let n: i64 = q
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn revoke_session(
                &self,
                id: SessionId,
                owner: Option<IdentityId>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                // `updated_at` is when a session ended (cleanup keys on it): a repeat keeps it.
                let mut q = QueryBuilder::<$db>::new(
                    "UPDATE sessions SET active = FALSE, updated_at = CASE WHEN active THEN ",
                );
                q.push_bind(now);
                q.push(" ELSE updated_at END WHERE id = ");
                q.push_bind(id.0);
                if let Some(owner) = owner {
                    q.push(" AND identity_id = ");
                    q.push_bind(owner.0);
                }
                let done = q.build().execute(&self.pool).await.map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_other_sessions(
                &self,
                identity: IdentityId,
                except: SessionId,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "UPDATE sessions SET active = FALSE, \
                     updated_at = CASE WHEN active THEN $3 ELSE updated_at END \
                     WHERE identity_id = $1 AND id <> $2",
                )
                .bind(identity.0)
                .bind(except.0)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected())
            }

            async fn set_session_expiry(
                &self,
                id: SessionId,
                expires_at: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE sessions SET expires_at = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(id.0)
                .bind(expires_at)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn disable_sessions(
                &self,
                which: &SessionSelector,
                limit: Option<u32>,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let mut q =
                    QueryBuilder::<$db>::new("UPDATE sessions SET active = FALSE, updated_at = ");
                q.push_bind(now);
                if !push_limited(&mut q, "active = TRUE", which, limit) {
                    return Ok(0);
                }
                let done = q.build().execute(&self.pool).await.map_err(db_err)?;
                Ok(done.rows_affected())
            }

            async fn delete_sessions(
                &self,
                which: &SessionSelector,
                limit: Option<u32>,
            ) -> Result<u64, StoreError> {
                let mut q = QueryBuilder::<$db>::new("DELETE FROM sessions");
                if !push_limited(&mut q, "1 = 1", which, limit) {
                    return Ok(0);
                }
                let done = q.build().execute(&self.pool).await.map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_session_admin!(SqliteStore, sqlx::Sqlite);
impl_session_admin!(PostgresStore, sqlx::Postgres);
