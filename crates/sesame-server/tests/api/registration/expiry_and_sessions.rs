//! Expiry (the 410 envelopes on the wire, the replacement flow through the SDK) and existing
//! sessions (through the SDK).

use super::*;

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
        let replacement = Uuid::parse_str(body["use_flow_id"].as_str().unwrap()).unwrap();
        assert_ne!(replacement.to_string(), id);
        let sdk = app.sdk();
        let fresh = sdk.get_registration_flow(replacement).await.unwrap();
        assert_eq!(fresh.status, StatusCode::OK);
        assert_eq!(fresh.data.id, replacement);
        assert_eq!(fresh.data.flow_type, FlowType::Api);
        let res = sdk
            .update_registration_flow(
                replacement,
                &registration_body("alice@example.com", PASSWORD),
            )
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK, "the replacement flow works");
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
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "alice@example.com").await;
        let err = sdk
            .create_native_registration_flow()
            .header("X-Session-Token", &token)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(err.id(), Some("session_already_available"));
        let res = err.response.as_ref().unwrap();
        assert_eq!(res.headers["content-type"], "application/json");
        assert_eq!(res.headers["ory-error-id"], "session_already_available");
        let expected = json!({"error": {
            "id": "session_already_available",
            "code": 400,
            "status": "Bad Request",
            "reason": "A valid session was detected and thus registration is not possible.",
            "message": "you are already logged in"
        }});
        assert_eq!(res.text(), format!("{expected}\n"));
    }
);

api_test!(
    registration_submit_with_a_session_answers_the_session_already_available_envelope,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "alice@example.com").await;
        let flow = sdk.create_native_registration_flow().await.unwrap();
        let err = sdk
            .update_registration_flow(
                flow.data.id,
                &registration_body("bob@example.com", PASSWORD),
            )
            .header("X-Session-Token", &token)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(err.id(), Some("session_already_available"));
        let headers = &err.response.as_ref().unwrap().headers;
        assert_eq!(headers["ory-error-id"], "session_already_available");
        let ErrorKind::Api(error) = &err.kind else {
            panic!("expected the envelope, got {err:?}");
        };
        assert_eq!(
            error.reason.as_deref(),
            Some("A valid session was detected and thus registration is not possible.")
        );
    }
);
