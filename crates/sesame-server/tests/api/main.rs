//! API tests: a real Sesame per test (through sesame-testkit), on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod login;
mod registration;
mod shutdown;
mod whoami;
