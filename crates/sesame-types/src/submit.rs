//! Bodies that clients submit to self-service flows (`updateLoginFlow`, `updateRegistrationFlow`),
//! tagged by `method` as Kratos's OpenAPI document tags them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Body of `POST /self-service/login?flow=…`, by method.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpdateLoginFlowBody {
    /// `method: password`.
    Password {
        /// The identifier (e.g. the email address).
        identifier: String,
        /// The password.
        password: String,
        /// The anti-CSRF token of a browser flow (omitted for API flows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
        /// Data passed to webhooks, not stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transient_payload: Option<Value>,
    },
}

impl UpdateLoginFlowBody {
    /// A password login for an API flow.
    pub fn password(identifier: impl Into<String>, password: impl Into<String>) -> Self {
        UpdateLoginFlowBody::Password {
            identifier: identifier.into(),
            password: password.into(),
            csrf_token: None,
            transient_payload: None,
        }
    }

    /// Sets the anti-CSRF token (browser flows: the value of the flow's `csrf_token` node).
    pub fn with_csrf_token(mut self, token: impl Into<String>) -> Self {
        match &mut self {
            UpdateLoginFlowBody::Password { csrf_token, .. } => *csrf_token = Some(token.into()),
        }
        self
    }
}

impl std::fmt::Debug for UpdateLoginFlowBody {
    // Passwords and anti-CSRF tokens never appear in `Debug` output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateLoginFlowBody::Password {
                identifier,
                csrf_token,
                ..
            } => f
                .debug_struct("Password")
                .field("identifier", identifier)
                .field("password", &"***")
                .field("csrf_token", &csrf_token.as_ref().map(|_| "***"))
                .finish_non_exhaustive(),
        }
    }
}

/// Body of `POST /self-service/registration?flow=…`, by method.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpdateRegistrationFlowBody {
    /// `method: password`.
    Password {
        /// The identity's traits, as the identity schema describes them.
        traits: Value,
        /// The password.
        password: String,
        /// The anti-CSRF token of a browser flow (omitted for API flows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
        /// Data passed to webhooks, not stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transient_payload: Option<Value>,
    },
}

impl UpdateRegistrationFlowBody {
    /// A password registration for an API flow.
    pub fn password(traits: Value, password: impl Into<String>) -> Self {
        UpdateRegistrationFlowBody::Password {
            traits,
            password: password.into(),
            csrf_token: None,
            transient_payload: None,
        }
    }

    /// Sets the anti-CSRF token (browser flows: the value of the flow's `csrf_token` node).
    pub fn with_csrf_token(mut self, token: impl Into<String>) -> Self {
        match &mut self {
            UpdateRegistrationFlowBody::Password { csrf_token, .. } => {
                *csrf_token = Some(token.into());
            }
        }
        self
    }
}

impl std::fmt::Debug for UpdateRegistrationFlowBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateRegistrationFlowBody::Password {
                traits, csrf_token, ..
            } => f
                .debug_struct("Password")
                .field("traits", traits)
                .field("password", &"***")
                .field("csrf_token", &csrf_token.as_ref().map(|_| "***"))
                .finish_non_exhaustive(),
        }
    }
}
