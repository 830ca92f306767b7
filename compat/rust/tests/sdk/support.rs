//! Helpers for the SDK suite: SDK configurations for a running Sesame, cookies, request bodies, and
//! a decoding shim for the two shapes that ory-kratos-client 26.2.0 cannot decode from anyone.
//!
//! The SDK's defect: Kratos's OpenAPI document makes `uiNodeAttributes` (by `node_type`) and
//! `continueWith` (by `action`) discriminated unions whose variants also *require* the
//! discriminator. The generator turns them into `#[serde(tag = "…")]` enums, serde consumes the
//! tag, and the variant then reports it missing. So every flow with UI nodes and every success body
//! with a `continue_with` item fails with `missing field \`node_type\``/`\`action\``, from Kratos as
//! from Sesame. The shim decodes the same JSON with the SDK's own models, one union at a time, so
//! every other field is still checked by the SDK's types.

use ory_kratos_client::apis::Error;
use ory_kratos_client::apis::configuration::Configuration;
use ory_kratos_client::models::{
    ContinueWith, LoginFlow, RegistrationFlow, SettingsFlow, SuccessfulNativeLogin,
    SuccessfulNativeRegistration, UiContainer, UiNode, UiNodeAttributes, UiNodeInputAttributes,
    UiNodeTextAttributes, UpdateLoginFlowBody, UpdateLoginFlowWithPasswordMethod,
    UpdateRegistrationFlowBody, UpdateRegistrationFlowWithPasswordMethod,
};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt::Debug;
use std::future::Future;

/// A password every test user gets.
pub const PASSWORD: &str = "a-very-good-passphrase-42";

/// The start of the SDK's error for its two undecodable unions.
pub const SDK_DECODE_DEFECTS: [&str; 2] = ["missing field `node_type`", "missing field `action`"];

/// The SDK as a native app or a backend uses it: its default client, nothing added.
pub fn native(base_path: &str) -> Configuration {
    Configuration {
        base_path: base_path.to_owned(),
        ..Configuration::default()
    }
}

/// The SDK as a single-page app's backend uses it for browser flows: `Accept: application/json`
/// (else browser endpoints answer with redirects, in Kratos as in Sesame) and no redirects followed.
pub fn browser(base_path: &str) -> Configuration {
    client_with(base_path, header::ACCEPT, "application/json")
}

/// The SDK with `Authorization: Bearer <token>` on every request. `to_session` ignores the
/// configuration's `bearer_access_token` (whoami declares no security scheme in Kratos's OpenAPI
/// document), so the header goes on the configuration's client, as an app would set it.
pub fn bearer(base_path: &str, token: &str) -> Configuration {
    client_with(base_path, header::AUTHORIZATION, &format!("Bearer {token}"))
}

fn client_with(base_path: &str, name: header::HeaderName, value: &str) -> Configuration {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_str(value).unwrap());
    Configuration {
        base_path: base_path.to_owned(),
        client: reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        ..Configuration::default()
    }
}

/// Whether an SDK error is its own decoding defect (see the module docs).
pub fn is_sdk_defect<E>(error: &Error<E>) -> bool {
    matches!(error, Error::Serde(e) if SDK_DECODE_DEFECTS.iter().any(|d| e.to_string().starts_with(d)))
}

/// The SDK's value; or, when the SDK failed only on its own decoding defect, `shim`'s (the same
/// read made with the configuration's client and decoded through the shim). Anything else fails.
pub async fn or_shim<T, E: Debug, F: Future<Output = T>>(
    sdk: Result<T, Error<E>>,
    shim: impl FnOnce() -> F,
) -> T {
    match sdk {
        Ok(value) => value,
        Err(e) if is_sdk_defect(&e) => shim().await,
        Err(e) => panic!("the SDK call failed: {e:?}"),
    }
}

/// The SDK's value, or `None` when the SDK failed only on its own decoding defect.
pub fn unless_sdk_defect<T, E: Debug>(sdk: Result<T, Error<E>>) -> Option<T> {
    match sdk {
        Ok(value) => Some(value),
        Err(e) if is_sdk_defect(&e) => None,
        Err(e) => panic!("the SDK call failed: {e:?}"),
    }
}

/// Decodes with the field path in the failure message (`ui.nodes[2].meta: missing field …`).
pub fn decode<T: DeserializeOwned>(value: &Value) -> T {
    serde_path_to_error::deserialize(value.clone())
        .unwrap_or_else(|e| panic!("the SDK's model does not accept Sesame's JSON at {e}: {value}"))
}

