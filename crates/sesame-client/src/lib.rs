//! The Rust SDK for Sesame, and for any server speaking Ory Kratos's HTTP API: typed requests over
//! the wire types of `sesame-types`, with reqwest (rustls) underneath.
//!
//! Its centrepiece is [`Client::to_session`] (Kratos's `toSession`, `GET /sessions/whoami`): who
//! does this request belong to? Every call returns a [`Response`] (the decoded data with the
//! status, headers, redirects, `extra` values and the request it answers) or one [`Error`] whose
//! [`ErrorKind`] apps match on. This crate depends on `sesame-types` only — never on Sesame's
//! core, store or server — so that apps stay light.
//!
//! The examples below run as tests against a real Sesame (the hidden lines start one).
//!
//! # A server-side app forwarding the visitor's cookie
//!
//! A server-rendered app asks whoami with the browser's whole `Cookie` header, as received; Sesame
//! picks its session cookie out and ignores the others.
//!
//! ```
//! use sesame_client::{Client, ErrorKind};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sesame_client::Error> {
//! # let app = sesame_testkit::TestApp::spawn(sesame_testkit::Backend::Sqlite).await;
//! # let (token, _) = app.signed_up_user("ada@example.com").await;
//! # let expires = chrono::Utc::now() + chrono::Duration::hours(1);
//! # let visitor_cookie = format!("theme=dark; {}", sesame_testkit::sealed_session_cookie(&token, expires));
//! # let public_url = app.public_url.clone();
//! let sesame = Client::builder(public_url).build()?;
//! match sesame.to_session().cookie(&visitor_cookie).await {
//!     Ok(res) => {
//!         let identity = res.data.identity.as_ref().expect("whoami includes the identity");
//!         println!("signed in as {}", identity.traits["email"]);
//!         assert_eq!(res.identity_id(), Some(identity.id.to_string().as_str()));
//!     }
//!     Err(e) => match &e.kind {
//!         ErrorKind::SessionInactive => println!("send the browser to the login page"),
//!         ErrorKind::Aal2Required { redirect_browser_to } => {
//!             println!("send the browser to {redirect_browser_to:?} for its second factor")
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
//! A native app signs in once, keeps the session token, and sends it as `X-Session-Token`.
//!
//! ```
//! use sesame_client::{Client, ErrorKind};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sesame_client::Error> {
//! # let app = sesame_testkit::TestApp::spawn(sesame_testkit::Backend::Sqlite).await;
//! # app.signed_up_user("grace@example.com").await;
//! # let public_url = app.public_url.clone();
//! let sesame = Client::builder(public_url)
//!     .timeout(Duration::from_secs(5))
//!     .build()?;
//! let login = sesame
//!     .login_with_password("grace@example.com", "a-very-good-passphrase-42")
//!     .await?;
//! let token = login.data.session_token.expect("API logins return a token");
//!
//! // Later, on every launch: is the stored token still good?
//! let session = sesame.to_session().x_session_token(&token).await?;
//! assert!(session.data.active);
//!
//! // Signing out revokes the token everywhere.
//! sesame.perform_native_logout(&token).await?;
//! let err = sesame.to_session().x_session_token(&token).await.unwrap_err();
//! assert!(matches!(err.kind, ErrorKind::SessionInactive));
//! # Ok(())
//! # }
//! ```
//!
//! # Handling `SessionInactive` and `Aal2Required`
//!
//! whoami fails in two ways apps must tell apart: no session at all (sign in), or a session that
//! has not proven the second factor its identity has (step up, where `redirect_browser_to` says).
//! Other refusals carry the server's envelope in [`ErrorKind::Api`], and a refused login form
//! carries its flow and messages in [`ErrorKind::LoginRejected`].
//!
//! ```
//! use sesame_client::{Client, ErrorKind};
//!
//! /// What the app does with a visitor's token.
//! enum Next { Proceed, SignIn, SecondFactor(Option<String>) }
//!
//! async fn gate(sesame: &Client, token: &str) -> Result<Next, sesame_client::Error> {
//!     match sesame.to_session().x_session_token(token).await {
//!         Ok(_) => Ok(Next::Proceed),
//!         Err(e) => match &e.kind {
//!             ErrorKind::SessionInactive => Ok(Next::SignIn),
//!             ErrorKind::Aal2Required { redirect_browser_to } => {
//!                 Ok(Next::SecondFactor(redirect_browser_to.clone()))
//!             }
//!             _ => Err(e),
//!         },
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sesame_client::Error> {
//! # let app = sesame_testkit::TestApp::spawn(sesame_testkit::Backend::Sqlite).await;
//! # let (token, identity_id) = app.signed_up_user("lin@example.com").await;
//! # let sesame = Client::builder(app.public_url.clone()).build()?;
//! assert!(matches!(gate(&sesame, &token).await?, Next::Proceed));
//! assert!(matches!(gate(&sesame, "ory_st_forged").await?, Next::SignIn));
//! // Once the identity has a second factor, its password-only session must step up.
//! # app.add_totp_credential(&identity_id).await;
//! let Next::SecondFactor(Some(url)) = gate(&sesame, &token).await? else { panic!() };
//! assert!(url.contains("/self-service/login/browser?aal=aal2"));
//!
//! // A wrong password is a refused form: the flow says why (4000006).
//! let err = sesame.login_with_password("lin@example.com", "wrong").await.unwrap_err();
//! let ErrorKind::LoginRejected(flow) = &err.kind else { panic!() };
//! assert_eq!(flow.ui.message_ids(), [4000006]);
//! # Ok(())
//! # }
//! ```
//!
//! # The rest of the API
//!
//! Every operation the server implements has a method named as Ory's SDKs name it, returning a
//! [`Request`] to refine and send: [`to_session`](Client::to_session); native and browser login
//! and registration ([`create_native_login_flow`](Client::create_native_login_flow),
//! [`update_login_flow`](Client::update_login_flow), …); logout; identity schemas; health; and,
//! with [`ClientBuilder::admin_url`], the admin identities API
//! ([`create_identity`](Client::create_identity), [`list_identities`](Client::list_identities)
//! with [`Response::next_page_token`], …); a user's own sessions
//! ([`list_my_sessions`](Client::list_my_sessions),
//! [`disable_my_other_sessions`](Client::disable_my_other_sessions)) and the admin session API
//! ([`list_sessions`](Client::list_sessions), [`extend_session`](Client::extend_session),
//! [`manage_sessions`](Client::manage_sessions), …). Every request takes extra headers, `extra` values,
//! `validate_status`, a [`timeout`](Request::timeout) of its own, progress callbacks and a
//! cancellation token.
//!
//! # Everything from this crate
//!
//! An app needs no other crate to name what this one's signatures use: the wire types
//! ([`Session`] and the rest of [`sesame_types`]), [`serde_json`] (with [`json!`] and [`Value`] at
//! the root, for [`Request::extra`] and the JSON bodies), [`http`] (with [`HeaderMap`],
//! [`HeaderName`], [`HeaderValue`], [`Method`], [`StatusCode`] and [`Uri`] at the root, e.g. for
//! an [`Interceptor`] that adds a header), [`chrono`] (the wire types' timestamps), [`Uuid`] and
//! [`CancellationToken`].
//!
//! # axum integration (feature `axum`)
//!
//! The `guard` module (with the `axum` feature) protects an axum app's routes: a `SessionGuard`
//! forwards each request's credentials to whoami and hands the session to handlers through a
//! tower layer and the `CurrentSession` / `OptionalSession` extractors (which hold a [`Session`]).

mod admin;
mod client;
mod endpoint;
pub mod endpoints;
mod error;
mod frontend;
#[cfg(feature = "axum")]
pub mod guard;
mod request;
mod response;
mod session;
mod sessions;
mod settings;

pub use client::{
    Client, ClientBuilder, DEFAULT_USER_AGENT, Interceptor, RequestParts, ResponseParts,
};
pub use endpoint::{Endpoint, Request};
#[doc(hidden)]
pub use error::Refusals;
pub use error::{Error, ErrorKind, ErrorParts};
pub use response::{IDENTITY_ID_HEADER, RawResponse, RequestInfo, Response};

pub use chrono;
pub use http;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
pub use serde_json;
pub use serde_json::{Value, json};
pub use sesame_types;
pub use sesame_types::{
    LookupSecretAction, Session, SettingsFlow, UpdateLoginFlowBody, UpdateRegistrationFlowBody,
    UpdateSettingsFlowBody,
};
pub use tokio_util::sync::CancellationToken;
pub use uuid::Uuid;
