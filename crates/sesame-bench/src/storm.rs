//! A login storm: concurrent password logins through the API (`GET /self-service/login/api`, then
//! `POST /self-service/login?flow=…`), each one an argon2 verification on the server's hashing
//! pool. Run next to a whoami measurement to see whether logins starve whoami.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Who logs in.
#[derive(Debug, Clone)]
pub struct StormUser {
    /// The identifier (email).
    pub identifier: String,
    /// The password.
    pub password: String,
}

/// One login loop's errors and login latencies.
type WorkerReport = (u64, Histogram<u64>);

/// A running storm; [`Storm::stop`] ends it and reports.
pub struct Storm {
    stop: Arc<AtomicBool>,
    started: Instant,
    logins: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<Result<WorkerReport>>>,
}

/// What a storm did.
#[derive(Debug, Clone)]
pub struct StormReport {
    /// Concurrent login loops.
    pub workers: usize,
    /// Successful logins (200 with a session token).
    pub logins: u64,
    /// Anything else.
    pub errors: u64,
    /// Successful logins per second over the storm's life.
    pub logins_per_second: f64,
    /// Median login latency (both requests), microseconds.
    pub p50_us: u64,
    /// 99th percentile login latency, microseconds.
    pub p99_us: u64,
}

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

async fn connect(addr: &str) -> Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Conn { sender, driver })
}

async fn call(
    conn: &mut Conn,
    host: &HeaderValue,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<(StatusCode, Bytes)> {
    conn.sender.ready().await?;
    let mut req = Request::new(Full::new(Bytes::from(body.clone().unwrap_or_default())));
    *req.method_mut() = method;
    *req.uri_mut() = path.parse::<Uri>()?;
    req.headers_mut().insert(HOST, host.clone());
    req.headers_mut()
        .insert("accept", HeaderValue::from_static("application/json"));
    if body.is_some() {
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let res = conn.sender.send_request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// One API login; `Ok(false)` when the server answered but not with a session.
async fn login(conn: &mut Conn, host: &HeaderValue, user: &StormUser) -> Result<bool> {
    let (status, body) = call(conn, host, Method::GET, "/self-service/login/api", None).await?;
    if status != StatusCode::OK {
        return Ok(false);
    }
    let flow: serde_json::Value = serde_json::from_slice(&body)?;
    let id = flow["id"].as_str().context("login flow without id")?;
    let submit = serde_json::to_vec(&serde_json::json!({
        "method": "password",
        "identifier": user.identifier,
        "password": user.password,
    }))?;
    let (status, body) = call(
        conn,
        host,
        Method::POST,
        &format!("/self-service/login?flow={id}"),
        Some(submit),
    )
    .await?;
    Ok(status == StatusCode::OK
        && serde_json::from_slice::<serde_json::Value>(&body)?["session_token"].is_string())
}

async fn worker(
    addr: String,
    host: HeaderValue,
    user: StormUser,
    stop: Arc<AtomicBool>,
    logins: Arc<AtomicU64>,
) -> Result<WorkerReport> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut errors = 0u64;
    let mut conn: Option<Conn> = None;
    while !stop.load(Ordering::Relaxed) {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match connect(&addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let start = Instant::now();
        match tokio::time::timeout(Duration::from_secs(30), login(c, &host, &user)).await {
            Ok(Ok(true)) => {
                logins.fetch_add(1, Ordering::Relaxed);
                hist.saturating_record(
                    u64::try_from(start.elapsed().as_micros())
                        .unwrap_or(u64::MAX)
                        .max(1),
                );
            }
            Ok(Ok(false)) => errors += 1,
            _ => {
                errors += 1;
                conn = None;
            }
        }
    }
    Ok((errors, hist))
}

impl Storm {
    /// Starts `workers` login loops against `base_url` (`http://host:port`), after checking that
    /// one login succeeds.
    pub async fn start(base_url: &str, user: &StormUser, workers: usize) -> Result<Storm> {
        let uri: Uri = base_url.parse()?;
        let authority = uri.authority().context("url has no host")?;
        let addr = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let host = HeaderValue::from_str(authority.as_str())?;
        let mut probe = connect(&addr).await?;
        if !login(&mut probe, &host, user).await? {
            bail!(
                "the storm user {} cannot log in through the API",
                user.identifier
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        let logins = Arc::new(AtomicU64::new(0));
        let tasks = (0..workers)
            .map(|_| {
                tokio::spawn(worker(
                    addr.clone(),
                    host.clone(),
                    user.clone(),
                    stop.clone(),
                    logins.clone(),
                ))
            })
            .collect();
        Ok(Storm {
            stop,
            started: Instant::now(),
            logins,
            tasks,
        })
    }

    /// Successful logins so far.
    pub fn logins(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// Stops the loops (each finishes its login in flight) and reports.
    pub async fn stop(self) -> Result<StormReport> {
        self.stop.store(true, Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        let workers = self.tasks.len();
        let mut all = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
        let mut errors = 0;
        for t in self.tasks {
            let (e, h) = t.await.context("storm task failed")??;
            errors += e;
            all.add(&h)?;
        }
        let logins = all.len();
        Ok(StormReport {
            workers,
            logins,
            errors,
            logins_per_second: logins as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
            p50_us: all.value_at_quantile(0.5),
            p99_us: all.value_at_quantile(0.99),
        })
    }
}
