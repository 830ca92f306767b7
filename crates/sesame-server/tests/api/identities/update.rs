//! Replacing and deleting identities, and what that does to their sessions.

use super::*;

api_test!(
    replacing_an_identity_changes_its_login_identifier,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "old@example.com").await;
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "new@example.com"}, "metadata_public": {"v": 2}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["traits"], json!({"email": "new@example.com"}));
        assert_eq!(
            body["credentials"]["password"]["identifiers"],
            json!(["new@example.com"])
        );
        assert!(body["credentials"]["password"].get("config").is_none());
        assert_eq!(body["verifiable_addresses"][0]["value"], "new@example.com");
        assert_eq!(body["metadata_public"], json!({"v": 2}));

        app.login("new@example.com", PASSWORD).await;
        assert_eq!(
            login_status(&app, "old@example.com", PASSWORD).await,
            StatusCode::BAD_REQUEST
        );
        let (_, listed) = get_json(
            &app,
            "/admin/identities?credentials_identifier=old@example.com",
        )
        .await;
        assert_eq!(listed, json!([]));
    }
);

api_test!(
    replacing_an_identity_replaces_its_metadata,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let body = create_identity(
        &app,
        json!({"traits": {"email": "meta@example.com"}, "metadata_public": {"a": 1}, "metadata_admin": {"b": 2}}),
    )
    .await;
        let id = body["id"].as_str().unwrap();
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "meta@example.com"}}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["metadata_public"], Value::Null);
        assert!(body.get("metadata_admin").is_none());
        assert_eq!(body["state"], "active", "state is kept when not given");
    }
);

api_test!(
    deactivating_an_identity_ends_its_sessions_for_whoami,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "deactivate@example.com").await;
        let token = app.login("deactivate@example.com", PASSWORD).await;
        let before = get_json(&app, &format!("/admin/identities/{id}")).await.1;
        app.clock.advance(chrono::Duration::seconds(5));
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "deactivate@example.com"}, "state": "inactive"}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["state"], "inactive");
        assert_ne!(
            body["state_changed_at"], before["state_changed_at"],
            "a state change is timestamped"
        );
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
    }
);

api_test!(
    replacing_an_identity_with_invalid_traits_or_a_taken_email_fails,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "first@example.com").await;
        create_user(&app, "second@example.com").await;
        let path = format!("/admin/identities/{id}");
        let res = app
            .admin(Method::PUT, &path)
            .json(&json!({"traits": {"email": 1}}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert!(
            body["error"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("I[#/traits")
        );
        let res = app
            .admin(Method::PUT, &path)
            .json(&json!({"traits": {"email": "second@example.com"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(res.text().await.unwrap(), CONFLICT_BODY);
        app.login("first@example.com", PASSWORD).await;
    }
);

api_test!(
    replacing_an_unknown_identity_answers_404,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let unknown = uuid::Uuid::new_v4();
        let body = json!({"traits": {"email": "ghost@example.com"}});
        assert_not_found(
            app.admin(Method::PUT, &format!("/admin/identities/{unknown}"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_not_found(
            app.admin(Method::PUT, "/admin/identities/not-a-uuid")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
);

api_test!(
    deleting_an_identity_answers_204_then_404_and_ends_its_sessions,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "delete@example.com").await;
        let token = app.login("delete@example.com", PASSWORD).await;
        let path = format!("/admin/identities/{id}");
        let res = app.admin(Method::DELETE, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.text().await.unwrap(), "");
        assert_not_found(app.admin(Method::GET, &path).send().await.unwrap()).await;
        assert_not_found(app.admin(Method::DELETE, &path).send().await.unwrap()).await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
        // The email is free again.
        create_user(&app, "delete@example.com").await;
    }
);

api_test!(
    replacing_an_identity_with_a_new_password_changes_its_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "repassword@example.com").await;
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({
                "traits": {"email": "repassword@example.com"},
                "credentials": {"password": {"config": {"password": "a-brand-new-passphrase-7"}}}
            }))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert!(
            body["credentials"]["password"].get("config").is_none(),
            "update never shows config"
        );
        app.login("repassword@example.com", "a-brand-new-passphrase-7")
            .await;
        assert_eq!(
            login_status(&app, "repassword@example.com", PASSWORD).await,
            StatusCode::BAD_REQUEST
        );
    }
);
