//! Connections: a request head must arrive in time, an idle kept-alive connection is closed, a
//! connection over the bound is answered 503 with `Retry-After`, silent connections do not keep
//! anyone else waiting, and a graceful shutdown does not wait for them. Raw TCP, since the wire
//! itself is under test; SQLite only, since no database is involved.

use sesame_testkit::reqwest::{self, Method, StatusCode};
use sesame_testkit::{Backend, TestApp};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any limit these tests set: a connection still open after this was never closed.
const PATIENCE: Duration = Duration::from_secs(10);

fn public_addr(app: &TestApp) -> String {
    app.public_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection, and returns what it sent; panics if it does not
/// close within [`PATIENCE`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection is still open after {PATIENCE:?}"
    );
    received
}

/// Reads one whole answer without a body-length surprise: the health answer is small and ends
/// with its JSON's newline.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.ends_with(b"}\n") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed before answering: {received:?}");
        received.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(received).unwrap()
}

const ALIVE: &[u8] = b"GET /health/alive HTTP/1.1\r\nHost: sesame\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_by_the_header_timeout_without_an_answer() {
    let app = TestApp::builder(Backend::Sqlite)
        .env("SERVE_PUBLIC_REQUEST_HEADER_TIMEOUT", "300ms")
        .spawn()
        .await;
    let mut silent = TcpStream::connect(public_addr(&app)).await.unwrap();
    let opened = Instant::now();
    assert_eq!(read_until_closed(&mut silent).await, b"");
    assert!(
        opened.elapsed() >= Duration::from_millis(250),
        "closed by the timeout, not at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_head_is_closed_by_the_header_timeout() {
    let app = TestApp::builder(Backend::Sqlite)
        .env("SERVE_PUBLIC_REQUEST_HEADER_TIMEOUT", "300ms")
        .spawn()
        .await;
    let mut slow = TcpStream::connect(public_addr(&app)).await.unwrap();
    slow.write_all(b"GET /health/alive HTTP/1.1\r\nHost: sesame\r\nX-Slow: 1")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut slow).await, b"");

    // A later request on a kept-alive connection gets the same time from its first byte.
    let mut kept = TcpStream::connect(public_addr(&app)).await.unwrap();
    kept.write_all(ALIVE).await.unwrap();
    assert!(read_answer(&mut kept).await.starts_with("HTTP/1.1 200 OK"));
    kept.write_all(b"GET /health/alive HTTP/1.1\r\n")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut kept).await, b"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_idles_until_the_idle_timeout_not_the_header_timeout() {
    let app = TestApp::builder(Backend::Sqlite)
        .env("SERVE_PUBLIC_REQUEST_HEADER_TIMEOUT", "200ms")
        .env("SERVE_PUBLIC_IDLE_TIMEOUT", "1500ms")
        .spawn()
        .await;
    let mut kept = TcpStream::connect(public_addr(&app)).await.unwrap();
    kept.write_all(ALIVE).await.unwrap();
    assert!(read_answer(&mut kept).await.starts_with("HTTP/1.1 200 OK"));
    // Idle for longer than a request head may take: still open for the next request.
    tokio::time::sleep(Duration::from_millis(600)).await;
    kept.write_all(ALIVE).await.unwrap();
    assert!(read_answer(&mut kept).await.starts_with("HTTP/1.1 200 OK"));
    let answered = Instant::now();
    assert_eq!(read_until_closed(&mut kept).await, b"");
    assert!(
        answered.elapsed() >= Duration::from_millis(1000),
        "closed by the idle timeout, after {:?}",
        answered.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_the_bound_is_answered_503_and_the_port_serves_again_once_others_close() {
    let app = TestApp::builder(Backend::Sqlite)
        .env("SERVE_PUBLIC_MAX_CONNECTIONS", "4")
        .env("SERVE_PUBLIC_REQUEST_HEADER_TIMEOUT", "1m")
        .spawn()
        .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(public_addr(&app)).await.unwrap());
    }
    // Each client its own connection: a pooled one would be one of the four.
    let fresh = || reqwest::Client::builder().build().unwrap();
    let started = Instant::now();
    let res = fresh()
        .get(format!("{}/health/alive", app.public_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < PATIENCE, "answered, not left waiting");
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["connection"], "close");
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: sesame_testkit::serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], 503);
    assert_eq!(body["error"]["status"], "Service Unavailable");
    assert!(
        body["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("open connections"),
        "{body}"
    );

    // The admin port has a bound of its own.
    let res = app
        .admin(Method::GET, "/health/alive")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    drop(held);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let res = fresh()
            .get(format!("{}/health/alive", app.public_url))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the port never served again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The soft limit on open files of this process (Linux), which the server raised at start.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_answers_others_while_a_thousand_silent_connections_are_open() {
    let app = TestApp::builder(Backend::Sqlite)
        .env("SERVE_PUBLIC_REQUEST_HEADER_TIMEOUT", "2m")
        .spawn()
        .await;
    let (token, identity) = app.signed_up_user("busy@example.com").await;
    // Both ends of every silent connection live in this process, next to the test's own files.
    let wanted = 1200;
    let room = open_file_limit().map_or(wanted, |limit| limit.saturating_sub(300) / 2);
    let silent_count = wanted.min(room);
    assert!(
        silent_count >= 1100,
        "the open-file limit ({:?}) leaves room for only {silent_count} silent connections",
        open_file_limit()
    );
    let mut silent = Vec::with_capacity(silent_count);
    for _ in 0..silent_count {
        silent.push(TcpStream::connect(public_addr(&app)).await.unwrap());
    }
    for _ in 0..3 {
        let fresh = reqwest::Client::builder().build().unwrap();
        let res = tokio::time::timeout(
            PATIENCE,
            fresh
                .get(format!("{}/sessions/whoami", app.public_url))
                .header("X-Session-Token", &token)
                .send(),
        )
        .await
        .expect("whoami answers while silent connections are open")
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: sesame_testkit::serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["identity"]["id"], identity.as_str());
    }
    // The silent ones are still open (the timeout is long here): nothing was dropped to serve.
    let mut probe = [0u8; 1];
    let still_open = silent.last_mut().unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(100), still_open.read(&mut probe))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_closes_silent_and_idle_connections_at_once() {
    let mut app = TestApp::builder(Backend::Sqlite)
        .env("SERVE_PUBLIC_REQUEST_HEADER_TIMEOUT", "1m")
        .env("SERVE_PUBLIC_IDLE_TIMEOUT", "1m")
        .spawn()
        .await;
    let mut silent = TcpStream::connect(public_addr(&app)).await.unwrap();
    let mut idle = TcpStream::connect(public_addr(&app)).await.unwrap();
    idle.write_all(ALIVE).await.unwrap();
    assert!(read_answer(&mut idle).await.starts_with("HTTP/1.1 200 OK"));
    tokio::time::timeout(PATIENCE, app.stop())
        .await
        .expect("the shutdown does not wait for the timeouts");
    assert_eq!(read_until_closed(&mut silent).await, b"");
    assert_eq!(read_until_closed(&mut idle).await, b"");
}
