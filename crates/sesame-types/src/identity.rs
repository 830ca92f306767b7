//! Identities, their addresses and credentials, schemas, and the admin request bodies.

use crate::time::{rfc3339, rfc3339_opt};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// `active` or `inactive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IdentityState {
    /// Can log in; sessions are valid.
    #[default]
    Active,
    /// Disabled: no login, sessions inactive.
    Inactive,
}

impl IdentityState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityState::Active => "active",
            IdentityState::Inactive => "inactive",
        }
    }
}

/// A verifiable address (`verifiableIdentityAddress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiableAddress {
    /// Address id.
    #[serde(default)]
    pub id: Uuid,
    /// Normalised value.
    pub value: String,
    /// Whether it was verified.
    #[serde(default)]
    pub verified: bool,
    /// `email` or `sms`.
    pub via: String,
    /// `pending`, `sent` or `completed`.
    #[serde(default = "pending")]
    pub status: String,
    /// When it was verified.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
    /// Creation time.
    #[serde(default, with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(default, with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn pending() -> String {
    "pending".to_owned()
}

/// A recovery address (`recoveryIdentityAddress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryAddress {
    /// Address id.
    #[serde(default)]
    pub id: Uuid,
    /// Normalised value.
    pub value: String,
    /// `email` or `sms`.
    pub via: String,
    /// Creation time.
    #[serde(default, with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(default, with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// One credential of an identity as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityCredentials {
    /// `password`, `totp`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Identifiers (e.g. the normalised email for `password`).
    pub identifiers: Vec<String>,
    /// Only with `include_credential=<type>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Version of the credential format.
    #[serde(default)]
    pub version: i64,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// An identity (Kratos `identity`), fields in Kratos's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Identity id.
    pub id: Uuid,
    /// Id in an external system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Admin endpoints only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<BTreeMap<String, IdentityCredentials>>,
    /// Identity schema id.
    pub schema_id: String,
    /// `<public base>/schemas/<base64url(id)>`.
    #[serde(default)]
    pub schema_url: String,
    /// `active` or `inactive`.
    #[serde(default)]
    pub state: IdentityState,
    /// Last state change.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub state_changed_at: Option<DateTime<Utc>>,
    /// Traits, validated against the schema.
    pub traits: Value,
    /// Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifiable_addresses: Vec<VerifiableAddress>,
    /// Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_addresses: Vec<RecoveryAddress>,
    /// Public metadata, `null` when empty.
    #[serde(default)]
    pub metadata_public: Option<Value>,
    /// Admin endpoints only; omitted when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_admin: Option<Value>,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Always present, `null` when unset.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `{"id": …, "schema": …}` from `GET /schemas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentitySchemaContainer {
    /// Schema id.
    pub id: String,
    /// The raw schema.
    pub schema: Value,
}

/// `credentials.password.config` of an admin create/update body.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfigBody {
    /// A PHC hash to import (bcrypt, argon2i, argon2id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashed_password: Option<String>,
    /// A plaintext password to hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Accepted for compatibility; Sesame has no password migration webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_password_migration_hook: Option<bool>,
}

impl std::fmt::Debug for PasswordConfigBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordConfigBody")
            .field(
                "hashed_password",
                &self.hashed_password.as_ref().map(|_| "***"),
            )
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `credentials.password` of an admin create/update body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PasswordCredentialsBody {
    /// The password configuration.
    #[serde(default)]
    pub config: PasswordConfigBody,
}

/// `credentials` of an admin create/update body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CredentialsBody {
    /// Password credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordCredentialsBody>,
}

/// Body of `POST /admin/identities` (strict: unknown keys are rejected as Kratos does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateIdentityBody {
    /// Defaults to `identity.default_schema_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// Traits.
    pub traits: Value,
    /// Credentials to import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsBody>,
    /// Addresses to import (their `verified`/`status` are kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifiable_addresses: Option<Vec<VerifiableAddress>>,
    /// Recovery addresses to import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_addresses: Option<Vec<RecoveryAddress>>,
    /// Public metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_public: Option<Value>,
    /// Admin metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_admin: Option<Value>,
    /// `active` (default) or `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<IdentityState>,
    /// Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// External id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// Body of `PUT /admin/identities/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateIdentityBody {
    /// Changed only when non-empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// Replaces the traits.
    pub traits: Value,
    /// Credentials to import or replace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsBody>,
    /// Replaces public metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_public: Option<Value>,
    /// Replaces admin metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_admin: Option<Value>,
    /// Changed only when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<IdentityState>,
    /// Replaces the external id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}
