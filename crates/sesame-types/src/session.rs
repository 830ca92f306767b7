//! The Session object returned by whoami and by login, with its AMR entries and devices, and the
//! bodies of session management (`DELETE /sessions`, `POST /admin/sessions`).

use crate::identity::Identity;
use crate::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Authenticator Assurance Level.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Aal {
    /// No factor completed.
    #[default]
    Aal0,
    /// One factor.
    Aal1,
    /// Two factors.
    Aal2,
    /// Listed by Kratos, never produced.
    Aal3,
}

impl Aal {
    /// The wire name (`aal1` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Aal::Aal0 => "aal0",
            Aal::Aal1 => "aal1",
            Aal::Aal2 => "aal2",
            Aal::Aal3 => "aal3",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Aal> {
        match s {
            "aal0" => Some(Aal::Aal0),
            "aal1" => Some(Aal::Aal1),
            "aal2" => Some(Aal::Aal2),
            "aal3" => Some(Aal::Aal3),
            _ => None,
        }
    }
}

/// One entry of a session's `authentication_methods` (AMR).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationMethod {
    /// `password`, `totp`, `lookup_secret`, …
    pub method: String,
    /// The level this factor counts for.
    pub aal: Aal,
    /// When the factor was completed.
    #[serde(with = "rfc3339")]
    pub completed_at: DateTime<Utc>,
    /// OIDC/SAML provider id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// The device a session was created from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Device id.
    pub id: Uuid,
    /// Client IP (without port).
    pub ip_address: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// `"<city>, <country>"` from Cloudflare headers, or `""`.
    pub location: Option<String>,
}

/// A session (Kratos `session`), fields in Kratos's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Session id.
    pub id: Uuid,
    /// Computed at serialisation: stored flag, not expired, identity active.
    #[serde(default)]
    pub active: bool,
    /// Expiry.
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// Time of the last completed factor.
    #[serde(with = "rfc3339")]
    pub authenticated_at: DateTime<Utc>,
    /// Assurance level computed from the AMR.
    #[serde(default)]
    pub authenticator_assurance_level: Aal,
    /// Completed factors.
    #[serde(default)]
    pub authentication_methods: Option<Vec<AuthenticationMethod>>,
    /// Issue time.
    #[serde(with = "rfc3339")]
    pub issued_at: DateTime<Utc>,
    /// The identity, or `null` when not expanded.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// Devices; `[]` or `null` when not expanded.
    #[serde(default)]
    pub devices: Option<Vec<Device>>,
    /// JWT when `tokenize_as` was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenized: Option<String>,
}

/// `DELETE /sessions`'s answer (`deleteMySessionsCount`): how many other sessions were revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeleteMySessionsCount {
    /// The number of other sessions matched (Kratos counts already-revoked ones too).
    #[serde(default)]
    pub count: i64,
}

/// What `POST /admin/sessions` does to the sessions it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManageSessionsAction {
    /// Deactivate (`active = false`; the rows stay for audit).
    Disable,
    /// Delete the rows.
    Delete,
}

/// Body of `POST /admin/sessions` (`manageSessionsBody`): exactly one of `identities` or `sessions`,
/// at most 500 ids; `identities: ["*"]` means every session, in batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManageSessionsBody {
    /// The action.
    pub action: ManageSessionsAction,
    /// Identity ids whose sessions are acted on, or `["*"]` for all sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identities: Option<Vec<String>>,
    /// Session ids to act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<String>>,
}

impl ManageSessionsBody {
    /// Acts on the sessions of these identities.
    pub fn identities(action: ManageSessionsAction, ids: &[Uuid]) -> Self {
        Self {
            action,
            identities: Some(ids.iter().map(Uuid::to_string).collect()),
            sessions: None,
        }
    }

    /// Acts on these sessions.
    pub fn sessions(action: ManageSessionsAction, ids: &[Uuid]) -> Self {
        Self {
            action,
            identities: None,
            sessions: Some(ids.iter().map(Uuid::to_string).collect()),
        }
    }

    /// Acts on every session, one batch per call (repeat while `more`).
    pub fn all(action: ManageSessionsAction) -> Self {
        Self {
            action,
            identities: Some(vec!["*".to_owned()]),
            sessions: None,
        }
    }
}

/// `POST /admin/sessions`'s answer (`manageSessionsResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ManageSessionsResponse {
    /// Sessions processed by this call (`disable`: only those that were active).
    #[serde(default)]
    pub processed: i64,
    /// A wildcard call reached its batch limit: call again.
    #[serde(default)]
    pub more: bool,
}
