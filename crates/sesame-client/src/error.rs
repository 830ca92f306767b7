//! The one [`Error`] every call fails with, and the [`ErrorKind`] apps match on.

use crate::response::{RawResponse, RequestInfo};
use http::StatusCode;
use sesame_types::{ErrorEnvelope, GenericError};
use std::fmt;
use std::ops::Deref;

/// What went wrong; match on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No valid session credentials (whoami's 401, `session_inactive`).
    #[error("no active session (session_inactive)")]
    SessionInactive,
    /// The session exists but a second factor is required (403 `session_aal2_required`).
    #[error("a second factor is required (session_aal2_required)")]
    Aal2Required {
        /// Where to send the browser to complete the second factor.
        redirect_browser_to: Option<String>,
    },
    /// Any other non-success answer. Without an error envelope, `code` and `status` are filled in
    /// from the HTTP status.
    #[error("API error {}: {}", .0.code.unwrap_or_default(), .0.message)]
    Api(GenericError),
    /// A success status whose body could not be decoded (the body is in [`ErrorParts::response`]).
    #[error("could not decode the response body: {message}")]
    Decode {
        /// The decoder's message.
        message: String,
    },
    /// The call was cancelled through its `CancellationToken`.
    #[error("the request was cancelled")]
    Cancelled,
    /// The client's timeout elapsed.
    #[error("the request timed out")]
    Timeout,
    /// Connecting, sending or receiving failed.
    #[error("transport error: {0}")]
    Transport(String),
    /// The client or request was misconfigured (an invalid URL or header); nothing was sent.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// The parts of an [`Error`], reachable through `Deref` (`err.kind`, `err.request` …).
#[derive(Debug, Clone)]
pub struct ErrorParts {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The request that failed (headers redacted in `Debug`).
    pub request: RequestInfo,
    /// The response, when there was one.
    pub response: Option<RawResponse>,
}

/// The error of every call: a kind, the request, and the raw response where there was one.
/// Boxed so that `Result`s stay small; fields are reached through `Deref`.
#[derive(Debug, Clone)]
pub struct Error(Box<ErrorParts>);

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        request: RequestInfo,
        response: Option<RawResponse>,
    ) -> Self {
        Self(Box::new(ErrorParts {
            kind,
            request,
            response,
        }))
    }

    /// Takes the parts out (e.g. to move the kind or the body).
    pub fn into_parts(self) -> ErrorParts {
        *self.0
    }

    /// The error id of the envelope (`session_inactive`, `session_aal2_required` …), if any.
    pub fn id(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::SessionInactive => Some("session_inactive"),
            ErrorKind::Aal2Required { .. } => Some("session_aal2_required"),
            ErrorKind::Api(e) => e.id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, if a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.response.as_ref().map(|r| r.status)
    }
}

impl Deref for Error {
    type Target = ErrorParts;

    fn deref(&self) -> &ErrorParts {
        &self.0
    }
}

impl fmt::Display for Error {
    // The URL and method only: headers (credentials) and bodies never appear.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.request.url.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(
                f,
                "{} {}: {}",
                self.request.method, self.request.url, self.kind
            )
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.kind)
    }
}

/// Classifies a non-success response. `whoami` makes every 401 a `SessionInactive`.
pub(crate) fn classify(status: StatusCode, body: &[u8], whoami: bool) -> ErrorKind {
    let envelope = serde_json::from_slice::<ErrorEnvelope>(body).ok();
    let id = envelope.as_ref().and_then(|e| e.error.id.as_deref());
    if status == StatusCode::UNAUTHORIZED && (whoami || id == Some("session_inactive")) {
        return ErrorKind::SessionInactive;
    }
    match envelope {
        Some(envelope) if id == Some("session_aal2_required") => {
            let top = envelope.extra.get("redirect_browser_to");
            let nested = envelope
                .error
                .details
                .as_ref()
                .and_then(|d| d.get("redirect_browser_to"));
            ErrorKind::Aal2Required {
                redirect_browser_to: top.or(nested).and_then(|v| v.as_str()).map(str::to_owned),
            }
        }
        Some(envelope) => ErrorKind::Api(envelope.error),
        None => ErrorKind::Api(GenericError {
            code: Some(status.as_u16()),
            status: status.canonical_reason().map(str::to_owned),
            message: format!("unexpected status {status} without an error envelope"),
            ..GenericError::default()
        }),
    }
}

/// A transport error's message with its causes, without the URL.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
