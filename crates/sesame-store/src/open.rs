//! Opening a database with errors a person can act on: which database, where, as whom, and the
//! cause. A pool that cannot connect only says that it timed out, so PostgreSQL is tried once on
//! its own first. A server that cannot be reached (refused, no answer, a name not resolved yet,
//! starting up) is `Unavailable`, which `sesame serve` waits out; a refused login, a missing
//! database or schema, or a DSN that cannot be read is `Open`: waiting would not fix it.

use sesame_core::store::StoreError;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How long the first connection to PostgreSQL may take before start-up gives up.
const FIRST_CONNECT: Duration = Duration::from_secs(10);

/// The connection options of a PostgreSQL URL. PostgreSQL's notices (`relation … already exists,
/// skipping` at every start) are not asked for unless the URL's `options` choose a level itself.
pub(crate) fn pg_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::Open(format!("the PostgreSQL URL cannot be read: {}", cause(&e)))
    })?;
    if options
        .get_options()
        .is_some_and(|o| o.contains("client_min_messages"))
    {
        return Ok(options);
    }
    Ok(options.options([("client_min_messages", "warning")]))
}

/// `PostgreSQL at HOST:PORT (database "D", user "U")`.
fn pg_target(options: &PgConnectOptions) -> String {
    let user = options.get_username();
    format!(
        "PostgreSQL at {}:{} (database {:?}, user {user:?})",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(user),
    )
}

/// Connects once, so that a database that cannot be reached fails with its cause, and checks that
/// the `search_path` names a schema to create the tables in.
pub(crate) async fn check_postgres(options: &PgConnectOptions) -> Result<(), StoreError> {
    let target = pg_target(options);
    let mut connection = match tokio::time::timeout(FIRST_CONNECT, options.connect()).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(e)) => {
            let message = format!("cannot connect to {target}: {}", cause(&e));
            return Err(if crate::errors::is_unreachable(&e) {
                StoreError::Unavailable(message)
            } else {
                StoreError::Open(message)
            });
        }
        Err(_) => {
            return Err(StoreError::Unavailable(format!(
                "cannot connect to {target}: no answer within {} s",
                FIRST_CONNECT.as_secs()
            )));
        }
    };
    let (schema, search_path): (Option<String>, String) =
        sqlx::query_as("SELECT current_schema(), current_setting('search_path')")
            .fetch_one(&mut connection)
            .await
            .map_err(|e| {
                let message = format!("{target}: {}", cause(&e));
                if crate::errors::is_unreachable(&e) {
                    StoreError::Unavailable(message)
                } else {
                    StoreError::Open(message)
                }
            })?;
    if schema.is_none() {
        return Err(StoreError::Open(format!(
            "{target}: no schema of the search_path ({search_path}) exists: create it first \
             (CREATE SCHEMA …), or change `options=-c search_path=…` in the DSN"
        )));
    }
    Ok(())
}

/// The error of opening a SQLite file, naming the file (absolute, so that a relative DSN is found).
pub(crate) fn sqlite_open_error(file: &str, e: &sqlx::Error) -> StoreError {
    let path = Path::new(file);
    let shown = match std::env::current_dir() {
        Ok(dir) if path.is_relative() => format!("{file} ({})", dir.join(path).display()),
        _ => file.to_owned(),
    };
    let hint = match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("14") => {
            ": does its directory exist, and may this user write there?"
        }
        _ => "",
    };
    StoreError::Open(format!(
        "cannot open the SQLite database {shown}: {}{hint}",
        cause(e)
    ))
}

/// The cause without sqlx's own framing (`error returned from database: …`).
fn cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Configuration(c) => c.to_string(),
        other => other.to_string(),
    }
}
