//! The whoami lookup on SQLite files, through a small pool of read-only rusqlite connections.
//!
//! sqlx runs every SQLite statement on a worker thread per connection and hands rows back over a
//! channel; for a one-row indexed lookup those thread hops cost several times the query itself, and
//! whoami is the call every request of every app makes. In WAL mode readers never wait for the
//! writer, and a lookup of cached pages takes microseconds, so these connections run the statement
//! inline on the calling thread. Everything else (writes, migrations, other reads) stays on sqlx.

use crate::rows::{IDENTITY_COLUMNS, SESSION_COLUMNS};
use chrono::{DateTime, Utc};
use rusqlite::types::{Type, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};
use sesame_core::aal::Aal;
use sesame_core::identity::Identity;
use sesame_core::kept::Kept;
use sesame_core::session::Session;
use sesame_core::store::{PoolStatus, StoreError};
use sesame_core::types::IdentityState;
use sesame_core::{IdentityId, SessionId, TokenDigest};
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// The join of whoami, with the columns of `rows` in their order but without their aliases
/// (columns are read by position here), so that the statement cache hashes a short key.
static SESSION_BY_TOKEN: LazyLock<String> = LazyLock::new(|| {
    let plain = |columns: &str| {
        columns
            .split(',')
            .map(|c| c.split(" AS ").next().unwrap_or(c).trim())
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "SELECT {},{} FROM sessions s JOIN identities i ON i.id=s.identity_id WHERE s.token_digest=?1",
        plain(SESSION_COLUMNS),
        plain(IDENTITY_COLUMNS)
    )
});

/// How much of the file each reader maps (SQLite caps it at its compile-time maximum, 2 GiB).
/// Mapped pages are read in place from the operating system's page cache: no `pread` and no copy
/// into a page cache of each connection's own, so a table far larger than those caches costs a
/// lookup no more than a small one. The mapped pages a lookup touched count as file-backed
/// resident memory (`RssFile`), shared with the page cache, not as memory of the server's own.
const MMAP_BYTES: i64 = 1 << 31;

/// Read-only connections to one SQLite file.
pub struct ReadPool {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    identities: DecodedIdentities,
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
            conn.pragma_update(None, "mmap_size", MMAP_BYTES)
                .map_err(backend)?;
            connections.push(Mutex::new(conn));
        }
        Ok(Self {
            connections,
            next: AtomicUsize::new(0),
            identities: DecodedIdentities::new(DECODED_IDENTITIES),
        })
    }

    /// The pool's state for monitoring. A connection whose lock is free at the moment is idle; the
    /// check takes each lock for an instant, and a lookup that finds one taken tries the next.
    pub fn status(&self) -> PoolStatus {
        let n = u32::try_from(self.connections.len()).unwrap_or(u32::MAX);
        let idle = self
            .connections
            .iter()
            .filter(|c| c.try_lock().is_ok())
            .count();
        PoolStatus {
            pool: "whoami",
            size: n,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max: n,
        }
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
        stmt.query_row([digest.as_bytes()], |row| {
            Ok((session(row)?, self.identities.decode(row, 13)?))
        })
        .optional()
        .map_err(backend)
    }
}

/// Identities kept decoded: about 2 KB each (the row and the identity), so ≤ 4 MB.
const DECODED_IDENTITIES: usize = 2048;

/// Identities decoded from rows before, each with the exact bytes of the row it came from.
///
/// Decoding an identity (its traits, addresses and timestamps are JSON and text) costs more
/// than the lookup itself, and a hot identity is read again and again. Nothing here is a cache of
/// answers: the row is read from the database every time, and a kept identity is only used when
/// every byte of its row is the same as the one just read, so the result is exactly what decoding
/// the row gives.
struct DecodedIdentities(Kept<Uuid, Decoded>);

struct Decoded {
    row: Box<[u8]>,
    identity: Identity,
}

