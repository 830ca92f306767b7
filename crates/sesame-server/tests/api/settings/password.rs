//! The `password` method (spec part 2, §2.2): a new password without the old one, the policy's
//! node messages, and the credential it replaces.

use super::*;
use crate::second_factors::login_rejected;
use sesame_testkit::sesame_client::UpdateLoginFlowBody;

const NEW_PASSWORD: &str = "another-good-passphrase-7";

fn error_with(id: u32, text: &str, context: Value) -> UiText {
    UiText {
        id,
        text: text.to_owned(),
        kind: "error".to_owned(),
        context: context.as_object().cloned(),
    }
}

api_test!(
    a_password_change_lets_the_new_password_log_in_and_not_the_old_one,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "change@example.com").await;
        let before = sdk.to_session().x_session_token(&token).await.unwrap();
        let flow = settings_flow(&sdk, &token).await;
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(NEW_PASSWORD))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.status, StatusCode::OK);
        assert_eq!(saved.data.state, "success");
        assert_eq!(
            only_ui_message(&saved.data.ui),
            &message(1050001, "Your changes have been saved!", "success")
        );
        assert_eq!(crate::sdk::input(&saved.data.ui, "password").value, None);

        log_in(&sdk, "change@example.com", NEW_PASSWORD).await;
        let flow = sdk.create_native_login_flow().await.unwrap().data;
        let err = sdk
            .update_login_flow(
                flow.id,
                &UpdateLoginFlowBody::password("change@example.com", PASSWORD),
            )
            .await
            .unwrap_err();
        assert_eq!(login_rejected(&err, flow.id).ui.message_ids(), [4000006]);

        // The session that changed it keeps its AMR.
        let after = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            after.data.authentication_methods,
            before.data.authentication_methods
        );
        assert_eq!(after.data.authenticated_at, before.data.authenticated_at);
    }
);

api_test!(
    a_password_refused_by_the_policy_marks_the_password_node_and_is_never_echoed,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "policy@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let cases = [
            (
                "",
                error_with(
                    4000002,
                    "Property password is missing.",
                    json!({"property": "password"}),
                ),
            ),
            (
                "short1",
                error_with(
                    4000032,
                    "The password must be at least 8 characters long, but got 6.",
                    json!({"actual_length": 6, "min_length": 8}),
                ),
            ),
            (
                "policy@example.com",
                message(
                    4000031,
                    "The password can not be used because it is too similar to the identifier.",
                    "error",
                ),
            ),
            (
                PASSWORD,
                message(
                    4000039,
                    "The new password must be different from the old password.",
                    "error",
                ),
            ),
        ];
        for (password, expected) in cases {
            let err = sdk
                .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(password))
                .x_session_token(&token)
                .await
                .unwrap_err();
            let rejected = settings_rejected(&err, flow.id);
            assert!(
                rejected.ui.messages.is_empty(),
                "{password:?}: {:?}",
                rejected.ui.messages
            );
            assert_eq!(
                node_messages(&rejected.ui, "password"),
                [expected],
                "{password:?}"
            );
            assert_eq!(crate::sdk::input(&rejected.ui, "password").value, None);
            assert_eq!(rejected.state, "show_form");
        }
        // The old password still works.
        log_in(&sdk, "policy@example.com", PASSWORD).await;
    }
);

api_test!(
    a_password_change_body_without_a_password_key_marks_the_password_node,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "nokey@example.com").await;
        let flow = settings_flow(&app.sdk(), &token).await;
        let res = submit_api(&app, flow.id, &token, json!({"method": "password"})).await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        let node = body["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["attributes"]["name"] == "password")
            .unwrap();
        assert_eq!(
            node["messages"],
            json!([{"id": 4000002, "text": "Property password is missing.", "type": "error", "context": {"property": "password"}}])
        );
        assert!(node["attributes"].get("value").is_none(), "{node}");
    }
);
