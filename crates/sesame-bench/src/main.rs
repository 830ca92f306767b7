//! `sesame-bench`: the load generator behind BENCHMARKS.md. It starts Sesame in-process (or targets
//! a running one), seeds M sessions directly through the store, and measures `GET /sessions/whoami`
//! (by session token) against `/health/alive` — the ceiling of the HTTP stack — in one run.
//!
//! The server and the load generator run on separate tokio runtimes, like two processes would.

mod load;
mod report;
mod seed;

use anyhow::{Context, Result};
use clap::Parser;
use load::{LoadSettings, Target};
use report::Row;
use std::time::Duration;

/// Measure whoami against /health/alive: starts Sesame in-process on a fresh database (or targets
/// a running one with --target), seeds sessions through the store, and reports both endpoints.
#[derive(Parser, Debug)]
#[command(name = "sesame-bench", version)]
struct Args {
    /// Database for the in-process server: `sqlite://PATH`, `memory` or `postgres://…`. The bench
    /// recreates its tables (SQLite: deletes the file; PostgreSQL: drops the `sesame_bench` schema).
    #[arg(long, default_value = "sqlite://target/bench.sqlite")]
    dsn: String,
    /// Measure a server that already runs at this public URL instead of starting one; `--dsn` must
    /// name its database (sessions are added to it, nothing is deleted).
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Sessions to seed before measuring.
    #[arg(long, default_value_t = 10_000)]
    sessions: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds per endpoint.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Warm-up seconds per endpoint (not recorded).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Server worker threads (default: all cores).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Write the results as JSON to this file as well.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Label for the rows (default: backend and session count).
    #[arg(long)]
    label: Option<String>,
    /// Also time the store's token lookup alone (no HTTP), to split the cost of whoami.
    #[arg(long)]
    store_only: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let threads = args
        .server_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("sesame-server")
        .enable_all()
        .build()
        .context("server runtime")?;
    let seeded = server_rt.block_on(seed::start_seeded_server(
        &args.dsn,
        args.sessions,
        args.target.as_deref(),
    ))?;
    if args.store_only {
        let (ops, p50, p99) = server_rt.block_on(seed::time_store_lookups(
            &seeded,
            args.connections,
            Duration::from_secs(args.duration),
        ))?;
        println!(
            "store lookups alone: {ops:.0}/s, p50 {p50} µs, p99 {p99} µs ({} concurrent tasks)",
            args.connections
        );
    }

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("sesame-bench")
        .enable_all()
        .build()
        .context("client runtime")?;
    let settings = LoadSettings {
        connections: args.connections,
        duration: Duration::from_secs(args.duration),
        warmup: Duration::from_secs(args.warmup),
    };
    let label = args
        .label
        .clone()
        .unwrap_or_else(|| format!("{} · {} sessions", seeded.backend, args.sessions));
    let alive = Target {
        name: "GET /health/alive".into(),
        url: format!("{}/health/alive", seeded.public_url),
        headers: Vec::new(),
        expect_status: 200,
    };
    let whoami = Target {
        name: "GET /sessions/whoami (token)".into(),
        url: format!("{}/sessions/whoami", seeded.public_url),
        headers: vec![("X-Session-Token".into(), seeded.token.clone())],
        expect_status: 200,
    };
    let (alive_result, whoami_result) = client_rt.block_on(async {
        let a = load::run(&alive, &settings).await?;
        let w = load::run(&whoami, &settings).await?;
        anyhow::Ok((a, w))
    })?;
    let mut rows = vec![Row::from(&alive_result), Row::from(&whoami_result)];
    for r in &mut rows {
        r.label = label.clone();
    }
    println!("{}", report::markdown_table(&rows));
    println!("{}", report::ratio_line(&rows[1], &rows[0]));
    let p99_ms = rows[1].p99_us as f64 / 1000.0;
    println!("whoami p99: {p99_ms:.3} ms");
    if let Some(path) = &args.json {
        let extra = serde_json::json!({
            "label": label,
            "backend": seeded.backend,
            "sessions": args.sessions,
            "connections": args.connections,
            "duration_s": args.duration,
            "ratio": rows[1].rps / rows[0].rps.max(f64::MIN_POSITIVE),
            "whoami_max_us": whoami_result.max_us(),
        });
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report::json(&rows, extra))?,
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    server_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}
