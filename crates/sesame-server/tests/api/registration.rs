//! Native (API) registration flows: init, fetch, password submit with and without the `session`
//! hook, validation and policy errors rendered into the flow, expiry, existing sessions.

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{self, Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
const NOT_FOUND_BODY: &str = "{\"error\":{\"code\":404,\"status\":\"Not Found\",\"message\":\"Unable to locate the resource\"}}\n";

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The input node named `name`.
fn node<'a>(flow: &'a Value, name: &str) -> &'a Value {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {flow}"))
}

/// `ory_st_` followed by 32 ASCII alphanumerics.
fn assert_session_token(token: &str) {
    let rest = token
        .strip_prefix("ory_st_")
        .unwrap_or_else(|| panic!("not a session token: {token}"));
    assert_eq!(rest.len(), 32, "{token}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
}

fn submit_to(app: &TestApp, flow_id: &str) -> sesame_testkit::reqwest::RequestBuilder {
    app.public(
        Method::POST,
        &format!("/self-service/registration?flow={flow_id}"),
    )
}

fn password_registration(email: &str, password: &str) -> Value {
    json!({"method": "password", "traits": {"email": email}, "password": password})
}

/// Submits `body` to a new flow and expects the 400 carrying that flow (not an envelope); returns
/// the flow and the raw body text.
async fn rejected(app: &TestApp, body: Value) -> (Value, String) {
    let flow = app.registration_flow().await;
    let id = flow["id"].as_str().unwrap();
    let res = submit_to(app, id).json(&body).send().await.unwrap();
    expect_flow(res, id).await
}

async fn expect_flow(res: Response, flow_id: &str) -> (Value, String) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    let flow: Value = serde_json::from_str(&text).unwrap();
    assert!(
        flow.get("error").is_none(),
        "an envelope instead of the flow: {text}"
    );
    assert_eq!(flow["id"], flow_id);
    assert_eq!(flow["type"], "api");
    (flow, text)
}

// --- init and fetch -----------------------------------------------------------------------------

api_test!(
    registration_api_init_answers_200_with_the_flow_fields_in_kratos_order,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/registration/api")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-cache, no-store, must-revalidate"
        );
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            keys(&flow),
            [
                "id",
                "type",
                "expires_at",
                "issued_at",
                "request_url",
                "ui",
                "organization_id",
                "state"
            ]
        );
        let id = flow["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok());
        assert_eq!(flow["type"], "api");
        assert_eq!(
            flow["request_url"],
            format!("{}/self-service/registration/api", app.public_url)
        );
        assert_eq!(flow["organization_id"], Value::Null);
        assert_eq!(flow["state"], "choose_method");
        let issued =
            chrono::DateTime::parse_from_rfc3339(flow["issued_at"].as_str().unwrap()).unwrap();
        let expires =
            chrono::DateTime::parse_from_rfc3339(flow["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            expires - issued,
            chrono::Duration::hours(1),
            "selfservice.flows.registration.lifespan defaults to 1h"
        );
        assert_eq!(
            keys(&flow["ui"]),
            ["action", "method", "nodes"],
            "ui.messages is omitted when empty"
        );
        assert_eq!(
            flow["ui"]["action"],
            format!("{}/self-service/registration?flow={id}", app.public_url)
        );
        assert_eq!(flow["ui"]["method"], "POST");
    }
);

api_test!(
    registration_api_flow_offers_csrf_email_password_and_submit_nodes,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.registration_flow().await;
        let csrf = node(&flow, "csrf_token");
        assert_eq!(csrf["group"], "default");
        assert_eq!(
            csrf["attributes"],
            json!({"name": "csrf_token", "type": "hidden", "value": "", "required": true, "disabled": false, "node_type": "input"})
        );
        let email = node(&flow, "traits.email");
        assert_eq!(email["type"], "input");
        assert_eq!(email["attributes"]["type"], "email");
        assert_eq!(email["attributes"]["required"], true);
        assert_eq!(email["attributes"]["autocomplete"], "email");
        assert_eq!(email["messages"], json!([]));
        assert_eq!(email["meta"]["label"]["id"], 1070002);
        assert_eq!(email["meta"]["label"]["text"], "E-Mail");
        let password = node(&flow, "password");
        assert_eq!(password["group"], "password");
        assert_eq!(password["attributes"]["type"], "password");
        assert_eq!(password["attributes"]["autocomplete"], "new-password");
        assert!(password["attributes"].get("value").is_none());
        let method = node(&flow, "method");
        assert_eq!(method["attributes"]["type"], "submit");
        assert_eq!(method["attributes"]["value"], "password");
        assert_eq!(
            method["meta"]["label"],
            json!({"id": 1040001, "text": "Sign up", "type": "info"})
        );
    }
);

