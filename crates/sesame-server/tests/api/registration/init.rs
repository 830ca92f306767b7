//! Init and fetch.

use super::*;

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
