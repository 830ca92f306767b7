//! `sesame identities import|export|unlock`: identities in bulk, straight to and from the database,
//! and lifting the lock of one after too many failed sign-in attempts.
//!
//! Import streams its input: a reader thread parses records into batches while the previous
//! batch is checked and stored, and at most a few batches are in memory at once. Every record is
//! checked exactly as `POST /admin/identities` checks it; a bad one is reported with its line and
//! skipped, and the rest go on.

use crate::progress::{Progress, Unit};
use crate::records::{Record, Records};
use sesame_core::store::IdentityQuery;
use sesame_server::state::AppState;
use sesame_types::CreateIdentityBody;
use std::io::{BufRead, BufReader, Write};
use std::time::Instant;
use tokio::sync::mpsc;

/// Identities per page of an export.
const EXPORT_PAGE: u32 = 1000;

/// What the reader thread hands over: parsed records with their positions, how far the input
/// has been read, and a final reading error.
struct Batch {
    records: Vec<(Record, Result<CreateIdentityBody, String>)>,
    consumed: u64,
    fatal: Option<String>,
}

fn open(source: &str) -> Result<(Box<dyn BufRead + Send>, Option<u64>), String> {
    if source == "-" {
        return Ok((Box::new(BufReader::new(std::io::stdin())), None));
    }
    let file = std::fs::File::open(source).map_err(|e| format!("{source}: {e}"))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 16, file)), size))
}

/// Reads and parses records into batches of `batch_size` until the input ends.
fn read_batches(reader: Box<dyn BufRead + Send>, batch_size: usize, tx: mpsc::Sender<Batch>) {
    let mut records = Records::new(reader);
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        let (item, consumed) = (records.next(), records.consumed());
        let fatal = match item {
            Some(Ok(record)) => {
                let body = record.parse::<CreateIdentityBody>();
                batch.push((record, body));
                if batch.len() < batch_size {
                    continue;
                }
                None
            }
            Some(Err(e)) => Some(e),
            None => None,
        };
        let last = fatal.is_some() || batch.len() < batch_size;
        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
        let sent = tx.blocking_send(Batch {
            records: full,
            consumed,
            fatal,
        });
        if last || sent.is_err() {
            return;
        }
    }
}

/// Imports every record of `source` (a file, or `-` for stdin). Fails if any record failed.
pub async fn import(state: &AppState, source: &str, batch_size: usize) -> Result<(), String> {
    let (reader, size) = open(source)?;
    let batch_size = batch_size.max(1);
    let (tx, mut rx) = mpsc::channel::<Batch>(2);
    let reading = std::thread::spawn(move || read_batches(reader, batch_size, tx));

    let started = Instant::now();
    let mut progress = Progress::new("importing identities", size, Unit::Bytes);
    progress.set_message("0 imported, 0 failed".into());
    let (mut imported, mut failed) = (0u64, 0u64);
    let mut fatal = None;
    while let Some(batch) = rx.recv().await {
        let mut bodies = Vec::with_capacity(batch.records.len());
        let mut positions = Vec::with_capacity(batch.records.len());
        // Reported in the order of the input, whichever check found the problem.
        let mut problems: Vec<(u64, String)> = Vec::new();
        for (record, body) in batch.records {
            match body {
                Ok(body) => {
                    bodies.push(body);
                    positions.push(record);
                }
                Err(message) => problems.push((record.line, message)),
            }
        }
        let results = state
            .identities
            .import(bodies, state.now())
            .await
            .map_err(|e| format!("import stopped after {imported} identities: {e}"))?;
        for (record, result) in positions.iter().zip(results) {
            match result {
                Ok(_) => imported += 1,
                Err(e) => problems.push((record.line, format!("{}: {e}", record.position()))),
            }
        }
        problems.sort_by_key(|(line, _)| *line);
        failed += problems.len() as u64;
        for (_, message) in &problems {
            progress.println(message);
        }
        progress.set_message(format!("{imported} imported, {failed} failed"));
        progress.set_position(batch.consumed);
        if batch.fatal.is_some() {
            fatal = batch.fatal;
        }
    }
    let _ = reading.join();
    progress.finish(&format!(
        "imported {imported} identities, {failed} failed, in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    match (fatal, failed) {
        (Some(e), _) => Err(format!("{e}; the rest of the input was not imported")),
        (None, 0) => Ok(()),
        (None, n) => Err(format!("{n} records were not imported (see above)")),
    }
}

/// Writes every identity as one JSON line to stdout.
pub async fn export(state: &AppState, include_credentials: bool) -> Result<(), String> {
    let total = state
        .deps
        .store
        .count_identities(&IdentityQuery::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut progress = Progress::new("exporting identities", Some(total), Unit::Items);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut after = None;
    let mut exported = 0u64;
    loop {
        let page = state
            .identities
            .export(after, EXPORT_PAGE, include_credentials)
            .await
            .map_err(|e| e.to_string())?;
        for item in &page.items {
            serde_json::to_writer(&mut out, item).map_err(|e| format!("stdout: {e}"))?;
            out.write_all(b"\n").map_err(|e| format!("stdout: {e}"))?;
        }
        exported += page.items.len() as u64;
        progress.set_position(exported);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.flush().map_err(|e| format!("stdout: {e}"))?;
    progress.finish(&format!("exported {exported} identities"));
    Ok(())
}

/// `sesame identities unlock ID`: lifts the identity's lock and forgets its failed attempts.
pub async fn unlock(state: &AppState, id: &str) -> Result<(), String> {
    let id =
        sesame_core::IdentityId::parse(id).map_err(|_| format!("{id:?} is not an identity id"))?;
    let now = state.now();
    let was_locked = state
        .identities
        .lock(id, now)
        .await
        .map_err(|e| match e {
            sesame_core::CoreError::NotFound => format!("no identity {}", id.0),
            other => other.to_string(),
        })?
        .locked;
    state
        .identities
        .unlock(id, now)
        .await
        .map_err(|e| e.to_string())?;
    if was_locked {
        eprintln!(
            "identity {} unlocked; its failed attempts are forgotten",
            id.0
        );
    } else {
        eprintln!(
            "identity {} was not locked; its failed attempts are forgotten",
            id.0
        );
    }
    Ok(())
}
