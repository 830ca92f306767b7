//! Structured logs to stderr, as `log.level` and `log.format` ask.
//!
//! Lines at info and below go through a buffer that a thread flushes a few times a second (and
//! that is flushed at once when full): one line per request (see [`crate::access_log`]) must not
//! cost every request a write to stderr. Warnings and errors are written through at once, and
//! whatever waits is flushed when the [`LogGuard`] is dropped, at the end of the process.
//!
//! Written here rather than with `tracing-appender`'s non-blocking writer: that one hands every
//! line to its thread as a fresh allocation, which costs more per line than formatting it, and a
//! buffer under a lock is all a line needs (the formatter writes each line whole, in one call).

use crate::config::{Log, LogFormat, LogLevel};
use std::io::{BufWriter, Stderr, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How long an info line may wait in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// The buffer: about 300 request lines.
const BUFFER: usize = 64 * 1024;

/// The buffered stderr every line goes through.
struct Shared {
    out: Mutex<BufWriter<Stderr>>,
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, BufWriter<Stderr>> {
        // A thread that panicked while writing a line leaves at worst a partial line behind.
        self.out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Stderr through the shared buffer, for one line.
#[derive(Clone)]
struct Buffered(Arc<Shared>);

/// One line's writer: holds the buffer while the line is written; `urgent` lines (warnings and
/// errors) are flushed when it is dropped.
struct Line<'a> {
    out: MutexGuard<'a, BufWriter<Stderr>>,
    urgent: bool,
}

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if self.urgent {
            let _ = self.out.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for Buffered {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            out: self.0.lock(),
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line<'a> {
        Line {
            out: self.0.lock(),
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

/// Flushes what is still waiting to be written when dropped: hold it until the process ends.
#[must_use = "dropping the guard flushes the log and stops its flushing thread"]
pub struct LogGuard {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard").finish_non_exhaustive()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Release);
        if let Some(flusher) = self.flusher.take() {
            flusher.thread().unpark();
            let _ = flusher.join();
        }
        let _ = self.shared.lock().flush();
    }
}

/// Installs the global subscriber. `RUST_LOG` overrides `log.level`. `None` when one is installed
/// already (a second call changes nothing).
pub fn init(log: &Log) -> Option<LogGuard> {
    let level = match log.level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only for a person at a terminal; files and log collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let shared = Arc::new(Shared {
        out: Mutex::new(BufWriter::with_capacity(BUFFER, std::io::stderr())),
        stopped: AtomicBool::new(false),
    });
    let builder = tracing_subscriber::fmt()
        .with_writer(Buffered(shared.clone()))
        .with_ansi(ansi)
        .with_env_filter(filter);
    let installed = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.ok()?;
    let flushing = shared.clone();
    let flusher = std::thread::Builder::new()
        .name("sesame-log".into())
        .spawn(move || {
            while !flushing.stopped.load(Ordering::Acquire) {
                std::thread::park_timeout(FLUSH_EVERY);
                let _ = flushing.lock().flush();
            }
        })
        .ok();
    Some(LogGuard { shared, flusher })
}
