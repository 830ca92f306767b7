//! Identities created by an admin.

use super::*;

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
