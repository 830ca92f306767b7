//! `sesame-client` against a real server: every `to_session` option and every error kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use sesame_client::{
    CancellationToken, Client, DEFAULT_USER_AGENT, ErrorKind, Interceptor, RequestParts,
    ResponseParts, StatusCode,
};
use sesame_testkit::{TestApp, api_test};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn client(app: &TestApp) -> Client {
    Client::builder(&app.public_url)
        .admin_url(&app.admin_url)
        .build()
        .unwrap()
}

/// A sealed session cookie for `token`, as the test server would issue it.
fn session_cookie(token: &str) -> String {
    sesame_testkit::sealed_session_cookie(token, chrono::Utc::now() + chrono::Duration::hours(24))
}

/// Records what it sees, and tags every request.
#[derive(Default)]
struct Recorder {
    requests: Mutex<Vec<(String, Value)>>,
    responses: Mutex<Vec<(StatusCode, Value)>>,
}

impl Interceptor for Recorder {
    fn on_request(&self, req: &mut RequestParts) {
        let seen = req.extra.get("trace").cloned().unwrap_or(Value::Null);
        self.requests.lock().unwrap().push((req.url.clone(), seen));
        req.headers.insert("x-intercepted", "yes".parse().unwrap());
        req.extra.insert("intercepted".into(), json!(true));
    }

    fn on_response(&self, res: &ResponseParts<'_>) {
        let seen = res.extra.get("trace").cloned().unwrap_or(Value::Null);
        self.responses.lock().unwrap().push((res.status, seen));
    }
}

/// A local listener that accepts connections and never answers.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

api_test!(
    to_session_by_token_returns_the_session_and_identity_id,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("token@example.com").await;
        let res = client(&app)
            .to_session()
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.status_text, "OK");
        assert!(!res.is_redirect);
        assert!(res.redirects.is_empty());
        assert_eq!(res.identity_id(), Some(identity_id.as_str()));
        let identity = res.data.identity.as_ref().unwrap();
        assert_eq!(identity.id.to_string(), identity_id);
        assert!(res.data.active);
        let whoami: Value = app.whoami(&token).await.json().await.unwrap();
        assert_eq!(res.data.id.to_string(), whoami["id"].as_str().unwrap());
        assert_eq!(res.request.method, sesame_client::Method::GET);
        assert_eq!(
            res.request.url,
            format!("{}/sessions/whoami", app.public_url)
        );
    }
);

api_test!(
    to_session_by_cookie_ignores_other_cookies,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("cookie@example.com").await;
        let cookie = format!("theme=dark; {}; lang=en", session_cookie(&token));
        let res = client(&app)
            .to_session()
            .cookie(&cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.identity_id(), Some(identity_id.as_str()));
        assert!(!format!("{res:?}").contains(&cookie));
    }
);

api_test!(
    to_session_without_credentials_is_session_inactive_with_the_raw_body,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let err = client(&app)
            .to_session()
            .header("X-Request-ID", "req-42")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::SessionInactive);
        assert_eq!(err.id(), Some("session_inactive"));
        assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
        let raw = err.response.as_ref().unwrap();
        assert_eq!(raw.headers["ory-error-id"], "session_inactive");
        // The server echoes the request id header into the body: the header reached it.
        let body: Value = serde_json::from_slice(&raw.body).unwrap();
        assert_eq!(body["error"]["id"], "session_inactive");
        assert_eq!(body["error"]["request"], "req-42");
        assert!(err.to_string().contains("session_inactive"));
    }
);

api_test!(
    to_session_of_an_aal1_session_needing_aal2_is_aal2_required,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("totp@example.com").await;
        app.add_totp_credential(&identity_id).await;
        let err = client(&app)
            .to_session()
            .x_session_token(&token)
            .send()
            .await
            .unwrap_err();
        let to = format!("{}/self-service/login/browser?aal=aal2", app.public_url);
        assert_eq!(
            err.kind,
            ErrorKind::Aal2Required {
                redirect_browser_to: Some(to)
            }
        );
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
        let debug = format!("{err:?}");
        assert!(!debug.contains(&token), "{debug}");
        assert!(debug.contains("***"));
        assert!(!err.to_string().contains(&token));
    }
);

