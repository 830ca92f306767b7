//! [`ThrottleStore`] on both backends: the limiter's failed-attempt counts.
//!
//! An attempt is admitted by one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` per key,
//! which both checks the key's wait or lock and counts the attempt: the row lock it takes makes
//! concurrent attempts on one key queue, and each re-reads the row the previous one left, so no
//! more attempts are admitted than the limit allows, on any number of nodes. The keys of one
//! attempt (its account and its address) are admitted in one transaction, all or nothing. Each
//! transaction writes first, so that SQLite takes its write lock at once (waiting for it under
//! the busy timeout) rather than failing to upgrade a read.

use super::{PostgresStore, SqliteStore, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sesame_core::IdentityId;
use sesame_core::store::{StoreError, ThrottleStore};
use sesame_core::throttle::{
    Admission, Backoff, Limit, MAX_DOUBLINGS, Rate, ThrottleCount, ThrottleKey, Ticket,
};
use sqlx::QueryBuilder;
use std::sync::LazyLock;

/// `CASE` yielding the wait after `failures` consecutive failures, as `Backoff::wait_after`
/// computes it: `$5` free, `$6` base, `$7` max (milliseconds).
fn wait_sql(failures: &str) -> String {
    let doubled = format!("($6 * (CAST(1 AS BIGINT) << CAST({failures} - $5 AS INTEGER)))");
    format!(
        "(CASE WHEN {failures} < $5 THEN 0 WHEN {failures} - $5 >= {MAX_DOUBLINGS} THEN $7 \
         WHEN {doubled} < $7 THEN {doubled} ELSE $7 END)"
    )
}

/// The earliest time of the next attempt after `failures`: 0 while failures are free, so that a
/// request stamped a moment before the last failure (concurrent requests reach the database in
/// any order) is not refused for a wait nobody asked for.
fn next_sql(failures: &str) -> String {
    let wait = wait_sql(failures);
    format!("(CASE WHEN {wait} = 0 THEN 0 ELSE $4 + {wait} END)")
}

/// `CASE` locking at `$4` when `failures` reaches `$9` (0: never).
fn lock_sql(failures: &str) -> String {
    format!("(CASE WHEN $9 > 0 AND {failures} >= $9 THEN $4 ELSE NULL END)")
}

/// Admits an attempt on an account count. `$1` key, `$2` scope, `$3` identity, `$4` now, `$5`
/// free, `$6` base, `$7` max, `$8` window, `$9` lock after. A row whose failures were forgotten
/// (`forget_at` passed, not locked) starts again from nothing. Returns nothing when refused.
static ADMIT_BACKOFF: LazyLock<String> = LazyLock::new(|| {
    let stale = "(t.locked_at IS NULL AND t.forget_at <= $4)";
    let counted = format!("(CASE WHEN {stale} THEN 1 ELSE t.failures + 1 END)");
    format!(
        "INSERT INTO throttle_counts AS t \
         (key, scope, identity_id, failures, last_at, next_at, locked_at, forget_at) \
         VALUES ($1, $2, $3, 1, $4, {first_next}, {first_lock}, $4 + $8) \
         ON CONFLICT (key) DO UPDATE SET failures = {counted}, last_at = $4, \
         next_at = {next}, locked_at = {lock}, forget_at = $4 + $8 \
         WHERE t.locked_at IS NULL AND ({stale} OR $4 >= t.next_at) \
         RETURNING failures",
        first_next = next_sql("1"),
        first_lock = lock_sql("1"),
        next = next_sql(&counted),
        lock = lock_sql(&counted),
    )
});

/// Admits an attempt on an address's bucket (a generic cell rate: `last_at` is the time the bucket
/// would be empty). `$1` key, `$2` scope, `$3` identity, `$4` now, `$5` burst, `$6` interval.
/// Returns nothing when refused.
static ADMIT_RATE: LazyLock<String> = LazyLock::new(|| {
    let drained = "(CASE WHEN t.last_at > $4 THEN t.last_at ELSE $4 END + $6)";
    format!(
        "INSERT INTO throttle_counts AS t \
         (key, scope, identity_id, failures, last_at, next_at, locked_at, forget_at) \
         VALUES ($1, $2, $3, 1, $4 + $6, $4 + $6 - ($5 - 1) * $6, NULL, $4 + $6) \
         ON CONFLICT (key) DO UPDATE SET failures = ({drained} - $4 + $6 - 1) / $6, \
         last_at = {drained}, next_at = {drained} - ($5 - 1) * $6, forget_at = {drained} \
         WHERE $4 >= t.next_at \
         RETURNING failures"
    )
});

/// A row as the refusal and the admin view read it.
#[derive(sqlx::FromRow)]
struct CountRow {
    scope: String,
    failures: i64,
    last_at: i64,
    next_at: i64,
    locked_at: Option<i64>,
}

fn millis(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What a refused key says: a lock, or the time its wait ends.
fn refused(row: Option<CountRow>, now: DateTime<Utc>) -> Admission {
    match row {
        Some(CountRow {
            locked_at: Some(_), ..
        }) => Admission::Locked,
        Some(row) => Admission::Delayed {
            until: millis(row.next_at),
        },
        // Deleted between the two statements (an unlock): the next attempt is admitted.
        None => Admission::Delayed { until: now },
    }
}

/// The stronger of two refusals: a lock, else the later wait.
fn stronger(a: Option<Admission>, b: Admission) -> Admission {
    match (a, b) {
        (Some(Admission::Locked), _) | (_, Admission::Locked) => Admission::Locked,
        (Some(Admission::Delayed { until: x }), Admission::Delayed { until: y }) => {
            Admission::Delayed { until: x.max(y) }
        }
        (_, b) => b,
    }
}

fn ms(d: chrono::Duration) -> i64 {
    d.num_milliseconds()
}

macro_rules! impl_throttle {
    ($store:ident, $db:ty, $relax:expr) => {
        impl $store {
            /// Opens a transaction for counts. `$relax` is a statement that lets its commit skip
            /// waiting for the disk: a crash may forget the last few counted failures, which
            /// costs an attacker's few guesses nothing and saves every sign-in a disk flush.
            async fn counting(&self) -> Result<sqlx::Transaction<'_, $db>, StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let relax: &str = $relax;
                if !relax.is_empty() {
                    sqlx::query(relax).execute(&mut *tx).await.map_err(db_err)?;
                }
                Ok(tx)
            }

            async fn admit_key(
                tx: &mut sqlx::Transaction<'_, $db>,
                key: &ThrottleKey,
                now: i64,
            ) -> Result<Option<i64>, StoreError> {
                let identity = key.identity.map(|i| i.0);
                match key.limit {
                    Limit::Backoff(Backoff { free, base, max, window, lock_after }) => {
                        sqlx::query_scalar::<_, i64>(&ADMIT_BACKOFF)
                            .bind(&key.digest[..])
                            .bind(key.scope)
                            .bind(identity)
                            .bind(now)
                            .bind(i64::from(free))
                            .bind(ms(base))
                            .bind(ms(max))
                            .bind(ms(window))
                            .bind(i64::from(lock_after))
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db_err)
                    }
                    Limit::Rate(Rate { burst, interval }) => {
                        sqlx::query_scalar::<_, i64>(&ADMIT_RATE)
                            .bind(&key.digest[..])
                            .bind(key.scope)
                            .bind(identity)
                            .bind(now)
                            .bind(i64::from(burst))
                            .bind(ms(interval))
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db_err)
                    }
                }
            }

            /// Whether `identity` has a locked count other than `except`.
            async fn locked(
                tx: &mut sqlx::Transaction<'_, $db>,
                identity: Option<IdentityId>,
                except: &[&[u8]],
            ) -> Result<bool, StoreError> {
                // Run for unknown identifiers too (matching nothing), so that known and unknown
                // accounts take the same statements.
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT COUNT(*) FROM throttle_counts WHERE locked_at IS NOT NULL AND identity_id = ",
                );
                q.push_bind(identity.map(|i| i.0));
                for key in except {
                    q.push(" AND key <> ");
                    q.push_bind(key.to_vec());
                }
                let n: i64 = q.build_query_scalar().fetch_one(&mut **tx).await.map_err(db_err)?;
                Ok(n > 0)
            }
        }

        #[async_trait]
        impl ThrottleStore for $store {
            async fn admit_attempt(
                &self,
                keys: &[ThrottleKey],
                identity: Option<IdentityId>,
                now: DateTime<Utc>,
            ) -> Result<Admission, StoreError> {
                let at = now.timestamp_millis();
                // One order for every transaction, so that two attempts sharing keys never wait
                // for each other's rows crosswise.
                let mut order: Vec<usize> = (0..keys.len()).collect();
                order.sort_by_key(|&i| keys[i].digest);
                let mut tx = self.counting().await?;
                let mut tickets: Vec<Option<Ticket>> = vec![None; keys.len()];
                let mut refusal = None;
                for i in order {
                    let key = &keys[i];
                    match Self::admit_key(&mut tx, key, at).await? {
                        Some(failures) => {
                            tickets[i] = Some(Ticket { digest: key.digest, limit: key.limit, failures });
                        }
                        None => {
                            let row = sqlx::query_as::<_, CountRow>(
                                "SELECT scope, failures, last_at, next_at, locked_at FROM throttle_counts WHERE key = $1",
                            )
                            .bind(&key.digest[..])
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db_err)?;
                            refusal = Some(stronger(refusal, refused(row, now)));
                        }
                    }
                }
                let own: Vec<&[u8]> = keys.iter().map(|k| &k.digest[..]).collect();
                if refusal.is_none() && Self::locked(&mut tx, identity, &own).await? {
                    refusal = Some(Admission::Locked);
                }
                if let Some(refusal) = refusal {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(refusal);
                }
                tx.commit().await.map_err(db_err)?;
                Ok(Admission::Admitted(tickets.into_iter().flatten().collect()))
            }

            async fn attempt_succeeded(
                &self,
                tickets: &[Ticket],
                identity: Option<IdentityId>,
            ) -> Result<bool, StoreError> {
                let mut sorted: Vec<&Ticket> = tickets.iter().collect();
                sorted.sort_by_key(|t| t.digest);
                let mut tx = self.counting().await?;
                for ticket in sorted {
                    match ticket.limit {
                        Limit::Backoff(b) => {
                            // The failures up to this attempt are forgotten (a lock it set goes
                            // with them); any counted after it stay.
                            let gone = sqlx::query("DELETE FROM throttle_counts WHERE key = $1 AND failures <= $2")
                                .bind(&ticket.digest[..])
                                .bind(ticket.failures)
                                .execute(&mut *tx)
                                .await
                                .map_err(db_err)?;
                            if gone.rows_affected() > 0 {
                                continue;
                            }
                            sqlx::query(
                                "UPDATE throttle_counts SET failures = failures - $2, \
                                 locked_at = CASE WHEN $3 > 0 AND failures - $2 >= $3 THEN locked_at ELSE NULL END \
                                 WHERE key = $1 AND failures > $2",
                            )
                            .bind(&ticket.digest[..])
                            .bind(ticket.failures)
                            .bind(i64::from(b.lock_after))
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        }
                        Limit::Rate(r) => {
                            sqlx::query(
                                "UPDATE throttle_counts SET last_at = last_at - $2, next_at = next_at - $2, \
                                 forget_at = forget_at - $2, \
                                 failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE key = $1",
                            )
                            .bind(&ticket.digest[..])
                            .bind(ms(r.interval))
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        }
                    }
                }
                let locked = Self::locked(&mut tx, identity, &[]).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(locked)
            }

            async fn throttle_counts(
                &self,
                identity: IdentityId,
                now: DateTime<Utc>,
            ) -> Result<Vec<ThrottleCount>, StoreError> {
                let at = now.timestamp_millis();
                let rows = sqlx::query_as::<_, CountRow>(
                    "SELECT scope, failures, last_at, next_at, locked_at FROM throttle_counts \
                     WHERE identity_id = $1 AND (locked_at IS NOT NULL OR forget_at > $2) ORDER BY scope",
                )
                .bind(identity.0)
                .bind(at)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|r| ThrottleCount {
                        scope: r.scope,
                        failures: u64::try_from(r.failures).unwrap_or(0),
                        last_failure_at: millis(r.last_at),
                        delayed_until: (r.locked_at.is_none() && r.next_at > at).then(|| millis(r.next_at)),
                        locked_at: r.locked_at.map(millis),
                    })
                    .collect())
            }

            async fn clear_throttle_counts(&self, identity: IdentityId) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM throttle_counts WHERE identity_id = $1")
                    .bind(identity.0)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}

// SQLite in WAL mode with `synchronous = NORMAL` does not wait for the disk at a commit anyway;
// its transactions must begin with a write (see above), so nothing is run before.
impl_throttle!(SqliteStore, sqlx::Sqlite, "");
impl_throttle!(
    PostgresStore,
    sqlx::Postgres,
    "SET LOCAL synchronous_commit TO OFF"
);
