//! Temporary: the admin/whoami API test modules, compiled on their own while they are written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../api/logout.rs"]
mod logout;
#[path = "../api/whoami.rs"]
mod whoami;
