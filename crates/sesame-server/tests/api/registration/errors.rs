//! Errors rendered into the flow.

use super::*;

api_test!(
    registration_without_traits_email_marks_the_email_node_with_4000002,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (flow, _) = rejected(
            &app,
            json!({"method": "password", "traits": {}, "password": PASSWORD}),
        )
        .await;
        let messages = node(&flow, "traits.email")["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["id"], 4000002);
        assert_eq!(messages[0]["type"], "error");
        assert_eq!(messages[0]["text"], "Property email is missing.");
        assert_eq!(node(&flow, "password")["messages"], json!([]));
        assert!(
            flow["ui"].get("messages").is_none(),
            "no global message: {flow}"
        );
    }
);

api_test!(
    registration_without_password_marks_the_password_node_with_4000002,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for body in [
            json!({"method": "password", "traits": {"email": "alice@example.com"}}),
            password_registration("alice@example.com", ""),
        ] {
            let (flow, _) = rejected(&app, body).await;
            assert_eq!(
                node(&flow, "password")["messages"],
                json!([{"id": 4000002, "text": "Property password is missing.", "type": "error", "context": {"property": "password"}}])
            );
            assert_eq!(node(&flow, "traits.email")["messages"], json!([]));
        }
    }
);

api_test!(
    registration_with_a_password_shorter_than_8_is_refused_with_4000032,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (flow, _) = rejected(&app, password_registration("alice@example.com", "x9!Kq2z")).await;
        let messages = node(&flow, "password")["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["id"], 4000032);
        assert_eq!(messages[0]["type"], "error");
        assert_eq!(
            messages[0]["context"],
            json!({"actual_length": 7, "min_length": 8})
        );
        // Exactly the minimum is enough.
        app.register("alice@example.com", "x9!Kq2zR").await;
    }
);

api_test!(
    registration_honours_a_configured_min_password_length,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env(
                "SELFSERVICE_METHODS_PASSWORD_CONFIG_MIN_PASSWORD_LENGTH",
                "12",
            )
            .spawn()
            .await;
        let (flow, _) = rejected(
            &app,
            password_registration("alice@example.com", "x9!Kq2zRw#"),
        )
        .await;
        let message = &node(&flow, "password")["messages"][0];
        assert_eq!(message["id"], 4000032);
        assert_eq!(
            message["context"],
            json!({"actual_length": 10, "min_length": 12})
        );
    }
);

api_test!(
    registration_with_a_password_similar_to_the_email_is_refused_with_4000031,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for password in [
            "alice@example.com",
            "alice@example.co",
            "alice@example.com1",
        ] {
            let (flow, _) =
                rejected(&app, password_registration("alice@example.com", password)).await;
            assert_eq!(
                node(&flow, "password")["messages"],
                json!([{"id": 4000031, "text": "The password can not be used because it is too similar to the identifier.", "type": "error"}]),
                "{password}"
            );
        }
    }
);

api_test!(
    registration_of_a_taken_identifier_is_refused_with_4000007_ignoring_case,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.register("foo@example.com", PASSWORD).await;
        for email in ["foo@example.com", "Foo@Example.com"] {
            let (flow, _) = rejected(
                &app,
                password_registration(email, "another-good-passphrase-7"),
            )
            .await;
            let messages = flow["ui"]["messages"].as_array().unwrap();
            assert_eq!(messages.len(), 1, "{flow}");
            assert_eq!(messages[0]["id"], 4000007, "{email}");
            assert_eq!(messages[0]["type"], "error");
            assert_eq!(node(&flow, "traits.email")["attributes"]["value"], email);
        }
        // The original password still works; the duplicate never overwrote it.
        app.login("foo@example.com", PASSWORD).await;
    }
);

api_test!(
    registration_with_an_invalid_email_marks_the_email_node_with_4000004,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (flow, _) = rejected(&app, password_registration("not-an-email", PASSWORD)).await;
        let messages = node(&flow, "traits.email")["messages"].as_array().unwrap();
        assert!(!messages.is_empty(), "{flow}");
        assert!(messages.iter().all(|m| m["type"] == "error"));
        assert_eq!(messages[0]["id"], 4000004, "{messages:?}");
        assert_eq!(
            messages[0]["text"],
            "\"not-an-email\" is not valid \"email\""
        );
    }
);

