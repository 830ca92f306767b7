//! The axum guard (feature `axum`) against a real server: who gets in, how the others are
//! answered, the cache, and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Value, json};
use sesame_client::guard::{
    CurrentSession, OnAal2, OnInactive, OptionalSession, RejectionKind, SessionGuard,
    SessionGuardBuilder,
};
use sesame_client::{Client, Interceptor, RequestParts, Session};
use sesame_testkit::reqwest::Method;
use sesame_testkit::{TestApp, api_test};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;

/// Counts the whoami requests a client sends.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Counter {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Interceptor for Counter {
    fn on_request(&self, _req: &mut RequestParts) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A guard builder over a client that counts its whoami requests.
fn counted(app: &TestApp) -> (SessionGuardBuilder, Arc<Counter>) {
    let counter = Arc::new(Counter::default());
    let client = Client::builder(&app.public_url)
        .interceptor(counter.clone())
        .build()
        .unwrap();
    (SessionGuard::builder(client), counter)
}

/// A sealed session cookie for `token`, among other cookies.
fn cookie_header(token: &str) -> String {
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(24);
    let session = sesame_testkit::sealed_session_cookie(token, expires_at);
    format!("theme=dark; {session}; lang=en")
}

/// Answers with the identity id, after checking that the layer's extension and the extractor
/// agree.
async fn me(
    Extension(from_layer): Extension<Session>,
    CurrentSession(session): CurrentSession,
) -> String {
    assert_eq!(from_layer, session);
    session.identity.as_ref().unwrap().id.to_string()
}

/// Answers with the identity id, or `anonymous`.
async fn maybe(OptionalSession(session): OptionalSession) -> String {
    session.map_or_else(
        || "anonymous".to_owned(),
        |s| s.identity.unwrap().id.to_string(),
    )
}

/// `/me` behind the required layer.
fn protected(guard: &SessionGuard) -> Router {
    Router::new()
        .route("/me", get(me))
        .route_layer(guard.layer())
}

fn request(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::get(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Body::empty()).unwrap()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }
}

