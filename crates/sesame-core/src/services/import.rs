//! Identity import and export in bulk (`sesame identities import|export`): many create bodies
//! checked exactly as `POST /admin/identities` checks one and stored in one batch, and every
//! identity read back page by page, either as the admin view or as a create body that imports
//! again elsewhere.

use super::IdentityService;
use crate::error::CoreError;
use crate::identity::{Credential, CredentialType, Identity, IdentityView};
use crate::ids::IdentityId;
use crate::store::{IdentityQuery, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sesame_types::CreateIdentityBody;
use sesame_types::identity::{CredentialsBody, PasswordConfigBody, PasswordCredentialsBody};
use std::collections::BTreeMap;

/// An identity ready to store, with its credentials.
type Prepared = (Identity, Vec<Credential>);

/// Why one record of an import was not imported, in words for the person running it.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The admin API would refuse it the same way.
    #[error("{}", refusal(.0))]
    Refused(CoreError),
    /// One of its unique values (identifier, address, external id) belongs to another identity
    /// already, perhaps one an earlier record created: which one, when it can be told.
    #[error("{0}")]
    Taken(String),
}

impl From<RecordError> for CoreError {
    /// What the admin API answers for the record (a taken value is Kratos's 409).
    fn from(e: RecordError) -> CoreError {
        match e {
            RecordError::Refused(e) => e,
            RecordError::Taken(_) => CoreError::IdentityConflict,
        }
    }
}

