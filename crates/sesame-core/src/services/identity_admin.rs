//! The rest of an identity's administration: removing one of its credentials
//! (`DELETE /admin/identities/{id}/credentials/{type}`) and creating identities in a batch
//! (`PATCH /admin/identities`).

use super::identities::conflict;
use super::{IdentityService, identity_or_404};
use crate::aal::available_aal;
use crate::error::CoreError;
use crate::identity::CredentialType;
use crate::ids::IdentityId;
use chrono::{DateTime, Utc};
use sesame_types::{CreateIdentityBody, IdentityPatch};
use uuid::Uuid;

/// Most items one batch may carry (Kratos's `BatchPatchIdentitiesLimit`).
pub const BATCH_LIMIT: usize = 1000;
/// Most items of one batch that carry a plaintext password, which is hashed on the spot.
pub const BATCH_PLAINTEXT_LIMIT: usize = 200;

/// What became of one item of a batch.
#[derive(Debug)]
pub enum BatchOutcome {
    /// The identity was created with this id.
    Created(IdentityId),
    /// It was not created, for this reason (a schema violation, a taken identifier, …).
    Failed(CoreError),
}

/// One item's result, with the item's `patch_id`.
#[derive(Debug)]
pub struct BatchItem {
    /// The item's `patch_id`.
    pub patch_id: Option<Uuid>,
    /// What became of it.
    pub outcome: BatchOutcome,
}

fn has_plaintext_password(body: &CreateIdentityBody) -> bool {
    body.credentials
        .as_ref()
        .and_then(|c| c.password.as_ref())
        .and_then(|p| p.config.password.as_deref())
        .is_some_and(|p| !p.is_empty())
}

impl IdentityService {
    /// `DELETE /admin/identities/{id}/credentials/{type}`: removes a second factor (`totp`,
    /// `lookup_secret`), or a first factor (`password`) while another remains, and recomputes the
    /// identity's `available_aal`. Sessions are left as they are, as in Kratos: whoami then judges
    /// them by the identity's new highest level.
    pub async fn delete_credentials(
        &self,
        id: IdentityId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        let mut identity = identity_or_404(&self.0, id).await?;
        let mut credentials = self.0.store.credentials(&[id]).await?;
        // Kratos looks the type up among the identity's credentials first: a type it does not
        // hold (or that does not exist) is a 404 whatever it is.
        let Some(index) =
            CredentialType::parse(kind).and_then(|k| credentials.iter().position(|c| c.kind == k))
        else {
            return Err(CoreError::NotFoundWithReason(format!(
                "You tried to remove a {kind} but this user have no {kind} set up."
            )));
        };
        let removed = credentials.remove(index);
        match removed.kind {
            CredentialType::Totp | CredentialType::LookupSecret => {}
            CredentialType::Password => {
                // Counted as Kratos counts them: with the one being removed.
                let first_factors = credentials
                    .iter()
                    .chain(std::iter::once(&removed))
                    .filter(|c| c.counts_as_first_factor())
                    .count();
                if first_factors < 2 {
                    return Err(CoreError::bad_request(
                        "You cannot remove the last first factor credential.",
                    ));
                }
            }
        }
        identity.available_aal = available_aal(&credentials);
        identity.updated_at = now;
        self.0
            .store
            .update_identity(&identity, Some(&credentials))
            .await
            .map_err(conflict)?;
        Ok(())
    }

    /// `PATCH /admin/identities`: creates the identities of the items' `create` bodies, each
    /// checked as `POST /admin/identities` checks one. One result per item, in order; an item
    /// that fails does not stop the others. `Err` for a batch over the limits, or when the
    /// storage itself fails.
    pub async fn batch_create(
        &self,
        items: Vec<IdentityPatch>,
        now: DateTime<Utc>,
    ) -> Result<Vec<BatchItem>, CoreError> {
        if items.len() > BATCH_LIMIT {
            return Err(CoreError::bad_request(format!(
                "The maximum number of identities per request that can be created or deleted at once is {BATCH_LIMIT}."
            )));
        }
        let plaintext = items
            .iter()
            .filter_map(|i| i.create.as_ref())
            .filter(|c| has_plaintext_password(c))
            .count();
        if plaintext > BATCH_PLAINTEXT_LIMIT {
            return Err(CoreError::bad_request(format!(
                "The maximum number of identities per request that can be created with a plaintext password is {BATCH_PLAINTEXT_LIMIT}."
            )));
        }
        let mut bodies = Vec::with_capacity(items.len());
        let mut results: Vec<BatchItem> = Vec::with_capacity(items.len());
        let mut slots = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let outcome = match item.create {
                Some(body) => {
                    bodies.push(body);
                    slots.push(index);
                    // Replaced by the import's result below.
                    BatchOutcome::Failed(CoreError::Internal("not imported".into()))
                }
                None => BatchOutcome::Failed(CoreError::bad_request(
                    "The patch has no action: `create` is missing.",
                )),
            };
            results.push(BatchItem {
                patch_id: item.patch_id,
                outcome,
            });
        }
        let imported = self.import(bodies, now).await?;
        for (slot, result) in slots.into_iter().zip(imported) {
            if let Some(item) = results.get_mut(slot) {
                item.outcome = match result {
                    Ok(id) => BatchOutcome::Created(id),
                    Err(e) => BatchOutcome::Failed(e.into()),
                };
            }
        }
        Ok(results)
    }
}
