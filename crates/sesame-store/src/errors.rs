//! sqlx failures in storage terms: unique violations are `Conflict`, a missing row (or one that a
//! foreign key needs) `NotFound`, a database that cannot be reached right now `Unavailable`
//! (answered 503 with `Retry-After`, and retried at start-up), anything else `Backend`.
//!
//! "Cannot be reached" is decided narrowly: a refused, reset or dropped connection, no pooled
//! connection in time, or PostgreSQL saying that it is shutting down, starting up or full. A
//! SQLite file that stays locked past its busy timeout is a `Backend` failure, not an outage: it
//! does not go away by waiting for a server to come back.

use sesame_core::store::StoreError;

/// The `StoreError` of a sqlx failure.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        // A row that refers to one deleted meanwhile (a session for an identity removed while
        // its login ran): the record it needs is gone.
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other if is_unreachable(&other) => StoreError::Unavailable(other.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// The `StoreError` of a failed migration: unavailable when it failed for want of a connection.
pub(crate) fn migrate_error(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(inner) if is_unreachable(&inner) => {
            StoreError::Unavailable(format!("migration failed: {inner}"))
        }
        other => StoreError::Backend(format!("migration failed: {other}")),
    }
}

/// Whether a failure means the database cannot be reached now but may be soon.
pub(crate) fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        // The pool found no connection in time: the server is gone, or too busy to help anyone.
        sqlx::Error::PoolTimedOut => true,
        // Refused, reset, broken pipe, end of stream: the connection or the server went away.
        // SQLite reports its own failures as database errors, never as these.
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(d) => d
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| unavailable_sqlstate(pg.code())),
        _ => false,
    }
}

/// PostgreSQL's codes for a server that cannot serve now: class 08 (connection exception),
/// `57P01`–`57P03` (shutting down by an operator, after a crash, or not yet accepting
/// connections) and `53300` (too many connections).
fn unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_and_timeouts_are_unavailable() {
        assert!(is_unreachable(&sqlx::Error::PoolTimedOut));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            store_error(sqlx::Error::Io(refused)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::RowNotFound),
            StoreError::NotFound
        ));
        assert!(matches!(
            store_error(sqlx::Error::PoolClosed),
            StoreError::Backend(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::Protocol("unexpected message".into())),
            StoreError::Backend(_)
        ));
    }

    #[tokio::test]
    async fn a_locked_sqlite_file_is_a_failure_not_an_outage() {
        use sqlx::ConnectOptions;
        use sqlx::sqlite::SqliteConnectOptions;
        let file = std::env::temp_dir().join(format!(
            "sesame-busy-{}.sqlite",
            uuid::Uuid::new_v4().simple()
        ));
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let mut holder = options.connect().await.unwrap();
        let mut waiter = options.connect().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let busy = sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut waiter)
            .await
            .unwrap_err();
        assert!(matches!(store_error(busy), StoreError::Backend(_)));
        drop((holder, waiter));
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn only_the_server_state_codes_of_postgresql_are_unavailable() {
        for code in [
            "08000", "08006", "08001", "57P01", "57P02", "57P03", "53300",
        ] {
            assert!(unavailable_sqlstate(code), "{code}");
        }
        // A wrong password, a missing database, a syntax error, a busy SQLite file's code.
        for code in ["28P01", "3D000", "42601", "5", "517"] {
            assert!(!unavailable_sqlstate(code), "{code}");
        }
    }
}
