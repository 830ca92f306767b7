//! Success: what a registration does through the SDK, and the success bodies on the wire.

use super::*;

api_test!(
    registration_with_the_session_hook_answers_200_with_token_session_and_identity,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let flow = sdk.create_native_registration_flow().await.unwrap();
        let res = sdk
            .update_registration_flow(
                flow.data.id,
                &registration_body("alice@example.com", PASSWORD),
            )
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            res.headers["content-type"],
            "application/json; charset=utf-8"
        );
        let token = res.data.session_token.clone().unwrap();
        assert_session_token(&token);
        assert_eq!(
            res.data.continue_with,
            Some(vec![ContinueWith::SetOrySessionToken {
                ory_session_token: token.clone()
            }])
        );
        let identity = &res.data.identity;
        assert_eq!(identity.traits, json!({"email": "alice@example.com"}));
        assert_eq!(identity.state, IdentityState::Active);
        assert_eq!(identity.credentials, None);
        let session = res.data.session.as_ref().unwrap();
        assert!(session.active);
        assert_eq!(session.authenticator_assurance_level, Aal::Aal1);
        let methods = session.authentication_methods.as_ref().unwrap();
        assert_eq!(methods[0].method, "password");
        assert_eq!(session.identity.as_ref().unwrap().id, identity.id);
        let whoami = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(whoami.data.id, session.id);
        assert_eq!(whoami.data.identity.unwrap().id, identity.id);
        // The new identity can log in with the password it chose.
        log_in(&sdk, "alice@example.com", PASSWORD).await;
    }
);

api_test!(
    registration_success_body_has_kratos_fields_in_order_and_no_credentials,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .submit_registration(password_registration("alice@example.com", PASSWORD))
            .await;
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            keys(&body),
            ["session_token", "session", "identity", "continue_with"]
        );
        let token = body["session_token"].as_str().unwrap();
        assert_eq!(
            body["continue_with"],
            json!([{"action": "set_ory_session_token", "ory_session_token": token}])
        );
        assert!(body["identity"].get("credentials").is_none());
    }
);

api_test!(
    registration_without_the_session_hook_answers_the_identity_and_null_continue_with,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SELFSERVICE_FLOWS_REGISTRATION_AFTER_PASSWORD_HOOKS", "[]")
            .spawn()
            .await;
        let res = app
            .submit_registration(password_registration("alice@example.com", PASSWORD))
            .await;
        let text = res.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(keys(&body), ["identity", "continue_with"], "{text}");
        assert_eq!(body["continue_with"], Value::Null);
        assert_eq!(body["identity"]["traits"]["email"], "alice@example.com");
        assert!(!text.contains("ory_st_"), "no token is handed out: {text}");
        log_in(&app.sdk(), "alice@example.com", PASSWORD).await;
    }
);
