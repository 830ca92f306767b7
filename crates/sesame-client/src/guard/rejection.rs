//! [`Rejection`]: how a guarded request is answered when it has no usable session.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{HeaderValue, LOCATION};
use serde_json::{Map, Value};
use sesame_types::{ErrorEnvelope, GenericError};
use std::fmt;

/// Why whoami gave no session; recorded in the request extensions so that it is asked once.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// No credentials, or whoami's 401 (with its envelope when it sent one).
    Inactive(Option<ErrorEnvelope>),
    /// whoami's 403 `session_aal2_required`.
    Aal2 {
        redirect_browser_to: Option<String>,
        envelope: Option<ErrorEnvelope>,
    },
    /// whoami was unreachable or answered something unexpected.
    Unavailable,
}

/// Why a request was refused; see [`Rejection::kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No active session: no credentials were sent, or whoami answered 401 `session_inactive`.
    Inactive,
    /// The session needs a second factor (whoami's 403 `session_aal2_required`).
    Aal2Required {
        /// Where whoami says to send the browser to complete the second factor.
        redirect_browser_to: Option<String>,
    },
    /// whoami could not be reached or answered something unexpected (answered 502).
    Unavailable,
    /// No [`SessionGuard`](super::SessionGuard) was found in the request extensions (answered 500).
    NotConfigured,
}

/// The answer to a guarded request without a usable session: a JSON error envelope as Kratos
/// writes them, or a `303 See Other` redirect, as the [`SessionGuard`](super::SessionGuard) is
/// configured. Bodies never carry the request's credentials.
#[derive(Debug, Clone)]
pub struct Rejection {
    kind: RejectionKind,
    status: StatusCode,
    location: Option<HeaderValue>,
    envelope: Option<ErrorEnvelope>,
}

impl Rejection {
    /// Why the request was refused.
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The status it answers with (401, 403, 303, 502 or 500).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The redirect target of a `303` rejection.
    pub fn location(&self) -> Option<&str> {
        self.location.as_ref().and_then(|l| l.to_str().ok())
    }

    /// The error envelope of a non-redirect rejection.
    pub fn envelope(&self) -> Option<&ErrorEnvelope> {
        self.envelope.as_ref()
    }

    fn envelope_of(kind: RejectionKind, status: StatusCode, envelope: ErrorEnvelope) -> Self {
        Self {
            kind,
            status,
            location: None,
            envelope: Some(envelope),
        }
    }

    /// A `303 See Other` to `location`; `None` when it is not a valid header value.
    pub(crate) fn redirect(kind: RejectionKind, location: &str) -> Option<Self> {
        let location = HeaderValue::from_str(location).ok()?;
        Some(Self {
            kind,
            status: StatusCode::SEE_OTHER,
            location: Some(location),
            envelope: None,
        })
    }

    /// 401 with whoami's own envelope, or Kratos's whoami 401 body when there was none.
    pub(crate) fn unauthorized(upstream: Option<ErrorEnvelope>) -> Self {
        let envelope = upstream.unwrap_or_else(|| {
            envelope(
                StatusCode::UNAUTHORIZED,
                Some("session_inactive"),
                Some("No valid session credentials found in the request."),
                "The request could not be authorized",
            )
        });
        Self::envelope_of(RejectionKind::Inactive, StatusCode::UNAUTHORIZED, envelope)
    }

    /// 403 `session_aal2_required` with whoami's own envelope, or one built like it.
    pub(crate) fn aal2_required(
        redirect_browser_to: Option<String>,
        upstream: Option<ErrorEnvelope>,
    ) -> Self {
        let envelope = upstream.unwrap_or_else(|| {
            let mut envelope = envelope(
                StatusCode::FORBIDDEN,
                Some("session_aal2_required"),
                Some(
                    "An active session was found but it does not fulfill the requested \
                     Authenticator Assurance Level. Please verify yourself with a second factor \
                     to resolve this issue.",
                ),
                "Session does not fulfill the requested Authenticator Assurance Level",
            );
            if let Some(to) = &redirect_browser_to {
                let mut map = Map::new();
                map.insert("redirect_browser_to".to_owned(), Value::String(to.clone()));
                envelope.error.details = Some(map.clone());
                envelope.extra = map;
            }
            envelope
        });
        Self::envelope_of(
            RejectionKind::Aal2Required {
                redirect_browser_to,
            },
            StatusCode::FORBIDDEN,
            envelope,
        )
    }

    /// 502: whoami was unreachable or answered something unexpected (the cause is logged, not
    /// shown).
    pub(crate) fn unavailable() -> Self {
        Self::envelope_of(
            RejectionKind::Unavailable,
            StatusCode::BAD_GATEWAY,
            envelope(
                StatusCode::BAD_GATEWAY,
                None,
                Some("The session server could not be reached or answered unexpectedly."),
                "The session could not be checked",
            ),
        )
    }

    /// 500: an extractor found no guard to resolve the session with.
    pub(crate) fn not_configured() -> Self {
        Self::envelope_of(
            RejectionKind::NotConfigured,
            StatusCode::INTERNAL_SERVER_ERROR,
            envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                Some(
                    "no SessionGuard is configured: add guard.layer(), guard.optional_layer() or \
                     axum::Extension(guard) to the router",
                ),
                "no SessionGuard is configured",
            ),
        )
    }
}

fn envelope(
    status: StatusCode,
    id: Option<&str>,
    reason: Option<&str>,
    message: &str,
) -> ErrorEnvelope {
    ErrorEnvelope {
        error: GenericError {
            id: id.map(str::to_owned),
            code: Some(status.as_u16()),
            status: status.canonical_reason().map(str::to_owned),
            reason: reason.map(str::to_owned),
            message: message.to_owned(),
            ..GenericError::default()
        },
        extra: Map::new(),
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match (self.location, self.envelope) {
            (Some(location), _) => (self.status, [(LOCATION, location)]).into_response(),
            (None, Some(envelope)) => (self.status, Json(envelope)).into_response(),
            (None, None) => self.status.into_response(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RejectionKind::Inactive => f.write_str("no active session"),
            RejectionKind::Aal2Required { .. } => f.write_str("a second factor is required"),
            RejectionKind::Unavailable => f.write_str("the session could not be checked"),
            RejectionKind::NotConfigured => f.write_str("no SessionGuard is configured"),
        }
    }
}

impl std::error::Error for Rejection {}