/// A UI node through the SDK's models, its attributes by `node_type`.
pub fn ui_node(node: &Value) -> UiNode {
    let a = &node["attributes"];
    let attributes = match a["node_type"].as_str() {
        Some("input") => UiNodeAttributes::Input(decode(a)),
        Some("text") => UiNodeAttributes::Text(decode(a)),
        Some("img") => UiNodeAttributes::Img(decode(a)),
        Some("a") => UiNodeAttributes::A(decode(a)),
        Some("script") => UiNodeAttributes::Script(decode(a)),
        Some("div") => UiNodeAttributes::Div(decode(a)),
        other => panic!("node attributes with node_type {other:?}: {node}"),
    };
    UiNode {
        attributes: Box::new(attributes),
        group: decode(&node["group"]),
        messages: decode(&node["messages"]),
        meta: decode(&node["meta"]),
        r#type: decode(&node["type"]),
    }
}

/// A `continue_with` item through the SDK's models, by `action`.
pub fn continue_with_item(item: &Value) -> ContinueWith {
    match item["action"].as_str() {
        Some("set_ory_session_token") => ContinueWith::SetOrySessionToken(decode(item)),
        Some("redirect_browser_to") => ContinueWith::RedirectBrowserTo(decode(item)),
        Some("show_verification_ui") => ContinueWith::ShowVerificationUi(decode(item)),
        Some("show_settings_ui") => ContinueWith::ShowSettingsUi(decode(item)),
        Some("show_recovery_ui") => ContinueWith::ShowRecoveryUi(decode(item)),
        other => panic!("continue_with item with action {other:?}: {item}"),
    }
}

fn take_nodes(flow: &mut Value) -> Vec<UiNode> {
    let nodes = flow["ui"]["nodes"].take();
    flow["ui"]["nodes"] = json!([]);
    let Value::Array(nodes) = nodes else {
        panic!("ui.nodes is not an array: {flow}");
    };
    nodes.iter().map(ui_node).collect()
}

fn take_continue_with(body: &mut Value) -> Option<Vec<ContinueWith>> {
    match body.get_mut("continue_with").map(Value::take) {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.iter().map(continue_with_item).collect()),
        Some(other) => panic!("continue_with is neither null nor an array: {other}"),
    }
}

/// A registration flow's JSON as the SDK's `RegistrationFlow`.
pub fn registration_flow(mut json: Value) -> RegistrationFlow {
    let nodes = take_nodes(&mut json);
    let mut flow: RegistrationFlow = decode(&json);
    flow.ui.nodes = nodes;
    flow
}

/// A login flow's JSON as the SDK's `LoginFlow`.
pub fn login_flow(mut json: Value) -> LoginFlow {
    let nodes = take_nodes(&mut json);
    let mut flow: LoginFlow = decode(&json);
    flow.ui.nodes = nodes;
    flow
}

/// A settings flow's JSON as the SDK's `SettingsFlow` (its nodes, and the `continue_with` items
/// of a browser submit's answer, through the shim).
pub fn settings_flow(mut json: Value) -> SettingsFlow {
    let nodes = take_nodes(&mut json);
    let continue_with = take_continue_with(&mut json);
    let mut flow: SettingsFlow = decode(&json);
    flow.ui.nodes = nodes;
    flow.continue_with = continue_with;
    flow
}

/// A registration success body as the SDK's `SuccessfulNativeRegistration`.
pub fn registration_success(mut json: Value) -> SuccessfulNativeRegistration {
    let continue_with = take_continue_with(&mut json);
    let mut success: SuccessfulNativeRegistration = decode(&json);
    success.continue_with = continue_with;
    success
}

/// A login success body as the SDK's `SuccessfulNativeLogin`.
pub fn login_success(mut json: Value) -> SuccessfulNativeLogin {
    let continue_with = take_continue_with(&mut json);
    let mut success: SuccessfulNativeLogin = decode(&json);
    success.continue_with = continue_with;
    success
}

/// The input node named `name`.
pub fn input<'a>(ui: &'a UiContainer, name: &str) -> &'a UiNodeInputAttributes {
    ui.nodes
        .iter()
        .find_map(|n| match n.attributes.as_ref() {
            UiNodeAttributes::Input(a) if a.name == name => Some(a.as_ref()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no input node {name:?} in {ui:?}"))
}

/// Whether the UI has an input node named `name`.
pub fn has_input(ui: &UiContainer, name: &str) -> bool {
    ui.nodes
        .iter()
        .any(|n| matches!(n.attributes.as_ref(), UiNodeAttributes::Input(a) if a.name == name))
}

/// The text node whose `attributes.id` is `id` (`totp_secret_key`, `lookup_secret_codes`).
pub fn text_node<'a>(ui: &'a UiContainer, id: &str) -> Option<&'a UiNodeTextAttributes> {
    ui.nodes.iter().find_map(|n| match n.attributes.as_ref() {
        UiNodeAttributes::Text(a) if a.id == id => Some(a.as_ref()),
        _ => None,
    })
}

