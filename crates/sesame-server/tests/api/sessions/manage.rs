//! `POST /admin/sessions`: bulk disable and delete, by identity, by session, or all of them in
//! batches (spec §4.7, §9 item 11).

use super::*;
use crate::sdk::assert_session_inactive;
use sesame_core::store::SessionAdminStore;
use sesame_core::{SessionId, SessionToken};
use sesame_testkit::api_test;
use sesame_testkit::sesame_client::sesame_types::{
    ManageSessionsAction, ManageSessionsBody, ManageSessionsResponse,
};

async fn manage(app: &TestApp, body: Value) -> Response {
    app.admin(Method::POST, "/admin/sessions")
        .json(&body)
        .send()
        .await
        .unwrap()
}

api_test!(
    disabling_by_identity_or_session_counts_the_sessions_that_were_active,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (ada, ada_id) = user_with_sessions(&app, "ada@example.com", 2).await;
        let (bob, _) = user_with_sessions(&app, "bob@example.com", 1).await;
        let (eve, _) = user_with_sessions(&app, "eve@example.com", 0).await;
        sdk.perform_native_logout(&ada[0]).await.unwrap();

        let body = json!({"action": "disable", "identities": [ada_id, Uuid::new_v4()]});
        let res = manage(&app, body).await;
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(
            expect_json(res, StatusCode::OK).await,
            json!({"processed": 2, "more": false})
        );
        for t in &ada {
            assert_session_inactive(&sdk.to_session().x_session_token(t).await.unwrap_err());
        }
        assert_eq!(
            sdk.list_identity_sessions(ada_id).await.unwrap().data.len(),
            3,
            "kept"
        );

        let bobs_first = session_id(&sdk, &bob[0]).await;
        let body = ManageSessionsBody::sessions(ManageSessionsAction::Disable, &[bobs_first]);
        let res = sdk.manage_sessions(&body).await.unwrap();
        assert_eq!(
            res.data,
            ManageSessionsResponse {
                processed: 1,
                more: false
            }
        );
        assert_session_inactive(&sdk.to_session().x_session_token(&bob[0]).await.unwrap_err());
        assert!(sdk.to_session().x_session_token(&bob[1]).await.is_ok());
        let again = sdk.manage_sessions(&body).await.unwrap();
        assert_eq!(again.data.processed, 0, "already inactive");
        assert!(sdk.to_session().x_session_token(&eve[0]).await.is_ok());

        // Unknown ids are no error.
        let body = ManageSessionsBody::identities(ManageSessionsAction::Delete, &[Uuid::new_v4()]);
        let res = sdk.manage_sessions(&body).await.unwrap();
        assert_eq!(
            res.data,
            ManageSessionsResponse {
                processed: 0,
                more: false
            }
        );
    }
);

api_test!(
    deleting_by_session_or_identity_removes_the_rows,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (ada, ada_id) = user_with_sessions(&app, "ada@example.com", 1).await;
        let (bob, bob_id) = user_with_sessions(&app, "bob@example.com", 1).await;
        sdk.perform_native_logout(&ada[1]).await.unwrap();
        let bobs_first = session_id(&sdk, &bob[0]).await;

        let body = json!({"action": "delete", "sessions": [bobs_first.to_string()]});
        let res = manage(&app, body).await;
        assert_eq!(
            expect_json(res, StatusCode::OK).await,
            json!({"processed": 1, "more": false})
        );
        assert_eq!(
            sdk.get_session(bobs_first).await.unwrap_err().status(),
            Some(StatusCode::NOT_FOUND)
        );
        assert!(sdk.to_session().x_session_token(&bob[1]).await.is_ok());

        let body = ManageSessionsBody::identities(ManageSessionsAction::Delete, &[ada_id]);
        let res = sdk.manage_sessions(&body).await.unwrap();
        assert_eq!(res.data.processed, 2, "the inactive one too");
        assert!(
            sdk.list_identity_sessions(ada_id)
                .await
                .unwrap()
                .data
                .is_empty()
        );
        assert_eq!(
            sdk.list_identity_sessions(bob_id).await.unwrap().data.len(),
            1
        );
    }
);

