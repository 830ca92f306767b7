//! `sesame-bench`: the load generator behind BENCHMARKS.md. It starts Sesame in-process (or targets
//! a running one), seeds identities and sessions directly through the store, and measures in one
//! run: `/health/alive` (the ceiling of the HTTP stack), `GET /sessions/whoami` by session token, by
//! session cookie and by bearer token, and whoami while a storm of password logins keeps the
//! hashing pool busy — each with the server's CPU time per request and its resident memory. With
//! `--scale-to`, the data then grows and alive and whoami are measured again.
//!
//! The server and the load generator run on separate tokio runtimes, like two processes would.

mod load;
mod procstat;
mod report;
mod seed;
mod storm;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use load::{LoadResult, LoadSettings, Target};
use report::Row;
use seed::{BENCH_COOKIE_SECRET, Seeded, ServerOptions};
use std::time::Duration;

/// One measurement of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// `GET /health/alive`.
    Alive,
    /// whoami with `X-Session-Token`.
    Token,
    /// whoami with a sealed session cookie.
    Cookie,
    /// whoami with `Authorization: Bearer`.
    Bearer,
    /// whoami (token) while password logins saturate the hashing pool.
    Storm,
}

/// `--cache`: `session.whoami.cache.enabled` for the in-process server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Cache {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// Measure whoami against /health/alive: starts Sesame in-process on a fresh database (or targets
/// a running one with --target), seeds identities and sessions through the store, and reports
/// every scenario as a table (and JSON with --json).
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
    /// With --target: the server's process id, for its CPU time and memory.
    #[arg(long, value_name = "PID", requires = "target")]
    server_pid: Option<u32>,
    /// With --target: the server's `secrets.cookie` key, for the cookie scenario.
    #[arg(long, value_name = "SECRET", requires = "target")]
    cookie_secret: Option<String>,
    /// Sessions to seed before measuring.
    #[arg(long, default_value_t = 10_000)]
    sessions: u64,
    /// Sessions per seeded identity.
    #[arg(long, default_value_t = 1)]
    sessions_per_identity: u64,
    /// Distinct sessions the whoami scenarios ask for, in turn, spread evenly over the table.
    #[arg(long, default_value_t = 1000)]
    tokens: u64,
    /// Scenarios to run, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "alive,token,cookie,bearer,storm"
    )]
    scenarios: Vec<Scenario>,
    /// After the scenarios, grow the data to this many sessions and measure alive and whoami by
    /// token again (the scale test: both sizes in one run).
    #[arg(long, value_name = "SESSIONS")]
    scale_to: Option<u64>,
    /// Concurrent login loops of the storm scenario (default: twice the hashing pool, i.e. twice
    /// the cores, so that it is always full).
    #[arg(long)]
    storm_workers: Option<usize>,
    /// Sets `session.whoami.cache.enabled` on the in-process server (default: the server's default).
    #[arg(long, value_enum)]
    cache: Option<Cache>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Warm-up seconds per scenario (not recorded).
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

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The whoami target for one way of presenting the measured tokens.
fn whoami_target(seeded: &Seeded, scenario: Scenario, cookie_secret: &str) -> Result<Target> {
    let what = match scenario {
        Scenario::Token => "token",
        Scenario::Storm => "token, during a login storm",
        Scenario::Cookie => "cookie",
        Scenario::Bearer => "bearer",
        Scenario::Alive => bail!("alive is not a whoami scenario"),
    };
    let variants = seeded
        .tokens
        .iter()
        .map(|t| {
            Ok(vec![match scenario {
                Scenario::Cookie => ("Cookie".to_owned(), seeded.cookie(t, cookie_secret)?),
                Scenario::Bearer => ("Authorization".to_owned(), format!("Bearer {t}")),
                _ => ("X-Session-Token".to_owned(), t.clone()),
            }])
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Target {
        name: format!("GET /sessions/whoami ({what})"),
        url: format!("{}/sessions/whoami", seeded.public_url),
        headers: Vec::new(),
        variants,
        expect_status: 200,
    })
}

fn alive_target(seeded: &Seeded) -> Target {
    Target {
        name: "GET /health/alive".into(),
        url: format!("{}/health/alive", seeded.public_url),
        headers: Vec::new(),
        variants: Vec::new(),
        expect_status: 200,
    }
}

fn row(result: &LoadResult, label: &str, alive: Option<f64>) -> Row {
    let mut r = Row::from(result);
    r.label = label.to_owned();
    r.vs_alive = alive.filter(|a| *a > 0.0).map(|a| r.rps / a);
    r
}

/// Everything one run measured, for the JSON document.
#[derive(Default)]
struct Extras {
    storm: Option<storm::StormReport>,
    scale: Option<serde_json::Value>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let threads = args.server_threads.unwrap_or_else(cores);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("sesame-server")
        .enable_all()
        .build()
        .context("server runtime")?;
    let options = ServerOptions {
        whoami_cache: args.cache.map(|c| c == Cache::On),
    };
    let mut seeded = server_rt.block_on(seed::start_seeded_server(
        &args.dsn,
        args.sessions,
        args.sessions_per_identity,
        args.tokens,
        args.target.as_deref(),
        &options,
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
        server: match (&args.target, args.server_pid) {
            (None, _) => procstat::Server::InProcess,
            (Some(_), Some(pid)) => procstat::Server::Pid(pid),
            (Some(_), None) => procstat::Server::Unknown,
        },
        postgres: seeded.backend == "postgres",
    };
    let cookie_secret = args
        .cookie_secret
        .clone()
        .unwrap_or_else(|| BENCH_COOKIE_SECRET.to_owned());
    let backend = seeded.backend.clone();
    let label_for = |sessions: u64| {
        args.label.clone().unwrap_or_else(|| {
            let cache = match args.cache {
                Some(Cache::On) => " · cache on",
                Some(Cache::Off) => " · cache off",
                None => "",
            };
            format!("{backend} · {sessions} sessions{cache}")
        })
    };
    let label = label_for(args.sessions);

    let mut rows: Vec<Row> = Vec::new();
    let mut extras = Extras::default();
    let mut alive_rps = None;
    for &scenario in &args.scenarios {
        let result = match scenario {
            Scenario::Alive => client_rt.block_on(load::run(&alive_target(&seeded), &settings))?,
            Scenario::Storm => {
                let target = whoami_target(&seeded, scenario, &cookie_secret)?;
                let workers = args.storm_workers.unwrap_or(2 * cores());
                let (result, report) = client_rt.block_on(async {
                    let storm =
                        storm::Storm::start(&seeded.public_url, &seeded.storm_user, workers)
                            .await?;
                    // Let the hashing pool fill before the whoami warm-up starts.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    eprintln!("login storm running: {} logins so far", storm.logins());
                    let result = load::run(&target, &settings).await?;
                    anyhow::Ok((result, storm.stop().await?))
                })?;
                eprintln!(
                    "login storm: {} workers, {} logins ({:.1}/s), {} errors, login p50 {:.0} ms, p99 {:.0} ms",
                    report.workers,
                    report.logins,
                    report.logins_per_second,
                    report.errors,
                    report.p50_us as f64 / 1000.0,
                    report.p99_us as f64 / 1000.0
                );
                extras.storm = Some(report);
                result
            }
            _ => {
                let target = whoami_target(&seeded, scenario, &cookie_secret)?;
                client_rt.block_on(load::run(&target, &settings))?
            }
        };
        let r = row(&result, &label, alive_rps);
        if scenario == Scenario::Alive {
            alive_rps = Some(r.rps);
        }
        eprintln!(
            "{}: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms",
            r.result_name,
            r.rps,
            r.p50_us as f64 / 1000.0,
            r.p99_us as f64 / 1000.0
        );
        rows.push(r);
    }

    if let Some(total) = args.scale_to {
        let before: Vec<Row> = rows
            .iter()
            .filter(|r| r.result_name == "GET /sessions/whoami (token)")
            .cloned()
            .collect();
        server_rt.block_on(seeded.grow_to(total, args.tokens))?;
        let scaled = label_for(total);
        let alive = client_rt.block_on(load::run(&alive_target(&seeded), &settings))?;
        let alive = row(&alive, &scaled, None);
        let target = whoami_target(&seeded, Scenario::Token, &cookie_secret)?;
        let whoami = client_rt.block_on(load::run(&target, &settings))?;
        let whoami = row(&whoami, &scaled, Some(alive.rps));
        if let Some(small) = before.first() {
            let ratio = |big: u64, small: u64| big as f64 / small.max(1) as f64;
            let line = format!(
                "whoami at {total} vs {} sessions: p50 {:.2}×, p99 {:.2}×, throughput {:.2}×",
                args.sessions,
                ratio(whoami.p50_us, small.p50_us),
                ratio(whoami.p99_us, small.p99_us),
                whoami.rps / small.rps.max(f64::MIN_POSITIVE)
            );
            extras.scale = Some(serde_json::json!({
                "from_sessions": args.sessions,
                "to_sessions": total,
                "p50_ratio": ratio(whoami.p50_us, small.p50_us),
                "p99_ratio": ratio(whoami.p99_us, small.p99_us),
                "rps_ratio": whoami.rps / small.rps.max(f64::MIN_POSITIVE),
                "summary": line,
            }));
        }
        rows.push(alive);
        rows.push(whoami);
    }

    println!("{}", report::markdown_table(&rows));
    let token = rows
        .iter()
        .find(|r| r.result_name == "GET /sessions/whoami (token)");
    let alive = rows.iter().find(|r| r.result_name == "GET /health/alive");
    if let (Some(token), Some(alive)) = (token, alive) {
        println!("{}", report::ratio_line(token, alive));
        println!("whoami p99: {:.3} ms", token.p99_us as f64 / 1000.0);
    }
    if let Some(storm) = &extras.storm {
        println!(
            "login storm: {} workers, {:.1} logins/s (p50 {:.0} ms), {} errors",
            storm.workers,
            storm.logins_per_second,
            storm.p50_us as f64 / 1000.0,
            storm.errors
        );
    }
    if let Some(scale) = &extras.scale {
        println!("{}", scale["summary"].as_str().unwrap_or_default());
    }
    if let Some(path) = &args.json {
        let extra = serde_json::json!({
            "label": label,
            "backend": seeded.backend,
            "sessions": args.sessions,
            "sessions_per_identity": args.sessions_per_identity,
            "tokens": seeded.tokens.len(),
            "connections": args.connections,
            "duration_s": args.duration,
            "server_threads": threads,
            "cores": cores(),
            "cache": args.cache.map(|c| c == Cache::On),
            "ratio": match (token, alive) {
                (Some(t), Some(a)) => Some(t.rps / a.rps.max(f64::MIN_POSITIVE)),
                _ => None,
            },
            "storm": extras.storm.as_ref().map(|s| serde_json::json!({
                "workers": s.workers,
                "logins": s.logins,
                "errors": s.errors,
                "logins_per_second": s.logins_per_second,
                "login_p50_us": s.p50_us,
                "login_p99_us": s.p99_us,
            })),
            "scale": extras.scale,
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
