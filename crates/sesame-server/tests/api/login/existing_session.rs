//! An existing session.

use super::*;

api_test!(
    login_api_init_with_a_session_answers_400_session_already_available,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let res = app
            .public(Method::GET, "/self-service/login/api")
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["ory-error-id"], "session_already_available");
        let expected = json!({"error": {
            "id": "session_already_available",
            "code": 400,
            "status": "Bad Request",
            "reason": ALREADY_LOGGED_IN,
            "message": "you are already logged in"
        }});
        assert_eq!(res.text().await.unwrap(), format!("{expected}\n"));
    }
);

api_test!(
    login_submit_with_a_session_renders_already_logged_in_as_4000001,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let res = submit_to(&app, id)
            .header("X-Session-Token", &token)
            .json(&password_login("alice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let (flow, _) = expect_flow(res, id).await;
        assert_eq!(
            only_message(&flow),
            &json!({"id": 4000001, "text": ALREADY_LOGGED_IN, "type": "error"})
        );
    }
);

api_test!(
    refresh_login_flow_asks_to_confirm_and_prefills_the_hidden_identifier,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let res = app
            .public(Method::GET, "/self-service/login/api?refresh=true")
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["refresh"], true);
        assert_eq!(
            flow["ui"]["messages"],
            json!([{"id": 1010003, "text": "Please confirm this action by verifying that it is you.", "type": "info"}])
        );
        let identifier = &node(&flow, "identifier")["attributes"];
        assert_eq!(identifier["type"], "hidden");
        assert_eq!(identifier["value"], "alice@example.com");
        assert!(
            node(&flow, "password")["attributes"].get("value").is_none(),
            "the password field is empty"
        );
    }
);

api_test!(
    refresh_login_reauthenticates_the_same_session_and_token,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let before = expect_json(app.whoami(&token).await, StatusCode::OK).await;
        app.clock.advance(chrono::Duration::minutes(5));
        let res = app
            .public(Method::GET, "/self-service/login/api?refresh=true")
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        let res = submit_to(&app, flow["id"].as_str().unwrap())
            .header("X-Session-Token", &token)
            .json(&password_login("alice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["session_token"], token.as_str());
        assert_eq!(body["session"]["id"], before["id"]);
        let methods = body["session"]["authentication_methods"]
            .as_array()
            .unwrap();
        assert_eq!(methods.len(), 2, "{methods:?}");
        assert!(methods.iter().all(|m| m["method"] == "password"));
        assert_ne!(
            body["session"]["authenticated_at"],
            before["authenticated_at"]
        );
        let after = expect_json(app.whoami(&token).await, StatusCode::OK).await;
        assert_eq!(after["id"], before["id"]);
        assert_eq!(after["authentication_methods"].as_array().unwrap().len(), 2);
    }
);