/// `n` more sessions of the identity that owns `token`, written straight to the store.
async fn seed_sessions(app: &TestApp, sdk: &Client, token: &str, n: usize) {
    let id = session_id(sdk, token).await;
    let store = app.store();
    let (template, _) = SessionAdminStore::session(&*store, SessionId(id))
        .await
        .unwrap()
        .unwrap();
    let sessions: Vec<_> = (0..n)
        .map(|_| {
            let mut s = template.clone();
            s.id = SessionId::new();
            s.token_digest = SessionToken::generate().digest();
            s.logout_token_digest = SessionToken::generate().digest();
            s
        })
        .collect();
    store.insert_sessions(&sessions).await.unwrap();
}

api_test!(
    the_wildcard_works_through_every_session_in_batches_of_5000,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (ada, _) = user_with_sessions(&app, "many@example.com", 0).await;
        let (bob, _) = user_with_sessions(&app, "bob@example.com", 0).await;
        seed_sessions(&app, &sdk, &ada[0], 5000).await;
        // 5002 sessions in all.
        let all = ManageSessionsBody::all(ManageSessionsAction::Disable);
        let first = sdk.manage_sessions(&all).await.unwrap().data;
        assert_eq!(
            first,
            ManageSessionsResponse {
                processed: 5000,
                more: true
            }
        );
        let second = sdk.manage_sessions(&all).await.unwrap().data;
        assert_eq!(
            second,
            ManageSessionsResponse {
                processed: 2,
                more: false
            }
        );
        let third = sdk.manage_sessions(&all).await.unwrap().data;
        assert_eq!(
            third,
            ManageSessionsResponse {
                processed: 0,
                more: false
            }
        );
        assert_session_inactive(&sdk.to_session().x_session_token(&bob[0]).await.unwrap_err());

        let all = ManageSessionsBody::all(ManageSessionsAction::Delete);
        let first = sdk.manage_sessions(&all).await.unwrap().data;
        assert_eq!(
            first,
            ManageSessionsResponse {
                processed: 5000,
                more: true
            }
        );
        let second = sdk.manage_sessions(&all).await.unwrap().data;
        assert_eq!(
            second,
            ManageSessionsResponse {
                processed: 2,
                more: false
            }
        );
        assert_eq!(app.store().count_sessions().await.unwrap(), 0);
    }
);

api_test!(malformed_bulk_requests_are_400, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let id = Uuid::new_v4().to_string();
    let many: Vec<String> = (0..501).map(|_| Uuid::new_v4().to_string()).collect();
    for body in [
        json!({"action": "purge", "identities": [id]}),
        json!({"identities": [id]}),
        json!({"action": "disable"}),
        json!({"action": "disable", "identities": [id], "sessions": [id]}),
        json!({"action": "disable", "identities": []}),
        json!({"action": "delete", "sessions": []}),
        json!({"action": "disable", "identities": ["not-a-uuid"]}),
        json!({"action": "disable", "sessions": [id, "BADUUID"]}),
        json!({"action": "disable", "identities": ["*", id]}),
        json!({"action": "delete", "sessions": ["*"]}),
        json!({"action": "disable", "identities": many}),
        json!("disable"),
    ] {
        let res = manage(&app, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(res.headers()["content-type"], "application/json");
        let envelope = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(envelope["error"]["code"], 400, "{body}");
    }
    let res = app
        .admin(Method::POST, "/admin/sessions")
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Exactly 500 is fine.
    let five_hundred: Vec<String> = many[..500].to_vec();
    let res = manage(
        &app,
        json!({"action": "delete", "identities": five_hundred}),
    )
    .await;
    assert_eq!(
        expect_json(res, StatusCode::OK).await,
        json!({"processed": 0, "more": false})
    );
});
