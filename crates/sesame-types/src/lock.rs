//! Sesame's own admin body for throttled guessing (Kratos has none): `GET /admin/identities/{id}/lock`
//! tells whether an identity is locked after too many failed attempts, with its failed-attempt
//! counts. Kept apart from the identity, so that the identity JSON stays exactly Kratos's.

use crate::time::{rfc3339, rfc3339_opt};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An identity's lock and failed-attempt counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityLock {
    /// The identity.
    pub identity_id: Uuid,
    /// Whether sign-ins are refused until a recovery or an administrator unlocks the identity.
    pub locked: bool,
    /// When it was locked; `null` when it is not.
    #[serde(default, with = "rfc3339_opt")]
    pub locked_at: Option<DateTime<Utc>>,
    /// The counts of consecutive failures that still count, one per kind of secret.
    #[serde(default)]
    pub failed_attempts: Vec<FailedAttempts>,
}

/// Consecutive failed attempts at one kind of secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedAttempts {
    /// `password`, or `second_factor` (TOTP and backup codes together).
    pub scope: String,
    /// How many in a row.
    pub failures: u64,
    /// The last one.
    #[serde(with = "rfc3339")]
    pub last_failure_at: DateTime<Utc>,
    /// Until when attempts are answered with 429; `null` when the next one is admitted at once.
    #[serde(default, with = "rfc3339_opt")]
    pub delayed_until: Option<DateTime<Utc>>,
    /// When this count locked the identity; `null` when it did not.
    #[serde(default, with = "rfc3339_opt")]
    pub locked_at: Option<DateTime<Utc>>,
}