api_test!(
    registration_flow_fetched_by_id_is_the_flow_that_was_created,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.registration_flow().await;
        let id = flow["id"].as_str().unwrap();
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/registration/flows?id={id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-cache, no-store, must-revalidate"
        );
        assert_eq!(expect_json(res, StatusCode::OK).await, flow);
    }
);

api_test!(
    registration_flow_of_an_unknown_id_answers_404_unable_to_locate_the_resource,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let unknown = uuid::Uuid::new_v4();
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/registration/flows?id={unknown}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
        let res = submit_to(&app, &unknown.to_string())
            .json(&password_registration("a@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
    }
);

api_test!(
    registration_flow_with_a_missing_or_malformed_id_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for path in [
            "/self-service/registration/flows",
            "/self-service/registration/flows?id=",
            "/self-service/registration/flows?id=not-a-uuid",
        ] {
            let body = expect_json(
                app.public(Method::GET, path).send().await.unwrap(),
                StatusCode::BAD_REQUEST,
            )
            .await;
            assert_eq!(body["error"]["code"], 400, "{path}");
            assert_eq!(
                body["error"]["reason"], "The flow query parameter is missing or malformed.",
                "{path}"
            );
        }
        for path in [
            "/self-service/registration",
            "/self-service/registration?flow=not-a-uuid",
        ] {
            let res = app
                .public(Method::POST, path)
                .json(&password_registration("a@example.com", PASSWORD))
                .send()
                .await
                .unwrap();
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(
                body["error"]["reason"], "The flow query parameter is missing or malformed.",
                "{path}"
            );
        }
    }
);

// --- success ------------------------------------------------------------------------------------

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

// --- errors rendered into the flow --------------------------------------------------------------

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

// --- expiry and existing sessions ---------------------------------------------------------------

api_test!(
    registration_submit_on_an_expired_flow_answers_410_with_a_replacement_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.registration_flow().await;
        let id = flow["id"].as_str().unwrap();
        app.clock.advance(chrono::Duration::hours(2));
        let res = submit_to(&app, id)
            .json(&password_registration("alice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["ory-error-id"], "self_service_flow_expired");
        let body = expect_json(res, StatusCode::GONE).await;
        assert_eq!(keys(&body), ["error", "expired_at", "since", "use_flow_id"]);
        assert_eq!(body["error"]["id"], "self_service_flow_expired");
        assert_eq!(body["error"]["code"], 410);
        assert_eq!(
            body["error"]["reason"],
            "The self-service flow expired 60.00 minutes ago, initialize a new one."
        );
        assert_eq!(body["expired_at"], flow["expires_at"]);
        assert_eq!(body["since"].as_i64(), Some(3_600_000_000_000));
        let replacement = body["use_flow_id"].as_str().unwrap();
        assert_ne!(replacement, id);
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/registration/flows?id={replacement}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(res, StatusCode::OK).await["id"], replacement);
        let res = submit_to(&app, replacement)
            .json(&password_registration("alice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "the replacement flow works");
    }
);

api_test!(
    registration_flow_fetch_of_an_expired_flow_answers_410_pointing_at_the_api_init,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.registration_flow().await;
        let id = flow["id"].as_str().unwrap();
        app.clock.advance(chrono::Duration::hours(2));
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/registration/flows?id={id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::GONE);
        assert_eq!(res.headers()["ory-error-id"], "self_service_flow_expired");
        let expected = json!({"error": {
            "id": "self_service_flow_expired",
            "code": 410,
            "status": "Gone",
            "reason": "The registration flow has expired. Call the registration flow init API endpoint to initialize a new registration flow.",
            "details": {"api": format!("{}/self-service/registration/api", app.public_url)},
            "message": "The requested resource is no longer available because it has expired or is otherwise invalid."
        }});
        assert_eq!(res.text().await.unwrap(), format!("{expected}\n"));
    }
);

api_test!(
    registration_api_init_with_a_session_answers_400_session_already_available,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let res = app
            .public(Method::GET, "/self-service/registration/api")
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
            "reason": "A valid session was detected and thus registration is not possible.",
            "message": "you are already logged in"
        }});
        assert_eq!(res.text().await.unwrap(), format!("{expected}\n"));
    }
);

api_test!(
    registration_submit_with_a_session_answers_the_session_already_available_envelope,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let flow = app.registration_flow().await;
        let res = submit_to(&app, flow["id"].as_str().unwrap())
            .header("X-Session-Token", &token)
            .json(&password_registration("bob@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["ory-error-id"], "session_already_available");
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "A valid session was detected and thus registration is not possible."
        );
    }
);