async fn call(app: &Router, req: Request<Body>) -> Answer {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// Logs `token` out through the API (the session is revoked on the server).
async fn revoke(app: &TestApp, token: &str) {
    let res = app
        .public(Method::DELETE, "/self-service/logout/api")
        .json(&json!({ "session_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

api_test!(
    the_layer_lets_in_a_token_a_cookie_and_a_bearer_and_hands_over_the_session,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("allowed@example.com").await;
        let (builder, counter) = counted(&app);
        let router = protected(&builder.build().unwrap());
        let cookie = cookie_header(&token);
        let bearer = format!("Bearer {token}");
        let ways = [
            ("x-session-token", token.as_str()),
            ("cookie", cookie.as_str()),
            ("authorization", bearer.as_str()),
        ];
        for (name, value) in ways {
            let answer = call(&router, request("/me", &[(name, value)])).await;
            assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.body);
            assert_eq!(answer.body, identity_id, "{name}");
        }
        assert_eq!(
            counter.get(),
            3,
            "one whoami per request, layer and extractor together"
        );
    }
);

api_test!(
    requests_without_credentials_or_with_a_bad_token_get_a_401_envelope,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (builder, counter) = counted(&app);
        let router = protected(&builder.build().unwrap());

        for headers in [&[][..], &[("authorization", "Basic dXNlcjpwYXNz")][..]] {
            let answer = call(&router, request("/me", headers)).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
            assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
            let error = &answer.json()["error"];
            assert_eq!(error["id"], "session_inactive");
            assert_eq!(error["code"], 401);
            assert_eq!(error["status"], "Unauthorized");
            assert_eq!(
                error["reason"],
                "No valid session credentials found in the request."
            );
        }
        assert_eq!(counter.get(), 0, "no credentials: whoami is not asked");

        let bad = "ory_st_0123456789abcdefghijklmnopqrstuv";
        let answer = call(&router, request("/me", &[("x-session-token", bad)])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["error"]["id"], "session_inactive");
        assert_eq!(answer.json()["error"]["code"], 401);
        assert!(!answer.body.contains(bad), "{}", answer.body);
        assert_eq!(counter.get(), 1);
    }
);

api_test!(
    inactive_browsers_are_redirected_to_login_with_return_to,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let login_url = format!("{}/self-service/login/browser", app.public_url);
        let (builder, _) = counted(&app);
        let guard = builder
            .on_inactive(OnInactive::RedirectToLogin {
                login_url: login_url.clone(),
            })
            .return_to_base("https://app.example.com/")
            .build()
            .unwrap();
        let router = Router::new().nest("/app", protected(&guard));

        let answer = call(&router, request("/app/me?tab=a%20b&x=1", &[])).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(
            answer.location(),
            format!(
                "{login_url}?return_to=https%3A%2F%2Fapp.example.com%2Fapp%2Fme%3Ftab%3Da%2520b%26x%3D1"
            )
        );

        let forged = [("cookie", "ory_kratos_session=forged")];
        let answer = call(&router, request("/app/me", &forged)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert!(answer.location().starts_with(&login_url));
    }
);

api_test!(
    a_session_needing_a_second_factor_gets_a_403_envelope_or_a_redirect,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("aal2@example.com").await;
        app.add_totp_credential(&identity_id).await;
        let to = format!("{}/self-service/login/browser?aal=aal2", app.public_url);
        let headers = [("x-session-token", token.as_str())];

        let (builder, _) = counted(&app);
        let router = protected(&builder.build().unwrap());
        let answer = call(&router, request("/me", &headers)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        let body = answer.json();
        assert_eq!(body["error"]["id"], "session_aal2_required");
        assert_eq!(body["error"]["code"], 403);
        assert_eq!(body["redirect_browser_to"], to.as_str());
        assert!(!answer.body.contains(&token));

        let (builder, _) = counted(&app);
        let router = protected(&builder.on_aal2(OnAal2::Redirect).build().unwrap());
        let answer = call(&router, request("/me", &headers)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.location(), to);
    }
);

api_test!(
    optional_session_is_none_without_an_active_session_and_some_with_one,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("optional@example.com").await;
        let (aal2_token, aal2_id) = app.signed_up_user("optional-aal2@example.com").await;
        app.add_totp_credential(&aal2_id).await;
        let (builder, counter) = counted(&app);
        let guard = builder.build().unwrap();

        // Resolved by the extractor through an `Extension`, or by the optional layer.
        let lazy = Router::new()
            .route("/", get(maybe))
            .layer(Extension(guard.clone()));
        let layered = Router::new()
            .route("/", get(maybe))
            .layer(guard.optional_layer());
        for router in [&lazy, &layered] {
            let answer = call(router, request("/", &[("x-session-token", &token)])).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.body, identity_id);
            let answer = call(router, request("/", &[])).await;
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (StatusCode::OK, "anonymous")
            );
            let headers = [("x-session-token", aal2_token.as_str())];
            let answer = call(router, request("/", &headers)).await;
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (StatusCode::OK, "anonymous")
            );
        }
        assert_eq!(counter.get(), 4);

        // Under the optional layer, a required extractor reuses the layer's answer.
        let mixed = Router::new()
            .route(
                "/me",
                get(|CurrentSession(s): CurrentSession| async move { s.id.to_string() }),
            )
            .layer(guard.optional_layer());
        let bad = [("x-session-token", "ory_st_nope")];
        let answer = call(&mixed, request("/me", &bad)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["error"]["id"], "session_inactive");
        assert_eq!(counter.get(), 5, "whoami is asked once per request");
    }
);

api_test!(
    a_cached_session_is_served_without_asking_whoami_again,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("cached@example.com").await;
        let (builder, counter) = counted(&app);
        let guard = builder.cache(Duration::from_secs(60), 100).build().unwrap();
        let router = protected(&guard);
        for _ in 0..2 {
            let answer = call(&router, request("/me", &[("x-session-token", &token)])).await;
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (StatusCode::OK, identity_id.as_str())
            );
        }
        assert_eq!(counter.get(), 1, "the second request is a cache hit");

        // The cookie is another credential (another key) …
        let cookie = cookie_header(&token);
        let answer = call(&router, request("/me", &[("cookie", &cookie)])).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(counter.get(), 2);
        // … whose other cookies do not count.
        let other = cookie.replace("theme=dark", "theme=light");
        let answer = call(&router, request("/me", &[("cookie", &other)])).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(counter.get(), 2);

        // Negative answers are never cached.
        for _ in 0..2 {
            let answer = call(
                &router,
                request("/me", &[("x-session-token", "ory_st_nope")]),
            )
            .await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(counter.get(), 4);
    }
);

