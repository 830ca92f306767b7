//! Identities created by an admin: disabled identities, imported hashes, expired second-factor
//! flows — all through the SDK.

use super::*;

api_test!(
    login_of_a_disabled_identity_renders_4010011,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let body = CreateIdentityBody {
            schema_id: Some("default".to_owned()),
            traits: json!({"email": "disabled@example.com"}),
            state: Some(IdentityState::Inactive),
            credentials: password_credentials(PasswordConfigBody {
                password: Some(PASSWORD.to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = sdk.create_identity(&body).await.unwrap();
        assert_eq!(created.status, StatusCode::CREATED);
        let flow = sdk.create_native_login_flow().await.unwrap();
        let err = sdk
            .update_login_flow(
                flow.data.id,
                &UpdateLoginFlowBody::password("disabled@example.com", PASSWORD),
            )
            .await
            .unwrap_err();
        let flow = expect_rejected(&err, flow.data.id);
        assert_eq!(
            only_ui_message(&flow.ui),
            &message(
                4010011,
                "This account has been disabled. Please contact support for assistance.",
                "error"
            )
        );
    }
);

api_test!(
    login_with_an_imported_bcrypt_hash_succeeds_and_rehashes_it_to_argon2id,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();
        assert!(hash.starts_with("$2b$04$"));
        let body = CreateIdentityBody {
            traits: json!({"email": "imported@example.com"}),
            credentials: password_credentials(PasswordConfigBody {
                hashed_password: Some(hash.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = sdk.create_identity(&body).await.unwrap();
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.data.id;
        let stored = || async {
            let res = sdk
                .get_identity(id)
                .include_credential("password")
                .await
                .unwrap();
            let credentials = res.data.credentials.unwrap();
            let config = credentials["password"].config.clone().unwrap();
            config["hashed_password"].as_str().unwrap().to_owned()
        };
        assert_eq!(stored().await, hash);

        let err = sdk
            .login_with_password("imported@example.com", "not-the-password")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert!(matches!(err.kind, ErrorKind::LoginRejected(_)), "{err:?}");
        assert_eq!(
            stored().await,
            hash,
            "a failed login does not touch the hash"
        );

        let res = sdk
            .login_with_password("imported@example.com", PASSWORD)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.session.identity.unwrap().id, id);
        let rehashed = stored().await;
        assert!(rehashed.starts_with("$argon2id$"), "{rehashed}");
        // The new hash verifies the same password.
        log_in(&sdk, "imported@example.com", PASSWORD).await;
    }
);

api_test!(
    an_expired_second_factor_flow_without_a_session_is_replaced_by_a_plain_login_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "carol@example.com").await;
        let flow = sdk
            .create_native_login_flow()
            .x_session_token(&token)
            .aal(Aal::Aal2)
            .await
            .unwrap();
        assert_eq!(flow.status, StatusCode::OK);
        assert_eq!(flow.data.requested_aal, Aal::Aal2);
        app.clock.advance(chrono::Duration::hours(2));
        let err = sdk
            .update_login_flow(
                flow.data.id,
                &UpdateLoginFlowBody::password("carol@example.com", PASSWORD),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::GONE));
        let replacement = use_flow_id(&err);
        let fresh = sdk.get_login_flow(replacement).await.unwrap();
        assert_eq!(fresh.status, StatusCode::OK);
        assert_eq!(fresh.data.requested_aal, Aal::Aal1);
        assert!(!fresh.data.refresh);
    }
);
