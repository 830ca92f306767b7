//! The clock the application reads `now` from; tests fix and advance it.

use chrono::{DateTime, Duration, DurationRound, Utc};
use std::sync::Mutex;

/// A source of the current time, truncated to microseconds (the precision PostgreSQL stores).
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        Self(Mutex::new(to_micros(t)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *guard += by;
    }

    /// Sets the clock to `t` (e.g. two test servers on one database to one time).
    pub fn set(&self, t: DateTime<Utc>) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *guard = to_micros(t);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
