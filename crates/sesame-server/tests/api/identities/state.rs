//! `state: inactive` ends every session of the identity at once, by PATCH or PUT; re-activation
//! brings back the sessions that are neither expired nor revoked, as in Kratos (sessions are
//! judged by their identity's state on every whoami, their rows are not touched).

use super::*;
use sesame_testkit::sesame_client::sesame_types::JsonPatch;

async fn set_state(sdk: &Client, id: Uuid, state: &str) {
    let res = sdk
        .patch_identity(id, &[JsonPatch::replace("/state", json!(state))])
        .await
        .unwrap();
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.data.state.as_str(), state);
}

api_test!(
    deactivating_by_patch_ends_every_session_at_once,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "cutoff@example.com").await;
        let first = log_in(&sdk, "cutoff@example.com", PASSWORD).await;
        let second = log_in(&sdk, "cutoff@example.com", PASSWORD).await;
        let bystander = add_user(&sdk, "bystander@example.com").await;
        let other = log_in(&sdk, "bystander@example.com", PASSWORD).await;

        set_state(&sdk, id, "inactive").await;
        // No wait, no cache: the very next whoami of either session is refused.
        for token in [&first, &second] {
            let err = sdk.to_session().x_session_token(token).await.unwrap_err();
            assert_session_inactive(&err);
        }
        let res = sdk.to_session().x_session_token(&other).await.unwrap();
        assert_eq!(res.data.identity.unwrap().id, bystander);
        // And no new session can be made.
        let err = sdk
            .login_with_password("cutoff@example.com", PASSWORD)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");
    }
);

api_test!(
    reactivating_brings_back_the_sessions_that_neither_expired_nor_were_revoked,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "comeback@example.com").await;
        let kept = log_in(&sdk, "comeback@example.com", PASSWORD).await;
        let revoked = log_in(&sdk, "comeback@example.com", PASSWORD).await;

        set_state(&sdk, id, "inactive").await;
        sdk.perform_native_logout(&revoked).await.unwrap();
        set_state(&sdk, id, "active").await;

        let res = sdk.to_session().x_session_token(&kept).await.unwrap();
        assert!(res.data.active);
        assert_eq!(res.data.identity.unwrap().id, id);
        let err = sdk
            .to_session()
            .x_session_token(&revoked)
            .await
            .unwrap_err();
        assert_session_inactive(&err);
        log_in(&sdk, "comeback@example.com", PASSWORD).await;

        // A session that expired while its identity was inactive stays ended.
        set_state(&sdk, id, "inactive").await;
        app.clock.advance(chrono::Duration::hours(25));
        set_state(&sdk, id, "active").await;
        let err = sdk.to_session().x_session_token(&kept).await.unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    deactivating_and_reactivating_by_put_behaves_the_same,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "put-state@example.com").await;
        let token = log_in(&sdk, "put-state@example.com", PASSWORD).await;
        let body = |state| UpdateIdentityBody {
            traits: json!({"email": "put-state@example.com"}),
            state: Some(state),
            ..Default::default()
        };
        sdk.update_identity(id, &body(IdentityState::Inactive))
            .await
            .unwrap();
        assert_session_inactive(&sdk.to_session().x_session_token(&token).await.unwrap_err());
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        sdk.update_identity(id, &body(IdentityState::Active))
            .await
            .unwrap();
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.data.identity.unwrap().id, id);
    }
);
