//! Replacing and deleting identities, and what that does to their sessions: through the SDK's
//! admin calls, except where null-versus-absent fields, bad ids or empty bodies are under test.

use super::*;

api_test!(
    replacing_an_identity_changes_its_login_identifier,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "old@example.com").await;
        let body = UpdateIdentityBody {
            traits: json!({"email": "new@example.com"}),
            metadata_public: Some(json!({"v": 2})),
            ..Default::default()
        };
        let res = sdk.update_identity(id, &body).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            res.headers["content-type"],
            "application/json; charset=utf-8"
        );
        let identity = &res.data;
        assert_eq!(identity.traits, json!({"email": "new@example.com"}));
        let password = &identity.credentials.as_ref().unwrap()["password"];
        assert_eq!(password.identifiers, ["new@example.com"]);
        assert_eq!(password.config, None);
        assert_eq!(identity.verifiable_addresses[0].value, "new@example.com");
        assert_eq!(identity.metadata_public, Some(json!({"v": 2})));

        log_in(&sdk, "new@example.com", PASSWORD).await;
        assert_login_refused(&sdk, "old@example.com", PASSWORD).await;
        let listed = sdk
            .list_identities()
            .credentials_identifier("old@example.com")
            .await
            .unwrap();
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.data, []);
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
        let sdk = app.sdk();
        let id = add_user(&sdk, "deactivate@example.com").await;
        let token = log_in(&sdk, "deactivate@example.com", PASSWORD).await;
        let before = sdk.get_identity(id).await.unwrap().data;
        app.clock.advance(chrono::Duration::seconds(5));
        let body = UpdateIdentityBody {
            traits: json!({"email": "deactivate@example.com"}),
            state: Some(IdentityState::Inactive),
            ..Default::default()
        };
        let res = sdk.update_identity(id, &body).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.state, IdentityState::Inactive);
        assert_ne!(
            res.data.state_changed_at, before.state_changed_at,
            "a state change is timestamped"
        );
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    replacing_an_identity_with_invalid_traits_or_a_taken_email_fails,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "first@example.com").await;
        add_user(&sdk, "second@example.com").await;
        let traits = |traits| UpdateIdentityBody {
            traits,
            ..Default::default()
        };
        let err = sdk
            .update_identity(id, &traits(json!({"email": 1})))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let ErrorKind::Api(error) = &err.kind else {
            panic!("expected an API error, got {err:?}");
        };
        let reason = error.reason.as_deref().unwrap();
        assert!(reason.starts_with("I[#/traits"), "{reason}");
        let err = sdk
            .update_identity(id, &traits(json!({"email": "second@example.com"})))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::CONFLICT));
        assert_eq!(err.response.as_ref().unwrap().text(), CONFLICT_BODY);
        log_in(&sdk, "first@example.com", PASSWORD).await;
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
        let sdk = app.sdk();
        let id = add_user(&sdk, "delete@example.com").await;
        let token = log_in(&sdk, "delete@example.com", PASSWORD).await;
        // The empty 204 is checked on the wire.
        let path = format!("/admin/identities/{id}");
        let res = app.admin(Method::DELETE, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.text().await.unwrap(), "");
        assert_not_found_refusal(&sdk.get_identity(id).await.unwrap_err());
        assert_not_found_refusal(&sdk.delete_identity(id).await.unwrap_err());
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);
        // The email is free again.
        add_user(&sdk, "delete@example.com").await;
    }
);

api_test!(
    replacing_an_identity_with_a_new_password_changes_its_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "repassword@example.com").await;
        let body = UpdateIdentityBody {
            traits: json!({"email": "repassword@example.com"}),
            credentials: password_credentials("a-brand-new-passphrase-7"),
            ..Default::default()
        };
        let res = sdk.update_identity(id, &body).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        let credentials = res.data.credentials.unwrap();
        assert_eq!(
            credentials["password"].config, None,
            "update never shows config"
        );
        log_in(&sdk, "repassword@example.com", "a-brand-new-passphrase-7").await;
        assert_login_refused(&sdk, "repassword@example.com", PASSWORD).await;
    }
);
