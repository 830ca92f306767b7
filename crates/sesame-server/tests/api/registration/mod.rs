//! Native (API) registration flows: init, fetch, password submit with and without the `session`
//! hook, validation and policy errors rendered into the flow, expiry, existing sessions.

mod errors;
mod expiry_and_sessions;
mod init;
mod success;

use crate::sdk::{log_in, sign_up};
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{self, Value, json};
use sesame_testkit::sesame_client::sesame_types::{Aal, ContinueWith, FlowType, IdentityState};
use sesame_testkit::sesame_client::{ErrorKind, UpdateRegistrationFlowBody, Uuid};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
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

/// `ory_st_` followed by 32 ASCII alphanumerics.
fn assert_session_token(token: &str) {
    let rest = token
        .strip_prefix("ory_st_")
        .unwrap_or_else(|| panic!("not a session token: {token}"));
    assert_eq!(rest.len(), 32, "{token}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
}

fn submit_to(app: &TestApp, flow_id: &str) -> sesame_testkit::reqwest::RequestBuilder {
    app.public(
        Method::POST,
        &format!("/self-service/registration?flow={flow_id}"),
    )
}

/// The SDK's body of a password registration of `email`.
fn registration_body(email: &str, password: &str) -> UpdateRegistrationFlowBody {
    UpdateRegistrationFlowBody::password(json!({"email": email}), password)
}

fn password_registration(email: &str, password: &str) -> Value {
    json!({"method": "password", "traits": {"email": email}, "password": password})
}

/// Submits `body` to a new flow and expects the 400 carrying that flow (not an envelope); returns
/// the flow and the raw body text.
async fn rejected(app: &TestApp, body: Value) -> (Value, String) {
    let flow = app.registration_flow().await;
    let id = flow["id"].as_str().unwrap();
    let res = submit_to(app, id).json(&body).send().await.unwrap();
    expect_flow(res, id).await
}

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
