//! `sesame cleanup`: deletes expired and inactive sessions, expired flows, old one-time code
//! records and failed-attempt counts that count nothing any more, in small batches, with progress,
//! while the server may keep serving the same database.

use crate::progress::{Progress, Unit};
use sesame_core::Clock;
use sesame_core::services::CleanupService;
use sesame_core::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Pause between two batches, so that the server's own writes (logins, logouts) get the database
/// in between: SQLite has one writer at a time.
const PAUSE: Duration = Duration::from_millis(5);

/// Runs every cleanup step and prints what each removed.
pub async fn run(
    store: Arc<dyn Store>,
    clock: &dyn Clock,
    keep_last: chrono::Duration,
    batch_size: u32,
) -> Result<(), String> {
    let service = CleanupService::new(store);
    let steps = service
        .plan(clock.now(), keep_last)
        .await
        .map_err(|e| e.to_string())?;
    for step in steps {
        let label = step.label();
        let mut progress =
            Progress::new(&format!("deleting {label}"), Some(step.total), Unit::Items);
        let deleted = service
            .run(&step, batch_size, PAUSE, &mut |n| progress.inc(n))
            .await
            .map_err(|e| e.to_string())?;
        progress.finish(&format!(
            "deleted {deleted} {label} (ended before {})",
            step.before
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    Ok(())
}
