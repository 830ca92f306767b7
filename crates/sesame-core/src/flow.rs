//! Self-service flows as stored: the wire flow plus what the server must remember about it.

use crate::ids::FlowId;
use chrono::{DateTime, Utc};
use sesame_types::{FlowType, LoginFlow, RegistrationFlow, SettingsFlow};

/// Which flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    /// Login.
    Login,
    /// Registration.
    Registration,
    /// Settings (profile, password, second factors).
    Settings,
}

impl FlowKind {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Login => "login",
            FlowKind::Registration => "registration",
            FlowKind::Settings => "settings",
        }
    }
}

/// The flow's wire body.
// A settings flow carries its identity, so it is larger than the others; flows are moved rarely
// (load, submit, save) and are boxed where an error carries one, so boxing the variant would buy
// nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum FlowBody {
    /// A login flow.
    Login(LoginFlow),
    /// A registration flow.
    Registration(RegistrationFlow),
    /// A settings flow; its identity is the flow's owner.
    Settings(SettingsFlow),
}

impl FlowBody {
    /// The flow id.
    pub fn id(&self) -> FlowId {
        match self {
            FlowBody::Login(f) => FlowId(f.id),
            FlowBody::Registration(f) => FlowId(f.id),
            FlowBody::Settings(f) => FlowId(f.id),
        }
    }

    /// Login, registration or settings.
    pub fn kind(&self) -> FlowKind {
        match self {
            FlowBody::Login(_) => FlowKind::Login,
            FlowBody::Registration(_) => FlowKind::Registration,
            FlowBody::Settings(_) => FlowKind::Settings,
        }
    }

    /// API or browser.
    pub fn flow_type(&self) -> FlowType {
        match self {
            FlowBody::Login(f) => f.flow_type,
            FlowBody::Registration(f) => f.flow_type,
            FlowBody::Settings(f) => f.flow_type,
        }
    }

    /// Expiry.
    pub fn expires_at(&self) -> DateTime<Utc> {
        match self {
            FlowBody::Login(f) => f.expires_at,
            FlowBody::Registration(f) => f.expires_at,
            FlowBody::Settings(f) => f.expires_at,
        }
    }
}

/// A stored flow. `Debug` hides the CSRF token and the context.
#[derive(Clone, PartialEq)]
pub struct FlowRecord {
    /// The wire body, with the messages of the last submit.
    pub body: FlowBody,
    /// The real (unmasked) CSRF token a browser flow is bound to; `None` for API flows.
    pub csrf_token: Option<String>,
    /// Server-side state of the flow that clients must never see (e.g. a pending TOTP secret
    /// URL or pending backup codes); never part of `body`, never logged.
    pub context: Option<serde_json::Value>,
}

impl std::fmt::Debug for FlowRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |present: bool| if present { "Some(***)" } else { "None" };
        f.debug_struct("FlowRecord")
            .field("body", &self.body)
            .field(
                "csrf_token",
                &format_args!("{}", hidden(self.csrf_token.is_some())),
            )
            .field(
                "context",
                &format_args!("{}", hidden(self.context.is_some())),
            )
            .finish()
    }
}
