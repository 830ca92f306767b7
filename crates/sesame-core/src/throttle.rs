//! Throttled guessing (DESIGN.md, difference 9): every check of a secret — a password, a TOTP code,
//! a backup code, and any code a flow checks later — is first admitted by the [`Throttle`], which
//! counts it in the database before the secret is verified, so that every node sees the same counts
//! and parallel attempts cannot slip past a limit.
//!
//! Two kinds of counts:
//! - per account ([`Backoff`]): consecutive failures, answered without delay up to `free`, then
//!   with a wait that doubles per failure up to `max`, and a lock after `lock_after` that only a
//!   successful recovery or an administrator lifts. An identifier nobody owns is counted exactly
//!   like an account, by a digest of the normalised identifier, so the answers never tell whether
//!   an account exists. A success clears the failures that came before it.
//! - per client address ([`Rate`]): a bucket of `burst` failures that drains one per `interval`,
//!   against credential stuffing (one address, many accounts). A success takes back only its own
//!   attempt, so valid credentials in a stuffing list do not reset the address's count.
//!
//! What is counted is never stored as such: each count is keyed by a SHA-256 digest.

use crate::error::CoreError;
use crate::ids::IdentityId;
use crate::store::Store;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Consecutive failures with growing waits and a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures in a row answered without a wait.
    pub free: u32,
    /// The wait after the last free failure; each further failure doubles it.
    pub base: chrono::Duration,
    /// The longest wait.
    pub max: chrono::Duration,
    /// Failures are forgotten this long after the last one, unless the count is locked.
    pub window: chrono::Duration,
    /// This many consecutive failures lock the count; 0 never locks.
    pub lock_after: u32,
}

/// Above this many doublings the wait is `max` whatever the base (and the arithmetic, here and in
/// the database, cannot overflow).
pub const MAX_DOUBLINGS: u64 = 32;

impl Backoff {
    /// The wait before the next attempt after `failures` consecutive failures: none up to `free`,
    /// then `base · 2^(failures − free)`, at most `max`. The store computes the same in SQL.
    pub fn wait_after(&self, failures: u64) -> chrono::Duration {
        let free = u64::from(self.free);
        if failures < free {
            return chrono::Duration::zero();
        }
        let doublings = failures - free;
        if doublings >= MAX_DOUBLINGS {
            return self.max;
        }
        let wait = self.base.num_milliseconds().saturating_mul(1 << doublings);
        chrono::Duration::milliseconds(wait.min(self.max.num_milliseconds()))
    }
}

/// A bucket that holds `burst` failures and drains one per `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Failures admitted in a row from an empty bucket.
    pub burst: u32,
    /// How long the bucket takes to forget one failure.
    pub interval: chrono::Duration,
}

/// How a count limits attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Per account.
    Backoff(Backoff),
    /// Per client address.
    Rate(Rate),
}

/// One count an attempt is charged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKey {
    /// SHA-256 of the scope and the counted value.
    pub digest: [u8; 32],
    /// What is counted: `password`, `second_factor`, `ip`, or a later method's name.
    pub scope: &'static str,
    /// The identity the count belongs to: the admin API shows and clears its counts, and they go
    /// with it. `None` for addresses and for identifiers nobody owns.
    pub identity: Option<IdentityId>,
    /// The limit.
    pub limit: Limit,
}

impl ThrottleKey {
    fn new(scope: &'static str, value: &str, identity: Option<IdentityId>, limit: Limit) -> Self {
        // The scope is part of the digest, so that counts of different kinds never share a row.
        let mut hash = Sha256::new();
        hash.update(scope.as_bytes());
        hash.update([0]);
        hash.update(value.as_bytes());
        Self {
            digest: hash.finalize().into(),
            scope,
            identity,
            limit,
        }
    }
}

/// An attempt the store counted, to settle when it succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The count's digest.
    pub digest: [u8; 32],
    /// Its limit.
    pub limit: Limit,
    /// Backoff counts: the consecutive failures counted with this attempt included.
    pub failures: i64,
}

/// What the store answers to an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Counted on every key: verify the secret now.
    Admitted(Vec<Ticket>),
    /// Not counted: a key asks for a wait until then.
    Delayed {
        /// When the next attempt will be admitted.
        until: DateTime<Utc>,
    },
    /// Not counted: the identity is locked.
    Locked,
}

/// One count of an identity as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleCount {
    /// `password`, `second_factor`, ….
    pub scope: String,
    /// Consecutive failures.
    pub failures: u64,
    /// The last counted failure.
    pub last_failure_at: DateTime<Utc>,
    /// Until when attempts are answered with 429, if later than now.
    pub delayed_until: Option<DateTime<Utc>>,
    /// When the count locked the identity.
    pub locked_at: Option<DateTime<Utc>>,
}

/// The limiter's settings (`security.brute_force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Per account (every identifier, and every second factor, of an identity).
    pub account: Backoff,
    /// Per client address; `None` counts no addresses.
    pub ip: Option<Rate>,
}

