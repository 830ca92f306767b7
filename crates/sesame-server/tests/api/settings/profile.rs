//! The `profile` method (spec part 2, §2.1): the submitted traits replace the identity's, schema
//! violations become node messages with the values echoed, a taken identifier is 4000007, and the
//! login identifier follows the traits.

use super::*;
use crate::second_factors::login_rejected;
use sesame_testkit::sesame_client::UpdateLoginFlowBody;

api_test!(
    a_profile_update_replaces_the_traits_wholesale,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "ada@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let traits =
            json!({"email": "ada@example.com", "name": {"first": "Ada", "last": "Lovelace"}});
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::profile(traits.clone()))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.status, StatusCode::OK);
        assert!(
            saved.headers.get("set-cookie").is_none(),
            "API flows set no cookie"
        );
        assert_eq!(saved.data.id, flow.id);
        assert_eq!(saved.data.state, "success");
        assert_eq!(saved.data.continue_with, None);
        assert_eq!(saved.data.identity.traits, traits);
        assert_eq!(
            only_ui_message(&saved.data.ui),
            &message(1050001, "Your changes have been saved!", "success")
        );
        // The rebuilt form shows the new values.
        assert_eq!(
            crate::sdk::input(&saved.data.ui, "traits.name.first").value,
            Some(json!("Ada"))
        );

        // Omitted traits are deleted; the flow can be submitted again.
        let saved = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::profile(
                    json!({"email": "ada@example.com", "name": {"last": "Byron"}}),
                ),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(
            saved.data.identity.traits,
            json!({"email": "ada@example.com", "name": {"last": "Byron"}})
        );
        let stored = sdk.get_identity(identity_id).await.unwrap();
        assert_eq!(stored.data.traits, saved.data.identity.traits);
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(me.data.identity.unwrap().traits, saved.data.identity.traits);
        // `GET …/flows` shows the saved flow, without `continue_with`.
        let fetched = sdk
            .get_settings_flow(flow.id)
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(fetched.data.state, "success");
        assert_eq!(fetched.data.identity.traits, saved.data.identity.traits);
    }
);

api_test!(
    a_profile_update_that_violates_the_schema_marks_the_trait_nodes_and_echoes_the_values,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "schema@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let err = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::profile(
                    json!({"email": "not-an-email", "name": {"first": "Grace"}}),
                ),
            )
            .x_session_token(&token)
            .await
            .unwrap_err();
        let rejected = settings_rejected(&err, flow.id);
        assert_eq!(rejected.state, "show_form");
        assert!(
            rejected.ui.messages.is_empty(),
            "{:?}",
            rejected.ui.messages
        );
        let messages = node_messages(&rejected.ui, "traits.email");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0].id, 4000004);
        assert_eq!(messages[0].text, "\"not-an-email\" is not valid \"email\"");
        assert_eq!(
            crate::sdk::input(&rejected.ui, "traits.email").value,
            Some(json!("not-an-email")),
            "the submitted value is echoed"
        );
        assert_eq!(
            crate::sdk::input(&rejected.ui, "traits.name.first").value,
            Some(json!("Grace"))
        );

        let err = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::profile(json!({"name": {"first": "Grace"}})),
            )
            .x_session_token(&token)
            .await
            .unwrap_err();
        let rejected = settings_rejected(&err, flow.id);
        assert_eq!(
            node_messages(&rejected.ui, "traits.email"),
            [UiText {
                id: 4000002,
                text: "Property email is missing.".into(),
                kind: "error".into(),
                context: json!({"property": "email"}).as_object().cloned(),
            }]
        );
        // Nothing was saved.
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            me.data.identity.unwrap().traits,
            json!({"email": "schema@example.com"})
        );
    }
);

api_test!(
    a_profile_update_without_traits_renders_4000001,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "empty@example.com").await;
        let flow = settings_flow(&app.sdk(), &token).await;
        let res = submit_api(&app, flow.id, &token, json!({"method": "profile"})).await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["id"], flow.id.to_string());
        assert_eq!(
            body["ui"]["messages"],
            json!([{
                "id": 4000001,
                "text": "Did not receive any value changes.",
                "type": "error",
                "context": {"reason": "Did not receive any value changes."}
            }])
        );
    }
);

api_test!(
    a_profile_update_to_an_email_another_identity_has_renders_4000007,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "first@example.com").await;
        sign_up(&sdk, "taken@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let err = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::profile(json!({"email": "taken@example.com"})),
            )
            .x_session_token(&token)
            .await
            .unwrap_err();
        let rejected = settings_rejected(&err, flow.id);
        assert_eq!(
            only_ui_message(&rejected.ui),
            &message(
                4000007,
                "An account with the same identifier (email, phone, username, ...) exists already.",
                "error"
            )
        );
        assert_eq!(rejected.state, "show_form");
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            me.data.identity.unwrap().traits["email"],
            "first@example.com"
        );
        log_in(&sdk, "taken@example.com", PASSWORD).await;
    }
);

api_test!(
    a_changed_email_becomes_the_login_identifier,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "old@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let saved = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::profile(json!({"email": "new@example.com"})),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        let identity = &saved.data.identity;
        assert_eq!(identity.verifiable_addresses[0].value, "new@example.com");
        log_in(&sdk, "new@example.com", PASSWORD).await;
        let flow = sdk.create_native_login_flow().await.unwrap().data;
        let err = sdk
            .update_login_flow(
                flow.id,
                &UpdateLoginFlowBody::password("old@example.com", PASSWORD),
            )
            .await
            .unwrap_err();
        assert_eq!(login_rejected(&err, flow.id).ui.message_ids(), [4000006]);
    }
);
