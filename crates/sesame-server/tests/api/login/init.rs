//! Init and fetch.

use super::*;

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
