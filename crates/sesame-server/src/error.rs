//! `ApiError`: the one place where failures become HTTP responses (herodot envelopes), with
//! `Ory-Error-Id`. 5xx bodies never carry internal text; the cause is logged once here.

use crate::json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sesame_core::CoreError;
use sesame_core::flow::FlowBody;
use sesame_core::store::StoreError;
use sesame_types::{ErrorEnvelope, GenericError};

/// An error response.
#[derive(Debug)]
pub enum ApiError {
    /// A herodot envelope.
    Envelope {
        /// Status.
        status: StatusCode,
        /// Body.
        envelope: Box<ErrorEnvelope>,
        /// Self-rendering errors never get `error.request`.
        self_rendering: bool,
        /// The kind of the database error behind a 5xx, for the metrics.
        database: Option<&'static str>,
    },
    /// A flow carrying validation messages (400 with the flow, not an envelope).
    Flow(Box<FlowBody>),
    /// A browser is sent elsewhere (to the UI, to show a flow's messages).
    Redirect(String, StatusCode),
    /// 503 with `Retry-After`: the database cannot be reached right now (DESIGN.md's
    /// difference 10; Kratos answers 500 after its pool's timeout).
    Unavailable,
    /// An error answered with `Retry-After` (whole seconds).
    RetryAfter(Box<ApiError>, u64),
}

/// Seconds a client is asked to wait (`Retry-After`) after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// `error.reason` of a 503 for a database that cannot be reached.
pub const DATABASE_UNAVAILABLE: &str =
    "The database cannot be reached right now. Please retry the request in a moment.";

/// Marks error responses so the request-id middleware can add `error.request`.
#[derive(Clone, Debug)]
pub struct RenderedError(pub ErrorEnvelope);

/// Marks an answer that failed because of a database error, with the error's kind
/// ([`crate::metrics::database_error_kind`]), so that the metrics layer counts it.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseFailure(pub &'static str);

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request was malformed or contained invalid parameters",
        401 => "The request could not be authorized",
        403 => "The requested action was forbidden",
        404 => "The requested resource could not be found",
        409 => "The resource could not be created due to a conflict",
        410 => {
            "The requested resource is no longer available because it has expired or is otherwise invalid."
        }
        413 => "The request body is too large",
        429 => "Too many requests were made, please wait before trying again",
        415 => "The request is using an unknown content type",
        503 => "The service is temporarily unavailable, please try again later",
        _ => "An internal server error occurred, please contact the system administrator",
    }
}

