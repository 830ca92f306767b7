//! Row structs and their conversion to domain types. Column aliases carry a table prefix (`i_`,
//! `s_`) so that joined rows decode without ambiguity.

use chrono::{DateTime, Utc};
use sesame_core::aal::Aal;
use sesame_core::flow::{FlowBody, FlowRecord};
use sesame_core::identity::{Credential, CredentialType, Identity};
use sesame_core::session::Session;
use sesame_core::store::StoreError;
use sesame_core::types::IdentityState;
use sesame_core::{IdentityId, SessionId, TokenDigest};
use uuid::Uuid;

/// Identity columns, aliased.
pub const IDENTITY_COLUMNS: &str = "i.id AS i_id, i.schema_id AS i_schema_id, i.traits AS i_traits, \
    i.state AS i_state, i.state_changed_at AS i_state_changed_at, i.metadata_public AS i_metadata_public, \
    i.metadata_admin AS i_metadata_admin, i.external_id AS i_external_id, i.organization_id AS i_organization_id, \
    i.verifiable_addresses AS i_verifiable_addresses, i.recovery_addresses AS i_recovery_addresses, \
    i.available_aal AS i_available_aal, i.created_at AS i_created_at, i.updated_at AS i_updated_at";

/// Session columns, aliased.
pub const SESSION_COLUMNS: &str = "s.id AS s_id, s.identity_id AS s_identity_id, s.token_digest AS s_token_digest, \
    s.logout_token_digest AS s_logout_token_digest, s.active AS s_active, s.aal AS s_aal, \
    s.authentication_methods AS s_authentication_methods, s.devices AS s_devices, s.issued_at AS s_issued_at, \
    s.expires_at AS s_expires_at, s.authenticated_at AS s_authenticated_at, s.created_at AS s_created_at, \
    s.updated_at AS s_updated_at";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} cannot be read: {e}"))
}

fn json_opt(s: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt("metadata", e)))
        .transpose()
}

/// An identities row.
#[derive(sqlx::FromRow)]
pub struct IdentityRow {
    pub(crate) i_id: Uuid,
    pub(crate) i_schema_id: String,
    pub(crate) i_traits: String,
    pub(crate) i_state: String,
    pub(crate) i_state_changed_at: Option<DateTime<Utc>>,
    pub(crate) i_metadata_public: Option<String>,
    pub(crate) i_metadata_admin: Option<String>,
    pub(crate) i_external_id: Option<String>,
    pub(crate) i_organization_id: Option<Uuid>,
    pub(crate) i_verifiable_addresses: String,
    pub(crate) i_recovery_addresses: String,
    pub(crate) i_available_aal: String,
    pub(crate) i_created_at: DateTime<Utc>,
    pub(crate) i_updated_at: DateTime<Utc>,
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StoreError;
    fn try_from(r: IdentityRow) -> Result<Self, StoreError> {
        Ok(Identity {
            id: IdentityId(r.i_id),
            schema_id: r.i_schema_id,
            traits: serde_json::from_str(&r.i_traits).map_err(|e| corrupt("traits", e))?,
            state: if r.i_state == "inactive" {
                IdentityState::Inactive
            } else {
                IdentityState::Active
            },
            state_changed_at: r.i_state_changed_at,
            metadata_public: json_opt(r.i_metadata_public)?,
            metadata_admin: json_opt(r.i_metadata_admin)?,
            external_id: r.i_external_id,
            organization_id: r.i_organization_id,
            verifiable_addresses: serde_json::from_str(&r.i_verifiable_addresses)
                .map_err(|e| corrupt("addresses", e))?,
            recovery_addresses: serde_json::from_str(&r.i_recovery_addresses)
                .map_err(|e| corrupt("addresses", e))?,
            available_aal: Aal::parse(&r.i_available_aal).unwrap_or(Aal::Aal0),
            created_at: r.i_created_at,
            updated_at: r.i_updated_at,
        })
    }
}