api_test!(
    registration_errors_echo_the_email_and_never_the_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.register("taken@example.com", PASSWORD).await;
        let secret = "Zq7!unique-Secret-value";
        for body in [
            password_registration("not-an-email", secret),
            password_registration("taken@example.com", secret),
            json!({"method": "password", "traits": {"email": "x@example.com"}, "password": "Zq7!"}),
            json!({"method": "password", "traits": {"email": "x@example.com", "unknown": 1}, "password": secret}),
            json!({"traits": {"email": "x@example.com"}, "password": secret}),
        ] {
            let email = body["traits"]["email"].as_str().unwrap();
            let password = body["password"].as_str().unwrap();
            let (flow, text) = rejected(&app, body.clone()).await;
            assert!(
                !text.contains(password),
                "the password is echoed for {body}: {text}"
            );
            assert!(node(&flow, "password")["attributes"].get("value").is_none());
            if body.get("method").is_some() {
                assert_eq!(
                    node(&flow, "traits.email")["attributes"]["value"],
                    email,
                    "{body}"
                );
            }
        }
    }
);

api_test!(
    registration_without_a_known_method_renders_4040002,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for body in [
            json!({"traits": {"email": "alice@example.com"}, "password": PASSWORD}),
            json!({"method": "carrier-pigeon", "traits": {"email": "alice@example.com"}, "password": PASSWORD}),
        ] {
            let (flow, _) = rejected(&app, body).await;
            assert_eq!(flow["ui"]["messages"][0]["id"], 4040002, "{flow}");
        }
    }
);

api_test!(
    registration_with_a_malformed_json_body_renders_the_decoder_error_as_4000001,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.registration_flow().await;
        let id = flow["id"].as_str().unwrap();
        let raw = "{\"method\": \"password\", \"traits\": {";
        let decoder_error = serde_json::from_str::<Value>(raw).unwrap_err().to_string();
        let res = submit_to(&app, id)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let (flow, _) = expect_flow(res, id).await;
        let message = &flow["ui"]["messages"][0];
        assert_eq!(message["id"], 4000001);
        let text = message["text"].as_str().unwrap();
        assert!(
            text.contains(&decoder_error),
            "{text:?} lacks {decoder_error:?}"
        );
    }
);

api_test!(
    registration_accepts_a_form_encoded_body,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.registration_flow().await;
        let res = submit_to(&app, flow["id"].as_str().unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "method=password&traits.email=alice%40example.com&password={PASSWORD}"
            ))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            body["identity"]["traits"],
            json!({"email": "alice@example.com"})
        );
        assert_session_token(body["session_token"].as_str().unwrap());
    }
);

api_test!(
    api_registration_submit_with_a_cookie_or_origin_header_is_refused_with_4000001,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for (header, value, prefix) in [
            (
                "cookie",
                "session=abc",
                "The HTTP Request Header included the \"Cookie\" key",
            ),
            (
                "origin",
                "https://app.example.com",
                "The HTTP Request Header included the \"Origin\" key",
            ),
        ] {
            let flow = app.registration_flow().await;
            let id = flow["id"].as_str().unwrap();
            let res = submit_to(&app, id)
                .header(header, value)
                .json(&password_registration("alice@example.com", PASSWORD))
                .send()
                .await
                .unwrap();
            let (flow, _) = expect_flow(res, id).await;
            let message = &flow["ui"]["messages"][0];
            assert_eq!(message["id"], 4000001);
            assert!(
                message["text"].as_str().unwrap().starts_with(prefix),
                "{message}"
            );
        }
        // Nothing was created: the address is still free.
        let flow = app.registration_flow().await;
        let res = submit_to(&app, flow["id"].as_str().unwrap())
            .header("cookie", "__cfduid=x")
            .json(&password_registration("alice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "a Cloudflare cookie alone is allowed"
        );
    }
);