impl ApiError {
    /// A generic envelope.
    pub fn new(
        status: StatusCode,
        id: Option<&str>,
        reason: Option<String>,
        message: Option<String>,
    ) -> Self {
        Self::Envelope {
            status,
            envelope: Box::new(ErrorEnvelope {
                error: GenericError {
                    id: id.map(str::to_owned),
                    code: Some(status.as_u16()),
                    status: status.canonical_reason().map(str::to_owned),
                    request: None,
                    reason,
                    details: None,
                    message: message.unwrap_or_else(|| default_message(status).to_owned()),
                },
                extra: Map::new(),
            }),
            self_rendering: false,
            database: None,
        }
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Envelope { status, .. } => *status,
            Self::Flow(_) => StatusCode::BAD_REQUEST,
            Self::Redirect(_, status) => *status,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::RetryAfter(inner, _) => inner.status(),
        }
    }

    /// 400 with a reason.
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, None, Some(reason.into()), None)
    }

    /// 400 whose message is a parser's text (bad UUIDs, bad query values), as Kratos reports them.
    pub fn bad_request_message(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, None, None, Some(message.into()))
    }

    /// 404 `Unable to locate the resource`.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            None,
            Some("Unable to locate the resource".into()),
        )
    }

    /// 500; the cause is logged, not shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, None, None)
    }

    /// 503 for a database that cannot be reached; the cause is logged (at most every few
    /// seconds, since an outage fails every request the same way), not shown.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        if outage_log_due() {
            tracing::warn!(error = %cause, "request answered 503: the database cannot be reached");
        }
        Self::Unavailable
    }

    /// whoami's 401 (Kratos's exact body plus `id: session_inactive`).
    pub fn session_inactive() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some("session_inactive"),
            Some("No valid session credentials found in the request.".into()),
            None,
        )
    }

    fn with_details(mut self, details: Value) -> Self {
        if let (Self::Envelope { envelope, .. }, Value::Object(d)) = (&mut self, details) {
            envelope.error.details = Some(d);
        }
        self
    }

    fn self_rendering(mut self, extra: Value) -> Self {
        if let Self::Envelope {
            envelope,
            self_rendering,
            ..
        } = &mut self
        {
            *self_rendering = true;
            if let Value::Object(extra) = extra {
                envelope.extra = extra;
            }
        }
        self
    }

    /// Adds top-level keys next to `error` (a self-rendering body).
    pub fn with_extra(self, extra: Map<String, Value>) -> Self {
        self.self_rendering(Value::Object(extra))
    }

    /// 403 `session_aal2_required` sending the browser to `redirect_browser_to`.
    pub fn aal2_required(redirect_browser_to: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Some("session_aal2_required"),
            Some("An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.".into()),
            Some("Session does not fulfill the requested Authenticator Assurance Level".into()),
        )
        .with_details(json!({ "redirect_browser_to": redirect_browser_to }))
        .self_rendering(json!({ "redirect_browser_to": redirect_browser_to }))
    }

    /// 422 `browser_location_change_required`: a single-page app must send the browser there.
    pub fn browser_location_change(redirect_browser_to: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("browser_location_change_required"),
            Some(format!(
                "In order to complete this flow please redirect the browser to: {redirect_browser_to}"
            )),
            Some("browser location change required".into()),
        )
        .self_rendering(json!({ "redirect_browser_to": redirect_browser_to }))
    }

    /// 403 `session_refresh_required`: sign in again at `redirect_browser_to` first.
    pub fn refresh_required(redirect_browser_to: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Some("session_refresh_required"),
            Some("The login session is too old and thus not allowed to update these fields. Please re-authenticate.".into()),
            Some("The requested action was forbidden".into()),
        )
        .self_rendering(json!({ "redirect_browser_to": redirect_browser_to }))
    }

    /// 429 `security_too_many_attempts` with `Retry-After`: the limiter asks for a wait (Sesame's
    /// own, see DESIGN.md difference 9). Kratos has no such answer; the id follows its
    /// `security_…` family (`security_csrf_violation`, `security_identity_mismatch`).
    pub fn too_many_attempts(retry_after: chrono::Duration) -> Self {
        // Whole seconds, rounded up and at least 1, so that a client waiting as told is admitted.
        let secs = u64::try_from((retry_after.num_milliseconds() + 999) / 1000)
            .unwrap_or(0)
            .max(1);
        Self::RetryAfter(
            Box::new(
                Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    Some("security_too_many_attempts"),
                    Some(format!(
                        "Too many failed attempts. Please wait {secs} second{} before trying again.",
                        if secs == 1 { "" } else { "s" }
                    )),
                    Some("too many failed attempts".into()),
                )
                .with_details(json!({ "retry_after": secs })),
            ),
            secs,
        )
    }

    /// 403 `identity_locked`: too many consecutive failed attempts locked the account until a
    /// recovery or an administrator lifts the lock. Named like Kratos's `identity_disabled`.
    pub fn identity_locked() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Some("identity_locked"),
            Some("This account is locked after too many failed attempts. Recover the account or ask an administrator to unlock it.".into()),
            Some("the account is locked".into()),
        )
    }

    /// Maps a domain error; `public_base_url` builds the URLs some bodies carry. A database error
    /// that becomes a server error, with whatever status, is marked with its kind for the metrics.
    pub fn from_core(e: CoreError, public_base_url: &str) -> Self {
        let database = match &e {
            CoreError::Store(store) => Some(crate::metrics::database_error_kind(store)),
            _ => None,
        };
        let mut mapped = Self::map_core(e, public_base_url);
        if let Self::Envelope {
            status,
            database: marked,
            ..
        } = &mut mapped
            && status.is_server_error()
        {
            *marked = database;
        }
        mapped
    }

    fn map_core(e: CoreError, public_base_url: &str) -> Self {
        let public = |path: &str| format!("{}/{}", public_base_url.trim_end_matches('/'), path);
        match e {
            // A record deleted while the request ran (an identity removed during its login or
            // its update) is gone, not a failure of the server.
            CoreError::Store(StoreError::NotFound) => Self::not_found(),
            CoreError::Store(StoreError::Unavailable(e)) => Self::unavailable(e),
            CoreError::Store(e) => Self::internal(e),
            CoreError::Internal(e) => Self::internal(e),
            CoreError::NotFound => Self::not_found(),
            CoreError::NotFoundWithReason(reason) => {
                Self::new(StatusCode::NOT_FOUND, None, Some(reason), None)
            }
            CoreError::BadRequest { reason, message } => {
                Self::new(StatusCode::BAD_REQUEST, None, Some(reason), message)
            }
            // Kratos's text: each violation's instance and schema paths and sentence.
            CoreError::InvalidTraits(violations) => Self::new(
                StatusCode::BAD_REQUEST,
                None,
                Some(
                    violations
                        .iter()
                        .map(|v| v.detail.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Some("The request was malformed or contained invalid parameters".into()),
            ),
            CoreError::IdentityConflict => Self::new(
                StatusCode::CONFLICT,
                None,
                Some("This identity conflicts with another identity that already exists.".into()),
                None,
            ),
            CoreError::NoSession => Self::session_inactive(),
            CoreError::Aal2Required => {
                Self::aal2_required(&public("self-service/login/browser?aal=aal2"))
            }
            CoreError::Aal1Required => Self::new(
                StatusCode::UNAUTHORIZED,
                Some("session_aal1_required"),
                Some("You can not requested a higher AAL (AAL2/AAL3) without an active session.".into()),
                Some("aal2 and aal3 can only be requested if a session exists already".into()),
            ),
            CoreError::SessionAlreadyAvailable { registration } => Self::new(
                StatusCode::BAD_REQUEST,
                Some("session_already_available"),
                Some(if registration {
                    "A valid session was detected and thus registration is not possible.".into()
                } else {
                    "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?".into()
                }),
                Some("you are already logged in".into()),
            ),
            CoreError::FlowExpired { expired_at, since, replacement, .. } => {
                let minutes = since.num_milliseconds() as f64 / 60_000.0;
                Self::new(
                    StatusCode::GONE,
                    Some("self_service_flow_expired"),
                    Some(format!("The self-service flow expired {minutes:.2} minutes ago, initialize a new one.")),
                    Some("self-service flow expired".into()),
                )
                .self_rendering(json!({
                    "expired_at": sesame_types::time::format(&expired_at),
                    "since": since.num_nanoseconds().unwrap_or(i64::MAX),
                    "use_flow_id": replacement,
                }))
            }
            CoreError::FlowExpiredOnFetch { kind, flow_type, return_to } => {
                let name = kind.as_str();
                if flow_type == sesame_types::FlowType::Browser {
                    let mut redirect_to = public(&format!("self-service/{name}/browser"));
                    if let Some(r) = return_to.as_deref().filter(|r| !r.is_empty()) {
                        redirect_to.push('?');
                        redirect_to.push_str(
                            &form_urlencoded::Serializer::new(String::new())
                                .append_pair("return_to", r)
                                .finish(),
                        );
                    }
                    return Self::new(
                        StatusCode::GONE,
                        Some("self_service_flow_expired"),
                        Some(format!(
                            "The {name} flow has expired. Redirect the user to the {name} flow init endpoint to initialize a new {name} flow."
                        )),
                        None,
                    )
                    .with_details(json!({
                        "redirect_to": redirect_to,
                        "return_to": return_to.unwrap_or_default(),
                    }));
                }
                Self::new(
                    StatusCode::GONE,
                    Some("self_service_flow_expired"),
                    Some(format!(
                        "The {name} flow has expired. Call the {name} flow init API endpoint to initialize a new {name} flow."
                    )),
                    None,
                )
                .with_details(json!({ "api": public(&format!("self-service/{name}/api")) }))
            }
            CoreError::FlowInvalid(flow) => Self::Flow(flow),
            CoreError::Csrf(rejection) => Self::new(
                StatusCode::FORBIDDEN,
                Some("security_csrf_violation"),
                Some("Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.".into()),
                Some("the request was rejected to protect you from Cross-Site-Request-Forgery".into()),
            )
            .with_details(json!({
                "docs": "https://www.ory.com/docs/troubleshooting/csrf",
                "hint": "The anti-CSRF cookie is set when a browser flow is created and must be sent back with the flow's csrf_token (form field, JSON key or X-CSRF-Token header). Browsers drop it when cookies are blocked, when the flow was created on another domain than the one submitting it, or when an AJAX request omits `credentials: 'include'`.",
                "reject_reason": rejection.reason(),
            })),
            CoreError::ReturnToForbidden(url) => Self::new(
                StatusCode::BAD_REQUEST,
                Some("self_service_flow_return_to_forbidden"),
                Some(format!("Requested return_to URL \"{url}\" is not allowed.")),
                None,
            ),
            CoreError::SessionRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                Some("session_inactive"),
                Some("No active session was found in this request.".into()),
                Some("request does not have a valid authentication session".into()),
            ),
            CoreError::LogoutTokenMismatch => Self::new(
                StatusCode::FORBIDDEN,
                None,
                Some("Unable to log out because the logout token in the URL query does not match the session cookie.".into()),
                None,
            ),
            // The settings routes add the URLs these carry; elsewhere they do not occur.
            CoreError::RefreshRequired => Self::refresh_required(&public("self-service/login/browser?refresh=true")),
            CoreError::IdentityMismatch { submit } => Self::new(
                StatusCode::FORBIDDEN,
                Some("security_identity_mismatch"),
                Some(if submit {
                    "The request was initiated by someone else and has been blocked for security reasons. Please go back and try again.".into()
                } else {
                    "The request was made for another identity and has been blocked for security reasons.".into()
                }),
                None,
            ),
            CoreError::MethodDisabled => Self::new(
                StatusCode::NOT_FOUND,
                None,
                Some("This endpoint was disabled by system administrator. Please check your url or contact the system administrator to enable it.".into()),
                None,
            ),
            CoreError::InvalidParameter(message) => Self::bad_request_message(message),
            // Kratos's exact body: no id (DESIGN.md's difference 1 is whoami's alone).
            CoreError::NoSessionCookie => Self::new(
                StatusCode::UNAUTHORIZED,
                None,
                Some("No valid session cookie found.".into()),
                None,
            ),
            CoreError::TooManyAttempts { retry_after } => Self::too_many_attempts(retry_after),
            CoreError::IdentityLocked => Self::identity_locked(),
            CoreError::LogoutTokenUnknown => Self::new(
                StatusCode::FORBIDDEN,
                None,
                Some("The provided Ory Session Token could not be found, is invalid, or otherwise malformed.".into()),
                None,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Redirect(location, status) => {
                crate::browser::respond::redirect(status, &location)
            }
            ApiError::RetryAfter(inner, secs) => {
                let mut res = inner.into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                res
            }
            ApiError::Flow(flow) => match *flow {
                FlowBody::Login(f) => json::response(StatusCode::BAD_REQUEST, &f),
                FlowBody::Registration(f) => json::response(StatusCode::BAD_REQUEST, &f),
                FlowBody::Settings(f) => json::response(StatusCode::BAD_REQUEST, &f),
            },
            ApiError::Unavailable => {
                let envelope = ApiError::Envelope {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    envelope: Box::new(ErrorEnvelope {
                        error: unavailable_error(),
                        extra: Map::new(),
                    }),
                    self_rendering: false,
                    database: Some(crate::metrics::UNAVAILABLE),
                };
                let mut res = envelope.into_response();
                set_retry_after(&mut res);
                res
            }
            ApiError::Envelope {
                status,
                envelope,
                self_rendering,
                database,
            } => {
                let mut res = render(status, &envelope);
                if !self_rendering {
                    res.extensions_mut().insert(RenderedError(*envelope));
                }
                if let Some(kind) = database {
                    res.extensions_mut().insert(DatabaseFailure(kind));
                }
                res
            }
        }
    }
}

/// The error of a 503 for a database that cannot be reached.
pub fn unavailable_error() -> GenericError {
    let status = StatusCode::SERVICE_UNAVAILABLE;
    GenericError {
        code: Some(status.as_u16()),
        status: status.canonical_reason().map(str::to_owned),
        reason: Some(DATABASE_UNAVAILABLE.into()),
        message: default_message(status).to_owned(),
        ..GenericError::default()
    }
}

/// Adds `Retry-After: RETRY_AFTER_SECONDS`.
pub fn set_retry_after(res: &mut Response) {
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
}

/// Whether an outage's failure should be logged now: the first, then at most one every five
/// seconds, so that a database outage under load leaves a readable log instead of a line for
/// every request.
fn outage_log_due() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let next = NEXT.load(Ordering::Relaxed);
    now >= next
        && NEXT
            .compare_exchange(next, now + 5, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// Renders an envelope with `Ory-Error-Id`.
pub fn render(status: StatusCode, envelope: &ErrorEnvelope) -> Response {
    let body = json::to_vec(envelope)
        .unwrap_or_else(|_| b"{\"error\":{\"code\":500,\"message\":\"\"}}\n".to_vec());
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(json::ERROR_CONTENT_TYPE),
    );
    let id = envelope.error.id.as_deref().unwrap_or("");
    h.insert(
        "ory-error-id",
        HeaderValue::from_str(id).unwrap_or(HeaderValue::from_static("")),
    );
    res
}
