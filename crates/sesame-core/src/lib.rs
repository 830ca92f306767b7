//! Sesame's domain: identities, credentials, sessions, self-service flows, assurance levels, password
//! hashing, identity schemas, the services that combine them, and the storage traits they need.
//!
//! This crate names no axum and no sqlx: storage is reached only through the traits in [`store`],
//! implemented by sesame-store; HTTP is sesame-server's business. Time is passed in (see [`clock`]).

pub mod aal;
mod argon2_area;
pub mod caching_store;
pub mod clock;
pub mod cookie;
pub mod csrf;
pub mod duration;
pub mod error;
pub mod flow;
pub mod identity;
pub mod ids;
pub mod kept;
pub mod lookup;
pub mod messages;
pub mod password;
pub mod schema;
pub mod services;
pub mod session;
pub mod store;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod untrusted;
pub mod whoami_cache;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::CoreError;
pub use ids::{FlowId, IdentityId, SessionId};
pub use sesame_types as types;
pub use store::{Store, StoreError};
pub use token::{LogoutToken, SessionToken, TokenDigest};
