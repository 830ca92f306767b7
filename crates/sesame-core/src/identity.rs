//! Identities and credentials as the domain holds them, and their wire views.

use crate::aal::Aal;
use crate::ids::IdentityId;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sesame_types::identity::IdentityCredentials;
use sesame_types::{IdentityState, RecoveryAddress, VerifiableAddress};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A credential type Sesame knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CredentialType {
    /// Identifier + password.
    Password,
    /// Time-based one-time password.
    Totp,
    /// Recovery codes.
    LookupSecret,
}

impl CredentialType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::Password => "password",
            CredentialType::Totp => "totp",
            CredentialType::LookupSecret => "lookup_secret",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(CredentialType::Password),
            "totp" => Some(CredentialType::Totp),
            "lookup_secret" => Some(CredentialType::LookupSecret),
            _ => None,
        }
    }
}

/// One credential of an identity. Its config holds secrets (password hashes) and is never logged.
#[derive(Clone, PartialEq)]
pub struct Credential {
    /// Credential id.
    pub id: Uuid,
    /// The owner.
    pub identity_id: IdentityId,
    /// The type.
    pub kind: CredentialType,
    /// Normalised identifiers, unique per type across identities.
    pub identifiers: Vec<String>,
    /// Type-specific configuration, e.g. `{"hashed_password": "$argon2id$…"}`.
    pub config: Value,
    /// Format version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("identifiers", &self.identifiers)
            .field("config", &"***")
            .finish()
    }
}

impl Credential {
    /// The password hash, for password credentials.
    pub fn hashed_password(&self) -> Option<&str> {
        self.config.get("hashed_password").and_then(Value::as_str)
    }

    /// The admin wire view; `config` only when declassified.
    pub fn to_wire(&self, include_config: bool) -> IdentityCredentials {
        IdentityCredentials {
            kind: self.kind.as_str().to_owned(),
            identifiers: self.identifiers.clone(),
            config: include_config.then(|| self.config.clone()),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// An identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Identity id.
    pub id: IdentityId,
    /// Schema id.
    pub schema_id: String,
    /// Traits (validated).
    pub traits: Value,
    /// State.
    pub state: IdentityState,
    /// Last state change.
    pub state_changed_at: Option<DateTime<Utc>>,
    /// Public metadata.
    pub metadata_public: Option<Value>,
    /// Admin metadata.
    pub metadata_admin: Option<Value>,
    /// External id, unique.
    pub external_id: Option<String>,
    /// Organization.
    pub organization_id: Option<Uuid>,
    /// Verifiable addresses derived from the traits.
    pub verifiable_addresses: Vec<VerifiableAddress>,
    /// Recovery addresses derived from the traits.
    pub recovery_addresses: Vec<RecoveryAddress>,
    /// Highest available AAL, kept current on every credential change.
    pub available_aal: Aal,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
}

/// Which parts of an identity a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityView {
    /// whoami, flows: no credentials, no admin metadata.
    Public,
    /// Admin endpoints: admin metadata and (separately passed) credentials.
    Admin,
}

impl Identity {
    /// Whether the identity may log in and its sessions count.
    pub fn is_active(&self) -> bool {
        self.state == IdentityState::Active
    }

    /// The wire view. `schema_url` is `<public base>/schemas/<base64url(schema_id)>`.
    pub fn to_wire(
        &self,
        public_base_url: &str,
        view: IdentityView,
        credentials: Option<BTreeMap<String, IdentityCredentials>>,
    ) -> sesame_types::Identity {
        self.clone().into_wire(public_base_url, view, credentials)
    }

    /// The wire view, consuming the identity (no copies on the whoami path).
    pub fn into_wire(
        self,
        public_base_url: &str,
        view: IdentityView,
        credentials: Option<BTreeMap<String, IdentityCredentials>>,
    ) -> sesame_types::Identity {
        let admin = view == IdentityView::Admin;
        sesame_types::Identity {
            id: self.id.0,
            external_id: self.external_id,
            credentials: if admin { credentials } else { None },
            schema_url: crate::schema::schema_url(public_base_url, &self.schema_id),
            schema_id: self.schema_id,
            state: self.state,
            state_changed_at: self.state_changed_at,
            traits: self.traits,
            verifiable_addresses: self.verifiable_addresses,
            recovery_addresses: self.recovery_addresses,
            metadata_public: self.metadata_public,
            metadata_admin: if admin { self.metadata_admin } else { None },
            created_at: self.created_at,
            updated_at: self.updated_at,
            organization_id: self.organization_id,
        }
    }
}

/// Normalises a password identifier: trimmed and lower-cased, as Kratos's password strategy does.
pub fn normalize_identifier(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Normalises an address value: trimmed, emails lower-cased.
pub fn normalize_address(via: &str, s: &str) -> String {
    if via == "email" {
        s.trim().to_lowercase()
    } else {
        s.trim().to_owned()
    }
}