/// A refusal without the HTTP wording: schema violations as sentences, naming their fields.
fn refusal(e: &CoreError) -> String {
    match e {
        CoreError::InvalidTraits(violations) => violations
            .iter()
            .map(crate::schema::Violation::plain)
            .collect::<Vec<_>>()
            .join("; "),
        CoreError::BadRequest { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// One identity of an export.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ExportedIdentity {
    /// As `GET /admin/identities/{id}` shows it: credentials without their secrets.
    Admin(Box<sesame_types::Identity>),
    /// As `POST /admin/identities` takes it, with the password hash (not the TOTP or backup-code
    /// secrets, which a create body cannot carry).
    CreateBody(Box<CreateIdentityBody>),
}

/// A page of an export.
#[derive(Debug)]
pub struct ExportPage {
    /// The identities, ordered by id.
    pub items: Vec<ExportedIdentity>,
    /// Where the next page starts, when there may be one.
    pub next: Option<IdentityId>,
}

impl IdentityService {
    /// Creates identities from many create bodies: each is checked as `create` checks it
    /// (schema, imported hash format; a plaintext password is hashed), then all that pass are
    /// stored in one batch. One result per body, in order: the new id, or why that body was not
    /// imported. `Err` only when the storage itself fails.
    pub async fn import(
        &self,
        bodies: Vec<CreateIdentityBody>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<IdentityId, RecordError>>, CoreError> {
        // Bodies are checked concurrently: plaintext passwords then hash on every core (the
        // hasher bounds itself), and schema checks spread over the runtime's threads.
        let mut tasks = tokio::task::JoinSet::new();
        for (index, body) in bodies.into_iter().enumerate() {
            let this = self.clone();
            tasks.spawn(async move { (index, this.prepare(body, now).await) });
        }
        let mut prepared: Vec<(usize, Result<Prepared, CoreError>)> =
            Vec::with_capacity(tasks.len());
        while let Some(joined) = tasks.join_next().await {
            prepared
                .push(joined.map_err(|e| CoreError::Store(StoreError::Backend(e.to_string())))?);
        }
        prepared.sort_unstable_by_key(|(index, _)| *index);

        let mut results: Vec<Result<IdentityId, RecordError>> = Vec::with_capacity(prepared.len());
        let mut batch = Vec::with_capacity(prepared.len());
        let mut slots = Vec::with_capacity(prepared.len());
        for (index, item) in prepared {
            match item {
                Ok(item) => {
                    results.push(Ok(item.0.id));
                    slots.push(index);
                    batch.push(item);
                }
                Err(e) => results.push(Err(RecordError::Refused(e))),
            }
        }
        let stored = self.0.store.create_identities(&batch).await?;
        for ((slot, outcome), item) in slots.into_iter().zip(stored).zip(&batch) {
            results[slot] = match outcome {
                Ok(()) => continue,
                Err(StoreError::Conflict) => Err(RecordError::Taken(self.taken(item).await?)),
                Err(other) => Err(RecordError::Refused(other.into())),
            };
        }
        Ok(results)
    }

    /// Which unique value of an identity that could not be stored is taken, and by whom.
    async fn taken(&self, (identity, credentials): &Prepared) -> Result<String, CoreError> {
        let store = &self.0.store;
        for credential in credentials {
            for identifier in &credential.identifiers {
                if let Some((owner, _)) = store
                    .find_by_identifier(credential.kind, identifier)
                    .await?
                {
                    return Ok(format!(
                        "the {} identifier {identifier:?} belongs to identity {} already",
                        credential.kind.as_str(),
                        owner.id
                    ));
                }
            }
        }
        if let Some(external_id) = &identity.external_id
            && let Some(owner) = store.identity_by_external_id(external_id).await?
        {
            return Ok(format!(
                "external_id {external_id:?} belongs to identity {} already",
                owner.id
            ));
        }
        // Addresses have no look-up of their own; the record's are all there is to show.
        let addresses: Vec<String> = identity
            .verifiable_addresses
            .iter()
            .map(|a| format!("{} ({}, verifiable)", a.value, a.via))
            .chain(
                identity
                    .recovery_addresses
                    .iter()
                    .map(|a| format!("{} ({}, recovery)", a.value, a.via)),
            )
            .collect();
        Ok(if addresses.is_empty() {
            "an identity with the same identifier, address or external id exists already".into()
        } else {
            format!(
                "one of its addresses belongs to another identity already: {}",
                addresses.join(", ")
            )
        })
    }

    /// Up to `limit` identities after `after`, ordered by id: the admin view, or with
    /// `with_credentials` the create body carrying the password hash.
    pub async fn export(
        &self,
        after: Option<IdentityId>,
        limit: u32,
        with_credentials: bool,
    ) -> Result<ExportPage, CoreError> {
        let query = IdentityQuery {
            after,
            limit,
            ..IdentityQuery::default()
        };
        let identities = self.0.store.list_identities(&query).await?;
        let ids: Vec<IdentityId> = identities.iter().map(|i| i.id).collect();
        let mut by_identity: BTreeMap<IdentityId, Vec<Credential>> = BTreeMap::new();
        for c in self.0.store.credentials(&ids).await? {
            by_identity.entry(c.identity_id).or_default().push(c);
        }
        let next = (identities.len() >= limit as usize)
            .then(|| identities.last().map(|i| i.id))
            .flatten();
        let items = identities
            .into_iter()
            .map(|identity| {
                let credentials = by_identity.remove(&identity.id).unwrap_or_default();
                if with_credentials {
                    ExportedIdentity::CreateBody(Box::new(create_body(identity, &credentials)))
                } else {
                    let wire = credentials
                        .iter()
                        .map(|c| (c.kind.as_str().to_owned(), c.to_wire(false)))
                        .collect();
                    ExportedIdentity::Admin(Box::new(identity.into_wire(
                        &self.0.settings.public_base_url,
                        IdentityView::Admin,
                        Some(wire),
                    )))
                }
            })
            .collect();
        Ok(ExportPage { items, next })
    }
}

/// The create body that recreates `identity`: traits, state, metadata, addresses (with their
/// verification state) and the password hash as it is stored.
fn create_body(identity: Identity, credentials: &[Credential]) -> CreateIdentityBody {
    let hashed_password = credentials
        .iter()
        .find(|c| c.kind == CredentialType::Password)
        .and_then(|c| c.config.get("hashed_password"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    CreateIdentityBody {
        schema_id: Some(identity.schema_id),
        traits: identity.traits,
        credentials: hashed_password.map(|hash| CredentialsBody {
            password: Some(PasswordCredentialsBody {
                config: PasswordConfigBody {
                    hashed_password: Some(hash),
                    ..PasswordConfigBody::default()
                },
            }),
        }),
        verifiable_addresses: Some(identity.verifiable_addresses).filter(|a| !a.is_empty()),
        recovery_addresses: Some(identity.recovery_addresses).filter(|a| !a.is_empty()),
        metadata_public: identity.metadata_public,
        metadata_admin: identity.metadata_admin,
        state: Some(identity.state),
        organization_id: identity.organization_id,
        external_id: identity.external_id,
    }
}