/// The scope of password attempts.
pub const PASSWORD: &str = "password";
/// The scope of second-factor attempts (TOTP and backup codes together).
pub const SECOND_FACTOR: &str = "second_factor";
/// The scope of per-address counts.
pub const CLIENT_IP: &str = "ip";

/// The limiter: builds the keys of an attempt, admits it, and lifts locks.
#[derive(Clone)]
pub struct Throttle {
    policy: Option<ThrottlePolicy>,
    store: Arc<dyn Store>,
    stats: Arc<Counters>,
}

/// What the limiter decided since start, for the metrics.
#[derive(Debug, Default)]
struct Counters {
    waits: AtomicU64,
    locked: AtomicU64,
    locks: AtomicU64,
}

/// How often the limiter refused or locked, since start (this process only; the counts themselves
/// are shared by every node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleStats {
    /// Attempts refused with a wait (429).
    pub waits: u64,
    /// Attempts refused because the account is locked (403).
    pub locked: u64,
    /// Failed attempts that locked an account (or an identifier nobody owns).
    pub locks: u64,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// An admitted attempt. Dropping it leaves it counted as a failure; [`Attempt::succeeded`] settles
/// a success.
#[must_use = "an attempt that succeeds must be settled with `succeeded`"]
pub struct Attempt {
    tickets: Vec<Ticket>,
    identity: Option<IdentityId>,
    store: Option<Arc<dyn Store>>,
    stats: Arc<Counters>,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("tickets", &self.tickets)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Attempt {
    /// The secret was right: the account's failures up to this attempt are forgotten and the
    /// address gets this attempt back. Fails with [`CoreError::IdentityLocked`] when the identity
    /// was locked meanwhile (by a check of another of its secrets): a lock stops every sign-in.
    pub async fn succeeded(mut self, now: DateTime<Utc>) -> Result<(), CoreError> {
        let Some(store) = self.store.take() else {
            return Ok(());
        };
        if store
            .attempt_succeeded(&self.tickets, self.identity)
            .await?
        {
            return Err(refusal(&self.stats, Refused::Lock, now));
        }
        Ok(())
    }
}

impl Drop for Attempt {
    /// An attempt that was not settled failed. If it was the one that reached the lock, the
    /// account is now locked: said once, for the operator.
    fn drop(&mut self) {
        if self.store.is_none() {
            return;
        }
        let locking = self.tickets.iter().any(|t| match t.limit {
            Limit::Backoff(b) => b.lock_after > 0 && t.failures == i64::from(b.lock_after),
            Limit::Rate(_) => false,
        });
        if locking {
            self.stats.locks.fetch_add(1, Ordering::Relaxed);
            match self.identity {
                Some(id) => tracing::warn!(
                    identity = %id.0,
                    "identity locked after too many consecutive failed attempts"
                ),
                None => tracing::warn!(
                    "an identifier nobody owns is locked after too many consecutive failed attempts"
                ),
            }
        }
    }
}

/// Why the limiter refused an attempt.
enum Refused {
    /// A wait until then.
    Wait(DateTime<Utc>),
    /// A lock.
    Lock,
}

/// The error a refused attempt answers with: the one place where the limiter's refusals (a wait
/// or a lock) become errors, so the place to count them.
fn refusal(stats: &Counters, refused: Refused, now: DateTime<Utc>) -> CoreError {
    match refused {
        Refused::Wait(until) => {
            stats.waits.fetch_add(1, Ordering::Relaxed);
            // Debug only: under attack this is every request, and the access log has them.
            tracing::debug!(until = %until, "attempt refused: too many failures");
            CoreError::TooManyAttempts {
                retry_after: (until - now).max(chrono::Duration::zero()),
            }
        }
        Refused::Lock => {
            stats.locked.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("attempt refused: the identity is locked");
            CoreError::IdentityLocked
        }
    }
}

impl Throttle {
    /// A limiter with `policy` (`None`: off, every attempt admitted and nothing stored).
    pub fn new(policy: Option<ThrottlePolicy>, store: Arc<dyn Store>) -> Self {
        Self {
            policy,
            store,
            stats: Arc::default(),
        }
    }

    /// What this process's limiter refused and locked since start.
    pub fn stats(&self) -> ThrottleStats {
        ThrottleStats {
            waits: self.stats.waits.load(Ordering::Relaxed),
            locked: self.stats.locked.load(Ordering::Relaxed),
            locks: self.stats.locks.load(Ordering::Relaxed),
        }
    }

    /// Whether attempts are counted.
    pub fn enabled(&self) -> bool {
        self.policy.is_some()
    }

    /// The keys of a password attempt: the account (`owner`, or the normalised identifier when
    /// nobody owns it) and the client address.
    pub fn password_keys(
        &self,
        owner: Option<IdentityId>,
        normalized_identifier: &str,
        client_ip: Option<&str>,
    ) -> Vec<ThrottleKey> {
        let Some(policy) = self.policy else {
            return Vec::new();
        };
        let account = match owner {
            Some(id) => ThrottleKey::new(
                PASSWORD,
                &id.0.to_string(),
                Some(id),
                Limit::Backoff(policy.account),
            ),
            // Same limit, same statements: an unknown identifier is throttled like an account.
            None => ThrottleKey::new(
                PASSWORD,
                &format!("identifier:{normalized_identifier}"),
                None,
                Limit::Backoff(policy.account),
            ),
        };
        let mut keys = vec![account];
        keys.extend(self.ip_key(client_ip));
        keys
    }

