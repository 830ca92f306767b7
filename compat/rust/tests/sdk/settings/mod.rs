//! The settings flow and second factors through the SDK: `create_native_settings_flow`,
//! `create_browser_settings_flow`, `get_settings_flow`, `update_settings_flow` with the
//! `UpdateSettingsFlowBody` variants `Profile`, `Password`, `Totp` and `LookupSecret`, then
//! `aal=aal2` logins with `UpdateLoginFlowBody::Totp` and `::LookupSecret`, and `to_session` at
//! aal2.
//!
//! Every settings flow carries UI nodes, which the pinned SDK cannot decode (see `support`): its
//! settings calls are made, and when only that defect stops them, the flow is read again through
//! the shim (`get_settings_flow`'s request with the configuration's client). Every request body is
//! the SDK's own model. Those serialize with `method` twice (the enum's tag and the variant
//! struct's own `method` field, a generator quirk); Kratos's and Sesame's decoders keep the last
//! key, both carry the same value, so the bodies go through the SDK unchanged.
//!
//! TOTP codes come from `crate::totp` at the server's clock (a `FixedClock` the test moves; its
//! time is read off the flows' `issued_at`). Sesame refuses a code that already linked an app or
//! completed a login (docs/compatibility.md difference 8), so logins after linking use the next
//! 30-second step.

mod native;
mod second_factors;

use crate::support::*;
use crate::totp;
use ory_kratos_client::apis::configuration::Configuration;
use ory_kratos_client::apis::{Error, ResponseContent, frontend_api};
use ory_kratos_client::models::{
    AuthenticatorAssuranceLevel, ContinueWith, ErrorGeneric, GenericError, LoginFlow, SettingsFlow,
    UpdateLoginFlowBody, UpdateLoginFlowWithLookupSecretMethod, UpdateLoginFlowWithTotpMethod,
    UpdateSettingsFlowBody, UpdateSettingsFlowWithLookupMethod,
    UpdateSettingsFlowWithPasswordMethod, UpdateSettingsFlowWithProfileMethod,
    UpdateSettingsFlowWithTotpMethod, session_authentication_method::MethodEnum,
};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test};
use std::fmt::Debug;

const NEW_PASSWORD: &str = "another-good-passphrase-43";

/// A server with TOTP and backup codes on (Kratos's variable names).
async fn mfa_app(backend: sesame_testkit::Backend) -> TestApp {
    TestApp::builder(backend)
        .env("SELFSERVICE_METHODS_TOTP_ENABLED", "true")
        .env("SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED", "true")
        .spawn()
        .await
}

// ---- request bodies: the SDK's models ----------------------------------------------------------

fn profile(traits: Value, csrf_token: Option<String>) -> UpdateSettingsFlowBody {
    UpdateSettingsFlowBody::Profile(Box::new(UpdateSettingsFlowWithProfileMethod {
        csrf_token,
        ..UpdateSettingsFlowWithProfileMethod::new("profile".into(), traits)
    }))
}

fn password(new: &str) -> UpdateSettingsFlowBody {
    UpdateSettingsFlowBody::Password(Box::new(UpdateSettingsFlowWithPasswordMethod::new(
        "password".into(),
        new.into(),
    )))
}

fn totp_link(code: &str, csrf_token: Option<String>) -> UpdateSettingsFlowBody {
    UpdateSettingsFlowBody::Totp(Box::new(UpdateSettingsFlowWithTotpMethod {
        csrf_token,
        totp_code: Some(code.into()),
        ..UpdateSettingsFlowWithTotpMethod::new("totp".into())
    }))
}

fn lookup(set: impl FnOnce(&mut UpdateSettingsFlowWithLookupMethod)) -> UpdateSettingsFlowBody {
    let mut body = UpdateSettingsFlowWithLookupMethod::new("lookup_secret".into());
    set(&mut body);
    UpdateSettingsFlowBody::LookupSecret(Box::new(body))
}

fn totp_login(code: &str, csrf_token: Option<String>) -> UpdateLoginFlowBody {
    UpdateLoginFlowBody::Totp(Box::new(UpdateLoginFlowWithTotpMethod {
        csrf_token,
        ..UpdateLoginFlowWithTotpMethod::new("totp".into(), code.into())
    }))
}

fn lookup_login(code: &str) -> UpdateLoginFlowBody {
    UpdateLoginFlowBody::LookupSecret(Box::new(UpdateLoginFlowWithLookupSecretMethod::new(
        code.into(),
        "lookup_secret".into(),
    )))
}

// ---- reading answers ---------------------------------------------------------------------------

/// The status and body of an SDK call that the server answered with an error status.
fn response_error<T: Debug, E: Debug>(result: Result<T, Error<E>>) -> (StatusCode, String) {
    match result {
        Err(Error::ResponseError(ResponseContent {
            status, content, ..
        })) => (status, content),
        other => panic!("expected an error status, got {other:?}"),
    }
}

