//! Self-service flows: login, registration and settings flow JSON, the UI container and its nodes,
//! and the success bodies of native login and registration.

use crate::identity::Identity;
use crate::session::{Aal, Session};
use crate::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// `api` (native apps) or `browser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowType {
    /// Native apps: token, no cookies, no CSRF.
    Api,
    /// Browsers: cookies and CSRF.
    Browser,
}

/// A UI message (`uiText`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiText {
    /// Message id, e.g. 4000006.
    pub id: u32,
    /// English text.
    pub text: String,
    /// `info`, `error` or `success`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Values used in the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
}

/// Attributes of an `input` node, in Kratos's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAttributes {
    /// Field name (`identifier`, `traits.email` …).
    pub name: String,
    /// HTML input type.
    #[serde(rename = "type")]
    pub input_type: String,
    /// Current value; `""` is emitted, only a missing value is omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Omitted when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    /// Omitted when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Always present.
    #[serde(default)]
    pub disabled: bool,
    /// Omitted when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlength: Option<u32>,
    /// Mirrors the node type: `input`.
    pub node_type: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Node attributes; other node kinds (text, img …) keep their raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UiNodeAttributes {
    /// An `input` node.
    Input(InputAttributes),
    /// Any other node kind.
    Other(Map<String, Value>),
}

/// Node metadata: its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UiNodeMeta {
    /// The label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<UiText>,
}

/// One UI node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiNode {
    /// `input`, `text`, `img`, `a`, `script`, `div`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `default`, `password`, `totp` …
    pub group: String,
    /// The attributes.
    pub attributes: UiNodeAttributes,
    /// Always present, `[]` when empty.
    #[serde(default)]
    pub messages: Vec<UiText>,
    /// Always an object.
    #[serde(default)]
    pub meta: UiNodeMeta,
}

/// The `ui` container of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiContainer {
    /// Where to submit.
    pub action: String,
    /// `POST`.
    pub method: String,
    /// The form.
    pub nodes: Vec<UiNode>,
    /// Global messages, omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<UiText>,
}

impl UiContainer {
    /// The value of the `csrf_token` input of a browser flow, to send back with the form.
    pub fn csrf_token(&self) -> Option<&str> {
        self.nodes.iter().find_map(|node| match &node.attributes {
            UiNodeAttributes::Input(input) if input.name == "csrf_token" => {
                input.value.as_ref().and_then(Value::as_str)
            }
            _ => None,
        })
    }

    /// The ids of every message, global and per node (e.g. `4000006` for wrong credentials).
    pub fn message_ids(&self) -> Vec<u32> {
        self.messages
            .iter()
            .chain(self.nodes.iter().flat_map(|n| n.messages.iter()))
            .map(|m| m.id)
            .collect()
    }
}

/// A login flow, fields in Kratos's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginFlow {
    /// Flow id.
    pub id: Uuid,
    /// Always present, `null`.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// `api` or `browser`.
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    /// Expiry.
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub issued_at: DateTime<Utc>,
    /// The init request's absolute URL.
    pub request_url: String,
    /// Where to go after login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    /// The method last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// The form.
    pub ui: UiContainer,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Re-authentication of an existing session.
    #[serde(default)]
    pub refresh: bool,
    /// `aal1` or `aal2`.
    #[serde(default)]
    pub requested_aal: Aal,
    /// `choose_method`.
    pub state: String,
}

/// A registration flow, fields in Kratos's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationFlow {
    /// Flow id.
    pub id: Uuid,
    /// `api` or `browser`.
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    /// Expiry.
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub issued_at: DateTime<Utc>,
    /// The init request's absolute URL.
    pub request_url: String,
    /// Where to go after registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    /// The method last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// The form.
    pub ui: UiContainer,
    /// Always present, `null`.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// `choose_method`.
    pub state: String,
}

/// A settings flow, fields in Kratos's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsFlow {
    /// Flow id.
    pub id: Uuid,
    /// `api` or `browser`.
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    /// Expiry.
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub issued_at: DateTime<Utc>,
    /// The init request's absolute URL.
    pub request_url: String,
    /// Where to go after a successful update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    /// The method last used (never set by Kratos's settings strategies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// The form.
    pub ui: UiContainer,
    /// The flow's owner, as whoami shows identities.
    pub identity: Identity,
    /// `show_form`, then `success` after an update.
    pub state: String,
    /// Always present, `null`.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// Follow-up actions of a submit's answer; never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_with: Option<Vec<ContinueWith>>,
}

/// A `continue_with` item.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ContinueWith {
    /// Store this session token.
    SetOrySessionToken {
        /// The token.
        ory_session_token: String,
    },
    /// Send the browser here.
    RedirectBrowserTo {
        /// The URL.
        redirect_browser_to: String,
    },
}

/// 200 body of a native login.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessfulNativeLogin {
    /// The session token (API flows only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// The session.
    pub session: Session,
    /// `null` unless hooks add items.
    #[serde(default)]
    pub continue_with: Option<Vec<ContinueWith>>,
}

/// 200 body of a native registration.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessfulNativeRegistration {
    /// With the `session` hook, on API flows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// With the `session` hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    /// The new identity.
    pub identity: Identity,
    /// Follow-up actions, `null` when none.
    #[serde(default)]
    pub continue_with: Option<Vec<ContinueWith>>,
}

// Session tokens never appear in `Debug` output (DESIGN.md, difference 2).
fn redacted(token: &Option<String>) -> Option<&'static str> {
    token.as_ref().map(|_| "***")
}

impl std::fmt::Debug for ContinueWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContinueWith::SetOrySessionToken { .. } => f
                .debug_struct("SetOrySessionToken")
                .field("ory_session_token", &"***")
                .finish(),
            ContinueWith::RedirectBrowserTo {
                redirect_browser_to,
            } => f
                .debug_struct("RedirectBrowserTo")
                .field("redirect_browser_to", redirect_browser_to)
                .finish(),
        }
    }
}

impl std::fmt::Debug for SuccessfulNativeLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuccessfulNativeLogin")
            .field("session_token", &redacted(&self.session_token))
            .field("session", &self.session)
            .field("continue_with", &self.continue_with)
            .finish()
    }
}

impl std::fmt::Debug for SuccessfulNativeRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuccessfulNativeRegistration")
            .field("session_token", &redacted(&self.session_token))
            .field("session", &self.session)
            .field("identity", &self.identity)
            .field("continue_with", &self.continue_with)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_in_debug_output() {
        let c = ContinueWith::SetOrySessionToken {
            ory_session_token: "ory_st_secret".into(),
        };
        assert!(!format!("{c:?}").contains("ory_st_secret"));
    }
}
