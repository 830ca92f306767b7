//! The whoami lookup on SQLite files, through a small pool of read-only rusqlite connections.
//!
//! sqlx runs every SQLite statement on a worker thread per connection and hands rows back over a
//! channel; for a one-row indexed lookup those thread hops cost several times the query itself, and
//! whoami is the call every request of every app makes. In WAL mode readers never wait for the
//! writer, and a lookup of cached pages takes microseconds, so these connections run the statement
//! inline on the calling thread. Everything else (writes, migrations, other reads) stays on sqlx.

use crate::rows::{IDENTITY_COLUMNS, IdentityRow, SESSION_COLUMNS, SessionRow};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};
use sesame_core::TokenDigest;
use sesame_core::identity::Identity;
use sesame_core::session::Session;
use sesame_core::store::StoreError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use uuid::Uuid;

static SESSION_BY_TOKEN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS}, {IDENTITY_COLUMNS} FROM sessions s \
         JOIN identities i ON i.id = s.identity_id WHERE s.token_digest = ?1"
    )
});

/// Read-only connections to one SQLite file.
pub struct ReadPool {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool")
            .field("connections", &self.connections.len())
            .finish()
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl ReadPool {
    /// Opens `n` read-only connections to `path` (which must exist).
    pub fn open(path: &str, n: usize) -> Result<Self, StoreError> {
        let mut connections = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(backend)?;
            conn.busy_timeout(Duration::from_secs(5)).map_err(backend)?;
            conn.set_prepared_statement_cache_capacity(16);
            connections.push(Mutex::new(conn));
        }
        Ok(Self {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// The session with this token digest and its identity.
    pub fn session_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(Session, Identity)>, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.connections.len();
        // Take the first idle connection from a rotating start; wait for one only if all are busy.
        let guard = (0..n)
            .find_map(|i| self.connections[(start + i) % n].try_lock().ok())
            .map_or_else(|| self.connections[start % n].lock(), Ok)
            .map_err(|_| backend("a read connection was poisoned"))?;
        let mut stmt = guard.prepare_cached(&SESSION_BY_TOKEN).map_err(backend)?;
        let rows = stmt
            .query_row([digest.as_bytes()], |row| {
                Ok((session_row(row)?, identity_row(row, 13)?))
            })
            .optional()
            .map_err(backend)?;
        match rows {
            Some((s, i)) => Ok(Some((Session::try_from(s)?, Identity::try_from(i)?))),
            None => Ok(None),
        }
    }
}

fn uuid(row: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let bytes: Vec<u8> = row.get(i)?;
    Uuid::from_slice(&bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, Box::new(e))
    })
}

fn time(row: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(i)?;
    parse_time(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn time_opt(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(i)?;
    text.map(|t| {
        parse_time(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

/// sqlx writes `DateTime<Utc>` as RFC 3339 text (`…+00:00`), which the fast parser reads.
fn parse_time(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    sesame_core::types::time::parse(s)
}

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        s_id: uuid(r, 0)?,
        s_identity_id: uuid(r, 1)?,
        s_token_digest: r.get(2)?,
        s_logout_token_digest: r.get(3)?,
        s_active: r.get(4)?,
        s_aal: r.get(5)?,
        s_authentication_methods: r.get(6)?,
        s_devices: r.get(7)?,
        s_issued_at: time(r, 8)?,
        s_expires_at: time(r, 9)?,
        s_authenticated_at: time(r, 10)?,
        s_created_at: time(r, 11)?,
        s_updated_at: time(r, 12)?,
    })
}

fn identity_row(r: &Row<'_>, o: usize) -> rusqlite::Result<IdentityRow> {
    let org: Option<Vec<u8>> = r.get(o + 8)?;
    Ok(IdentityRow {
        i_id: uuid(r, o)?,
        i_schema_id: r.get(o + 1)?,
        i_traits: r.get(o + 2)?,
        i_state: r.get(o + 3)?,
        i_state_changed_at: time_opt(r, o + 4)?,
        i_metadata_public: r.get(o + 5)?,
        i_metadata_admin: r.get(o + 6)?,
        i_external_id: r.get(o + 7)?,
        i_organization_id: org.map(|b| Uuid::from_slice(&b)).transpose().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                o + 8,
                rusqlite::types::Type::Blob,
                Box::new(e),
            )
        })?,
        i_verifiable_addresses: r.get(o + 9)?,
        i_recovery_addresses: r.get(o + 10)?,
        i_available_aal: r.get(o + 11)?,
        i_created_at: time(r, o + 12)?,
        i_updated_at: time(r, o + 13)?,
    })
}
