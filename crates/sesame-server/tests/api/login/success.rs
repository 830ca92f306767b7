//! Successful logins.

use super::*;

api_test!(
    login_with_the_right_password_answers_200_with_a_token_and_the_expanded_session,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let identity_id = app.signed_up_user("alice@example.com").await.1;
        let res = app
            .submit_login(password_login("alice@example.com", PASSWORD))
            .await;
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(keys(&body), ["session_token", "session", "continue_with"]);
        let token = body["session_token"].as_str().unwrap();
        assert_session_token(token);
        assert_eq!(body["continue_with"], Value::Null);
        let session = &body["session"];
        assert_eq!(session["active"], true);
        assert_eq!(session["authenticator_assurance_level"], "aal1");
        assert_eq!(
            session["authentication_methods"].as_array().unwrap().len(),
            1
        );
        assert_eq!(session["authentication_methods"][0]["method"], "password");
        assert_eq!(session["identity"]["id"], identity_id.as_str());
        assert_eq!(session["identity"]["traits"]["email"], "alice@example.com");
        assert!(session["identity"].get("credentials").is_none());
        let whoami = expect_json(app.whoami(token).await, StatusCode::OK).await;
        assert_eq!(whoami["id"], session["id"]);
    }
);

api_test!(
    login_identifier_is_case_insensitive_and_trimmed,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        for identifier in [
            "ALICE@Example.COM",
            "  alice@example.com\t",
            " Alice@EXAMPLE.com ",
        ] {
            let body = expect_json(
                app.submit_login(password_login(identifier, PASSWORD)).await,
                StatusCode::OK,
            )
            .await;
            assert_session_token(body["session_token"].as_str().unwrap());
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
