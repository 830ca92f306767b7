//! Sesame's storage: the sesame-core storage traits implemented with sqlx on SQLite (a file or
//! memory, the embedded default) and PostgreSQL (to scale out), chosen at run time from the DSN.
//!
//! sqlx and SQL stay inside this crate: every failure leaves as a `StoreError`, unique violations
//! as `Conflict`. Both backends share one implementation (see [`sql`]) and one conformance suite.

mod errors;
mod notify;
mod open;
mod rows;
mod sql;
mod sqlite_read;

use sesame_core::store::{Store, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use notify::LISTENER_APPLICATION_NAME;
pub use sql::{PostgresStore, SqliteStore};

/// A DSN Sesame understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dsn {
    /// `sqlite://PATH[?…]`: a file, created if missing.
    Sqlite(String),
    /// `memory`: an in-memory SQLite database that lives as long as the process.
    Memory,
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
}

impl Dsn {
    /// Parses a DSN; the error names what is wrong.
    pub fn parse(dsn: &str) -> Result<Dsn, String> {
        let dsn = dsn.trim();
        if dsn == "memory" || dsn == "sqlite::memory:" {
            Ok(Dsn::Memory)
        } else if let Some(path) = dsn
            .strip_prefix("sqlite://")
            .or_else(|| dsn.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("sqlite DSN has no path (use sqlite://sesame.sqlite)".into());
            }
            Ok(Dsn::Sqlite(path.to_owned()))
        } else if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
            Ok(Dsn::Postgres(dsn.to_owned()))
        } else {
            let scheme = dsn.split("://").next().unwrap_or(dsn);
            Err(format!(
                "unsupported DSN scheme {scheme:?}: use sqlite://PATH, memory or postgres://…"
            ))
        }
    }

    /// The DSN with any password replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Dsn::Sqlite(p) => format!("sqlite://{p}"),
            Dsn::Memory => "memory".into(),
            Dsn::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) if u.password().is_some() => {
                    let _ = u.set_password(Some("***"));
                    u.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

/// The file of a SQLite DSN's path (`PATH[?QUERY]`).
pub fn sqlite_file(path: &str) -> &str {
    path.split_once('?').map_or(path, |(file, _)| file)
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// How long a request waits for a PostgreSQL connection (an idle one, or a new one being
/// opened) before its store call fails as `Unavailable` and the request is answered 503 with
/// `Retry-After`. Short on purpose: a pool that cannot hand out a connection this long is cut off
/// from its database (stopped, restarting, unreachable) or badly overloaded, and either way a
/// client is better served by an honest answer within about two seconds than by a request held
/// for sqlx's 30 s (Kratos holds it for its pool's timeout, then answers 500). Every query
/// of the whoami path and of the flows takes milliseconds, so no healthy request waits this long.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// The pool every PostgreSQL store uses: `max` connections, each checked before it is handed out
/// (a connection the server dropped is replaced, not used), and [`POSTGRES_ACQUIRE_TIMEOUT`].
fn postgres_pool(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .test_before_acquire(true)
}

/// Opens the store a DSN names. Migrations are not applied; call `Store::migrate`.
pub async fn connect(dsn: &Dsn) -> Result<Arc<dyn Store>, StoreError> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(2);
    match dsn {
        Dsn::Memory => {
            // One connection: every in-memory SQLite connection would otherwise be its own database.
            let options = SqliteConnectOptions::from_str("sqlite::memory:")
                .map_err(backend)?
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(backend)?;
            Ok(Arc::new(SqliteStore::new(pool, None)))
        }
        Dsn::Sqlite(path) => {
            let file = sqlite_file(path);
            let options = SqliteConnectOptions::new()
                .filename(file)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(cores * 2)
                .connect_with(options)
                .await
                .map_err(|e| open::sqlite_open_error(file, &e))?;
            let readers = sqlite_read::ReadPool::open(file, cores as usize * 2)?;
            Ok(Arc::new(SqliteStore::new(pool, Some(readers))))
        }
        Dsn::Postgres(url) => {
            let options = open::pg_options(url)?;
            open::check_postgres(&options).await?;
            let pool = postgres_pool(cores * 4)
                .connect_with(options)
                .await
                .map_err(errors::store_error)?;
            Ok(Arc::new(PostgresStore::new(pool)))
        }
    }
}

/// Opens a PostgreSQL store whose tables live in `schema` (created if missing); tests use one schema each.
pub async fn connect_postgres_schema(
    url: &str,
    schema: &str,
) -> Result<Arc<dyn Store>, StoreError> {
    if !schema
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(StoreError::Backend(format!(
            "invalid schema name {schema:?}"
        )));
    }
    let base = open::pg_options(url)?;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(base.clone())
        .await
        .map_err(backend)?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&admin)
        .await
        .map_err(backend)?;
    admin.close().await;
    let options = base.options([("search_path", schema)]);
    let pool = postgres_pool(4)
        .connect_with(options)
        .await
        .map_err(errors::store_error)?;
    Ok(Arc::new(PostgresStore::new(pool)))
}

