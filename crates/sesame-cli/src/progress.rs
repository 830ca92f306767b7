//! Progress of long commands on stderr: a live bar when a person watches a terminal, and plain
//! lines (at most one a second, and a summary) when stderr goes to a file or a log collector.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// What the position counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Records, rows, identities.
    Items,
    /// Bytes of input read.
    Bytes,
}

/// A progress display for one task.
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    unit: Unit,
    total: Option<u64>,
    position: u64,
    message: String,
    last_line: Instant,
}

/// How often plain progress lines may be printed.
const LINE_EVERY: Duration = Duration::from_secs(1);

impl Progress {
    /// Starts showing `label` with a known `total` (a bar) or an unknown one (a spinner).
    pub fn new(label: &str, total: Option<u64>, unit: Unit) -> Self {
        let bar = std::io::stderr()
            .is_terminal()
            .then(|| bar(label, total, unit));
        Self {
            bar,
            label: label.to_owned(),
            unit,
            total,
            position: 0,
            message: String::new(),
            last_line: Instant::now(),
        }
    }

    /// Advances by `n`.
    pub fn inc(&mut self, n: u64) {
        self.set_position(self.position.saturating_add(n));
    }

    /// Moves to `position`.
    pub fn set_position(&mut self, position: u64) {
        self.position = position;
        match &self.bar {
            Some(bar) => bar.set_position(position),
            None => self.plain_line(false),
        }
    }

    /// Sets the text shown next to the position (`1200 imported, 3 failed`).
    pub fn set_message(&mut self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.clone());
        }
        self.message = message;
    }

    /// Prints a line without breaking the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar and prints `summary`.
    pub fn finish(self, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!("{summary}");
    }

    fn plain_line(&mut self, force: bool) {
        if !force && self.last_line.elapsed() < LINE_EVERY {
            return;
        }
        self.last_line = Instant::now();
        let done = match (self.unit, self.total) {
            (Unit::Items, Some(total)) => format!("{}/{total}", self.position),
            (Unit::Items, None) => self.position.to_string(),
            (Unit::Bytes, Some(total)) if total > 0 => {
                format!("{}% read", self.position.saturating_mul(100) / total)
            }
            (Unit::Bytes, _) => format!("{} bytes read", self.position),
        };
        if self.message.is_empty() {
            eprintln!("{}: {done}", self.label);
        } else {
            eprintln!("{}: {}, {done}", self.label, self.message);
        }
    }
}

fn bar(label: &str, total: Option<u64>, unit: Unit) -> ProgressBar {
    let template = match (total, unit) {
        (Some(_), Unit::Items) => "{prefix} [{wide_bar}] {human_pos}/{human_len} {msg} {eta} left",
        (Some(_), Unit::Bytes) => "{prefix} [{wide_bar}] {percent}% · {msg} · {eta} left",
        (None, Unit::Items) => "{spinner} {prefix} {human_pos} {msg} {elapsed}",
        (None, Unit::Bytes) => "{spinner} {prefix} {bytes} read · {msg} · {elapsed}",
    };
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::new_spinner(),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
