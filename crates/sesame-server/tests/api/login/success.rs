//! Successful logins: what a login does through the SDK, and the success body on the wire.

use super::*;

api_test!(
    login_with_the_right_password_answers_200_with_a_token_and_the_expanded_session,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (_, identity_id) = sign_up(&sdk, "alice@example.com").await;
        let res = sdk
            .login_with_password("alice@example.com", PASSWORD)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            res.headers["content-type"],
            "application/json; charset=utf-8"
        );
        let token = res.data.session_token.as_deref().unwrap();
        assert_session_token(token);
        assert_eq!(res.data.continue_with, None);
        let session = &res.data.session;
        assert!(session.active);
        assert_eq!(session.authenticator_assurance_level, Aal::Aal1);
        let methods = session.authentication_methods.as_ref().unwrap();
        assert_eq!(methods.len(), 1);
        assert_eq!(methods[0].method, "password");
        let identity = session.identity.as_ref().unwrap();
        assert_eq!(identity.id, identity_id);
        assert_eq!(identity.traits["email"], "alice@example.com");
        assert_eq!(identity.credentials, None);
        let whoami = sdk.to_session().x_session_token(token).await.unwrap();
        assert_eq!(whoami.data.id, session.id);
    }
);

api_test!(
    login_success_body_has_kratos_fields_in_order_and_no_credentials,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        let res = app
            .submit_login(password_login("alice@example.com", PASSWORD))
            .await;
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(keys(&body), ["session_token", "session", "continue_with"]);
        assert_eq!(body["continue_with"], Value::Null);
        assert!(body["session"]["identity"].get("credentials").is_none());
    }
);

api_test!(
    login_identifier_is_case_insensitive_and_trimmed,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        sign_up(&sdk, "alice@example.com").await;
        for identifier in [
            "ALICE@Example.COM",
            "  alice@example.com\t",
            " Alice@EXAMPLE.com ",
        ] {
            let token = log_in(&sdk, identifier, PASSWORD).await;
            assert_session_token(&token);
        }
    }
);

api_test!(
    login_accepts_the_legacy_password_identifier_field,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        let res = app
        .submit_login(json!({"method": "password", "password_identifier": "alice@example.com", "password": PASSWORD}))
        .await;
        let body = expect_json(res, StatusCode::OK).await;
        assert_session_token(body["session_token"].as_str().unwrap());
    }
);

api_test!(login_accepts_a_form_encoded_body, |backend| async move {
    let app = TestApp::spawn(backend).await;
    app.signed_up_user("alice@example.com").await;
    let flow = app.login_flow().await;
    let res = submit_to(&app, flow["id"].as_str().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "method=password&identifier=alice%40example.com&password={PASSWORD}"
        ))
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    assert_session_token(body["session_token"].as_str().unwrap());
    assert_eq!(
        body["session"]["identity"]["traits"]["email"],
        "alice@example.com"
    );
});
