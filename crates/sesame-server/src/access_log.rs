//! One log line per request, at info, once it is answered: method, route, status, latency and a
//! request id. Never the query string, a header or the body: they can carry tokens, cookies and
//! passwords. The route is the path template (`/admin/identities/{id}`), so no value a path can
//! carry lands in the log either; requests no route matched say `(unmatched)`.
//!
//! The same layer records each request in the metrics ([`crate::metrics`]).

use crate::metrics::{Observer, UNMATCHED};
use axum::extract::{MatchedPath, Request, State};
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

/// Logs the request once it is answered and records it in the metrics (one layer for both, so a
/// request pays one clock read and one layer's machinery); events of the request at debug run in
/// a span with its method, path and id.
pub async fn log_request(State(observer): State<Observer>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method_label = crate::metrics::MethodLabel::of(req.method());
    let route = req.extensions().get::<MatchedPath>().cloned();
    if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        let span =
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path());
        let res = next.run(req).instrument(span).await;
        observer.record(method_label, route, &res, started.elapsed());
        return res;
    }
    let id = request_id(&req);
    let method = req.method().clone();
    let span = tracing::debug_span!("request", method = %method, path = %req.uri().path(), request_id = %id);
    let res = next.run(req).instrument(span).await;
    let elapsed = started.elapsed();
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: TARGET,
        method = %method,
        route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
        status = res.status().as_u16(),
        latency_ms = micros as f64 / 1000.0,
        request_id = %id,
        "request"
    );
    observer.record(method_label, route, &res, elapsed);
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::HeaderValue;

    fn id_for(header: Option<HeaderValue>) -> String {
        let mut req = Request::new(Body::empty());
        if let Some(value) = header {
            req.headers_mut().insert("x-request-id", value);
        }
        request_id(&req)
    }

    fn generated(id: &str) -> bool {
        id.split_once('-').is_some_and(|(process, n)| {
            process.len() == 8
                && process.chars().all(|c| c.is_ascii_hexdigit())
                && n.parse::<u64>().is_ok()
        })
    }

    #[test]
    fn a_proxys_request_id_is_kept_and_anything_unfit_for_a_log_line_is_replaced() {
        assert_eq!(
            id_for(Some(HeaderValue::from_static("req-42/abc"))),
            "req-42/abc"
        );
        let long = "a".repeat(MAX_REQUEST_ID);
        assert_eq!(id_for(Some(HeaderValue::from_str(&long).unwrap())), long);
        let hostile = [
            HeaderValue::from_static(""),
            HeaderValue::from_static("two words"),
            HeaderValue::from_static("tab\there"),
            HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID + 1)).unwrap(),
            // Bytes beyond ASCII (obs-text), which a header may carry: an ANSI escape's lead-in
            // cannot reach a header, but C1 controls and broken UTF-8 can.
            HeaderValue::from_bytes(b"id\x9b31m").unwrap(),
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        ];
        for value in hostile {
            let id = id_for(Some(value.clone()));
            assert!(generated(&id), "{value:?} gave {id:?}");
        }
        let (a, b) = (id_for(None), id_for(None));
        assert!(generated(&a) && generated(&b) && a != b, "{a} {b}");
        assert_eq!(
            a.split('-').next(),
            b.split('-').next(),
            "one process prefix"
        );
    }
}
