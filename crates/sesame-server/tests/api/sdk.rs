//! Helpers for the tests that drive Sesame through its Rust SDK (`app.sdk()`), end to end: the
//! behaviour under test is what an app using `sesame-client` sees. Raw HTTP stays where the wire
//! itself is under test.

use sesame_testkit::serde_json::json;
use sesame_testkit::sesame_client::sesame_types::flow::InputAttributes;
use sesame_testkit::sesame_client::sesame_types::{UiContainer, UiNodeAttributes, UiText};
use sesame_testkit::sesame_client::{
    Client, Error, ErrorKind, StatusCode, UpdateRegistrationFlowBody, Uuid,
};

/// The password every test user signs up with.
pub const PASSWORD: &str = "a-very-good-passphrase-42";

/// whoami's 401 body: Kratos's, plus `"id":"session_inactive"` (DESIGN.md difference 1).
pub const INACTIVE_BODY: &str = "{\"error\":{\"id\":\"session_inactive\",\"code\":401,\"status\":\"Unauthorized\",\"reason\":\"No valid session credentials found in the request.\",\"message\":\"The request could not be authorized\"}}\n";

/// Signs `email` up with [`PASSWORD`] through a native registration (the `session` hook signs the
/// new identity in): the session token and the identity id.
pub async fn sign_up(sdk: &Client, email: &str) -> (String, Uuid) {
    let flow = sdk.create_native_registration_flow().await.unwrap();
    let body = UpdateRegistrationFlowBody::password(json!({"email": email}), PASSWORD);
    let done = sdk
        .update_registration_flow(flow.data.id, &body)
        .await
        .unwrap_or_else(|e| panic!("registration of {email} failed: {e:?}"));
    assert_eq!(done.status, StatusCode::OK);
    let token = done.data.session_token.clone().expect("a session token");
    (token, done.data.identity.id)
}

/// Logs `identifier` in with `password` through a native login flow: the session token.
pub async fn log_in(sdk: &Client, identifier: &str, password: &str) -> String {
    let res = sdk
        .login_with_password(identifier, password)
        .await
        .unwrap_or_else(|e| panic!("login of {identifier} failed: {e:?}"));
    assert_eq!(res.status, StatusCode::OK);
    res.data.session_token.expect("a session token")
}

/// whoami refused the credentials: the SDK says `SessionInactive`, and the answer is the exact 401
/// (`Content-Type`, `Ory-Error-Id`, body) that clients code against.
pub fn assert_session_inactive(err: &Error) {
    assert!(
        matches!(err.kind, ErrorKind::SessionInactive),
        "expected SessionInactive, got {err:?}"
    );
    let res = err.response.as_ref().expect("a response");
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers["content-type"], "application/json");
    assert_eq!(res.headers["ory-error-id"], "session_inactive");
    assert_eq!(res.text(), INACTIVE_BODY);
}

/// The `use_flow_id` of a 410 `self_service_flow_expired` refusal: the replacement flow. The SDK
/// has no typed accessor for it, so it is read from the error envelope's top-level extras.
pub fn use_flow_id(err: &Error) -> Uuid {
    assert_eq!(err.id(), Some("self_service_flow_expired"), "{err:?}");
    err.use_flow_id()
        .expect("use_flow_id names the replacement flow")
}

/// The `input` node named `name` of a flow's form.
pub fn input<'a>(ui: &'a UiContainer, name: &str) -> &'a InputAttributes {
    ui.nodes
        .iter()
        .find_map(|node| match &node.attributes {
            UiNodeAttributes::Input(input) if input.name == name => Some(input),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no input {name} in {ui:?}"))
}

/// A UI message without context, as the flows render them.
pub fn message(id: u32, text: &str, kind: &str) -> UiText {
    UiText {
        id,
        text: text.to_owned(),
        kind: kind.to_owned(),
        context: None,
    }
}

/// The one global message of a flow rendered with an error.
pub fn only_ui_message(ui: &UiContainer) -> &UiText {
    assert_eq!(ui.messages.len(), 1, "{:?}", ui.messages);
    &ui.messages[0]
}
