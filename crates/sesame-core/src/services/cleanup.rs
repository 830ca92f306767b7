//! `sesame cleanup`: deletes what can never be used again — expired and deactivated sessions,
//! expired self-service flows, one-time code claims past their replay window, and failed-attempt
//! counts that count nothing any more (never locks) — in small batches, each its own short
//! statement, so that a server on the same database keeps answering.

use super::second_factor::{LOOKUP_REPLAY_MEMORY, TOTP_REPLAY_MEMORY};
use crate::error::CoreError;
use crate::store::{Expired, Store};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// One kind of row to delete, with its cut-off and how many rows were found before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupStep {
    /// What is deleted.
    pub kind: Expired,
    /// Rows that ended before this time go.
    pub before: DateTime<Utc>,
    /// How many there were when the step was planned.
    pub total: u64,
}

impl CleanupStep {
    /// What the step deletes, for people: `expired and inactive sessions`, ….
    pub fn label(&self) -> &'static str {
        match self.kind {
            Expired::Sessions => "expired and inactive sessions",
            Expired::Flows => "expired self-service flows",
            Expired::CredentialUses => "used one-time code records",
            Expired::ThrottleCounts => "forgotten failed-attempt counts",
        }
    }
}

/// Deletes what has ended, in batches.
#[derive(Clone)]
pub struct CleanupService {
    store: Arc<dyn Store>,
}

impl CleanupService {
    /// Builds the service.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The steps of one cleanup at `now`: rows that ended more than `keep_last` ago, counted.
    /// One-time code claims are kept at least as long as they guard against a replay, whatever
    /// `keep_last` says.
    pub async fn plan(
        &self,
        now: DateTime<Utc>,
        keep_last: chrono::Duration,
    ) -> Result<Vec<CleanupStep>, CoreError> {
        let cut_off = now - keep_last;
        let claims_cut_off = cut_off.min(now - TOTP_REPLAY_MEMORY.max(LOOKUP_REPLAY_MEMORY));
        let mut steps = Vec::new();
        for (kind, before) in [
            (Expired::Sessions, cut_off),
            (Expired::Flows, cut_off),
            (Expired::CredentialUses, claims_cut_off),
            // A count is removed only once it counts nothing (its failures forgotten, its bucket
            // drained), so removing it changes no answer of the limiter.
            (Expired::ThrottleCounts, cut_off),
        ] {
            let total = self.store.count_expired(kind, before).await?;
            steps.push(CleanupStep {
                kind,
                before,
                total,
            });
        }
        Ok(steps)
    }

    /// Runs one step: deletes at most `batch_size` rows per statement, pausing `pause` between
    /// statements so that the server's own writes get the database in between, until a batch
    /// comes back short. `progress` hears how many rows each batch deleted. Returns the total.
    pub async fn run(
        &self,
        step: &CleanupStep,
        batch_size: u32,
        pause: Duration,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, CoreError> {
        let batch_size = batch_size.max(1);
        let mut deleted = 0;
        loop {
            let n = self
                .store
                .delete_expired(step.kind, step.before, batch_size)
                .await?;
            deleted += n;
            progress(n);
            if n < u64::from(batch_size) {
                return Ok(deleted);
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
    }
}
