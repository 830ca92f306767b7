//! Expiry: the 410 envelopes on the wire; the replacement flow through the SDK.

use super::*;

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
        let replacement = Uuid::parse_str(body["use_flow_id"].as_str().unwrap()).unwrap();
        assert_ne!(replacement.to_string(), id);
        // The replacement is an API flow that works.
        let sdk = app.sdk();
        let fresh = sdk.get_login_flow(replacement).await.unwrap();
        assert_eq!(fresh.status, StatusCode::OK);
        assert_eq!(fresh.data.id, replacement);
        assert_eq!(fresh.data.flow_type, FlowType::Api);
        let res = sdk
            .update_login_flow(
                replacement,
                &UpdateLoginFlowBody::password("alice@example.com", PASSWORD),
            )
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
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