/// The ids of the UI's global messages.
pub fn message_ids(ui: &UiContainer) -> Vec<i64> {
    ui.messages.iter().flatten().map(|m| m.id).collect()
}

/// The ids of the messages on the input node named `name`.
pub fn node_message_ids(ui: &UiContainer, name: &str) -> Vec<i64> {
    ui.nodes
        .iter()
        .filter(|n| matches!(n.attributes.as_ref(), UiNodeAttributes::Input(a) if a.name == name))
        .flat_map(|n| n.messages.iter().map(|m| m.id))
        .collect()
}

/// The value of the flow's `csrf_token` node.
pub fn csrf_token(ui: &UiContainer) -> String {
    match &input(ui, "csrf_token").value {
        Some(Some(Value::String(token))) => token.clone(),
        other => panic!("csrf_token value {other:?}"),
    }
}

/// `updateRegistrationFlowWithPasswordMethod`.
pub fn registration_body(email: &str, csrf_token: Option<String>) -> UpdateRegistrationFlowBody {
    UpdateRegistrationFlowBody::Password(Box::new(UpdateRegistrationFlowWithPasswordMethod {
        csrf_token,
        ..UpdateRegistrationFlowWithPasswordMethod::new(
            "password".into(),
            PASSWORD.into(),
            json!({ "email": email }),
        )
    }))
}

/// `updateLoginFlowWithPasswordMethod`.
pub fn login_body(
    identifier: &str,
    password: &str,
    csrf_token: Option<String>,
) -> UpdateLoginFlowBody {
    UpdateLoginFlowBody::Password(Box::new(UpdateLoginFlowWithPasswordMethod {
        csrf_token,
        ..UpdateLoginFlowWithPasswordMethod::new(
            identifier.into(),
            "password".into(),
            password.into(),
        )
    }))
}

/// `name=value` of the response's `Set-Cookie` whose name starts with `prefix`.
pub fn set_cookie(headers: &HeaderMap, prefix: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(prefix))
        .map(str::to_owned)
}

/// The 200 JSON answer to a GET made with the configuration's client (what the SDK's read would
/// have sent).
pub async fn get_json(config: &Configuration, path_and_query: &str, cookie: Option<&str>) -> Value {
    get_json_and_headers(config, path_and_query, cookie).await.0
}

/// [`get_json`] for a native app: the session token in `X-Session-Token`.
pub async fn get_json_with_token(
    config: &Configuration,
    path_and_query: &str,
    token: &str,
) -> Value {
    let res = config
        .client
        .get(format!("{}{path_and_query}", config.base_path))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path_and_query}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// [`get_json`] with the answer's headers (for its `Set-Cookie`).
pub async fn get_json_and_headers(
    config: &Configuration,
    path_and_query: &str,
    cookie: Option<&str>,
) -> (Value, HeaderMap) {
    let mut req = config
        .client
        .get(format!("{}{path_and_query}", config.base_path));
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path_and_query}: {text}");
    (serde_json::from_str(&text).unwrap(), headers)
}

/// `POST <path>` with an SDK body, as the SDK's `update_*_flow` sends it, with the configuration's
/// client; the JSON answer (asserting `status`) and its headers.
pub async fn post_json(
    config: &Configuration,
    path_and_query: &str,
    body: &impl serde::Serialize,
    cookie: Option<&str>,
    status: StatusCode,
) -> (Value, HeaderMap) {
    let mut req = config
        .client
        .post(format!("{}{path_and_query}", config.base_path))
        .json(body);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = req.send().await.unwrap();
    let (got, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "POST {path_and_query}: {text}");
    (serde_json::from_str(&text).unwrap(), headers)
}

/// Signs a new user up through a browser registration flow (SDK bodies and models, the
/// configuration's client for the cookies) and returns the session cookie and the identity id.
pub async fn browser_sign_up(public_url: &str, email: &str) -> (String, String) {
    let config = browser(public_url);
    let (json, headers) =
        get_json_and_headers(&config, "/self-service/registration/browser", None).await;
    let csrf_cookie = set_cookie(&headers, "csrf_token_").expect("an anti-CSRF cookie");
    let flow = registration_flow(json);
    let (json, headers) = post_json(
        &config,
        &format!("/self-service/registration?flow={}", flow.id),
        &registration_body(email, Some(csrf_token(&flow.ui))),
        Some(&csrf_cookie),
        StatusCode::OK,
    )
    .await;
    let session_cookie = set_cookie(&headers, "ory_kratos_session=").expect("a session cookie");
    (session_cookie, registration_success(json).identity.id)
}
