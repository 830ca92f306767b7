//! Rendering of load results: markdown table, JSON document and the whoami/alive ratio line.

use serde_json::{Map, Value, json};

use crate::load::LoadResult;
use crate::procstat::Memory;

/// One rendered line of results: a scenario label plus one endpoint's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Scenario label (empty after `From<&LoadResult>`; callers set it).
    pub label: String,
    /// Endpoint name, from `LoadResult::name`.
    pub result_name: String,
    /// Successful requests per second.
    pub rps: f64,
    /// Median latency in microseconds.
    pub p50_us: u64,
    /// 99th percentile latency in microseconds.
    pub p99_us: u64,
    /// 99.9th percentile latency in microseconds.
    pub p999_us: u64,
    /// Maximum latency in microseconds.
    pub max_us: u64,
    /// Errors counted in the measured window.
    pub errors: u64,
    /// Successful requests in the measured window.
    pub requests: u64,
    /// Server CPU time (user + system) per request, in microseconds.
    pub cpu_us: Option<f64>,
    /// PostgreSQL's CPU time per request, in microseconds (0 on SQLite).
    pub db_cpu_us: f64,
    /// Server resident memory at the end of the window.
    pub memory: Option<Memory>,
    /// Throughput over `/health/alive`'s in the same run.
    pub vs_alive: Option<f64>,
}

impl From<&LoadResult> for Row {
    fn from(r: &LoadResult) -> Self {
        Self {
            label: String::new(),
            result_name: r.name.clone(),
            rps: r.rps(),
            p50_us: r.p50_us(),
            p99_us: r.p99_us(),
            p999_us: r.p999_us(),
            max_us: r.max_us(),
            errors: r.errors,
            requests: r.requests,
            cpu_us: r.server_cpu_us_per_request(),
            db_cpu_us: r.database_cpu_us_per_request(),
            memory: r.memory,
            vs_alive: None,
        }
    }
}

fn ms(us: u64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn cpu(r: &Row) -> String {
    match r.cpu_us {
        Some(us) if r.db_cpu_us > 0.0 => format!("{us:.1} µs + db {:.1} µs", r.db_cpu_us),
        Some(us) => format!("{us:.1} µs"),
        None => "n/a".into(),
    }
}

/// Renders rows as a GitHub markdown table (latencies in ms, req/s rounded, server CPU per
/// request, server RSS, throughput over alive's), ending in a newline.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | endpoint | req/s | p50 | p99 | p99.9 | errors | CPU/req | RSS | ÷ alive |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(&r.label),
            cell(&r.result_name),
            r.rps,
            ms(r.p50_us),
            ms(r.p99_us),
            ms(r.p999_us),
            r.errors,
            cpu(r),
            r.memory.map_or_else(
                || "n/a".into(),
                |m| format!("{} ({} anon)", mib(m.rss), mib(m.anon))
            ),
            r.vs_alive.map_or_else(String::new, |v| format!("{v:.2}")),
        ));
    }
    out
}

/// Builds `{"rows": [...], ...extra}`; `extra` object keys are merged at top level (never replacing `rows`).
///
/// A non-object, non-null `extra` is kept under the key `"extra"`.
pub fn json(rows: &[Row], extra: Value) -> Value {
    let rows = rows
        .iter()
        .map(|r| {
            json!({
                "label": r.label,
                "result_name": r.result_name,
                "rps": r.rps,
                "p50_us": r.p50_us,
                "p99_us": r.p99_us,
                "p999_us": r.p999_us,
                "max_us": r.max_us,
                "errors": r.errors,
                "requests": r.requests,
                "server_cpu_us_per_request": r.cpu_us,
                "db_cpu_us_per_request": r.db_cpu_us,
                "rss_kib": r.memory.map(|m| m.rss),
                "rss_anon_kib": r.memory.map(|m| m.anon),
                "rss_file_kib": r.memory.map(|m| m.file),
                "rss_peak_kib": r.memory.map(|m| m.peak),
                "vs_alive": r.vs_alive,
            })
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("rows".into(), Value::Array(rows));
    match extra {
        Value::Object(extra) => {
            for (k, v) in extra {
                if k != "rows" {
                    doc.insert(k, v);
                }
            }
        }
        Value::Null => {}
        other => {
            doc.insert("extra".into(), other);
        }
    }
    Value::Object(doc)
}

/// One-line summary of whoami throughput relative to `/health/alive` throughput.
pub fn ratio_line(whoami: &Row, alive: &Row) -> String {
    let ratio = if alive.rps > 0.0 {
        format!("{:.2}", whoami.rps / alive.rps)
    } else {
        "n/a".into()
    };
    format!(
        "whoami/alive throughput ratio: {ratio} (whoami {:.0} req/s, alive {:.0} req/s)",
        whoami.rps, alive.rps
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, name: &str, rps: f64) -> Row {
        Row {
            label: label.into(),
            result_name: name.into(),
            rps,
            p50_us: 412,
            p99_us: 1_500,
            p999_us: 12_345,
            max_us: 20_000,
            errors: 3,
            requests: 1000,
            cpu_us: Some(21.3),
            db_cpu_us: 0.0,
            memory: Some(Memory {
                rss: 30 * 1024,
                peak: 40 * 1024,
                anon: 20 * 1024,
                file: 10 * 1024,
            }),
            vs_alive: None,
        }
    }

    #[test]
    fn markdown_table_formats_ms_and_rounds_rps() {
        let mut whoami = row("sqlite, 64 conns", "whoami", 41_230.4);
        whoami.vs_alive = Some(0.63);
        whoami.db_cpu_us = 12.0;
        let mut alive = row("a|b", "alive", 65_399.6);
        (alive.cpu_us, alive.memory) = (None, None);
        let table = markdown_table(&[whoami, alive]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "| scenario | endpoint | req/s | p50 | p99 | p99.9 | errors | CPU/req | RSS | ÷ alive |"
        );
        assert_eq!(
            lines[1],
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        assert_eq!(
            lines[2],
            "| sqlite, 64 conns | whoami | 41230 | 0.412 ms | 1.500 ms | 12.345 ms | 3 | 21.3 µs + db 12.0 µs | 30 MiB (20 MiB anon) | 0.63 |"
        );
        assert_eq!(
            lines[3],
            "| a\\|b | alive | 65400 | 0.412 ms | 1.500 ms | 12.345 ms | 3 | n/a | n/a |  |"
        );
        assert_eq!(lines.len(), 4);
        assert!(table.ends_with('\n'));
    }

    #[test]
    fn ratio_line_formats() {
        let line = ratio_line(&row("", "whoami", 41_230.0), &row("", "alive", 65_400.0));
        assert_eq!(
            line,
            "whoami/alive throughput ratio: 0.63 (whoami 41230 req/s, alive 65400 req/s)"
        );
        let zero = ratio_line(&row("", "whoami", 10.0), &row("", "alive", 0.0));
        assert_eq!(
            zero,
            "whoami/alive throughput ratio: n/a (whoami 10 req/s, alive 0 req/s)"
        );
    }

    #[test]
    fn json_merges_extra_at_top_level() {
        let doc = json(
            &[row("s", "whoami", 1.0)],
            json!({"connections": 64, "rows": "ignored"}),
        );
        assert_eq!(doc["connections"], 64);
        assert_eq!(doc["rows"][0]["result_name"], "whoami");
        assert_eq!(doc["rows"][0]["p999_us"], 12_345);
    }
}
