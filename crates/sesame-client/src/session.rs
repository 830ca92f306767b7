//! `to_session`: `GET /sessions/whoami` as a request builder.

use crate::client::Client;
use crate::error::Error;
use crate::request::Call;
use crate::response::Response;
use http::{Method, StatusCode};
use serde_json::Value;
use sesame_types::Session;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A whoami request (Ory's `toSession`); see [`Client::to_session`]. Send it with
/// [`send`](ToSession::send) or `.await` it directly. Dropping the future cancels the call.
#[must_use = "a request does nothing until it is sent or awaited"]
pub struct ToSession {
    call: Call,
}

impl std::fmt::Debug for ToSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToSession").finish_non_exhaustive()
    }
}

impl ToSession {
    pub(crate) fn new(client: Client) -> Self {
        let url = format!("{}/sessions/whoami", client.public_url());
        Self {
            call: Call::new(client, Method::GET, url),
        }
    }

    /// Sends the session token as `X-Session-Token` (native apps).
    pub fn x_session_token(mut self, token: &str) -> Self {
        self.call.header("x-session-token", token);
        self
    }

    /// Sends a whole `Cookie` header, e.g. the visitor's, forwarded as received (server-side apps);
    /// cookies other than the session cookie are ignored by the server.
    pub fn cookie(mut self, cookie: &str) -> Self {
        self.call.header("cookie", cookie);
        self
    }

    /// Asks for the session as a JWT made with this tokenizer template (`Session::tokenized`).
    pub fn tokenize_as(mut self, template: &str) -> Self {
        self.call.query("tokenize_as", template);
        self
    }

    /// Adds (or replaces) a header for this request.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.call.header(name, value);
        self
    }

    /// A request-scoped value, visible to interceptors and returned on the response.
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.call.extra(key.into(), value);
        self
    }

    /// Decides which statuses count as success (2xx by default). An accepted status that is not a
    /// session fails [`send`](ToSession::send) with `Decode`; use [`send_raw`](ToSession::send_raw)
    /// to receive such bodies (e.g. a 401) as a success value.
    pub fn validate_status(
        mut self,
        validate: impl Fn(StatusCode) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.call.validate_status(Arc::new(validate));
        self
    }

    /// Called with `(bytes sent, total)`; whoami has no body, so once with `(0, 0)` when sent.
    pub fn on_send_progress(mut self, progress: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.call.on_send_progress(Arc::new(progress));
        self
    }

    /// Called with `(bytes received, total)` as the body streams in; total is the
    /// `Content-Length` (or the bytes so far when unknown), and the last call has `done == total`.
    pub fn on_receive_progress(
        mut self,
        progress: impl Fn(u64, u64) + Send + Sync + 'static,
    ) -> Self {
        self.call.on_receive_progress(Arc::new(progress));
        self
    }

    /// Cancels the call when `token` is cancelled (before or while it is in flight).
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.call.cancellation(token);
        self
    }

    /// Sends the request and decodes the [`Session`].
    pub async fn send(self) -> Result<Response<Session>, Error> {
        self.call.execute().await?.decode(true)
    }

    /// Sends the request and returns any accepted body as JSON (`null` when empty).
    pub async fn send_raw(self) -> Result<Response<Value>, Error> {
        self.call.execute().await?.decode(true)
    }
}

impl IntoFuture for ToSession {
    type Output = Result<Response<Session>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
