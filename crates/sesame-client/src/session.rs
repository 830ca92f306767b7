//! `to_session`: `GET /sessions/whoami`, the call apps make on nearly every request.

use crate::client::Client;
use crate::endpoint::{Request, session_credentials};
use crate::endpoints::ToSession;
use http::Method;

impl Client {
    /// `GET /sessions/whoami` (Ory's `toSession`): who does this credential belong to? Give it
    /// the visitor's [`cookie`](Request::<ToSession>::cookie) or a native app's
    /// [`x_session_token`](Request::<ToSession>::x_session_token) (or an `Authorization: Bearer`
    /// [`header`](Request::header)).
    pub fn to_session(&self) -> Request<ToSession> {
        let url = format!("{}/sessions/whoami", self.public_url());
        Request::new(self, Method::GET, url)
    }
}

session_credentials!(ToSession);

impl Request<ToSession> {
    /// Asks for the session as a JWT made with this tokenizer template (`Session::tokenized`).
    pub fn tokenize_as(self, template: &str) -> Self {
        self.with(|c| c.query("tokenize_as", template))
    }
}
