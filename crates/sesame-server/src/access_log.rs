//! One log line per request, at info, once it is answered: method, route, status, latency and a
//! request id. Never the query string, a header or the body: they can carry tokens, cookies and
//! passwords. The route is the path template (`/admin/identities/{id}`), so no value a path can
//! carry lands in the log either; requests no route matched say `(unmatched)`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tracing::Instrument;

/// The target of the request lines, so that they can be filtered on their own:
/// `RUST_LOG=info,sesame::access=warn` keeps every other info line and drops them.
pub const TARGET: &str = "sesame::access";

/// The longest `X-Request-ID` taken over as the request id.
const MAX_REQUEST_ID: usize = 128;

/// The request's id: its `X-Request-ID` when that is short, visible ASCII (set by a proxy in front,
/// so that both logs name the request alike), else one made here, unique within this process and
/// unlikely to repeat across processes.
fn request_id(req: &Request) -> String {
    let given = req
        .headers()
        .get("x-request-id")
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty() && v.len() <= MAX_REQUEST_ID)
        .filter(|v| v.iter().all(|b| b.is_ascii_graphic()));
    match given.and_then(|v| std::str::from_utf8(v).ok()) {
        Some(id) => id.to_owned(),
        None => {
            // The first 32 bits of a random UUID tell processes apart.
            static PROCESS: LazyLock<u32> =
                LazyLock::new(|| (uuid::Uuid::new_v4().as_u128() >> 96) as u32);
            static NEXT: AtomicU64 = AtomicU64::new(1);
            format!("{:08x}-{}", *PROCESS, NEXT.fetch_add(1, Ordering::Relaxed))
        }
    }
}

/// Logs the request once it is answered; events of the request at debug run in a span with its
/// method, path and id.
pub async fn log_request(req: Request, next: Next) -> Response {
    if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        let span =
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path());
        return next.run(req).instrument(span).await;
    }
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let span = tracing::debug_span!("request", method = %method, path = %req.uri().path(), request_id = %id);
    let res = next.run(req).instrument(span).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: TARGET,
        method = %method,
        route = route.as_ref().map_or("(unmatched)", MatchedPath::as_str),
        status = res.status().as_u16(),
        latency_ms = micros as f64 / 1000.0,
        request_id = %id,
        "request"
    );
    res
}
