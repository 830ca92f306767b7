//! Success.

use super::*;

api_test!(
    registration_with_the_session_hook_answers_200_with_token_session_and_identity,
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
        assert_session_token(token);
        assert_eq!(
            body["continue_with"],
            json!([{"action": "set_ory_session_token", "ory_session_token": token}])
        );
        let identity = &body["identity"];
        assert_eq!(identity["traits"], json!({"email": "alice@example.com"}));
        assert_eq!(identity["state"], "active");
        assert!(identity.get("credentials").is_none());
        assert_eq!(body["session"]["active"], true);
        assert_eq!(body["session"]["authenticator_assurance_level"], "aal1");
        assert_eq!(
            body["session"]["authentication_methods"][0]["method"],
            "password"
        );
        assert_eq!(body["session"]["identity"]["id"], identity["id"]);
        let whoami = expect_json(app.whoami(token).await, StatusCode::OK).await;
        assert_eq!(whoami["id"], body["session"]["id"]);
        assert_eq!(whoami["identity"]["id"], identity["id"]);
        // The new identity can log in with the password it chose.
        app.login("alice@example.com", PASSWORD).await;
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
        app.login("alice@example.com", PASSWORD).await;
    }
);
