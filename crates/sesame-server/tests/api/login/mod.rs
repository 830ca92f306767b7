//! Native (API) login flows: init, fetch, password submit, every error rendered into the flow or
//! answered as an envelope, expiry, `refresh`, `aal`, disabled identities and hash migration.

mod aal;
mod admin_identities;
mod errors;
mod existing_session;
mod expiry;
mod init;
mod success;

use crate::sdk::{input, log_in, message, only_ui_message, sign_up, use_flow_id};
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{self, Value, json};
use sesame_testkit::sesame_client::sesame_types::identity::{
    CredentialsBody, PasswordConfigBody, PasswordCredentialsBody,
};
use sesame_testkit::sesame_client::sesame_types::{
    Aal, CreateIdentityBody, FlowType, IdentityState, LoginFlow,
};
use sesame_testkit::sesame_client::{Error, ErrorKind, UpdateLoginFlowBody, Uuid};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
const INVALID_CREDENTIALS: &str = "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.";
const ALREADY_LOGGED_IN: &str = "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?";
const NOT_FOUND_BODY: &str = "{\"error\":{\"code\":404,\"status\":\"Not Found\",\"message\":\"Unable to locate the resource\"}}\n";

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The input node named `name`.
fn node<'a>(flow: &'a Value, name: &str) -> &'a Value {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {flow}"))
}

fn node_names(flow: &Value) -> Vec<&str> {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["attributes"]["name"].as_str().unwrap())
        .collect()
}

/// `ory_st_` followed by 32 ASCII alphanumerics.
fn assert_session_token(token: &str) {
    let rest = token
        .strip_prefix("ory_st_")
        .unwrap_or_else(|| panic!("not a session token: {token}"));
    assert_eq!(rest.len(), 32, "{token}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
}

fn submit_to(app: &TestApp, flow_id: &str) -> sesame_testkit::reqwest::RequestBuilder {
    app.public(Method::POST, &format!("/self-service/login?flow={flow_id}"))
}

async fn submit_json(app: &TestApp, flow_id: &str, body: Value) -> Response {
    submit_to(app, flow_id).json(&body).send().await.unwrap()
}

fn password_login(identifier: &str, password: &str) -> Value {
    json!({"method": "password", "identifier": identifier, "password": password})
}

/// A 400 answer carrying the login flow `flow_id` (not an envelope), with the raw text.
async fn expect_flow(res: Response, flow_id: &str) -> (Value, String) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    let flow: Value = serde_json::from_str(&text).unwrap();
    assert!(
        flow.get("error").is_none(),
        "an envelope instead of the flow: {text}"
    );
    assert_eq!(flow["id"], flow_id);
    assert_eq!(flow["type"], "api");
    (flow, text)
}

/// The SDK's `LoginRejected`: a 400 carrying the API login flow `flow_id` (not an envelope).
fn expect_rejected(err: &Error, flow_id: Uuid) -> &LoginFlow {
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");
    let headers = &err.response.as_ref().unwrap().headers;
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    let ErrorKind::LoginRejected(flow) = &err.kind else {
        panic!("expected the flow, got {err:?}");
    };
    assert_eq!(flow.id, flow_id);
    assert_eq!(flow.flow_type, FlowType::Api);
    flow
}

/// Admin-API credentials importing a password (`password`) or a hash (`hashed_password`).
fn password_credentials(config: PasswordConfigBody) -> Option<CredentialsBody> {
    Some(CredentialsBody {
        password: Some(PasswordCredentialsBody { config }),
    })
}

/// The one global message of a flow rendered with an error.
fn only_message(flow: &Value) -> &Value {
    let messages = flow["ui"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no ui.messages: {flow}"));
    assert_eq!(messages.len(), 1, "{flow}");
    &messages[0]
}
