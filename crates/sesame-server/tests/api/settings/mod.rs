//! The settings flow (spec part 2, §1–§2.2): the three 401s, the AAL rule per endpoint, the flow
//! JSON, identity checks, expiry, routing to a method, profile and password changes, the
//! privileged-session rule, hooks, and browser flows (CSRF, cookies, redirects). Behaviour goes
//! through the SDK; raw HTTP where the bytes on the wire are under test. Second factors are in
//! `second_factors`.

mod browser;
mod errors;
mod hooks;
mod init;
mod password;
mod privileged;
mod profile;

pub use crate::sdk::{PASSWORD, log_in, message, only_ui_message, sign_up};
pub use crate::second_factors::{mfa, node_messages, node_names, settings_flow, settings_rejected};
pub use sesame_core::Clock;
pub use sesame_testkit::reqwest::{Method, RequestBuilder, Response, StatusCode};
pub use sesame_testkit::serde_json::{self, Value, json};
pub use sesame_testkit::sesame_client::sesame_types::{Aal, FlowType, UiText};
pub use sesame_testkit::sesame_client::{LookupSecretAction, UpdateSettingsFlowBody, Uuid};
pub use sesame_testkit::{Backend, TestApp, TestAppBuilder, api_test, expect_json};
use sha2::{Digest, Sha256};

/// `selfservice.flows.settings.ui_url` in these tests.
pub const SETTINGS_UI: &str = "https://ui.example.com/settings";
/// `selfservice.flows.login.ui_url` in these tests.
pub const LOGIN_UI: &str = "https://ui.example.com/login";

/// A server whose settings and login UIs are [`SETTINGS_UI`] and [`LOGIN_UI`], so that redirects
/// can be pinned.
pub fn builder(backend: Backend) -> TestAppBuilder {
    TestApp::builder(backend)
        .env("SELFSERVICE_FLOWS_SETTINGS_UI_URL", SETTINGS_UI)
        .env("SELFSERVICE_FLOWS_LOGIN_UI_URL", LOGIN_UI)
}

/// The `name=value` of the `Set-Cookie` named `name`, if the response sets it.
pub fn cookie_pair(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.split_once('=').is_some_and(|(n, _)| n == name))
}

/// `csrf_token_` + hex SHA-256 of the public base URL (spec §5.5).
pub fn csrf_cookie_name(app: &TestApp) -> String {
    format!(
        "csrf_token_{:x}",
        Sha256::digest(format!("{}/", app.public_url).as_bytes())
    )
}

/// A session cookie for `token`, sealed as the test server seals them.
pub fn session_cookie(token: &str) -> String {
    sesame_testkit::sealed_session_cookie(token, chrono::Utc::now() + chrono::Duration::hours(24))
}

/// The keys of a JSON object, in order.
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A request with `X-Session-Token` (and no `Accept`).
pub fn with_token(app: &TestApp, method: Method, path: &str, token: &str) -> RequestBuilder {
    app.public(method, path).header("X-Session-Token", token)
}

/// `POST /self-service/settings?flow=<id>` with a JSON body and `X-Session-Token`.
pub async fn submit_api(app: &TestApp, id: Uuid, token: &str, body: Value) -> Response {
    with_token(
        app,
        Method::POST,
        &format!("/self-service/settings?flow={id}"),
        token,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

/// The exact text of a herodot envelope: `{"error":{…}}\n` with the fields given in order.
pub fn envelope(error: Value) -> String {
    format!("{}\n", json!({ "error": error }))
}

/// Asserts an error response: status, `Content-Type`, `Ory-Error-Id` and the exact body.
pub async fn assert_error(res: Response, status: StatusCode, id: &str, body: &str) {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["ory-error-id"], id);
    assert_eq!(res.text().await.unwrap(), body);
}

/// The value of a flow's `csrf_token` node.
pub fn csrf_of(flow: &Value) -> String {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "csrf_token")
        .unwrap_or_else(|| panic!("no csrf_token in {flow}"))["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GET /self-service/settings/browser` as a single-page app with the session cookie of `token`:
/// the flow and the whole `Cookie` header to continue with (session + anti-CSRF cookie).
pub async fn spa_settings_flow(app: &TestApp, token: &str) -> (Value, String) {
    let session = session_cookie(token);
    let res = app
        .public(Method::GET, "/self-service/settings/browser")
        .header("Accept", "application/json")
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    let csrf = cookie_pair(&res, &csrf_cookie_name(app)).expect("an anti-CSRF cookie");
    let flow = expect_json(res, StatusCode::OK).await;
    (flow, format!("{session}; {csrf}"))
}

/// `POST /self-service/settings?flow=<id>` of a browser with `cookie`.
pub fn browser_submit(app: &TestApp, flow: &Value, cookie: &str) -> RequestBuilder {
    let id = flow["id"].as_str().unwrap();
    app.public(Method::POST, &format!("/self-service/settings?flow={id}"))
        .header("Cookie", cookie)
}

/// An HTML form body.
pub fn form(req: RequestBuilder, pairs: &[(&str, &str)]) -> RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    req.header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

/// The `Location` of a redirect.
pub fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// `application/x-www-form-urlencoded` of one value, as Go's `url.QueryEscape` writes it.
pub fn query_escape(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
