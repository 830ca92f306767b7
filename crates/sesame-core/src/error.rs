//! Domain errors. sesame-server maps each to exactly one HTTP response.

use crate::flow::FlowBody;
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What can go wrong in a service, in domain terms.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The resource does not exist.
    #[error("not found")]
    NotFound,
    /// A 404 that says what is missing (`error.reason`), with the status's default message.
    #[error("not found: {0}")]
    NotFoundWithReason(String),
    /// A bad request with a reason for the client.
    #[error("bad request: {reason}")]
    BadRequest {
        /// Shown as `error.reason`.
        reason: String,
        /// Shown as `error.message` when set (else the status default).
        message: Option<String>,
    },
    /// Traits that do not satisfy their identity schema.
    #[error("the traits do not match the identity schema")]
    InvalidTraits(Vec<crate::schema::Violation>),
    /// An identity with the same identifier, address or external id exists.
    #[error("identity conflict")]
    IdentityConflict,
    /// No valid session (whoami's 401).
    #[error("no active session")]
    NoSession,
    /// A session exists but does not meet the required AAL.
    #[error("aal2 required")]
    Aal2Required,
    /// `aal=aal2` requested without a session.
    #[error("aal1 session required")]
    Aal1Required,
    /// Login/registration while a session exists.
    #[error("session already available")]
    SessionAlreadyAvailable {
        /// `login` or `registration` (reasons differ).
        registration: bool,
    },
    /// The flow expired; `replacement` is the id of a fresh flow.
    #[error("flow expired")]
    FlowExpired {
        /// When it expired.
        expired_at: DateTime<Utc>,
        /// How long ago.
        since: chrono::Duration,
        /// A new flow to continue with.
        replacement: Uuid,
        /// API or browser (browsers are redirected to the new flow).
        flow_type: sesame_types::FlowType,
    },
    /// A flow that expired when fetched (generic 410 path).
    #[error("flow expired on fetch")]
    FlowExpiredOnFetch {
        /// Login or registration.
        kind: crate::flow::FlowKind,
        /// API flows point at the API init endpoint, browser flows at the browser one.
        flow_type: sesame_types::FlowType,
        /// The flow's `return_to`, carried over to the browser init URL.
        return_to: Option<String>,
    },
    /// Validation failed: answer 400 with the flow, which carries the messages.
    #[error("flow validation failed")]
    FlowInvalid(Box<FlowBody>),
    /// A browser flow submit failed the anti-CSRF check.
    #[error("csrf violation")]
    Csrf(crate::csrf::Rejection),
    /// `return_to` is not on `selfservice.allowed_return_urls`.
    #[error("return_to not allowed")]
    ReturnToForbidden(String),
    /// An endpoint that needs a session got none (`session_inactive` with its own reason).
    #[error("session required")]
    SessionRequired,
    /// Browser logout whose token does not belong to the request's session.
    #[error("logout token mismatch")]
    LogoutTokenMismatch,
    /// Native logout with an unknown token.
    #[error("unknown session token on logout")]
    LogoutTokenUnknown,
    /// A settings change that needs a recently authenticated session (`session_refresh_required`).
    #[error("session refresh required")]
    RefreshRequired,
    /// A settings flow used by a session of another identity (`security_identity_mismatch`).
    #[error("identity mismatch")]
    IdentityMismatch {
        /// On submit (else on fetch): the reasons differ.
        submit: bool,
    },
    /// A self-service method that `selfservice.methods.<m>.enabled` turns off.
    #[error("method disabled")]
    MethodDisabled,
    /// A 400 whose message is a parser's or a check's text and that has no reason (a path id that
    /// is not a UUID, `cannot revoke current session`), as Kratos reports them.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// No valid session on the session management endpoints (`GET /sessions` …), whose 401 has its
    /// own reason.
    #[error("no valid session cookie")]
    NoSessionCookie,
    /// The limiter asks for a wait: too many failed attempts on the account or from the client's
    /// address (429 with `Retry-After`).
    #[error("too many failed attempts")]
    TooManyAttempts {
        /// How long until the next attempt is admitted.
        retry_after: chrono::Duration,
    },
    /// The identity is locked after too many consecutive failed attempts; only a successful
    /// recovery or an administrator lifts the lock.
    #[error("identity locked")]
    IdentityLocked,
    /// Something unexpected; the text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    /// A 400 with a reason.
    pub fn bad_request(reason: impl Into<String>) -> Self {
        CoreError::BadRequest {
            reason: reason.into(),
            message: None,
        }
    }
}