api_test!(
    to_session_reports_other_envelopes_as_api_errors,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("tokenize@example.com").await;
        let err = client(&app)
            .to_session()
            .x_session_token(&token)
            .tokenize_as("foo")
            .send()
            .await
            .unwrap_err();
        let ErrorKind::Api(error) = &err.kind else {
            panic!("expected an API error, got {err:?}");
        };
        assert_eq!(error.code, Some(400));
        assert_eq!(
            error.reason.as_deref(),
            Some("Unable to find tokenizer template \"foo\".")
        );
        assert!(
            err.request
                .url
                .ends_with("/sessions/whoami?tokenize_as=foo")
        );
    }
);

/// A local server that answers every request with `200 OK` and this JSON body.
async fn fixed_json_server(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn to_session_reports_a_success_body_that_is_not_a_session_as_decode() {
    let url = fixed_json_server(r#"{"status":"ok"}"#).await;
    let client = Client::builder(url).build().unwrap();
    let err = client.to_session().send().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Decode { .. }), "{err:?}");
    let raw = err.response.as_ref().unwrap();
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.text(), r#"{"status":"ok"}"#);
    // The raw answer is still available.
    let raw = client.to_session().send_raw().await.unwrap();
    assert_eq!(raw.data, json!({"status": "ok"}));
}

api_test!(
    a_per_request_header_reaches_the_server,
    |backend| async move {
        // The server copies `X-Request-ID` into the `request` field of its error envelopes.
        let app = TestApp::spawn(backend).await;
        let err = client(&app)
            .to_session()
            .x_session_token("ory_st_unknown")
            .header("x-request-id", "req-42")
            .await
            .unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive));
        let body: Value = serde_json::from_slice(&err.response.as_ref().unwrap().body).unwrap();
        assert_eq!(body["error"]["request"], "req-42");
    }
);

api_test!(
    extra_values_are_seen_by_interceptors_and_returned_with_the_headers_sent,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("extra@example.com").await;
        let recorder = Arc::new(Recorder::default());
        let client = Client::builder(&app.public_url)
            .default_header("x-tenant", "acme")
            .interceptor(recorder.clone())
            .build()
            .unwrap();
        let res = client
            .to_session()
            .x_session_token(&token)
            .header("x-custom", "42")
            .extra("trace", json!("abc"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.extra["trace"], "abc");
        assert_eq!(res.extra["intercepted"], true);
        assert_eq!(
            *recorder.requests.lock().unwrap(),
            [(format!("{}/sessions/whoami", app.public_url), json!("abc"))]
        );
        assert_eq!(
            *recorder.responses.lock().unwrap(),
            [(StatusCode::OK, json!("abc"))]
        );
        let sent = &res.request.headers;
        assert_eq!(sent["x-custom"], "42");
        assert_eq!(sent["x-tenant"], "acme");
        assert_eq!(sent["x-intercepted"], "yes");
        assert_eq!(sent["user-agent"], DEFAULT_USER_AGENT);
        assert_eq!(sent["x-session-token"], token.as_str());
        let debug = format!("{res:?}");
        assert!(!debug.contains(&token), "{debug}");
        assert!(debug.contains("\"x-session-token\": \"***\""), "{debug}");
    }
);

api_test!(
    a_configured_user_agent_replaces_the_default,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = Client::builder(&app.public_url)
            .user_agent("my-app/1.0")
            .build()
            .unwrap();
        let err = client.to_session().send().await.unwrap_err();
        assert_eq!(err.request.headers["user-agent"], "my-app/1.0");
    }
);

