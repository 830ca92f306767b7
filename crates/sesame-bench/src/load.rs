//! Closed-loop HTTP/1.1 load generator: N keep-alive connections, one request in flight each.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;

use crate::procstat::{self, CpuSnapshot, CpuSpent, Server};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout_at};

/// Upper bound on a single connect or request; exceeding it counts as an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed reconnect so a dead server does not cause a hot loop.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(20);

/// One endpoint to hammer with GET requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Short name of the endpoint, carried into the result.
    pub name: String,
    /// Absolute `http://host:port/path?query` URL.
    pub url: String,
    /// Extra request headers (a `Host` entry here overrides the default).
    pub headers: Vec<(String, String)>,
    /// Per-request header sets added to `headers` in turn (e.g. one session token each, so that a
    /// run touches many sessions); empty: every request is the same.
    pub variants: Vec<Vec<(String, String)>>,
    /// Status a successful response must have; anything else is an error.
    pub expect_status: u16,
}

/// How hard and how long to drive a target.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    /// Number of concurrent keep-alive connections (one request in flight each).
    pub connections: usize,
    /// Length of the measured window.
    pub duration: Duration,
    /// Unrecorded run-in before the measured window.
    pub warmup: Duration,
    /// The server whose CPU time and memory are read around the measured window.
    pub server: Server,
    /// Whether PostgreSQL's CPU time is read too.
    pub postgres: bool,
}

/// Outcome of one measured run against one target.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// `Target::name` of the measured endpoint.
    pub name: String,
    /// Responses with the expected status that started and finished in the window.
    pub requests: u64,
    /// Transport errors, timeouts, broken/failed connections and unexpected statuses.
    pub errors: u64,
    /// Length of the measured window.
    pub elapsed: Duration,
    /// Latencies of successful requests, in microseconds.
    pub histogram: Histogram<u64>,
    /// CPU time spent by the server (and PostgreSQL) during the measured window.
    pub cpu: CpuSpent,
    /// The server's resident memory at the end of the window.
    pub memory: Option<procstat::Memory>,
}

impl LoadResult {
    /// Successful requests per second over the measured window.
    pub fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }
    /// Median latency in microseconds.
    pub fn p50_us(&self) -> u64 {
        self.histogram.value_at_quantile(0.5)
    }
    /// 99th percentile latency in microseconds.
    pub fn p99_us(&self) -> u64 {
        self.histogram.value_at_quantile(0.99)
    }
    /// 99.9th percentile latency in microseconds.
    pub fn p999_us(&self) -> u64 {
        self.histogram.value_at_quantile(0.999)
    }
    /// Maximum latency in microseconds.
    pub fn max_us(&self) -> u64 {
        self.histogram.max()
    }
    /// Server CPU time per successful request, in microseconds.
    pub fn server_cpu_us_per_request(&self) -> Option<f64> {
        let us = self.cpu.server_us?;
        (self.requests > 0).then(|| us / self.requests as f64)
    }
    /// PostgreSQL CPU time per successful request, in microseconds (0 on SQLite).
    pub fn database_cpu_us_per_request(&self) -> f64 {
        if self.requests > 0 {
            self.cpu.database_us / self.requests as f64
        } else {
            0.0
        }
    }
}

/// Pre-parsed connection and request data shared by all workers.
struct Endpoint {
    addr: String,
    path: Uri,
    /// One complete header map per variant (at least one).
    headers: Vec<HeaderMap>,
    expect: StatusCode,
}

fn insert_headers(headers: &mut HeaderMap, pairs: &[(String, String)]) -> Result<()> {
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("bad header name {name:?}"))?;
        headers.insert(
            name,
            HeaderValue::from_str(value).with_context(|| format!("bad header value {value:?}"))?,
        );
    }
    Ok(())
}

impl Endpoint {
    fn parse(target: &Target) -> Result<Self> {
        let uri: Uri = target
            .url
            .parse()
            .with_context(|| format!("invalid url {:?}", target.url))?;
        if uri.scheme_str() != Some("http") {
            bail!("only http:// urls are supported, got {:?}", target.url);
        }
        let authority = uri.authority().context("url has no host")?;
        let addr = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let path: Uri = uri.path_and_query().map_or("/", |p| p.as_str()).parse()?;
        let mut common = HeaderMap::new();
        common.insert(HOST, HeaderValue::from_str(authority.as_str())?);
        insert_headers(&mut common, &target.headers)?;
        let headers = if target.variants.is_empty() {
            vec![common]
        } else {
            target
                .variants
                .iter()
                .map(|pairs| {
                    let mut h = common.clone();
                    insert_headers(&mut h, pairs)?;
                    Ok(h)
                })
                .collect::<Result<Vec<_>>>()?
        };
        let expect = StatusCode::from_u16(target.expect_status)?;
        Ok(Self {
            addr,
            path,
            headers,
            expect,
        })
    }
}

