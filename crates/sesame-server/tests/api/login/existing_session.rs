//! An existing session: init and submit refuse it, `refresh` re-authenticates it.

use super::*;

api_test!(
    login_api_init_with_a_session_answers_400_session_already_available,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "alice@example.com").await;
        let err = sdk
            .create_native_login_flow()
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(err.id(), Some("session_already_available"));
        let res = err.response.as_ref().unwrap();
        assert_eq!(res.headers["content-type"], "application/json");
        assert_eq!(res.headers["ory-error-id"], "session_already_available");
        let expected = json!({"error": {
            "id": "session_already_available",
            "code": 400,
            "status": "Bad Request",
            "reason": ALREADY_LOGGED_IN,
            "message": "you are already logged in"
        }});
        assert_eq!(res.text(), format!("{expected}\n"));
    }
);

api_test!(
    login_submit_with_a_session_renders_already_logged_in_as_4000001,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "alice@example.com").await;
        let flow = sdk.create_native_login_flow().await.unwrap();
        let err = sdk
            .update_login_flow(
                flow.data.id,
                &UpdateLoginFlowBody::password("alice@example.com", PASSWORD),
            )
            .x_session_token(&token)
            .await
            .unwrap_err();
        let flow = expect_rejected(&err, flow.data.id);
        assert_eq!(
            only_ui_message(&flow.ui),
            &message(4000001, ALREADY_LOGGED_IN, "error")
        );
    }
);

api_test!(
    refresh_login_flow_asks_to_confirm_and_prefills_the_hidden_identifier,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "alice@example.com").await;
        let flow = sdk
            .create_native_login_flow()
            .x_session_token(&token)
            .refresh(true)
            .await
            .unwrap();
        assert_eq!(flow.status, StatusCode::OK);
        assert!(flow.data.refresh);
        assert_eq!(
            flow.data.ui.messages,
            [message(
                1010003,
                "Please confirm this action by verifying that it is you.",
                "info"
            )]
        );
        let identifier = input(&flow.data.ui, "identifier");
        assert_eq!(identifier.input_type, "hidden");
        assert_eq!(identifier.value, Some(json!("alice@example.com")));
        assert_eq!(
            input(&flow.data.ui, "password").value,
            None,
            "the password field is empty"
        );
    }
);

api_test!(
    refresh_login_reauthenticates_the_same_session_and_token,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "alice@example.com").await;
        let before = sdk.to_session().x_session_token(&token).await.unwrap().data;
        app.clock.advance(chrono::Duration::minutes(5));
        let flow = sdk
            .create_native_login_flow()
            .x_session_token(&token)
            .refresh(true)
            .await
            .unwrap();
        let res = sdk
            .update_login_flow(
                flow.data.id,
                &UpdateLoginFlowBody::password("alice@example.com", PASSWORD),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.session_token.as_deref(), Some(token.as_str()));
        let session = &res.data.session;
        assert_eq!(session.id, before.id);
        let methods = session.authentication_methods.as_ref().unwrap();
        assert_eq!(methods.len(), 2, "{methods:?}");
        assert!(methods.iter().all(|m| m.method == "password"));
        assert_ne!(session.authenticated_at, before.authenticated_at);
        let after = sdk.to_session().x_session_token(&token).await.unwrap().data;
        assert_eq!(after.id, before.id);
        assert_eq!(after.authentication_methods.unwrap().len(), 2);
    }
);
