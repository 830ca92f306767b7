//! The Rust SDK for Sesame, and for any server speaking Ory Kratos's HTTP API: typed requests over
//! the wire types of `sesame-types`, with reqwest (rustls) underneath.
//!
//! Its centrepiece is [`Client::to_session`] (Kratos's `toSession`, `GET /sessions/whoami`): who
//! does this request belong to? Every call returns a [`Response`] (the decoded data with the
//! status, headers, redirects, `extra` values and the request it answers) or one [`Error`] whose
//! [`ErrorKind`] apps match on. This crate depends on `sesame-types` only — never on Sesame's
//! core, store or server — so that apps stay light.
//!
//! # A server-side app forwarding the visitor's cookie
//!
//! ```no_run
//! use sesame_client::{Client, ErrorKind};
//!
//! # async fn handle(visitor_cookie: &str) -> Result<(), sesame_client::Error> {
//! let client = Client::builder("http://127.0.0.1:4433").build()?;
//! match client.to_session().cookie(visitor_cookie).send().await {
//!     Ok(session) => println!("hello {}", session.identity_id().unwrap_or("?")),
//!     Err(e) => match &e.kind {
//!         ErrorKind::SessionInactive => println!("redirect to the login page"),
//!         ErrorKind::Aal2Required { redirect_browser_to } => {
//!             println!("second factor needed at {redirect_browser_to:?}")
//!         }
//!         _ => return Err(e),
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # A native app sending its session token
//!
//! ```no_run
//! use sesame_client::{Client, ErrorKind};
//! use std::time::Duration;
//!
//! # async fn run(token: &str) -> Result<(), sesame_client::Error> {
//! let client = Client::builder("https://auth.example.com")
//!     .timeout(Duration::from_secs(5))
//!     .build()?;
//! // A request builder can be awaited directly.
//! match client.to_session().x_session_token(token).await {
//!     Ok(res) => println!("session {} at {:?}", res.data.id, res.data.authenticator_assurance_level),
//!     Err(e) if matches!(e.kind, ErrorKind::SessionInactive) => println!("please log in again"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod request;
mod response;
mod session;

pub use client::{
    Client, ClientBuilder, DEFAULT_USER_AGENT, Interceptor, RequestParts, ResponseParts,
};
pub use error::{Error, ErrorKind, ErrorParts};
pub use response::{IDENTITY_ID_HEADER, RawResponse, RequestInfo, Response};
pub use session::ToSession;

pub use http::{HeaderMap, Method, StatusCode};
pub use sesame_types;
pub use sesame_types::Session;
pub use tokio_util::sync::CancellationToken;