/// A live connection; its driver task is aborted (socket closed) on drop.
struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

async fn connect(ep: &Endpoint) -> Result<Conn> {
    let stream = TcpStream::connect(&ep.addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Conn { sender, driver })
}

/// Sends one GET and drains the body; returns the response status.
async fn send(
    sender: &mut SendRequest<Empty<Bytes>>,
    ep: &Endpoint,
    headers: &HeaderMap,
) -> Result<StatusCode> {
    sender.ready().await?;
    let mut req = Request::new(Empty::new());
    *req.uri_mut() = ep.path.clone();
    *req.headers_mut() = headers.clone();
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    resp.into_body().collect().await?;
    Ok(status)
}

fn new_histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

struct WorkerStats {
    requests: u64,
    errors: u64,
    histogram: Histogram<u64>,
}

async fn worker(
    ep: Arc<Endpoint>,
    first: usize,
    record_from: Instant,
    deadline: Instant,
) -> Result<WorkerStats> {
    // Each connection starts at its own place in the variants, and steps through them.
    let mut next = first;
    let mut stats = WorkerStats {
        requests: 0,
        errors: 0,
        histogram: new_histogram()?,
    };
    let mut conn: Option<Conn> = None;
    while Instant::now() < deadline {
        if conn.is_none() {
            let recording = Instant::now() >= record_from;
            match timeout_at(deadline.min(Instant::now() + REQUEST_TIMEOUT), connect(&ep)).await {
                Ok(Ok(c)) => conn = Some(c),
                _ => {
                    stats.errors += u64::from(recording && Instant::now() < deadline);
                    sleep_until((Instant::now() + RECONNECT_BACKOFF).min(deadline)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let start = Instant::now();
        let recording = start >= record_from;
        let limit = (start + REQUEST_TIMEOUT).min(deadline);
        let headers = &ep.headers[next % ep.headers.len()];
        next = next.wrapping_add(1);
        match timeout_at(limit, send(&mut c.sender, &ep, headers)).await {
            Ok(Ok(status)) if status == ep.expect => {
                if recording {
                    stats.requests += 1;
                    let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                    stats.histogram.saturating_record(us.max(1));
                }
            }
            Ok(Ok(_)) => stats.errors += u64::from(recording),
            // Cut off by the end of the run: neither a success nor an error.
            Err(_) if limit == deadline => break,
            // Transport error or timeout: the connection state is unknown, reconnect.
            _ => {
                stats.errors += u64::from(recording);
                conn = None;
            }
        }
    }
    Ok(stats)
}

/// Drives `target` with `settings.connections` closed-loop connections for warmup + duration.
///
/// Fails fast if the target URL is invalid or the first connection cannot be opened.
pub async fn run(target: &Target, settings: &LoadSettings) -> Result<LoadResult> {
    if settings.connections == 0 {
        bail!("connections must be at least 1");
    }
    let ep = Arc::new(Endpoint::parse(target)?);
    drop(
        connect(&ep)
            .await
            .with_context(|| format!("cannot connect to {}", target.url))?,
    );

    let record_from = Instant::now() + settings.warmup;
    let deadline = record_from + settings.duration;
    let stride = (ep.headers.len() / settings.connections).max(1);
    let tasks: Vec<_> = (0..settings.connections)
        .map(|i| tokio::spawn(worker(Arc::clone(&ep), i * stride, record_from, deadline)))
        .collect();
    let (server, postgres) = (settings.server, settings.postgres);
    let meter = tokio::spawn(async move {
        sleep_until(record_from).await;
        let before = CpuSnapshot::take(server, postgres);
        sleep_until(deadline).await;
        (
            CpuSnapshot::take(server, postgres).since(&before),
            procstat::memory(server),
        )
    });

    let mut result = LoadResult {
        name: target.name.clone(),
        requests: 0,
        errors: 0,
        elapsed: settings.duration,
        histogram: new_histogram()?,
        cpu: CpuSpent::default(),
        memory: None,
    };
    for task in tasks {
        let stats = task.await.context("load worker task failed")??;
        result.requests += stats.requests;
        result.errors += stats.errors;
        result.histogram.add(&stats.histogram)?;
    }
    (result.cpu, result.memory) = meter.await.context("meter task failed")?;
    Ok(result)
}
