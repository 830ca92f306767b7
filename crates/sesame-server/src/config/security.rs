//! `security`: Kratos's section for protections, where Sesame adds `security.brute_force`, the
//! limiter of failed attempts (Kratos has none).

use serde::{Deserialize, Serialize};
use sesame_core::duration::GoDuration;
use sesame_core::throttle::{Backoff, Rate, ThrottlePolicy};
use std::time::Duration;

/// `security`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Security {
    /// `security.brute_force`: on by default.
    pub brute_force: BruteForce,
}

/// `security.brute_force` (Sesame's own): failed password, TOTP and backup-code checks are counted
/// per account and per client address in the database, so every node sees the same counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BruteForce {
    /// `enabled`: default true. Off, nothing is counted and nothing is refused.
    pub enabled: bool,
    /// `free_attempts`: consecutive failures of one account answered without a wait; default 5.
    pub free_attempts: u32,
    /// `base_delay`: the wait after the last free failure, doubled after each further one;
    /// default `1s` (at most `1h`).
    pub base_delay: GoDuration,
    /// `max_delay`: the longest wait; default `15m` (at most `24h`).
    pub max_delay: GoDuration,
    /// `lock_after`: consecutive failures that lock the account until a recovery or an
    /// administrator unlocks it; default 100, at most 100 (NIST SP 800-63B); 0 never locks.
    pub lock_after: u32,
    /// `window`: an account's failures are forgotten this long after the last one, unless it is
    /// locked; default `720h` (30 days), at least `max_delay`, at most `87600h` (10 years).
    pub window: GoDuration,
    /// `ip`: the per-address limit.
    pub ip: BruteForceIp,
}

impl Default for BruteForce {
    fn default() -> Self {
        Self {
            enabled: true,
            free_attempts: 5,
            base_delay: GoDuration(Duration::from_secs(1)),
            max_delay: GoDuration(Duration::from_secs(15 * 60)),
            lock_after: 100,
            window: GoDuration(Duration::from_secs(720 * 3600)),
            ip: BruteForceIp::default(),
        }
    }
}

/// `security.brute_force.ip`: failures from one client address (its /64 for IPv6), whatever the
/// account, against credential stuffing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BruteForceIp {
    /// `free_attempts`: failures admitted in a row from an address with none; default 100; 0
    /// counts no addresses.
    pub free_attempts: u32,
    /// `interval`: the address's count forgets one failure per interval, so beyond the free ones
    /// one attempt per interval is admitted; default `10s` (at most `24h`).
    pub interval: GoDuration,
}

impl Default for BruteForceIp {
    fn default() -> Self {
        Self {
            free_attempts: 100,
            interval: GoDuration(Duration::from_secs(10)),
        }
    }
}

/// The most a `base_delay` may be: longer waits are `max_delay`'s business, and the doubling
/// stays far from overflowing milliseconds.
const MAX_BASE_DELAY: Duration = Duration::from_secs(3600);
/// The most a `max_delay` or `ip.interval` may be.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// The most a `window` may be (times are kept in milliseconds, far from overflowing).
const MAX_WINDOW: Duration = Duration::from_secs(87_600 * 3600);
/// NIST SP 800-63B: no more than 100 consecutive failed attempts on one account.
pub const NIST_LOCK_LIMIT: u32 = 100;