api_test!(
    a_revoked_session_is_served_from_the_cache_until_the_ttl_passes,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("revoked@example.com").await;
        let (builder, counter) = counted(&app);
        // Long enough for the logout and the second request to fit in on a busy machine.
        let ttl = Duration::from_secs(1);
        let router = protected(&builder.cache(ttl, 100).build().unwrap());
        let headers = [("x-session-token", token.as_str())];

        let answer = call(&router, request("/me", &headers)).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::OK, identity_id.as_str())
        );
        revoke(&app, &token).await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);

        let answer = call(&router, request("/me", &headers)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "within the TTL, the cache answers"
        );
        assert_eq!(counter.get(), 1);

        tokio::time::sleep(ttl + Duration::from_millis(200)).await;
        let answer = call(&router, request("/me", &headers)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "after the TTL, whoami answers"
        );
        assert_eq!(answer.json()["error"]["id"], "session_inactive");
        assert_eq!(counter.get(), 2);
    }
);

/// Sets its flag when dropped: the handler future holding it was abandoned.
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A whoami that never answers, and records requests started and abandoned.
async fn hanging_whoami() -> (String, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let started = Arc::new(AtomicUsize::new(0));
    let abandoned = Arc::new(AtomicBool::new(false));
    let (s, a) = (started.clone(), abandoned.clone());
    let stub = Router::new().route(
        "/sessions/whoami",
        get(move || async move {
            let _abandoned = Abandoned(a);
            s.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
            "never"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, stub).await });
    (url, started, abandoned)
}

/// Waits (up to 5 s) until `condition` holds.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_incoming_request_cancels_the_whoami_call() {
    let (url, started, abandoned) = hanging_whoami().await;
    let guard = SessionGuard::builder(Client::builder(url).build().unwrap())
        .build()
        .unwrap();
    let router = protected(&guard);
    let mut pending = Box::pin(router.oneshot(request("/me", &[("x-session-token", "ory_st_x")])));
    tokio::select! {
        res = pending.as_mut() => panic!("whoami never answers, yet: {res:?}"),
        () = eventually("whoami is asked", || started.load(Ordering::SeqCst) == 1) => {}
    }
    assert!(!abandoned.load(Ordering::SeqCst));
    drop(pending);
    eventually("the whoami request is abandoned", || {
        abandoned.load(Ordering::SeqCst)
    })
    .await;
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_session_server_is_a_502_even_for_optional_sessions() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let guard = SessionGuard::builder(Client::builder(url).build().unwrap())
        .build()
        .unwrap();
    let token = "ory_st_0123456789abcdefghijklmnopqrstuv";
    let headers = [("x-session-token", token)];
    let routers = [
        protected(&guard),
        Router::new()
            .route("/me", get(maybe))
            .layer(Extension(guard.clone())),
        Router::new()
            .route("/me", get(maybe))
            .layer(guard.optional_layer()),
    ];
    for router in &routers {
        let answer = call(router, request("/me", &headers)).await;
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
        assert_eq!(answer.json()["error"]["code"], 502);
        assert!(!answer.body.contains(token), "{}", answer.body);
    }
    let err = guard
        .check(
            &request("/me", &headers).headers().clone(),
            &"/me".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &RejectionKind::Unavailable);
}

#[tokio::test]
async fn an_extractor_without_a_guard_answers_500() {
    let router = Router::new()
        .route(
            "/me",
            get(|CurrentSession(s): CurrentSession| async move { s.id.to_string() }),
        )
        .route("/maybe", get(maybe));
    for path in ["/me", "/maybe"] {
        let answer = call(&router, request(path, &[("x-session-token", "ory_st_x")])).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        let error = &answer.json()["error"];
        assert_eq!(error["code"], 500);
        assert_eq!(error["message"], "no SessionGuard is configured");
    }
}
