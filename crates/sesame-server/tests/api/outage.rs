//! A database outage: while Sesame's own PostgreSQL server is stopped, whoami, the flows, the
//! admin API and readiness answer 503 with `Retry-After` in Kratos's error envelope, quickly and
//! never 401 (a session that could not be looked up is not a session that does not exist), and
//! the built-in UI's pages say so in words; once the server is back they answer as before,
//! without a restart.

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{Backend, PrivatePostgres, TestApp};
use std::time::{Duration, Instant};

/// Kratos answers after its pool's timeout; Sesame promises about two seconds. The bound here is
/// looser so that a loaded test machine does not fail it, and still far below any pool timeout.
const QUICKLY: Duration = Duration::from_secs(5);

/// Asserts an outage answer: 503, `Retry-After`, the envelope saying 503; returns the body.
async fn assert_unavailable(what: &str, res: Response, took: Duration) -> Value {
    assert!(took < QUICKLY, "{what} took {took:?}");
    let status = res.status();
    let retry_after = res.headers().get("retry-after").cloned();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {text}");
    assert_eq!(
        retry_after.as_ref().map(|v| v.to_str().unwrap()),
        Some("1"),
        "{what}"
    );
    let body: Value = sesame_testkit::serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], 503, "{what}: {body}");
    assert_eq!(body["error"]["status"], "Service Unavailable", "{what}");
    body
}

async fn timed(request: sesame_testkit::reqwest::RequestBuilder) -> (Response, Duration) {
    let started = Instant::now();
    let res = request.send().await.unwrap();
    (res, started.elapsed())
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_answer_503_while_the_database_is_down_and_recover_when_it_is_back() {
        let pg = PrivatePostgres::start().await;
        let app = TestApp::builder(Backend::Postgres(pg.url()))
            .env("SESSION_WHOAMI_CACHE_ENABLED", "true")
            .spawn()
            .await;
        let (cached, _) = app.signed_up_user("cached@example.com").await;
        let (never_asked, _) = app.signed_up_user("uncached@example.com").await;
        assert_eq!(app.whoami(&cached).await.status(), StatusCode::OK);
        let flow = app.registration_flow().await;

        pg.stop().await;

        let mut slowest = Duration::ZERO;
        // A session the cache does not hold must be looked up, and cannot be: 503, not 401.
        let (res, took) = timed(
            app.public(Method::GET, "/sessions/whoami")
                .header("X-Session-Token", &never_asked),
        )
        .await;
        slowest = slowest.max(took);
        let body = assert_unavailable("whoami of an uncached session", res, took).await;
        assert!(body["error"]["reason"].as_str().unwrap().contains("database"));
        // The cache stops answering once its notifications stop: a cached answer may still be
        // given for a moment, never a 401.
        let (res, took) = timed(
            app.public(Method::GET, "/sessions/whoami")
                .header("X-Session-Token", &cached),
        )
        .await;
        slowest = slowest.max(took);
        if res.status() != StatusCode::OK {
            assert_unavailable("whoami of a cached session", res, took).await;
        }
        let (res, took) = timed(app.public(Method::GET, "/self-service/login/api")).await;
        slowest = slowest.max(took);
        assert_unavailable("a new login flow", res, took).await;
        let submit = app
            .public(
                Method::POST,
                &format!("/self-service/registration?flow={}", flow["id"].as_str().unwrap()),
            )
            .json(&json!({
                "method": "password",
                "traits": {"email": "during@example.com"},
                "password": "a-very-good-passphrase-42"
            }));
        let (res, took) = timed(submit).await;
        slowest = slowest.max(took);
        assert_unavailable("a registration submit", res, took).await;
        // A revoking write fails as quickly: its announcement to other nodes does not hold it up.
        let (res, took) = timed(
            app.public(Method::DELETE, "/self-service/logout/api")
                .json(&json!({"session_token": never_asked})),
        )
        .await;
        slowest = slowest.max(took);
        assert_unavailable("an API logout", res, took).await;
        let (res, took) = timed(app.admin(Method::GET, "/admin/identities")).await;
        slowest = slowest.max(took);
        assert_unavailable("the admin identity list", res, took).await;

        // The built-in UI's pages say so in words, with the same status.
        let (res, took) = timed(
            app.public(Method::GET, "/ui/welcome")
                .header("X-Session-Token", &never_asked),
        )
        .await;
        slowest = slowest.max(took);
        assert!(took < QUICKLY, "the welcome page took {took:?}");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "1");
        let html = res.text().await.unwrap();
        assert!(html.contains("<h1>Temporarily unavailable</h1>"), "{html}");

        // Readiness says in its body what its status says; the public port hides the cause.
        let (res, took) = timed(app.public(Method::GET, "/health/ready")).await;
        let body = assert_unavailable("public readiness", res, took).await;
        assert_eq!(
            body["error"]["message"],
            "error may contain sensitive information and was obfuscated"
        );
        let (res, took) = timed(app.admin(Method::GET, "/admin/health/ready")).await;
        assert_unavailable("admin readiness", res, took).await;
        // The server itself is alive.
        let res = app.public(Method::GET, "/health/alive").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        eprintln!("slowest answer during the outage: {slowest:?}");

        pg.resume().await;
        let back = Instant::now();
        loop {
            let res = app.whoami(&never_asked).await;
            match res.status() {
                StatusCode::OK => break,
                StatusCode::SERVICE_UNAVAILABLE => {}
                other => panic!("{other} while the database comes back: {}", res.text().await.unwrap()),
            }
            assert!(back.elapsed() < Duration::from_secs(20), "no recovery");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("whoami answered 200 {:?} after the database was back", back.elapsed());
        assert_eq!(app.whoami(&cached).await.status(), StatusCode::OK);
        let res = app.public(Method::GET, "/health/ready").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        app.register("after@example.com", "a-very-good-passphrase-42").await;
    }
}