api_test!(
    validate_status_turns_a_401_into_a_success_value,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = client(&app)
            .to_session()
            .validate_status(|s| s == StatusCode::UNAUTHORIZED)
            .send_raw()
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.status_text, "Unauthorized");
        assert_eq!(res.data["error"]["id"], "session_inactive");

        // With `send`, an accepted status that is not a session is a decode error.
        let err = client(&app)
            .to_session()
            .validate_status(|s| s == StatusCode::UNAUTHORIZED)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Decode { .. }), "{err:?}");

        // And a 200 refused by `validate_status` says so: the server refused nothing.
        let (token, _) = app.signed_up_user("refused@example.com").await;
        let err = client(&app)
            .to_session()
            .x_session_token(&token)
            .validate_status(|s| s == StatusCode::UNAUTHORIZED)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::StatusRejected {
                status: StatusCode::OK
            }
        );
        assert_eq!(err.status(), Some(StatusCode::OK));
        assert_eq!(err.id(), None);
        assert_eq!(
            err.to_string(),
            format!(
                "GET {}/sessions/whoami: status 200 OK was rejected by the request's validate_status",
                app.public_url
            )
        );
        // The session the server sent is kept in the raw response.
        let body: Value = serde_json::from_slice(&err.response.as_ref().unwrap().body).unwrap();
        assert_eq!(body["active"], true);
        assert!(body["id"].is_string(), "{body}");
    }
);

#[tokio::test]
async fn a_rejected_success_status_with_an_error_envelope_keeps_the_envelope() {
    let url = fixed_json_server(
        r#"{"error":{"id":"security_csrf_violation","code":403,"status":"Forbidden","message":"the request was rejected"}}"#,
    )
    .await;
    let client = Client::builder(url).build().unwrap();
    let err = client
        .to_session()
        .validate_status(|s| s == StatusCode::NO_CONTENT)
        .send()
        .await
        .unwrap_err();
    let ErrorKind::Api(error) = &err.kind else {
        panic!("expected the envelope's API error, got {err:?}");
    };
    assert_eq!(error.id.as_deref(), Some("security_csrf_violation"));
    assert_eq!(error.code, Some(403));
    assert_eq!(error.message, "the request was rejected");
    assert_eq!(err.id(), Some("security_csrf_violation"));
    assert_eq!(err.status(), Some(StatusCode::OK));

    // Without `validate_status` the same answer is a success: `send_raw` returns its JSON.
    let raw = client.to_session().send_raw().await.unwrap();
    assert_eq!(raw.data["error"]["id"], "security_csrf_violation");
}

api_test!(
    progress_callbacks_count_up_to_the_total,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("progress@example.com").await;
        let sent = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (sent.clone(), received.clone());
        let res = client(&app)
            .to_session()
            .x_session_token(&token)
            .on_send_progress(move |done, total| s.lock().unwrap().push((done, total)))
            .on_receive_progress(move |done, total| r.lock().unwrap().push((done, total)))
            .send()
            .await
            .unwrap();
        assert_eq!(*sent.lock().unwrap(), [(0, 0)]);
        let body_len = app.whoami(&token).await.bytes().await.unwrap().len() as u64;
        let received = received.lock().unwrap().clone();
        assert!(!received.is_empty());
        assert!(
            received
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
        );
        assert_eq!(*received.last().unwrap(), (body_len, body_len));
        let length: u64 = res.headers["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body_len);
    }
);

api_test!(
    a_cancelled_token_stops_the_call_before_it_is_sent,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let recorder = Arc::new(Recorder::default());
        let client = Client::builder(&app.public_url)
            .interceptor(recorder.clone())
            .build()
            .unwrap();
        let token = CancellationToken::new();
        token.cancel();
        let err = client
            .to_session()
            .cancellation(token)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Cancelled);
        assert!(err.response.is_none());
        assert!(
            recorder.responses.lock().unwrap().is_empty(),
            "nothing was answered"
        );

        // Cancelling concurrently with a real call either wins or loses, but never hangs.
        let (session, _) = app.signed_up_user("race@example.com").await;
        let token = CancellationToken::new();
        let canceller = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            canceller.cancel();
        });
        let outcome = tokio::time::timeout(
            Duration::from_secs(5),
            client
                .to_session()
                .x_session_token(&session)
                .cancellation(token)
                .send(),
        )
        .await
        .expect("cancellation never hangs");
        if let Err(e) = outcome {
            assert_eq!(e.kind, ErrorKind::Cancelled);
        }
    }
);

