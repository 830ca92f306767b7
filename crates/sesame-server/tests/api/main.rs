//! API tests: a real Sesame per test (through sesame-testkit), on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod cache_hints;
mod compatibility_doc;
mod connections;
mod cors;
mod hostile;
mod identities;
mod login;
mod logout;
mod metrics;
mod ops;
mod outage;
mod persistence;
mod registration;
mod schemas;
mod sdk;
mod second_factors;
mod sessions;
mod settings;
mod shutdown;
mod throttle;
mod ui;
mod whoami;
mod whoami_cache;
