//! [`Request`], the builder every API call returns, and the [`Endpoint`] markers that give each
//! call its answer type and its own options.

use crate::client::Client;
use crate::error::{Error, Refusals};
use crate::request::Call;
use crate::response::Response;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// One operation of the API: what it answers and how its refusals read. Implemented by the
/// marker types in [`endpoints`](crate::endpoints); apps do not implement it.
pub trait Endpoint: sealed::Sealed {
    /// The decoded answer.
    type Output: DeserializeOwned;
    #[doc(hidden)]
    const REFUSALS: Refusals;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// An API request being built: the options every call has are here, an endpoint's own options
/// (e.g. [`aal`](Request::<crate::endpoints::CreateNativeLoginFlow>::aal)) on `Request<ThatEndpoint>`.
/// Send it with [`send`](Request::send) or `.await` it directly; dropping the future cancels it.
#[must_use = "a request does nothing until it is sent or awaited"]
pub struct Request<E> {
    pub(crate) call: Call,
    endpoint: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for Request<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("endpoint", &std::any::type_name::<E>())
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> Request<E> {
    pub(crate) fn new(client: &Client, method: Method, url: String) -> Self {
        Self {
            call: Call::new(client.clone(), method, url),
            endpoint: PhantomData,
        }
    }

    pub(crate) fn with(mut self, f: impl FnOnce(&mut Call)) -> Self {
        f(&mut self.call);
        self
    }

    /// Adds (or replaces) a header for this request.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.with(|c| c.header(name, value))
    }

    /// A request-scoped value, visible to interceptors and returned on the response, e.g.
    /// `.extra("route", json!("/dashboard"))` with [`json!`](crate::json) (this crate re-exports
    /// [`serde_json`](crate::serde_json)).
    pub fn extra(self, key: impl Into<String>, value: Value) -> Self {
        self.with(|c| c.extra(key.into(), value))
    }

    /// Decides which statuses count as success (2xx by default). An accepted status whose body is
    /// not the endpoint's answer fails [`send`](Request::send) with `Decode`; use
    /// [`send_raw`](Request::send_raw) to receive such bodies (e.g. a 401) as a success value.
    ///
    /// A refused status is classified as usual (e.g. `SessionInactive`, `Api` with the server's
    /// error envelope). A success status (2xx) it refuses, answered without an error envelope,
    /// fails with [`ErrorKind::StatusRejected`](crate::ErrorKind::StatusRejected).
    pub fn validate_status(
        self,
        validate: impl Fn(StatusCode) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.with(|c| c.validate_status(Arc::new(validate)))
    }

    /// Called with `(bytes sent, total)` as the request body is handed to the connection; the
    /// last call has `done == total` (once `(0, 0)` for a request without a body).
    pub fn on_send_progress(self, progress: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.with(|c| c.on_send_progress(Arc::new(progress)))
    }

    /// Called with `(bytes received, total)` as the body streams in; total is the
    /// `Content-Length` (or the bytes so far when unknown), and the last call has `done == total`.
    pub fn on_receive_progress(self, progress: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.with(|c| c.on_receive_progress(Arc::new(progress)))
    }

    /// Cancels the call when `token` is cancelled (before or while it is in flight).
    pub fn cancellation(self, token: CancellationToken) -> Self {
        self.with(|c| c.cancellation(token))
    }

    /// This request's deadline, instead of the client's
    /// [`timeout`](crate::ClientBuilder::timeout) (longer or shorter): from connecting to the last
    /// byte of the body, redirects followed included. When it passes, the call fails with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|c| c.timeout(timeout))
    }

    /// Sends the request and decodes the endpoint's answer.
    pub async fn send(self) -> Result<Response<E::Output>, Error> {
        self.call.execute().await?.decode(E::REFUSALS)
    }

    /// Sends the request and returns any accepted body as JSON (`null` when empty).
    pub async fn send_raw(self) -> Result<Response<Value>, Error> {
        self.call.execute().await?.decode(E::REFUSALS)
    }
}

impl<E: Endpoint + 'static> IntoFuture for Request<E>
where
    E::Output: Send,
{
    type Output = Result<Response<E::Output>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Declares endpoint markers: `Name => Output, refusals;`.
macro_rules! endpoints {
    ($($(#[$doc:meta])* $name:ident => $output:ty, $refusals:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl crate::endpoint::sealed::Sealed for $name {}
            impl crate::endpoint::Endpoint for $name {
                type Output = $output;
                #[doc(hidden)]
                const REFUSALS: crate::error::Refusals = crate::error::Refusals::$refusals;
            }
        )*
    };
}

/// Gives `Request<Endpoint>` the credential options of calls that act for a session.
macro_rules! session_credentials {
    ($($name:ty),* $(,)?) => {
        $(
            impl crate::endpoint::Request<$name> {
                /// Sends the session token as `X-Session-Token` (native apps).
                pub fn x_session_token(self, token: &str) -> Self {
                    self.with(|c| c.header("x-session-token", token))
                }

                /// Sends a whole `Cookie` header, e.g. the visitor's as received (server-side
                /// apps); cookies other than Sesame's are ignored by the server.
                pub fn cookie(self, cookie: &str) -> Self {
                    self.with(|c| c.header("cookie", cookie))
                }
            }
        )*
    };
}

/// Gives `Request<Endpoint>` the `Cookie` option of browser calls (the anti-CSRF cookie and the
/// session cookie travel in it).
macro_rules! browser_cookie {
    ($($name:ty),* $(,)?) => {
        $(
            impl crate::endpoint::Request<$name> {
                /// Sends a whole `Cookie` header: a server-side app forwards the browser's, so
                /// that the anti-CSRF and session cookies reach Sesame.
                pub fn cookie(self, cookie: &str) -> Self {
                    self.with(|c| c.header("cookie", cookie))
                }
            }
        )*
    };
}

pub(crate) use {browser_cookie, endpoints, session_credentials};
