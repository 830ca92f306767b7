//! The admin side of throttled guessing: show an identity's lock and failed-attempt counts, and
//! clear them (`GET` / `DELETE /admin/identities/{id}/lock`, Sesame's own endpoints).

use super::{IdentityService, identity_or_404};
use crate::error::CoreError;
use crate::ids::IdentityId;
use chrono::{DateTime, Utc};
use sesame_types::{FailedAttempts, IdentityLock};

impl IdentityService {
    /// `GET /admin/identities/{id}/lock`: 404 for an unknown identity.
    pub async fn lock(
        &self,
        id: IdentityId,
        now: DateTime<Utc>,
    ) -> Result<IdentityLock, CoreError> {
        identity_or_404(&self.0, id).await?;
        let counts = self.0.throttle.counts(id, now).await?;
        let locked_at = counts.iter().filter_map(|c| c.locked_at).min();
        Ok(IdentityLock {
            identity_id: id.0,
            locked: locked_at.is_some(),
            locked_at,
            failed_attempts: counts
                .into_iter()
                .map(|c| FailedAttempts {
                    scope: c.scope,
                    failures: c.failures,
                    last_failure_at: c.last_failure_at,
                    delayed_until: c.delayed_until,
                    locked_at: c.locked_at,
                })
                .collect(),
        })
    }

    /// `DELETE /admin/identities/{id}/lock`: lifts the lock and forgets every failed attempt of the
    /// identity (its waits end too); 404 for an unknown identity.
    pub async fn unlock(&self, id: IdentityId, now: DateTime<Utc>) -> Result<(), CoreError> {
        identity_or_404(&self.0, id).await?;
        self.0.throttle.unlock(id, now).await?;
        Ok(())
    }
}
