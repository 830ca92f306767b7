//! whoami's in-process cache (`session.whoami.cache`): answers are reused, expiry and the AAL rule
//! are still judged on every request, and every write that can change an answer drops it at once —
//! on one node (SQLite and PostgreSQL), and on every node of a PostgreSQL database.

mod local;
mod replicas;

use sesame_core::store::Store;
use sesame_core::{Clock, TokenDigest};
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{Backend, TestApp, TestAppBuilder, expect_json};
use std::sync::Arc;

/// A server with the cache on (and second factors, for the AAL cases).
fn cached(backend: Backend) -> TestAppBuilder {
    crate::second_factors::mfa(TestApp::builder(backend))
        .env("SESSION_WHOAMI_CACHE_ENABLED", "true")
}

async fn whoami(app: &TestApp, token: &str) -> Response {
    app.whoami(token).await
}

/// whoami answers `status` twice, and (with the cache on) the second answer came from the cache.
async fn assert_cached_answer(app: &TestApp, token: &str, status: StatusCode) -> Value {
    let first = whoami(app, token).await.status();
    assert_eq!(first, status, "first whoami");
    let res = whoami(app, token).await;
    assert_eq!(res.status(), status, "second whoami");
    if let Some(cache) = app.whoami_cache() {
        assert!(
            cache
                .get(&TokenDigest::of(token), app.clock.now())
                .is_some(),
            "the answer is cached"
        );
    }
    res.json().await.unwrap()
}

/// whoami answers 200 twice (cached when the cache is on): the session.
async fn assert_cached(app: &TestApp, token: &str) -> Value {
    assert_cached_answer(app, token, StatusCode::OK).await
}

/// The very next whoami is refused with 401.
async fn assert_refused(app: &TestApp, token: &str) {
    let res = whoami(app, token).await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// The very next whoami is 403 `session_aal2_required`.
async fn assert_aal2_required(app: &TestApp, token: &str) {
    let res = whoami(app, token).await;
    assert_eq!(res.headers()["ory-error-id"], "session_aal2_required");
    expect_json(res, StatusCode::FORBIDDEN).await;
}

/// The store under the app, without its cache or notifications: writes through it are what a
/// process other than Sesame would do to the database.
async fn raw_store(app: &TestApp) -> Arc<dyn Store> {
    let dsn = sesame_store::Dsn::parse(&app.dsn()).unwrap();
    sesame_store::connect(&dsn).await.unwrap()
}

async fn admin_json(app: &TestApp, method: Method, path: &str, body: Value) -> Response {
    app.admin(method, path).json(&body).send().await.unwrap()
}

async fn session_id_of(app: &TestApp, token: &str) -> String {
    let body = expect_json(whoami(app, token).await, StatusCode::OK).await;
    body["id"].as_str().unwrap().to_owned()
}

/// `PATCH /admin/identities/{id}` replacing `/traits/name/first`.
async fn rename(app: &TestApp, identity: &str, first: &str) {
    let patch = json!([{"op": "add", "path": "/traits/name", "value": {"first": first}}]);
    let res = admin_json(
        app,
        Method::PATCH,
        &format!("/admin/identities/{identity}"),
        patch,
    )
    .await;
    expect_json(res, StatusCode::OK).await;
}

/// `PATCH /admin/identities/{id}` setting the state.
async fn set_state(app: &TestApp, identity: &str, state: &str) {
    let patch = json!([{"op": "replace", "path": "/state", "value": state}]);
    let res = admin_json(
        app,
        Method::PATCH,
        &format!("/admin/identities/{identity}"),
        patch,
    )
    .await;
    expect_json(res, StatusCode::OK).await;
}
