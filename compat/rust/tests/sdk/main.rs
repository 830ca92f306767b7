//! Sesame driven by Ory's official Rust SDK, `ory-kratos-client` 26.2.0: every operation Sesame
//! implements, through the SDK's generated functions and typed models, on SQLite and PostgreSQL.
//! Where the SDK cannot decode a shape from anyone (see `support`), the test says so and checks the
//! same JSON against the SDK's models through the shim.
//! Every response the SDK configurations receive passes through a validating proxy (`proxy`) that
//! checks its body against Kratos's OpenAPI document (`openapi`); each test ends with
//! `checks.finish()`, which fails on any mismatch and unless at least one body was validated.
//! Without the document (`SESAME_TEST_KRATOS_FIXTURES` unset, outside CI) every SDK test still
//! runs, unchecked, and the tests of the check itself are reported as ignored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod flows;
mod identities;
mod openapi;
mod proxy;
mod quickstart;
mod session_management;
mod sessions;
mod settings;
mod support;
mod totp;

use ory_kratos_client::apis::metadata_api;
use ory_kratos_client::models::{ContinueWith, UiNode, ui_node};
use serde_json::json;
use sesame_testkit::{Backend, TestApp, needs_kratos_fixtures};
use support::{SDK_DECODE_DEFECTS, continue_with_item, native};

#[test]
fn the_pinned_sdk_cannot_decode_kratos_ui_nodes_or_continue_with_items() {
    // Kratos's own csrf_token node (spec §5.4) and set_ory_session_token item (§5.9). When this
    // test fails, the pinned SDK decodes them: drop the shim and assert the SDK's values directly.
    let node = json!({"type": "input", "group": "default", "attributes": {"name": "csrf_token",
        "type": "hidden", "value": "", "required": true, "disabled": false, "node_type": "input"},
        "messages": [], "meta": {}});
    let err = serde_json::from_value::<UiNode>(node.clone()).unwrap_err();
    assert!(err.to_string().starts_with(SDK_DECODE_DEFECTS[0]), "{err}");
    let item = json!({"action": "set_ory_session_token", "ory_session_token": "ory_st_x"});
    let err = serde_json::from_value::<ContinueWith>(item.clone()).unwrap_err();
    assert!(err.to_string().starts_with(SDK_DECODE_DEFECTS[1]), "{err}");

    let shimmed = support::ui_node(&node);
    assert_eq!(shimmed.r#type, ui_node::TypeEnum::Input);
    assert_eq!(shimmed.group, ui_node::GroupEnum::Default);
    let ContinueWith::SetOrySessionToken(item) = continue_with_item(&item) else {
        panic!("wrong variant");
    };
    assert_eq!(item.ory_session_token, "ory_st_x");
}

needs_kratos_fixtures! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_sdk_response_is_checked_against_kratos_openapi_document() {
        openapi::required_document();
        let app = TestApp::spawn(Backend::Sqlite).await;
        let checks = proxy::Checks::for_app(&app).await;
        let ready = metadata_api::is_ready(&native(&checks.public_url))
            .await
            .expect("isReady");
        assert_eq!(ready.status, "ok");
        assert_eq!(checks.validated(), 1, "the answer went through the check");
        checks.finish();
    }
}