impl BruteForce {
    /// Checks the values; the error names the key.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let key = |k: &'static str, m: &str| Err((k, m.to_owned()));
        // Waits are kept to the millisecond.
        if self.base_delay.0 < Duration::from_millis(1) || self.base_delay.0 > MAX_BASE_DELAY {
            return key(
                "security.brute_force.base_delay",
                "must be at least 1ms and at most 1h",
            );
        }
        if self.max_delay.0 < self.base_delay.0 || self.max_delay.0 > MAX_WAIT {
            return key(
                "security.brute_force.max_delay",
                "must be at least base_delay and at most 24h",
            );
        }
        if self.lock_after > NIST_LOCK_LIMIT {
            return key(
                "security.brute_force.lock_after",
                "must be at most 100 (NIST SP 800-63B), or 0 for no lock",
            );
        }
        if self.window.0 < self.max_delay.0 || self.window.0 > MAX_WINDOW {
            return key(
                "security.brute_force.window",
                "must be at least max_delay (or waits would outlast the failures they follow) and at most 87600h",
            );
        }
        if self.ip.free_attempts > 0
            && (self.ip.interval.0 < Duration::from_millis(1) || self.ip.interval.0 > MAX_WAIT)
        {
            return key(
                "security.brute_force.ip.interval",
                "must be at least 1ms and at most 24h",
            );
        }
        Ok(())
    }

    /// The limiter's policy; `None` when off.
    pub fn policy(&self) -> Option<ThrottlePolicy> {
        self.enabled.then(|| ThrottlePolicy {
            account: Backoff {
                free: self.free_attempts,
                base: self.base_delay.chrono(),
                max: self.max_delay.chrono(),
                window: self.window.chrono(),
                lock_after: self.lock_after,
            },
            ip: (self.ip.free_attempts > 0).then(|| Rate {
                burst: self.ip.free_attempts,
                interval: self.ip.interval.chrono(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use crate::config::{ConfigError, LoadedConfig, load};
    use std::collections::HashMap;

    fn load_env(env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load(None, false, &|k| env.get(k).cloned())
    }

    #[test]
    fn brute_force_protection_is_on_by_default_with_the_documented_values() {
        let c = load_env(&[]).unwrap();
        let b = &c.config.security.brute_force;
        assert!(b.enabled);
        assert_eq!(b.free_attempts, 5);
        assert_eq!(b.base_delay.to_string(), "1s");
        assert_eq!(b.max_delay.to_string(), "15m");
        assert_eq!(b.lock_after, 100);
        assert_eq!(b.window.to_string(), "720h");
        assert_eq!(b.ip.free_attempts, 100);
        assert_eq!(b.ip.interval.to_string(), "10s");
        let policy = b.policy().unwrap();
        assert_eq!(policy.account.base, chrono::Duration::seconds(1));
        assert_eq!(policy.ip.unwrap().burst, 100);
    }

    #[test]
    fn every_key_has_a_kratos_style_environment_name() {
        let c = load_env(&[
            ("SECURITY_BRUTE_FORCE_FREE_ATTEMPTS", "3"),
            ("SECURITY_BRUTE_FORCE_BASE_DELAY", "500ms"),
            ("SECURITY_BRUTE_FORCE_MAX_DELAY", "1h"),
            ("SECURITY_BRUTE_FORCE_LOCK_AFTER", "20"),
            ("SECURITY_BRUTE_FORCE_WINDOW", "24h"),
            ("SECURITY_BRUTE_FORCE_IP_FREE_ATTEMPTS", "0"),
            ("SECURITY_BRUTE_FORCE_IP_INTERVAL", "1m"),
        ])
        .unwrap();
        let policy = c.config.security.brute_force.policy().unwrap();
        assert_eq!(policy.account.free, 3);
        assert_eq!(policy.account.base, chrono::Duration::milliseconds(500));
        assert_eq!(policy.account.max, chrono::Duration::hours(1));
        assert_eq!(policy.account.lock_after, 20);
        assert_eq!(policy.account.window, chrono::Duration::hours(24));
        assert_eq!(policy.ip, None, "0 counts no addresses");
        let off = load_env(&[("SECURITY_BRUTE_FORCE_ENABLED", "false")]).unwrap();
        assert_eq!(off.config.security.brute_force.policy(), None);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (name, value, key) in [
            (
                "SECURITY_BRUTE_FORCE_LOCK_AFTER",
                "101",
                "security.brute_force.lock_after",
            ),
            (
                "SECURITY_BRUTE_FORCE_BASE_DELAY",
                "0s",
                "security.brute_force.base_delay",
            ),
            (
                "SECURITY_BRUTE_FORCE_BASE_DELAY",
                "2h",
                "security.brute_force.base_delay",
            ),
            (
                "SECURITY_BRUTE_FORCE_MAX_DELAY",
                "100ms",
                "security.brute_force.max_delay",
            ),
            (
                "SECURITY_BRUTE_FORCE_MAX_DELAY",
                "48h",
                "security.brute_force.max_delay",
            ),
            (
                "SECURITY_BRUTE_FORCE_WINDOW",
                "1m",
                "security.brute_force.window",
            ),
            (
                "SECURITY_BRUTE_FORCE_WINDOW",
                "100000h",
                "security.brute_force.window",
            ),
            (
                "SECURITY_BRUTE_FORCE_IP_INTERVAL",
                "0s",
                "security.brute_force.ip.interval",
            ),
            (
                "SECURITY_BRUTE_FORCE_FREE_ATTEMPTS",
                "many",
                "security.brute_force.free_attempts",
            ),
            (
                "SECURITY_BRUTE_FORCE_ENABLED",
                "maybe",
                "security.brute_force.enabled",
            ),
        ] {
            match load_env(&[(name, value)]) {
                Err(ConfigError::Invalid { key: got, .. }) => {
                    assert_eq!(got, key, "{name}={value}")
                }
                other => panic!("{name}={value}: expected an error naming {key}, got {other:?}"),
            }
        }
    }
}