#[tokio::test]
async fn cancelling_a_call_in_flight_returns_cancelled() {
    let client = Client::builder(silent_server().await).build().unwrap();
    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        canceller.cancel();
    });
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        client
            .to_session()
            .x_session_token("ory_st_x")
            .cancellation(token)
            .send(),
    )
    .await
    .expect("cancellation never hangs")
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
}

/// A local server that reads each request, waits `delay`, then answers `200 OK` with this JSON
/// `body`. With `stall_after`, only that many bytes of the body are sent (its `Content-Length`
/// says more), and the connection then stays open, silent.
async fn slow_server(delay: Duration, body: &'static str, stall_after: Option<usize>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let sent = &body.as_bytes()[..stall_after.unwrap_or(body.len())];
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(sent).await;
                let _ = socket.flush().await;
                if stall_after.is_some() {
                    // Hold the connection open without finishing the body.
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_per_request_timeout_ends_a_call_to_a_server_that_never_answers() {
    // The client has no timeout of its own: only the request's deadline can end the call.
    let client = Client::builder(silent_server().await).build().unwrap();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .to_session()
            .x_session_token("ory_st_secretsecretsecretsecretsecret12")
            .timeout(Duration::from_millis(100))
            .send(),
    )
    .await
    .expect("the request's timeout ends the call")
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(err.response.is_none());
    assert!(
        err.to_string()
            .ends_with("/sessions/whoami: the request timed out"),
        "{err}"
    );
    assert!(!err.to_string().contains("secretsecret"));
}

#[tokio::test]
async fn a_per_request_timeout_covers_the_body() {
    // The head arrives at once, the body never finishes.
    let url = slow_server(Duration::ZERO, r#"{"status":"ok"}"#, Some(5)).await;
    let client = Client::builder(url).build().unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client.is_alive().timeout(Duration::from_millis(200)).send(),
    )
    .await
    .expect("the request's timeout ends the call")
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");

    // The same for the client's timeout.
    let url = slow_server(Duration::ZERO, r#"{"status":"ok"}"#, Some(5)).await;
    let client = Client::builder(url)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), client.is_alive().send())
        .await
        .expect("the client's timeout ends the call")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
}

#[tokio::test]
async fn a_per_request_timeout_overrides_the_clients_either_way() {
    // The server answers after 400 ms; the client gives every request 100 ms.
    let url = slow_server(Duration::from_millis(400), r#"{"status":"ok"}"#, None).await;
    let client = Client::builder(url)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client.is_alive().send().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "the client's timeout applies");

    // A longer deadline of the request's own wins for that request…
    let res = client
        .is_alive()
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.data.status, "ok");

    // … and only for that one.
    let err = client.is_alive().send().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);

    // A shorter one wins too, on a client without a timeout.
    let url = slow_server(Duration::from_millis(400), r#"{"status":"ok"}"#, None).await;
    let client = Client::builder(url).build().unwrap();
    let err = client
        .is_alive()
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(
        client.is_alive().send().await.is_ok(),
        "no deadline without one"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let client = Client::builder(silent_server().await)
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let err = client
        .to_session()
        .x_session_token("ory_st_secretsecretsecretsecretsecret12")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(!format!("{err:?}").contains("secretsecret"));
    assert!(!err.to_string().contains("secretsecret"));
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = Client::builder(url)
        .build()
        .unwrap()
        .to_session()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Transport(_)), "{err:?}");
}

#[test]
fn invalid_configuration_is_reported_by_build() {
    let err = Client::builder("not a url").build().unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Config(_)), "{err:?}");
    let err = Client::builder("http://127.0.0.1:1")
        .default_header("x-secret", "bad\nvalue")
        .build()
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Config(_)), "{err:?}");
    assert!(!err.to_string().contains("bad"));
}