/// A sessions row.
#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub(crate) s_id: Uuid,
    pub(crate) s_identity_id: Uuid,
    pub(crate) s_token_digest: Vec<u8>,
    pub(crate) s_logout_token_digest: Vec<u8>,
    pub(crate) s_active: bool,
    pub(crate) s_aal: String,
    pub(crate) s_authentication_methods: String,
    pub(crate) s_devices: String,
    pub(crate) s_issued_at: DateTime<Utc>,
    pub(crate) s_expires_at: DateTime<Utc>,
    pub(crate) s_authenticated_at: DateTime<Utc>,
    pub(crate) s_created_at: DateTime<Utc>,
    pub(crate) s_updated_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        let digest = |b: &[u8]| {
            TokenDigest::from_slice(b).ok_or_else(|| corrupt("token digest", "wrong length"))
        };
        Ok(Session {
            id: SessionId(r.s_id),
            identity_id: IdentityId(r.s_identity_id),
            token_digest: digest(&r.s_token_digest)?,
            logout_token_digest: digest(&r.s_logout_token_digest)?,
            active: r.s_active,
            aal: Aal::parse(&r.s_aal).unwrap_or(Aal::Aal0),
            authentication_methods: serde_json::from_str(&r.s_authentication_methods)
                .map_err(|e| corrupt("authentication methods", e))?,
            devices: serde_json::from_str(&r.s_devices).map_err(|e| corrupt("devices", e))?,
            issued_at: r.s_issued_at,
            expires_at: r.s_expires_at,
            authenticated_at: r.s_authenticated_at,
            created_at: r.s_created_at,
            updated_at: r.s_updated_at,
        })
    }
}

/// A session joined with its identity.
#[derive(sqlx::FromRow)]
pub struct SessionIdentityRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    #[sqlx(flatten)]
    pub identity: IdentityRow,
}

/// An identity_credentials row.
#[derive(sqlx::FromRow)]
pub struct CredentialRow {
    id: Uuid,
    identity_id: Uuid,
    #[sqlx(rename = "type")]
    kind: String,
    identifiers: String,
    config: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CredentialRow> for Credential {
    type Error = StoreError;
    fn try_from(r: CredentialRow) -> Result<Self, StoreError> {
        Ok(Credential {
            id: r.id,
            identity_id: IdentityId(r.identity_id),
            kind: CredentialType::parse(&r.kind)
                .ok_or_else(|| corrupt("credential type", &r.kind))?,
            identifiers: serde_json::from_str(&r.identifiers)
                .map_err(|e| corrupt("identifiers", e))?,
            config: serde_json::from_str(&r.config).map_err(|e| corrupt("credential config", e))?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A selfservice_flows row.
#[derive(sqlx::FromRow)]
pub struct FlowRow {
    kind: String,
    body: String,
    csrf_token: Option<String>,
    context: Option<String>,
}

impl TryFrom<FlowRow> for FlowRecord {
    type Error = StoreError;
    fn try_from(r: FlowRow) -> Result<Self, StoreError> {
        let body = match r.kind.as_str() {
            "login" => {
                FlowBody::Login(serde_json::from_str(&r.body).map_err(|e| corrupt("flow", e))?)
            }
            "registration" => FlowBody::Registration(
                serde_json::from_str(&r.body).map_err(|e| corrupt("flow", e))?,
            ),
            "settings" => {
                FlowBody::Settings(serde_json::from_str(&r.body).map_err(|e| corrupt("flow", e))?)
            }
            other => return Err(corrupt("flow kind", other)),
        };
        Ok(FlowRecord {
            body,
            csrf_token: r.csrf_token,
            context: r
                .context
                .map(|c| serde_json::from_str(&c).map_err(|e| corrupt("flow context", e)))
                .transpose()?,
        })
    }
}

/// Serialises a flow body for storage.
pub fn flow_json(body: &FlowBody) -> Result<String, StoreError> {
    match body {
        FlowBody::Login(f) => serde_json::to_string(f),
        FlowBody::Registration(f) => serde_json::to_string(f),
        // `continue_with` belongs to one submit's answer, not to the flow.
        FlowBody::Settings(f) if f.continue_with.is_some() => {
            serde_json::to_string(&sesame_core::types::SettingsFlow {
                continue_with: None,
                ..f.clone()
            })
        }
        FlowBody::Settings(f) => serde_json::to_string(f),
    }
    .map_err(|e| StoreError::Backend(e.to_string()))
}

/// Serialises any value for a JSON text column.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}
