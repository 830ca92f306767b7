//! Self-service flows as stored: the wire flow plus what the server must remember about it.

use crate::ids::FlowId;
use chrono::{DateTime, Utc};
use sesame_types::{FlowType, LoginFlow, RegistrationFlow};

/// Which flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    /// Login.
    Login,
    /// Registration.
    Registration,
}

impl FlowKind {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Login => "login",
            FlowKind::Registration => "registration",
        }
    }
}

/// The flow's wire body.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowBody {
    /// A login flow.
    Login(LoginFlow),
    /// A registration flow.
    Registration(RegistrationFlow),
}

impl FlowBody {
    /// The flow id.
    pub fn id(&self) -> FlowId {
        match self {
            FlowBody::Login(f) => FlowId(f.id),
            FlowBody::Registration(f) => FlowId(f.id),
        }
    }

    /// Login or registration.
    pub fn kind(&self) -> FlowKind {
        match self {
            FlowBody::Login(_) => FlowKind::Login,
            FlowBody::Registration(_) => FlowKind::Registration,
        }
    }

    /// API or browser.
    pub fn flow_type(&self) -> FlowType {
        match self {
            FlowBody::Login(f) => f.flow_type,
            FlowBody::Registration(f) => f.flow_type,
        }
    }

    /// Expiry.
    pub fn expires_at(&self) -> DateTime<Utc> {
        match self {
            FlowBody::Login(f) => f.expires_at,
            FlowBody::Registration(f) => f.expires_at,
        }
    }
}

/// A stored flow.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    /// The wire body, with the messages of the last submit.
    pub body: FlowBody,
    /// The real (unmasked) CSRF token a browser flow is bound to; `None` for API flows.
    pub csrf_token: Option<String>,
}
