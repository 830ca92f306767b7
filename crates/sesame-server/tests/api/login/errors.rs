//! Errors rendered into the flow: refused credentials through the SDK; bodies the SDK cannot
//! send (missing fields, malformed JSON, unknown methods, browser headers) raw.

use super::*;

api_test!(
    login_with_a_wrong_password_renders_4000006_into_the_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        sign_up(&sdk, "alice@example.com").await;
        let flow = sdk.create_native_login_flow().await.unwrap();
        let id = flow.data.id;
        let wrong = "not-the-password-at-all";
        let err = sdk
            .update_login_flow(
                id,
                &UpdateLoginFlowBody::password("alice@example.com", wrong),
            )
            .await
            .unwrap_err();
        let flow = expect_rejected(&err, id);
        assert_eq!(
            only_ui_message(&flow.ui),
            &message(4000006, INVALID_CREDENTIALS, "error")
        );
        assert_eq!(flow.active.as_deref(), Some("password"));
        assert_eq!(
            input(&flow.ui, "identifier").value,
            Some(json!("alice@example.com"))
        );
        assert_eq!(input(&flow.ui, "password").value, None);
        let text = err.response.as_ref().unwrap().text();
        assert!(!text.contains(wrong), "the password is echoed: {text}");
        // The flow is stored with its messages, and a later fetch shows them.
        let fetched = sdk.get_login_flow(id).await.unwrap();
        assert_eq!(fetched.status, StatusCode::OK);
        assert_eq!(only_ui_message(&fetched.data.ui).id, 4000006);
    }
);

api_test!(
    login_with_an_unknown_identifier_renders_the_same_4000006,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        sign_up(&sdk, "alice@example.com").await;
        let flow = sdk.create_native_login_flow().await.unwrap();
        let id = flow.data.id;
        let err = sdk
            .update_login_flow(
                id,
                &UpdateLoginFlowBody::password("nobody@example.com", PASSWORD),
            )
            .await
            .unwrap_err();
        let flow = expect_rejected(&err, id);
        assert_eq!(
            only_ui_message(&flow.ui),
            &message(4000006, INVALID_CREDENTIALS, "error")
        );
        assert_eq!(
            input(&flow.ui, "identifier").value,
            Some(json!("nobody@example.com"))
        );
        let text = err.response.as_ref().unwrap().text();
        assert!(!text.contains(PASSWORD), "the password is echoed: {text}");
    }
);

api_test!(
    login_without_identifier_or_password_marks_the_missing_nodes_with_4000002,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;

        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let (flow, _) = expect_flow(
            submit_json(&app, id, json!({"method": "password"})).await,
            id,
        )
        .await;
        assert_eq!(
            node_names(&flow),
            ["csrf_token", "identifier", "password", "method"]
        );
        assert!(
            flow["ui"].get("messages").is_none(),
            "no global message: {flow}"
        );
        assert_eq!(
            node(&flow, "identifier")["messages"],
            json!([{"id": 4000002, "text": "Property identifier is missing.", "type": "error", "context": {"property": "identifier"}}])
        );
        assert_eq!(
            node(&flow, "password")["messages"],
            json!([{"id": 4000002, "text": "Property password is missing.", "type": "error", "context": {"property": "password"}}])
        );

        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let (flow, text) = expect_flow(
            submit_json(
                &app,
                id,
                json!({"method": "password", "password": PASSWORD}),
            )
            .await,
            id,
        )
        .await;
        assert_eq!(
            node(&flow, "identifier")["messages"][0]["text"],
            "Property identifier is missing."
        );
        assert_eq!(node(&flow, "password")["messages"], json!([]));
        assert!(!text.contains(PASSWORD), "the password is echoed: {text}");

        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let res = submit_json(
            &app,
            id,
            json!({"method": "password", "identifier": "alice@example.com", "password": ""}),
        )
        .await;
        let (flow, _) = expect_flow(res, id).await;
        assert_eq!(node(&flow, "identifier")["messages"], json!([]));
        assert_eq!(
            node(&flow, "identifier")["attributes"]["value"],
            "alice@example.com"
        );
        assert_eq!(
            node(&flow, "password")["messages"][0]["text"],
            "Property password is missing."
        );
    }
);

api_test!(
    login_with_a_malformed_json_body_renders_the_decoder_error_as_4000001,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let raw = "{\"method\": \"password\", \"identifier\": ";
        let decoder_error = serde_json::from_str::<Value>(raw).unwrap_err().to_string();
        let res = submit_to(&app, id)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let (flow, _) = expect_flow(res, id).await;
        let message = only_message(&flow);
        assert_eq!(message["id"], 4000001);
        assert_eq!(message["type"], "error");
        let text = message["text"].as_str().unwrap();
        assert!(
            text.contains(&decoder_error),
            "{text:?} lacks {decoder_error:?}"
        );
    }
);

api_test!(
    login_without_a_known_method_renders_4010002,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        for body in [
            json!({"identifier": "alice@example.com", "password": PASSWORD}),
            json!({"method": "carrier-pigeon", "identifier": "alice@example.com", "password": PASSWORD}),
        ] {
            let flow = app.login_flow().await;
            let id = flow["id"].as_str().unwrap();
            let (flow, _) = expect_flow(submit_json(&app, id, body).await, id).await;
            assert_eq!(
                only_message(&flow),
                &json!({"id": 4010002, "text": "Could not find a strategy to log you in with. Did you fill out the form correctly?", "type": "error"})
            );
        }
    }
);

api_test!(
    api_login_submit_with_a_cookie_or_origin_header_is_refused_with_4000001,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        for (header, value, prefix) in [
            (
                "cookie",
                "session=abc",
                "The HTTP Request Header included the \"Cookie\" key",
            ),
            (
                "cookie",
                "__cfduid=x; other=y",
                "The HTTP Request Header included the \"Cookie\" key",
            ),
            (
                "origin",
                "https://app.example.com",
                "The HTTP Request Header included the \"Origin\" key",
            ),
        ] {
            let flow = app.login_flow().await;
            let id = flow["id"].as_str().unwrap();
            let res = submit_to(&app, id)
                .header(header, value)
                .json(&password_login("alice@example.com", PASSWORD))
                .send()
                .await
                .unwrap();
            let (flow, _) = expect_flow(res, id).await;
            let message = only_message(&flow);
            assert_eq!(message["id"], 4000001, "{header}: {value}");
            assert!(
                message["text"].as_str().unwrap().starts_with(prefix),
                "{header}: {value}: {message}"
            );
        }
    }
);

api_test!(
    api_login_submit_with_only_a_cloudflare_cookie_is_allowed,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        let flow = app.login_flow().await;
        let res = submit_to(&app, flow["id"].as_str().unwrap())
            .header("cookie", "__cfduid=x")
            .json(&password_login("alice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_session_token(body["session_token"].as_str().unwrap());
    }
);