/// Drops a PostgreSQL schema and everything in it (benchmarks start from nothing).
pub async fn drop_postgres_schema(url: &str, schema: &str) -> Result<(), StoreError> {
    if !schema
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(StoreError::Backend(format!(
            "invalid schema name {schema:?}"
        )));
    }
    let options = PgConnectOptions::from_str(url).map_err(backend)?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(backend)?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&pool)
        .await
        .map_err(backend)?;
    pool.close().await;
    Ok(())
}

/// Runs `VACUUM (ANALYZE)` on the tables of a schema and a checkpoint, so a benchmark after a bulk load measures a
/// settled database instead of competing with autovacuum.
pub async fn vacuum_postgres_schema(url: &str, schema: &str) -> Result<(), StoreError> {
    if !schema
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(StoreError::Backend(format!(
            "invalid schema name {schema:?}"
        )));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(backend)?
        .options([("search_path", schema)]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(backend)?;
    for table in ["identities", "sessions"] {
        sqlx::query(&format!("VACUUM (ANALYZE) {table}"))
            .execute(&pool)
            .await
            .map_err(backend)?;
    }
    // Writing the loaded pages out now keeps the checkpointer out of the measurement; only a
    // superuser may, so a refusal is fine.
    let _ = sqlx::query("CHECKPOINT").execute(&pool).await;
    pool.close().await;
    Ok(())
}

/// Opens a database for a bulk load that is simply redone after a crash (the benchmark's
/// seeding). SQLite: one connection with a 256 MiB page cache, so that inserts at random places of
/// the indexes of a table of millions of rows stay in memory instead of being read through the
/// kernel for each row, without waiting for the disk at checkpoints (`synchronous = OFF`: a crash
/// of the machine can corrupt the file), and no reader pool. Other DSNs open as [`connect`].
pub async fn connect_for_bulk_load(dsn: &Dsn) -> Result<Arc<dyn Store>, StoreError> {
    let Dsn::Sqlite(path) = dsn else {
        return connect(dsn).await;
    };
    let file = sqlite_file(path);
    let options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .pragma("cache_size", "-262144");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(backend)?;
    Ok(Arc::new(SqliteStore::new(pool, None)))
}

/// Copies everything in a SQLite file's write-ahead log into the file and empties the log, so
/// that a benchmark after a bulk load reads a settled file: while the log holds pages, every
/// page a reader needs is first looked up in the log's index.
pub async fn checkpoint_sqlite(path: &str) -> Result<(), StoreError> {
    let file = sqlite_file(path);
    let options = SqliteConnectOptions::new()
        .filename(file)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(backend)?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .map_err(backend)?;
    pool.close().await;
    Ok(())
}
