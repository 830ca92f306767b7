//! Admin identity management: create (with password import), get, list, replace, delete.

use super::{Deps, identity_or_404};
use crate::aal::available_aal;
use crate::error::CoreError;
use crate::identity::{Credential, CredentialType, Identity, IdentityView};
use crate::ids::IdentityId;
use crate::password::{Password, check_imported_hash};
use crate::schema::Extracted;
use crate::store::{IdentityQuery, StoreError};
use crate::untrusted;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sesame_types::identity::{CredentialsBody, PasswordConfigBody};
use sesame_types::{
    CreateIdentityBody, IdentityCredentials, RecoveryAddress, UpdateIdentityBody, VerifiableAddress,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// A page of identities with their credentials (config stripped).
#[derive(Debug)]
pub struct IdentityPage {
    /// The identities, admin view.
    pub items: Vec<sesame_types::Identity>,
    /// Whether another page may follow.
    pub has_more: bool,
}

/// Admin identity operations.
#[derive(Clone)]
pub struct IdentityService(pub(crate) Arc<Deps>);

impl IdentityService {
    /// Builds the service.
    pub fn new(deps: Arc<Deps>) -> Self {
        Self(deps)
    }

    /// `POST /admin/identities`.
    pub async fn create(
        &self,
        body: CreateIdentityBody,
        now: DateTime<Utc>,
    ) -> Result<sesame_types::Identity, CoreError> {
        let (identity, credentials) = self.prepare(body, now).await?;
        self.0
            .store
            .create_identity(&identity, &credentials)
            .await
            .map_err(conflict)?;
        Ok(self.wire(&identity, &credentials, false))
    }

    /// A create body checked and turned into the identity and credentials to store (imported
    /// hashes are kept as they are, plaintext passwords hashed).
    pub(crate) async fn prepare(
        &self,
        body: CreateIdentityBody,
        now: DateTime<Utc>,
    ) -> Result<(Identity, Vec<Credential>), CoreError> {
        let schema_id = body.schema_id.clone().filter(|s| !s.is_empty());
        let schema_id = schema_id.unwrap_or_else(|| self.0.schemas.default_schema().id.clone());
        check_stored(
            &body.traits,
            body.metadata_public.as_ref(),
            body.metadata_admin.as_ref(),
            body.external_id.as_deref(),
        )?;
        let extracted = self.validate(&schema_id, &body.traits)?;
        let id = IdentityId::new();
        let credentials = match &body.credentials {
            Some(c) => {
                self.credentials_from_body(id, c, &extracted, &[], now)
                    .await?
            }
            None => Vec::new(),
        };
        let state = body.state.unwrap_or_default();
        let identity = Identity {
            id,
            schema_id,
            traits: body.traits,
            state,
            state_changed_at: Some(now),
            metadata_public: non_null(body.metadata_public),
            metadata_admin: non_null(body.metadata_admin),
            external_id: body.external_id.filter(|s| !s.is_empty()),
            organization_id: body.organization_id,
            verifiable_addresses: verifiable_addresses(
                &extracted,
                body.verifiable_addresses.as_deref().unwrap_or(&[]),
                now,
            ),
            recovery_addresses: recovery_addresses(
                &extracted,
                body.recovery_addresses.as_deref().unwrap_or(&[]),
                now,
            ),
            available_aal: available_aal(&credentials),
            created_at: now,
            updated_at: now,
        };
        Ok((identity, credentials))
    }

    /// `GET /admin/identities/{id}`, with the configuration of the `include` credential types.
    pub async fn get(
        &self,
        id: IdentityId,
        include: &[CredentialType],
    ) -> Result<sesame_types::Identity, CoreError> {
        let identity = identity_or_404(&self.0, id).await?;
        let credentials = self.0.store.credentials(&[id]).await?;
        Ok(self.wire_with(&identity, &credentials, include))
    }

    /// `GET /admin/identities/by/external/{external_id}`.
    pub async fn get_by_external_id(
        &self,
        external_id: &str,
        include: &[CredentialType],
    ) -> Result<sesame_types::Identity, CoreError> {
        untrusted::text("external_id", external_id)?;
        let identity = self
            .0
            .store
            .identity_by_external_id(external_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let credentials = self.0.store.credentials(&[identity.id]).await?;
        Ok(self.wire_with(&identity, &credentials, include))
    }

    /// `GET /admin/identities`: a page ordered by id, optionally filtered (by a password
    /// identifier, ids or organization), with the configuration of the `include` credential types.
    pub async fn list(
        &self,
        mut query: IdentityQuery,
        include: &[CredentialType],
    ) -> Result<IdentityPage, CoreError> {
        check_query(&query)?;
        query.credentials_identifier = query
            .credentials_identifier
            .map(|i| crate::identity::normalize_identifier(&i));
        // One row more than asked tells whether a next page exists, so a full last page gets no
        // `next` link (as Kratos's keyset paginator does).
        let limit = query.limit;
        query.limit = limit.saturating_add(1);
        let mut identities = self.0.store.list_identities(&query).await?;
        let has_more = identities.len() > limit as usize;
        identities.truncate(limit as usize);
        let ids: Vec<IdentityId> = identities.iter().map(|i| i.id).collect();
        let mut by_identity: BTreeMap<IdentityId, Vec<Credential>> = BTreeMap::new();
        for c in self.0.store.credentials(&ids).await? {
            by_identity.entry(c.identity_id).or_default().push(c);
        }
        let items = identities
            .iter()
            .map(|i| {
                self.wire_with(
                    i,
                    by_identity.get(&i.id).map_or(&[][..], Vec::as_slice),
                    include,
                )
            })
            .collect();
        Ok(IdentityPage { items, has_more })
    }

    /// How many identities match the query's filters (paging fields ignored).
    pub async fn count(&self, mut query: IdentityQuery) -> Result<u64, CoreError> {
        check_query(&query)?;
        query.credentials_identifier = query
            .credentials_identifier
            .map(|i| crate::identity::normalize_identifier(&i));
        Ok(self.0.store.count_identities(&query).await?)
    }

    /// `PUT /admin/identities/{id}`: replaces traits and metadata; schema and state only when given.
    pub async fn update(
        &self,
        id: IdentityId,
        body: UpdateIdentityBody,
        now: DateTime<Utc>,
    ) -> Result<sesame_types::Identity, CoreError> {
        check_stored(
            &body.traits,
            body.metadata_public.as_ref(),
            body.metadata_admin.as_ref(),
            body.external_id.as_deref(),
        )?;
        let mut identity = identity_or_404(&self.0, id).await?;
        if let Some(schema_id) = body.schema_id.filter(|s| !s.is_empty()) {
            identity.schema_id = schema_id;
        }
        let extracted = self.validate(&identity.schema_id, &body.traits)?;
        let existing = self.0.store.credentials(&[id]).await?;
        let mut credentials = match &body.credentials {
            Some(c) => {
                self.credentials_from_body(id, c, &extracted, &existing, now)
                    .await?
            }
            None => existing.clone(),
        };
        // Identifiers always follow the traits, so a changed email logs in with the new value.
        for c in credentials
            .iter_mut()
            .filter(|c| c.kind == CredentialType::Password)
        {
            if c.identifiers != extracted.password_identifiers {
                c.identifiers = extracted.password_identifiers.clone();
                c.updated_at = now;
            }
        }
        if let Some(state) = body.state.filter(|s| *s != identity.state) {
            identity.state = state;
            identity.state_changed_at = Some(now);
        }
        identity.traits = body.traits;
        identity.metadata_public = non_null(body.metadata_public);
        identity.metadata_admin = non_null(body.metadata_admin);
        identity.external_id = body.external_id.filter(|s| !s.is_empty());
        identity.verifiable_addresses =
            verifiable_addresses(&extracted, &identity.verifiable_addresses, now);
        identity.recovery_addresses =
            recovery_addresses(&extracted, &identity.recovery_addresses, now);
        identity.available_aal = available_aal(&credentials);
        identity.updated_at = now;
        self.0
            .store
            .update_identity(&identity, Some(&credentials))
            .await
            .map_err(conflict)?;
        Ok(self.wire(&identity, &credentials, false))
    }

    /// `DELETE /admin/identities/{id}`; its sessions end with it.
    pub async fn delete(&self, id: IdentityId) -> Result<(), CoreError> {
        if self.0.store.delete_identity(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound)
        }
    }

    pub(super) fn validate(&self, schema_id: &str, traits: &Value) -> Result<Extracted, CoreError> {
        let schema = self.0.schemas.get(schema_id).ok_or_else(|| {
            CoreError::bad_request(format!("Unable to find JSON Schema ID: {schema_id}"))
        })?;
        schema.validate(traits).map_err(CoreError::InvalidTraits)
    }

    async fn credentials_from_body(
        &self,
        id: IdentityId,
        body: &CredentialsBody,
        extracted: &Extracted,
        existing: &[Credential],
        now: DateTime<Utc>,
    ) -> Result<Vec<Credential>, CoreError> {
        let mut out: Vec<Credential> = existing.to_vec();
        if let Some(pw) = &body.password {
            let hash = self.password_hash(&pw.config).await?;
            out.retain(|c| c.kind != CredentialType::Password);
            if let Some(hash) = hash {
                let previous = existing.iter().find(|c| c.kind == CredentialType::Password);
                out.push(Credential {
                    id: previous.map_or_else(Uuid::new_v4, |c| c.id),
                    identity_id: id,
                    kind: CredentialType::Password,
                    identifiers: extracted.password_identifiers.clone(),
                    config: json!({ "hashed_password": hash }),
                    version: 0,
                    created_at: previous.map_or(now, |c| c.created_at),
                    updated_at: now,
                });
            }
        }
        Ok(out)
    }

    async fn password_hash(
        &self,
        config: &PasswordConfigBody,
    ) -> Result<Option<String>, CoreError> {
        match (&config.hashed_password, &config.password) {
            (Some(hash), _) if !hash.is_empty() => {
                check_imported_hash(hash)?;
                Ok(Some(hash.clone()))
            }
            // Admin-set plaintext passwords bypass the policy, as in Kratos.
            (_, Some(pw)) if !pw.is_empty() => {
                Ok(Some(self.0.hasher.hash(&Password::new(pw.clone())).await?))
            }
            _ => Ok(None),
        }
    }

    fn wire(
        &self,
        identity: &Identity,
        credentials: &[Credential],
        include_password: bool,
    ) -> sesame_types::Identity {
        let include: &[CredentialType] = if include_password {
            &[CredentialType::Password]
        } else {
            &[]
        };
        self.wire_with(identity, credentials, include)
    }

    /// The admin view, with the configuration of the `include` credential types.
    pub(super) fn wire_with(
        &self,
        identity: &Identity,
        credentials: &[Credential],
        include: &[CredentialType],
    ) -> sesame_types::Identity {
        let creds: BTreeMap<String, IdentityCredentials> = credentials
            .iter()
            .map(|c| {
                let include = include.contains(&c.kind);
                (c.kind.as_str().to_owned(), c.to_wire(include))
            })
            .collect();
        identity.to_wire(
            &self.0.settings.public_base_url,
            IdentityView::Admin,
            Some(creds),
        )
    }
}

/// What an identity stores from a client, within [`untrusted`]'s bounds: no value nests deeper
/// than [`untrusted::MAX_DEPTH`], no text carries NUL (identifiers and addresses come from the
/// traits, so they are covered too).
pub(super) fn check_stored(
    traits: &Value,
    metadata_public: Option<&Value>,
    metadata_admin: Option<&Value>,
    external_id: Option<&str>,
) -> Result<(), CoreError> {
    untrusted::json("traits", traits)?;
    if let Some(m) = metadata_public {
        untrusted::json("metadata_public", m)?;
    }
    if let Some(m) = metadata_admin {
        untrusted::json("metadata_admin", m)?;
    }
    if let Some(e) = external_id {
        untrusted::text("external_id", e)?;
    }
    Ok(())
}

/// A listing's text filter, within [`untrusted`]'s bounds.
fn check_query(query: &IdentityQuery) -> Result<(), CoreError> {
    if let Some(identifier) = &query.credentials_identifier {
        untrusted::text("credentials_identifier", identifier)?;
    }
    Ok(())
}

pub(super) fn conflict(e: StoreError) -> CoreError {
    match e {
        StoreError::Conflict => CoreError::IdentityConflict,
        other => other.into(),
    }
}

pub(super) fn non_null(v: Option<Value>) -> Option<Value> {
    v.filter(|v| !v.is_null())
}

/// The verifiable addresses the traits produce, keeping the state of those that already existed.
pub(crate) fn verifiable_addresses(
    extracted: &Extracted,
    existing: &[VerifiableAddress],
    now: DateTime<Utc>,
) -> Vec<VerifiableAddress> {
    extracted
        .verifiable
        .iter()
        .map(|(via, value)| {
            existing
                .iter()
                .find(|a| {
                    &a.via == via && crate::identity::normalize_address(via, &a.value) == *value
                })
                .map(|a| VerifiableAddress {
                    id: if a.id.is_nil() { Uuid::new_v4() } else { a.id },
                    value: value.clone(),
                    created_at: if a.id.is_nil() { now } else { a.created_at },
                    updated_at: if a.id.is_nil() { now } else { a.updated_at },
                    ..a.clone()
                })
                .unwrap_or_else(|| VerifiableAddress {
                    id: Uuid::new_v4(),
                    value: value.clone(),
                    verified: false,
                    via: via.clone(),
                    status: "pending".into(),
                    verified_at: None,
                    created_at: now,
                    updated_at: now,
                })
        })
        .collect()
}

/// The recovery addresses the traits produce, keeping ids of those that already existed.
pub(crate) fn recovery_addresses(
    extracted: &Extracted,
    existing: &[RecoveryAddress],
    now: DateTime<Utc>,
) -> Vec<RecoveryAddress> {
    extracted
        .recovery
        .iter()
        .map(|(via, value)| {
            existing
                .iter()
                .find(|a| {
                    &a.via == via
                        && crate::identity::normalize_address(via, &a.value) == *value
                        && !a.id.is_nil()
                })
                .cloned()
                .unwrap_or_else(|| RecoveryAddress {
                    id: Uuid::new_v4(),
                    value: value.clone(),
                    via: via.clone(),
                    created_at: now,
                    updated_at: now,
                })
        })
        .collect()
}