    /// The keys of an attempt at a code or secret of `identity` other than its password: the
    /// account's `scope` count (`second_factor` for TOTP and backup codes; a later method names
    /// its own) and the client address.
    pub fn account_keys(
        &self,
        scope: &'static str,
        identity: IdentityId,
        client_ip: Option<&str>,
    ) -> Vec<ThrottleKey> {
        let Some(policy) = self.policy else {
            return Vec::new();
        };
        let mut keys = vec![ThrottleKey::new(
            scope,
            &identity.0.to_string(),
            Some(identity),
            Limit::Backoff(policy.account),
        )];
        keys.extend(self.ip_key(client_ip));
        keys
    }

    /// The address's count. IPv6 clients are counted by their /64, which one subscriber usually
    /// holds whole; an unknown address (no peer, or only private `X-Forwarded-For` entries behind
    /// a trusted proxy) is not counted, since it would lump unrelated clients together.
    fn ip_key(&self, client_ip: Option<&str>) -> Option<ThrottleKey> {
        let rate = self.policy?.ip?;
        let ip: IpAddr = client_ip?.parse().ok()?;
        let counted = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        };
        Some(ThrottleKey::new(
            CLIENT_IP,
            &counted,
            None,
            Limit::Rate(rate),
        ))
    }

    /// Admits an attempt on `keys` before its secret is checked, counting it as a failure on each
    /// key at once; `identity` (the account's owner, if any) must not be locked by any of its
    /// counts. Refused with [`CoreError::TooManyAttempts`] or [`CoreError::IdentityLocked`]
    /// without counting anything.
    pub async fn admit(
        &self,
        keys: &[ThrottleKey],
        identity: Option<IdentityId>,
        now: DateTime<Utc>,
    ) -> Result<Attempt, CoreError> {
        if self.policy.is_none() || keys.is_empty() {
            return Ok(Attempt {
                tickets: Vec::new(),
                identity,
                store: None,
                stats: self.stats.clone(),
            });
        }
        match self.store.admit_attempt(keys, identity, now).await? {
            Admission::Admitted(tickets) => Ok(Attempt {
                tickets,
                identity,
                store: Some(self.store.clone()),
                stats: self.stats.clone(),
            }),
            Admission::Delayed { until } => Err(refusal(&self.stats, Refused::Wait(until), now)),
            Admission::Locked => Err(refusal(&self.stats, Refused::Lock, now)),
        }
    }

    /// The counts of `identity` (admin API), judged at `now`.
    pub async fn counts(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ThrottleCount>, CoreError> {
        Ok(self.store.throttle_counts(identity, now).await?)
    }

    /// Forgets every count of `identity`, lifting its lock and its waits: what a successful
    /// recovery and the admin's unlock do. Returns whether it was locked.
    pub async fn unlock(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
    ) -> Result<bool, CoreError> {
        let locked = self
            .store
            .throttle_counts(identity, now)
            .await?
            .iter()
            .any(|c| c.locked_at.is_some());
        self.store.clear_throttle_counts(identity).await?;
        if locked {
            tracing::info!(identity = %identity.0, "identity unlocked");
        }
        Ok(locked)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn backoff(free: u32) -> Backoff {
        Backoff {
            free,
            base: chrono::Duration::seconds(1),
            max: chrono::Duration::minutes(15),
            window: chrono::Duration::days(30),
            lock_after: 100,
        }
    }

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_the_cap() {
        let b = backoff(5);
        let secs = |n| b.wait_after(n).num_milliseconds() as f64 / 1000.0;
        assert_eq!(secs(0), 0.0);
        assert_eq!(secs(4), 0.0);
        assert_eq!(secs(5), 1.0);
        assert_eq!(secs(6), 2.0);
        assert_eq!(secs(14), 512.0);
        assert_eq!(secs(15), 900.0);
        assert_eq!(secs(99), 900.0);
        assert_eq!(secs(u64::MAX), 900.0);
        assert_eq!(backoff(0).wait_after(0), chrono::Duration::seconds(1));
    }

    #[test]
    fn keys_digest_their_scope_and_value_and_never_hold_them() {
        let id = IdentityId::new();
        let a = ThrottleKey::new(PASSWORD, "x", Some(id), Limit::Backoff(backoff(5)));
        let b = ThrottleKey::new(SECOND_FACTOR, "x", Some(id), Limit::Backoff(backoff(5)));
        assert_ne!(a.digest, b.digest);
        assert_eq!(
            a.digest,
            ThrottleKey::new(PASSWORD, "x", None, Limit::Backoff(backoff(5))).digest
        );
    }
}
