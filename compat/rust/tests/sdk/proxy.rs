//! A validating reverse proxy: the SDK's configurations point at it instead of Sesame, so every
//! response the SDK (and the suite's own reads with the configuration's client) receives is checked
//! against Kratos's OpenAPI document ([`crate::openapi`]) without the SDK knowing.
//!
//! Each request is forwarded to the real public or admin base unchanged (minus hop-by-hop headers;
//! `Host` is the real server's, so Sesame sees the request as it would without the proxy) and the
//! full answer comes back unchanged: status, headers including every `Set-Cookie`, body. Redirects
//! are never followed by the proxy; their `Location` points at Sesame's real URLs, so a client that
//! follows one talks to Sesame directly (that hop is not checked, as no SDK operation ends there).
//!
//! A body that does not match the document is recorded and answered with `502` and the mismatch as
//! text (so the SDK call fails on the spot, with the field in its error), and [`Checks::finish`],
//! which every test calls last, fails the test with every mismatch and also when no body at all
//! was validated. Without the document (`SESAME_TEST_KRATOS_FIXTURES` unset, outside CI) the
//! proxies only relay, and the SDK suite still runs in full.

use crate::openapi::{self, Outcome};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The header on the proxy's own 502 answer to a mismatching body.
pub const MISMATCH_HEADER: &str = "x-sesame-openapi-mismatch";

#[derive(Default)]
struct Record {
    validated: AtomicUsize,
    failures: Mutex<Vec<String>>,
    /// `label → count` of every response seen, for the summary.
    seen: Mutex<Vec<(String, Outcome)>>,
    known: Mutex<Vec<&'static str>>,
}

struct Upstream {
    base: String,
    client: reqwest::Client,
    record: Arc<Record>,
}

/// Checking proxies in front of one Sesame's public and admin APIs.
pub struct Checks {
    /// `http://127.0.0.1:<port>` forwarding to the public API.
    pub public_url: String,
    /// `http://127.0.0.1:<port>` forwarding to the admin API.
    pub admin_url: String,
    record: Arc<Record>,
    tasks: Vec<JoinHandle<()>>,
    finished: AtomicBool,
}

impl Checks {
    /// Starts a proxy for `public_url` and one for `admin_url`.
    pub async fn start(public_url: &str, admin_url: &str) -> Checks {
        let record = Arc::new(Record::default());
        let (public, public_task) = serve(public_url, record.clone()).await;
        let (admin, admin_task) = serve(admin_url, record.clone()).await;
        Checks {
            public_url: public,
            admin_url: admin,
            record,
            tasks: vec![public_task, admin_task],
            finished: AtomicBool::new(false),
        }
    }

    /// Starts the proxies for a test app.
    pub async fn for_app(app: &sesame_testkit::TestApp) -> Checks {
        Checks::start(&app.public_url, &app.admin_url).await
    }

    /// How many bodies were validated so far.
    pub fn validated(&self) -> usize {
        self.record.validated.load(Ordering::SeqCst)
    }

    /// Fails on any mismatch and unless at least one body was validated; prints a summary.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        let failures = self.record.failures.lock().unwrap().clone();
        assert!(
            failures.is_empty(),
            "responses that do not match Kratos's OpenAPI document:\n  {}",
            failures.join("\n  ")
        );
        if openapi::document().is_none() {
            // Without Kratos's document nothing is checked; `openapi`'s own tests, and
            // `every_sdk_response_is_checked_against_kratos_openapi_document`, are then reported
            // as ignored.
            return;
        }
        let seen = self.record.seen.lock().unwrap().clone();
        let validated = self.validated();
        assert!(
            validated > 0,
            "no response body was validated against Kratos's OpenAPI document (seen: {seen:?})"
        );
        let mut lines = seen
            .iter()
            .map(|(label, outcome)| match outcome {
                Outcome::Validated => label.clone(),
                other => format!("{label} ({other:?})"),
            })
            .collect::<Vec<_>>();
        lines.sort();
        lines.dedup();
        let known = self.record.known.lock().unwrap().clone();
        eprintln!(
            "{validated} response bodies validated against Kratos's OpenAPI document: {}{}",
            lines.join("; "),
            if known.is_empty() {
                String::new()
            } else {
                format!("; known mismatches seen: {known:?}")
            }
        );
    }
}

impl Drop for Checks {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if !std::thread::panicking() && !self.finished.load(Ordering::SeqCst) {
            panic!("a test started the OpenAPI checks but never called Checks::finish");
        }
    }
}

async fn serve(upstream: &str, record: Arc<Record>) -> (String, JoinHandle<()>) {
    let state = Arc::new(Upstream {
        base: upstream.trim_end_matches('/').to_owned(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        record,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new().fallback(forward).with_state(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (url, task)
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the client library sets itself.
fn passes(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}

async fn forward(State(up): State<Arc<Upstream>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if passes(name) {
            headers.append(name, value.clone());
        }
    }
    let answer = up
        .client
        .request(parts.method.clone(), format!("{}{path_and_query}", up.base))
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} {path_and_query}: {e}", parts.method));
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap();

    let content_type = answer_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(document) = openapi::document() else {
        return relay(status, &answer_headers, bytes);
    };
    let result = document.try_check(
        parts.method.as_str(),
        parts.uri.path(),
        status.as_u16(),
        content_type,
        &bytes,
    );
    let record = &up.record;
    match result {
        Ok(checked) => {
            if checked.outcome == Outcome::Validated {
                record.validated.fetch_add(1, Ordering::SeqCst);
            }
            record.known.lock().unwrap().extend(checked.known);
            record
                .seen
                .lock()
                .unwrap()
                .push((checked.label, checked.outcome));
        }
        Err(mismatches) => {
            let text = format!(
                "{}\nbody: {}",
                mismatches.join("\n"),
                String::from_utf8_lossy(&bytes)
            );
            eprintln!("OpenAPI mismatch: {text}");
            record.failures.lock().unwrap().extend(mismatches);
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .header(MISMATCH_HEADER, "1")
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(Body::from(text))
                .unwrap();
        }
    }

    relay(status, &answer_headers, bytes)
}

/// Sesame's answer, passed on unchanged.
fn relay(status: StatusCode, headers: &HeaderMap, body: axum::body::Bytes) -> Response {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        if passes(name) {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(body)).unwrap()
}
