//! Native (API) login flows: init, fetch, password submit, every error rendered into the flow or
//! answered as an envelope, expiry, `refresh`, `aal`, disabled identities and hash migration.

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{self, Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
const INVALID_CREDENTIALS: &str = "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.";
const ALREADY_LOGGED_IN: &str = "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?";
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

fn node_names(flow: &Value) -> Vec<&str> {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["attributes"]["name"].as_str().unwrap())
        .collect()
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
    app.public(Method::POST, &format!("/self-service/login?flow={flow_id}"))
}

async fn submit_json(app: &TestApp, flow_id: &str, body: Value) -> Response {
    submit_to(app, flow_id).json(&body).send().await.unwrap()
}

fn password_login(identifier: &str, password: &str) -> Value {
    json!({"method": "password", "identifier": identifier, "password": password})
}

/// A 400 answer carrying the login flow `flow_id` (not an envelope), with the raw text.
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

/// The one global message of a flow rendered with an error.
fn only_message(flow: &Value) -> &Value {
    let messages = flow["ui"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no ui.messages: {flow}"));
    assert_eq!(messages.len(), 1, "{flow}");
    &messages[0]
}

async fn create_identity(app: &TestApp, body: Value) -> Value {
    let res = app
        .admin(Method::POST, "/admin/identities")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::CREATED).await
}

// --- init and fetch -----------------------------------------------------------------------------

api_test!(
    login_api_init_answers_200_with_the_flow_fields_in_kratos_order,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/login/api")
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
                "organization_id",
                "type",
                "expires_at",
                "issued_at",
                "request_url",
                "ui",
                "created_at",
                "updated_at",
                "refresh",
                "requested_aal",
                "state"
            ]
        );
        let id = flow["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok());
        assert_eq!(flow["organization_id"], Value::Null);
        assert_eq!(flow["type"], "api");
        assert_eq!(
            flow["request_url"],
            format!("{}/self-service/login/api", app.public_url)
        );
        assert_eq!(flow["refresh"], false);
        assert_eq!(flow["requested_aal"], "aal1");
        assert_eq!(flow["state"], "choose_method");
        let issued =
            chrono::DateTime::parse_from_rfc3339(flow["issued_at"].as_str().unwrap()).unwrap();
        let expires =
            chrono::DateTime::parse_from_rfc3339(flow["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            expires - issued,
            chrono::Duration::hours(1),
            "selfservice.flows.login.lifespan defaults to 1h"
        );
        assert_eq!(
            keys(&flow["ui"]),
            ["action", "method", "nodes"],
            "ui.messages is omitted when empty"
        );
        assert_eq!(
            flow["ui"]["action"],
            format!("{}/self-service/login?flow={id}", app.public_url)
        );
        assert_eq!(flow["ui"]["method"], "POST");
    }
);

