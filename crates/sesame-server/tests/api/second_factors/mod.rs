//! Second factors end to end (spec part 2, §2.3–§4): TOTP and backup codes set up in the settings
//! flow, `aal=aal2` logins with them, and the whoami AAL rule over identities with and without
//! them. Helpers shared with the settings tests live here.

mod aal_matrix;
mod login;
mod lookup;
mod totp;

use crate::sdk::{PASSWORD, sign_up};
use sesame_core::Clock;
use sesame_testkit::reqwest::StatusCode;
use sesame_testkit::serde_json::Value;
use sesame_testkit::sesame_client::sesame_types::{
    Aal, LoginFlow, UiContainer, UiNodeAttributes, UiText,
};
use sesame_testkit::sesame_client::{
    Client, Error, ErrorKind, LookupSecretAction, SettingsFlow, UpdateSettingsFlowBody, Uuid,
};
use sesame_testkit::{TestApp, TestAppBuilder};

/// A server with TOTP and backup codes enabled.
pub async fn mfa_app(builder: TestAppBuilder) -> TestApp {
    mfa(builder).spawn().await
}

/// A builder with TOTP and backup codes enabled, for further overrides.
pub fn mfa(builder: TestAppBuilder) -> TestAppBuilder {
    builder
        .env("SELFSERVICE_METHODS_TOTP_ENABLED", "true")
        .env("SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED", "true")
}

/// The attributes of the non-input node whose `id` is `id` (`totp_qr`, `lookup_secret_codes` …).
pub fn other_node<'a>(
    ui: &'a UiContainer,
    id: &str,
) -> &'a sesame_testkit::serde_json::Map<String, Value> {
    ui.nodes
        .iter()
        .find_map(|n| match &n.attributes {
            UiNodeAttributes::Other(a) if a.get("id").and_then(Value::as_str) == Some(id) => {
                Some(a)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no node {id} in {ui:?}"))
}

/// The base32 secret a settings flow offers for linking.
pub fn offered_secret(flow: &SettingsFlow) -> String {
    other_node(&flow.ui, "totp_secret_key")["text"]["context"]["secret"]
        .as_str()
        .expect("the flow offers a TOTP secret")
        .to_owned()
}

/// Every node of a form, by name: inputs by `name` (`method` submits as `method=<value>`), other
/// nodes by their `id`.
pub fn node_names(ui: &UiContainer) -> Vec<String> {
    ui.nodes
        .iter()
        .map(|n| match &n.attributes {
            UiNodeAttributes::Input(a) if a.name == "method" => format!(
                "method={}",
                a.value.as_ref().and_then(Value::as_str).unwrap_or_default()
            ),
            UiNodeAttributes::Input(a) => a.name.clone(),
            UiNodeAttributes::Other(a) => a
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
        .collect()
}

/// The messages of the input node `name`.
pub fn node_messages<'a>(ui: &'a UiContainer, name: &str) -> &'a [UiText] {
    ui.nodes
        .iter()
        .find(|n| matches!(&n.attributes, UiNodeAttributes::Input(a) if a.name == name))
        .map(|n| n.messages.as_slice())
        .unwrap_or_else(|| panic!("no input {name} in {ui:?}"))
}

/// An API settings flow for the session `token`.
pub async fn settings_flow(sdk: &Client, token: &str) -> SettingsFlow {
    sdk.create_native_settings_flow()
        .x_session_token(token)
        .await
        .unwrap()
        .data
}

/// The SDK's `SettingsRejected`: a 400 carrying the settings flow `id`.
pub fn settings_rejected(err: &Error, id: Uuid) -> &SettingsFlow {
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");
    let ErrorKind::SettingsRejected(flow) = &err.kind else {
        panic!("expected the settings flow, got {err:?}");
    };
    assert_eq!(flow.id, id);
    flow
}

/// The SDK's `LoginRejected`: a 400 carrying the login flow `id`.
pub fn login_rejected(err: &Error, id: Uuid) -> &LoginFlow {
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");
    let ErrorKind::LoginRejected(flow) = &err.kind else {
        panic!("expected the login flow, got {err:?}");
    };
    assert_eq!(flow.id, id);
    flow
}

/// Links an authenticator app through a new API settings flow of `token`'s session: the secret.
/// The clock then moves one TOTP step on, so that the next code is not the (spent) linking code.
pub async fn link_totp(app: &TestApp, token: &str) -> String {
    let sdk = app.sdk();
    let flow = settings_flow(&sdk, token).await;
    let secret = offered_secret(&flow);
    let code = sesame_testkit::totp_code(&secret, app.clock.now());
    let saved = sdk
        .update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_link(&code))
        .x_session_token(token)
        .await
        .unwrap();
    assert_eq!(saved.data.state, "success");
    app.clock.advance(chrono::Duration::seconds(30));
    secret
}

/// The codes a `lookup_secret_codes` node shows, one per `context.secrets` entry: the code, or
/// `used` for a used one.
pub fn shown_codes(ui: &UiContainer) -> Vec<String> {
    let node = other_node(ui, "lookup_secret_codes");
    node["text"]["context"]["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| match m["id"].as_i64() {
            Some(1050009) => m["context"]["secret"].as_str().unwrap().to_owned(),
            Some(1050014) => "used".to_owned(),
            other => panic!("unexpected code message {other:?}: {m}"),
        })
        .collect()
}

/// Generates and confirms backup codes through a new API settings flow: the 12 codes.
pub async fn set_up_backup_codes(sdk: &Client, token: &str) -> Vec<String> {
    let flow = settings_flow(sdk, token).await;
    let shown = sdk
        .update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Regenerate),
        )
        .x_session_token(token)
        .await
        .unwrap();
    let codes = shown_codes(&shown.data.ui);
    let saved = sdk
        .update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Confirm),
        )
        .x_session_token(token)
        .await
        .unwrap();
    assert_eq!(saved.data.state, "success");
    codes
}

/// A password login of `email` (whose identity has a second factor): the aal1 session's token.
pub async fn password_only_session(sdk: &Client, email: &str) -> String {
    let login = sdk.login_with_password(email, PASSWORD).await.unwrap();
    assert_eq!(login.data.session.authenticator_assurance_level, Aal::Aal1);
    login.data.session_token.expect("a session token")
}

/// An `aal=aal2` API login flow for `token`'s session.
pub async fn aal2_flow(sdk: &Client, token: &str) -> LoginFlow {
    sdk.create_native_login_flow()
        .aal(Aal::Aal2)
        .x_session_token(token)
        .await
        .unwrap()
        .data
}

/// Signs `email` up and links TOTP: `(token of the now aal2 session, identity id, secret)`.
pub async fn user_with_totp(app: &TestApp, email: &str) -> (String, Uuid, String) {
    let (token, id) = sign_up(&app.sdk(), email).await;
    let secret = link_totp(app, &token).await;
    (token, id, secret)
}
