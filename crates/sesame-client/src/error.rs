//! The one [`Error`] every call fails with, and the [`ErrorKind`] apps match on.

use crate::response::{RawResponse, RequestInfo};
use http::StatusCode;
use sesame_types::{ErrorEnvelope, GenericError, LoginFlow, RegistrationFlow, SettingsFlow};
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
    /// A submitted login form was refused (400): the flow, whose `ui.messages` and node messages
    /// say why (e.g. 4000006 for wrong credentials). Submit again to the same flow.
    #[error("the login flow refused the submission")]
    LoginRejected(Box<LoginFlow>),
    /// A submitted registration form was refused (400): the flow with its messages (e.g. 4000007
    /// for an identifier that exists, 4000005 for a weak password).
    #[error("the registration flow refused the submission")]
    RegistrationRejected(Box<RegistrationFlow>),
    /// A submitted settings form was refused (400): the flow with its messages (e.g. 4000008 for
    /// a wrong TOTP code, 4000005 for a weak password).
    #[error("the settings flow refused the submission")]
    SettingsRejected(Box<SettingsFlow>),
    /// Any other non-success answer. Without an error envelope, `code` and `status` are filled in
    /// from the HTTP status.
    #[error("API error {}: {}", .0.code.unwrap_or_default(), .0.message)]
    Api(GenericError),
    /// A success status (2xx) that the request's
    /// [`validate_status`](crate::Request::validate_status) rejected, answered without an error
    /// envelope: the server did not refuse anything. The body is in [`ErrorParts::response`].
    #[error("status {status} was rejected by the request's validate_status")]
    StatusRejected {
        /// The status the server answered.
        status: StatusCode,
    },
    /// An accepted status (2xx, or one the request's `validate_status` accepts) whose body could
    /// not be decoded as the endpoint's answer (the body is in [`ErrorParts::response`]).
    #[error("could not decode the response body: {message}")]
    Decode {
        /// The decoder's message.
        message: String,
    },
    /// The call was cancelled through its `CancellationToken`.
    #[error("the request was cancelled")]
    Cancelled,
    /// The request's deadline passed ([`Request::timeout`](crate::Request::timeout), or the
    /// client's [`timeout`](crate::ClientBuilder::timeout)) before the whole answer arrived.
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

    /// Where the API asks a browser to go next, if it says: `redirect_browser_to` of
    /// [`ErrorKind::Aal2Required`], or of an envelope such as `browser_location_change_required`
    /// (top level or in `details`).
    pub fn redirect_browser_to(&self) -> Option<String> {
        if let ErrorKind::Aal2Required {
            redirect_browser_to,
        } = &self.kind
        {
            return redirect_browser_to.clone();
        }
        let envelope =
            serde_json::from_slice::<ErrorEnvelope>(&self.response.as_ref()?.body).ok()?;
        envelope_redirect(&envelope)
    }

    /// The replacement flow of a `self_service_flow_expired` refusal (410): submitting to an
    /// expired flow creates a new one, whose id this is. Fetch it and show its form again.
    pub fn use_flow_id(&self) -> Option<uuid::Uuid> {
        let envelope =
            serde_json::from_slice::<ErrorEnvelope>(&self.response.as_ref()?.body).ok()?;
        envelope
            .extra
            .get("use_flow_id")
            .and_then(|v| v.as_str())
            .and_then(|v| uuid::Uuid::parse_str(v).ok())
    }

    /// How long the server asks to wait before trying again (`Retry-After` in seconds), e.g. on
    /// a 429 `security_too_many_attempts` after too many failed sign-in attempts.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        let value = self
            .response
            .as_ref()?
            .headers
            .get(http::header::RETRY_AFTER)?;
        let secs = value.to_str().ok()?.trim().parse::<u64>().ok()?;
        Some(std::time::Duration::from_secs(secs))
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

/// How an endpoint's refusals read, beyond the error envelope every endpoint may answer.
/// Internal to [`Endpoint`](crate::Endpoint); apps never need it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusals {
    /// Error envelopes only.
    Envelope,
    /// whoami: every 401 is `SessionInactive`.
    Whoami,
    /// A login submission: a 400 may carry the flow.
    Login,
    /// A registration submission: a 400 may carry the flow.
    Registration,
    /// A settings submission: a 400 may carry the flow.
    Settings,
}

fn envelope_redirect(envelope: &ErrorEnvelope) -> Option<String> {
    let top = envelope.extra.get("redirect_browser_to");
    let nested = envelope
        .error
        .details
        .as_ref()
        .and_then(|d| d.get("redirect_browser_to"));
    top.or(nested).and_then(|v| v.as_str()).map(str::to_owned)
}

/// Classifies a response that was not accepted (by the default 2xx rule, or by the request's
/// `validate_status`).
pub(crate) fn classify(status: StatusCode, body: &[u8], refusals: Refusals) -> ErrorKind {
    let envelope = serde_json::from_slice::<ErrorEnvelope>(body).ok();
    let id = envelope.as_ref().and_then(|e| e.error.id.as_deref());
    if status == StatusCode::UNAUTHORIZED
        && (refusals == Refusals::Whoami || id == Some("session_inactive"))
    {
        return ErrorKind::SessionInactive;
    }
    if envelope.is_none() && status == StatusCode::BAD_REQUEST {
        match refusals {
            Refusals::Login => {
                if let Ok(flow) = serde_json::from_slice::<LoginFlow>(body) {
                    return ErrorKind::LoginRejected(Box::new(flow));
                }
            }
            Refusals::Registration => {
                if let Ok(flow) = serde_json::from_slice::<RegistrationFlow>(body) {
                    return ErrorKind::RegistrationRejected(Box::new(flow));
                }
            }
            Refusals::Settings => {
                if let Ok(flow) = serde_json::from_slice::<SettingsFlow>(body) {
                    return ErrorKind::SettingsRejected(Box::new(flow));
                }
            }
            Refusals::Envelope | Refusals::Whoami => {}
        }
    }
    match envelope {
        Some(envelope) if id == Some("session_aal2_required") => ErrorKind::Aal2Required {
            redirect_browser_to: envelope_redirect(&envelope),
        },
        Some(envelope) => ErrorKind::Api(envelope.error),
        // Only a request's own `validate_status` refuses a success status: it is not an API error.
        None if status.is_success() => ErrorKind::StatusRejected { status },
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
