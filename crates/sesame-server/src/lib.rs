//! Sesame's HTTP server: configuration in Kratos's format, start-up, and the public and admin
//! routers with their extractors, middleware and the one error-to-HTTP mapping.
//!
//! Handlers stay thin: extract, call one sesame-core service, convert, respond. No SQL and no
//! policy here; storage is reached only through sesame-core's traits.

pub mod access_log;
pub mod app;
pub mod browser;
pub mod client_ip;
pub mod config;
mod connections;
pub mod cors;
pub mod error;
pub mod extract;
pub mod json;
pub mod metrics;
pub mod middleware;
pub mod pagination;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod ui;
pub mod whoami_body;
mod whoami_cache;

pub use app::{Application, StartError, open_store, open_store_when_reachable, shutdown_signal};
pub use config::{Config, LoadedConfig, load};