/// An error envelope as the SDK typed it. The generated error enums are untagged, so an envelope
/// lands in the first variant that holds an `ErrorGeneric` whatever the status; this reads it from
/// whichever that was.
fn sdk_error_body<T: Debug, E: Debug + Serialize>(
    result: Result<T, Error<E>>,
    expected: StatusCode,
) -> GenericError {
    sdk_error_and_content(result, expected).0
}

/// [`sdk_error_body`] with the body as sent (for the fields next to the envelope).
fn sdk_error_and_content<T: Debug, E: Debug + Serialize>(
    result: Result<T, Error<E>>,
    expected: StatusCode,
) -> (GenericError, Value) {
    match result {
        Err(Error::ResponseError(ResponseContent {
            status,
            entity: Some(entity),
            content,
        })) => {
            assert_eq!(status, expected, "{content}");
            let body: ErrorGeneric = decode(&serde_json::to_value(&entity).unwrap());
            (*body.error, serde_json::from_str(&content).unwrap())
        }
        other => panic!("expected a typed error envelope, got {other:?}"),
    }
}

/// The SDK's settings flow, or the same flow read again through the shim.
async fn flow_after<E: Debug>(
    sdk: Result<SettingsFlow, Error<E>>,
    config: &Configuration,
    id: &str,
    token: &str,
) -> SettingsFlow {
    let path = format!("/self-service/settings/flows?id={id}");
    or_shim(sdk, || async {
        settings_flow(get_json_with_token(config, &path, token).await)
    })
    .await
}

fn state(flow: &SettingsFlow) -> &str {
    flow.state.as_ref().and_then(Value::as_str).unwrap_or("")
}

/// The base32 secret the flow offers for linking an app.
fn offered_secret(flow: &SettingsFlow) -> String {
    let node = text_node(&flow.ui, "totp_secret_key").expect("the flow offers a TOTP secret");
    let secret = node.text.context.as_ref().unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(node.text.text, secret);
    assert_eq!(secret.len(), 32, "160 bits in base32, unpadded: {secret}");
    secret
}

/// The backup codes a flow shows.
fn shown_codes(flow: &SettingsFlow) -> Vec<String> {
    let node = text_node(&flow.ui, "lookup_secret_codes").expect("the flow shows backup codes");
    node.text.context.as_ref().unwrap()["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["context"]["secret"].as_str().unwrap().to_owned())
        .collect()
}

/// The server's clock in Unix seconds, as a flow's `issued_at` shows it.
fn server_time(issued_at: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(issued_at)
        .unwrap()
        .timestamp()
}

/// `to_session`'s AAL and AMR methods for a token.
async fn aal_and_methods(
    config: &Configuration,
    token: &str,
) -> (AuthenticatorAssuranceLevel, Vec<MethodEnum>) {
    let session = frontend_api::to_session(config, Some(token), None, None)
        .await
        .expect("toSession");
    (
        session.authenticator_assurance_level.unwrap(),
        session
            .authentication_methods
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m.method)
            .collect(),
    )
}

/// A native `aal=aal2` login flow for `token`.
async fn aal2_login_flow(config: &Configuration, token: &str, refresh: bool) -> LoginFlow {
    let refresh = refresh.then_some(true);
    let path = format!(
        "/self-service/login/api?aal=aal2{}",
        if refresh.is_some() {
            "&refresh=true"
        } else {
            ""
        }
    );
    or_shim(
        frontend_api::create_native_login_flow(
            config,
            refresh,
            Some("aal2"),
            Some(token),
            None,
            None,
            None,
            None,
            None,
        )
        .await,
        || async { login_flow(get_json_with_token(config, &path, token).await) },
    )
    .await
}

/// A password login through the SDK; returns the session token (its session may owe a factor).
async fn password_login(config: &Configuration, email: &str, password: &str) -> String {
    let flow = login_flow(get_json(config, "/self-service/login/api", None).await);
    frontend_api::update_login_flow(
        config,
        &flow.id,
        login_body(email, password, None),
        None,
        None,
    )
    .await
    .expect("updateLoginFlow")
    .session_token
    .expect("a session token")
}

/// `application/x-www-form-urlencoded` escaping of one value, as Go's `url.QueryEscape`.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_sdk_bodies_name_their_method_twice() {
    // The generator quirk the module docs describe: the enum's tag and the variant's own field.
    // When this fails, the SDK sends `method` once; drop the remark.
    assert_eq!(
        serde_json::to_string(&password("x")).unwrap(),
        r#"{"method":"password","method":"password","password":"x"}"#
    );
    assert_eq!(
        serde_json::to_string(&lookup_login("abcd1234")).unwrap(),
        r#"{"method":"lookup_secret","lookup_secret":"abcd1234","method":"lookup_secret"}"#
    );
}