api_test!(
    login_api_flow_offers_csrf_identifier_password_and_submit_nodes,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.login_flow().await;
        assert_eq!(
            flow["ui"]["nodes"],
            json!([
                {"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}},
                {"type":"input","group":"default","attributes":{"name":"identifier","type":"text","value":"","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070002,"text":"E-Mail","type":"info","context":{"title":"E-Mail","name":"traits.email"}}}},
                {"type":"input","group":"password","attributes":{"name":"password","type":"password","required":true,"autocomplete":"current-password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070001,"text":"Password","type":"info"}}},
                {"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010022,"text":"Sign in with password","type":"info"}}}
            ])
        );
    }
);

api_test!(
    login_flow_fetched_by_id_is_the_flow_that_was_created,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let res = app
            .public(Method::GET, &format!("/self-service/login/flows?id={id}"))
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
    login_flow_of_an_unknown_id_answers_404_unable_to_locate_the_resource,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let unknown = uuid::Uuid::new_v4();
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/login/flows?id={unknown}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
        let res = submit_json(
            &app,
            &unknown.to_string(),
            password_login("a@example.com", PASSWORD),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
    }
);

api_test!(
    login_flow_with_a_missing_or_malformed_id_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for path in [
            "/self-service/login/flows",
            "/self-service/login/flows?id=",
            "/self-service/login/flows?id=not-a-uuid",
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
        for path in ["/self-service/login", "/self-service/login?flow=not-a-uuid"] {
            let res = app
                .public(Method::POST, path)
                .json(&password_login("a@example.com", PASSWORD))
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

// --- successful logins --------------------------------------------------------------------------

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

// --- errors rendered into the flow --------------------------------------------------------------

api_test!(
    login_with_a_wrong_password_renders_4000006_into_the_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let wrong = "not-the-password-at-all";
        let (flow, text) = expect_flow(
            submit_json(&app, id, password_login("alice@example.com", wrong)).await,
            id,
        )
        .await;
        assert_eq!(
            only_message(&flow),
            &json!({"id": 4000006, "text": INVALID_CREDENTIALS, "type": "error"})
        );
        assert_eq!(flow["active"], "password");
        assert_eq!(
            node(&flow, "identifier")["attributes"]["value"],
            "alice@example.com"
        );
        assert!(node(&flow, "password")["attributes"].get("value").is_none());
        assert!(!text.contains(wrong), "the password is echoed: {text}");
        // The flow is stored with its messages, and a later fetch shows them.
        let res = app
            .public(Method::GET, &format!("/self-service/login/flows?id={id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            only_message(&expect_json(res, StatusCode::OK).await)["id"],
            4000006
        );
    }
);

api_test!(
    login_with_an_unknown_identifier_renders_the_same_4000006,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let (flow, text) = expect_flow(
            submit_json(&app, id, password_login("nobody@example.com", PASSWORD)).await,
            id,
        )
        .await;
        assert_eq!(
            only_message(&flow),
            &json!({"id": 4000006, "text": INVALID_CREDENTIALS, "type": "error"})
        );
        assert_eq!(
            node(&flow, "identifier")["attributes"]["value"],
            "nobody@example.com"
        );
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

// --- expiry -------------------------------------------------------------------------------------

api_test!(
    login_submit_on_an_expired_flow_answers_410_with_a_replacement_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("alice@example.com").await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        app.clock.advance(chrono::Duration::hours(2));
        let res = submit_json(&app, id, password_login("alice@example.com", PASSWORD)).await;
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["ory-error-id"], "self_service_flow_expired");
        let body = expect_json(res, StatusCode::GONE).await;
        assert_eq!(keys(&body), ["error", "expired_at", "since", "use_flow_id"]);
        assert_eq!(
            body["error"],
            json!({
                "id": "self_service_flow_expired",
                "code": 410,
                "status": "Gone",
                "reason": "The self-service flow expired 60.00 minutes ago, initialize a new one.",
                "message": "self-service flow expired"
            })
        );
        assert_eq!(body["expired_at"], flow["expires_at"]);
        assert_eq!(
            body["since"].as_i64(),
            Some(3_600_000_000_000),
            "a Go duration in nanoseconds"
        );
        let replacement = body["use_flow_id"].as_str().unwrap();
        assert_ne!(replacement, id);
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/login/flows?id={replacement}"),
            )
            .send()
            .await
            .unwrap();
        let fresh = expect_json(res, StatusCode::OK).await;
        assert_eq!(fresh["id"], replacement);
        assert_eq!(fresh["type"], "api");
        // The replacement works.
        let res = submit_json(
            &app,
            replacement,
            password_login("alice@example.com", PASSWORD),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
);

api_test!(
    login_flow_fetch_of_an_expired_flow_answers_410_pointing_at_the_api_init,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        app.clock.advance(chrono::Duration::hours(2));
        let res = app
            .public(Method::GET, &format!("/self-service/login/flows?id={id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::GONE);
        assert_eq!(res.headers()["ory-error-id"], "self_service_flow_expired");
        let expected = json!({"error": {
            "id": "self_service_flow_expired",
            "code": 410,
            "status": "Gone",
            "reason": "The login flow has expired. Call the login flow init API endpoint to initialize a new login flow.",
            "details": {"api": format!("{}/self-service/login/api", app.public_url)},
            "message": "The requested resource is no longer available because it has expired or is otherwise invalid."
        }});
        assert_eq!(res.text().await.unwrap(), format!("{expected}\n"));
    }
);

// --- an existing session ------------------------------------------------------------------------

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

// --- aal ----------------------------------------------------------------------------------------

api_test!(
    login_api_init_with_aal2_and_no_session_answers_401_session_aal1_required,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/login/api?aal=aal2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["ory-error-id"], "session_aal1_required");
        let expected = json!({"error": {
            "id": "session_aal1_required",
            "code": 401,
            "status": "Unauthorized",
            "reason": "You can not requested a higher AAL (AAL2/AAL3) without an active session.",
            "message": "aal2 and aal3 can only be requested if a session exists already"
        }});
        assert_eq!(res.text().await.unwrap(), format!("{expected}\n"));
    }
);

api_test!(
    login_api_init_with_an_unknown_aal_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/login/api?aal=bogus")
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["status"], "Bad Request");
        let reason = body["error"]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("Unable to parse AuthenticationMethod Assurance Level (AAL): "),
            "{reason}"
        );
    }
);

// --- identities created by an admin -------------------------------------------------------------

api_test!(
    login_of_a_disabled_identity_renders_4010011,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        create_identity(
            &app,
            json!({
                "schema_id": "default",
                "traits": {"email": "disabled@example.com"},
                "state": "inactive",
                "credentials": {"password": {"config": {"password": PASSWORD}}}
            }),
        )
        .await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let (flow, _) = expect_flow(
            submit_json(&app, id, password_login("disabled@example.com", PASSWORD)).await,
            id,
        )
        .await;
        assert_eq!(
            only_message(&flow),
            &json!({"id": 4010011, "text": "This account has been disabled. Please contact support for assistance.", "type": "error"})
        );
    }
);

api_test!(
    login_with_an_imported_bcrypt_hash_succeeds_and_rehashes_it_to_argon2id,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();
        assert!(hash.starts_with("$2b$04$"));
        let identity = create_identity(
            &app,
            json!({
                "traits": {"email": "imported@example.com"},
                "credentials": {"password": {"config": {"hashed_password": hash}}}
            }),
        )
        .await;
        let id = identity["id"].as_str().unwrap();
        let stored = |app: &TestApp| {
            let req = app.admin(
                Method::GET,
                &format!("/admin/identities/{id}?include_credential=password"),
            );
            async move {
                let body = expect_json(req.send().await.unwrap(), StatusCode::OK).await;
                body["credentials"]["password"]["config"]["hashed_password"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        assert_eq!(stored(&app).await, hash);

        let wrong = app
            .submit_login(password_login("imported@example.com", "not-the-password"))
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            stored(&app).await,
            hash,
            "a failed login does not touch the hash"
        );

        let body = expect_json(
            app.submit_login(password_login("imported@example.com", PASSWORD))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(body["session"]["identity"]["id"], id);
        let rehashed = stored(&app).await;
        assert!(rehashed.starts_with("$argon2id$"), "{rehashed}");
        // The new hash verifies the same password.
        app.login("imported@example.com", PASSWORD).await;
    }
);

api_test!(
    an_expired_second_factor_flow_without_a_session_is_replaced_by_a_plain_login_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("carol@example.com").await;
        let res = app
            .public(Method::GET, "/self-service/login/api?aal=aal2")
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["requested_aal"], "aal2");
        app.clock.advance(chrono::Duration::hours(2));
        let res = submit_json(
            &app,
            flow["id"].as_str().unwrap(),
            password_login("carol@example.com", PASSWORD),
        )
        .await;
        let body = expect_json(res, StatusCode::GONE).await;
        let replacement = body["use_flow_id"].as_str().unwrap();
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/login/flows?id={replacement}"),
            )
            .send()
            .await
            .unwrap();
        let fresh = expect_json(res, StatusCode::OK).await;
        assert_eq!(fresh["requested_aal"], "aal1");
        assert_eq!(fresh["refresh"], false);
    }
);