thread_local! {
    /// The identity columns of the row at hand, reused from call to call.
    static ROW: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl DecodedIdentities {
    fn new(capacity: usize) -> Self {
        Self(Kept::new(capacity))
    }

    /// The identity of the columns from `o` on: the kept one if its row is this row, else decoded.
    fn decode(&self, r: &Row<'_>, o: usize) -> rusqlite::Result<Identity> {
        ROW.with_borrow_mut(|raw| {
            raw.clear();
            for i in o..o + IDENTITY_FIELDS {
                encode(raw, r.get_ref(i)?);
            }
            let id = uuid(r, o)?;
            if let Some(kept) = self.0.get(&id).filter(|k| *k.row == raw[..]) {
                return Ok(kept.identity.clone());
            }
            let identity = identity(r, o)?;
            self.0.keep(
                id,
                Arc::new(Decoded {
                    row: raw.as_slice().into(),
                    identity: identity.clone(),
                }),
            );
            Ok(identity)
        })
    }
}

/// Appends a column's type and bytes, so that equal encodings mean equal columns.
fn encode(out: &mut Vec<u8>, value: ValueRef<'_>) {
    let (tag, bytes): (u8, &[u8]) = match value {
        ValueRef::Null => (0, &[]),
        ValueRef::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
            return;
        }
        ValueRef::Real(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
            return;
        }
        ValueRef::Text(t) => (3, t),
        ValueRef::Blob(b) => (4, b),
    };
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Columns of `IDENTITY_COLUMNS`.
const IDENTITY_FIELDS: usize = 14;

// Columns are read in place (`get_ref`): times, ids and JSON are parsed from SQLite's own buffer
// instead of a copy of it, and only what the domain types own is allocated.

fn failure(
    i: usize,
    kind: Type,
    e: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, kind, Box::new(e))
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(i)?.as_str()?)
}

fn text_opt<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(i)?.as_str_or_null()?)
}

fn uuid(row: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    Uuid::from_slice(row.get_ref(i)?.as_blob()?).map_err(|e| failure(i, Type::Blob, e))
}

fn digest(row: &Row<'_>, i: usize) -> rusqlite::Result<TokenDigest> {
    TokenDigest::from_slice(row.get_ref(i)?.as_blob()?)
        .ok_or_else(|| failure(i, Type::Blob, std::fmt::Error))
}

/// sqlx writes `DateTime<Utc>` as RFC 3339 text (`…+00:00`), which the fast parser reads.
fn time(row: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    sesame_core::types::time::parse(text(row, i)?).map_err(|e| failure(i, Type::Text, e))
}

fn time_opt(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    text_opt(row, i)?
        .map(|t| sesame_core::types::time::parse(t).map_err(|e| failure(i, Type::Text, e)))
        .transpose()
}

fn json<T: serde::de::DeserializeOwned>(row: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    serde_json::from_str(text(row, i)?).map_err(|e| failure(i, Type::Text, e))
}

fn json_opt(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    text_opt(row, i)?
        .map(|t| serde_json::from_str(t).map_err(|e| failure(i, Type::Text, e)))
        .transpose()
}

fn aal(row: &Row<'_>, i: usize) -> rusqlite::Result<Aal> {
    Ok(Aal::parse(text(row, i)?).unwrap_or(Aal::Aal0))
}

/// The session columns (`SESSION_COLUMNS`), as `rows::SessionRow` and its conversion read them.
fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId(uuid(r, 0)?),
        identity_id: IdentityId(uuid(r, 1)?),
        token_digest: digest(r, 2)?,
        logout_token_digest: digest(r, 3)?,
        active: r.get(4)?,
        aal: aal(r, 5)?,
        authentication_methods: json(r, 6)?,
        devices: json(r, 7)?,
        issued_at: time(r, 8)?,
        expires_at: time(r, 9)?,
        authenticated_at: time(r, 10)?,
        created_at: time(r, 11)?,
        updated_at: time(r, 12)?,
    })
}

/// The identity columns (`IDENTITY_COLUMNS`) from `o` on, as `rows::IdentityRow` and its
/// conversion read them.
fn identity(r: &Row<'_>, o: usize) -> rusqlite::Result<Identity> {
    let organization = r.get_ref(o + 8)?.as_blob_or_null()?;
    Ok(Identity {
        id: IdentityId(uuid(r, o)?),
        schema_id: text(r, o + 1)?.to_owned(),
        traits: json(r, o + 2)?,
        state: if text(r, o + 3)? == "inactive" {
            IdentityState::Inactive
        } else {
            IdentityState::Active
        },
        state_changed_at: time_opt(r, o + 4)?,
        metadata_public: json_opt(r, o + 5)?,
        metadata_admin: json_opt(r, o + 6)?,
        external_id: text_opt(r, o + 7)?.map(str::to_owned),
        organization_id: organization
            .map(Uuid::from_slice)
            .transpose()
            .map_err(|e| failure(o + 8, Type::Blob, e))?,
        verifiable_addresses: json(r, o + 9)?,
        recovery_addresses: json(r, o + 10)?,
        available_aal: aal(r, o + 11)?,
        created_at: time(r, o + 12)?,
        updated_at: time(r, o + 13)?,
    })
}
