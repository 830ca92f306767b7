//! Server-side cost of a measured window, read from `/proc`: CPU time (user + system) and resident
//! memory.
//!
//! In-process, the server's CPU time is the process's minus that of the load generator's threads
//! (all named `sesame-bench`): tokio workers, blocking threads and sqlx's SQLite workers all count
//! for the server. With `--target`, a server process id can be named instead. PostgreSQL's own
//! backends (processes named `postgres`) are summed separately, so that "CPU per request" on
//! PostgreSQL shows both halves of the work.

use std::sync::OnceLock;

/// Where the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// In this process (the load generator's threads are subtracted).
    InProcess,
    /// Another process.
    Pid(u32),
    /// Unknown: CPU and memory are not reported.
    Unknown,
}

/// Cumulative CPU times at one instant, in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSnapshot {
    server: Option<u64>,
    database: u64,
}

/// CPU spent in a window, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuSpent {
    /// The server's CPU time; `None` when the server process is unknown.
    pub server_us: Option<f64>,
    /// CPU time of PostgreSQL's processes on this machine (0 for SQLite).
    pub database_us: f64,
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on).
fn ticks_per_second() -> u64 {
    static HZ: OnceLock<u64> = OnceLock::new();
    *HZ.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&hz| hz > 0)
            .unwrap_or(100)
    })
}

/// `(comm, utime + stime)` of a `/proc/…/stat` file.
fn stat(path: &str) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    // After the command: state is field 3, utime field 14, stime field 15.
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

fn client_thread_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| stat(&format!("{}/stat", t.path().display())))
        .filter(|(comm, _)| comm.starts_with("sesame-bench"))
        .map(|(_, ticks)| ticks)
        .sum()
}

fn postgres_ticks() -> u64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .filter_map(Result::ok)
        .filter(|p| {
            p.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|p| stat(&format!("{}/stat", p.path().display())))
        .filter(|(comm, _)| comm == "postgres")
        .map(|(_, ticks)| ticks)
        .sum()
}

impl CpuSnapshot {
    /// Reads the counters now; PostgreSQL's processes only when `postgres` (every `postgres`
    /// process on the machine counts, so other work on that database server shows up too).
    pub fn take(server: Server, postgres: bool) -> Self {
        let server = match server {
            Server::InProcess => {
                stat("/proc/self/stat").map(|(_, all)| all.saturating_sub(client_thread_ticks()))
            }
            Server::Pid(pid) => stat(&format!("/proc/{pid}/stat")).map(|(_, t)| t),
            Server::Unknown => None,
        };
        Self {
            server,
            database: if postgres { postgres_ticks() } else { 0 },
        }
    }

    /// CPU spent between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuSnapshot) -> CpuSpent {
        let us_per_tick = 1e6 / ticks_per_second() as f64;
        CpuSpent {
            server_us: match (self.server, earlier.server) {
                (Some(b), Some(a)) => Some(b.saturating_sub(a) as f64 * us_per_tick),
                _ => None,
            },
            database_us: self.database.saturating_sub(earlier.database) as f64 * us_per_tick,
        }
    }
}

/// Resident memory of the server, in KiB, from `/proc/…/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: everything resident.
    pub rss: u64,
    /// `VmHWM`: the peak of `VmRSS`.
    pub peak: u64,
    /// `RssAnon`: the process's own memory (heap, stacks).
    pub anon: u64,
    /// `RssFile`: resident pages of mapped files (the binary, SQLite's memory-mapped database),
    /// shared with the page cache.
    pub file: u64,
}

/// The server's resident memory now.
pub fn memory(server: Server) -> Option<Memory> {
    let path = match server {
        Server::InProcess => "/proc/self/status".to_owned(),
        Server::Pid(pid) => format!("/proc/{pid}/status"),
        Server::Unknown => return None,
    };
    let text = std::fs::read_to_string(path).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Memory {
        rss: field("VmRSS:")?,
        peak: field("VmHWM:")?,
        anon: field("RssAnon:").unwrap_or(0),
        file: field("RssFile:").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let a = CpuSnapshot::take(Server::InProcess, false);
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        let spent = CpuSnapshot::take(Server::InProcess, false).since(&a);
        assert!(spent.server_us.is_some());
        let m = memory(Server::InProcess).unwrap();
        assert!(m.rss > 0 && m.peak >= m.rss && m.anon > 0 && m.anon <= m.rss);
        assert_eq!(memory(Server::Unknown), None);
    }
}
