//! `sesame-client`'s session management against a real server: a user's own sessions
//! (`list_my_sessions`, `disable_my_other_sessions`, `disable_my_session`) and the admin session
//! API (`list_sessions`, `get_session`, `disable_session`, `extend_session`,
//! `list_identity_sessions`, `delete_identity_sessions`, `manage_sessions`), with their typed
//! answers, options and refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sesame_client::sesame_types::{
    ManageSessionsAction, ManageSessionsBody, ManageSessionsResponse,
};
use sesame_client::{Client, ErrorKind, StatusCode, Uuid};
use sesame_core::Clock;
use sesame_testkit::{TestApp, api_test};

const PASSWORD: &str = "a-very-good-passphrase-42";

fn client(app: &TestApp) -> Client {
    Client::builder(&app.public_url)
        .admin_url(&app.admin_url)
        .build()
        .unwrap()
}

/// `email` signed up, then logged in `logins` more times a second apart: the tokens, oldest first,
/// and the identity id.
async fn sessions_of(app: &TestApp, email: &str, logins: usize) -> (Vec<String>, Uuid) {
    let (token, identity) = app.signed_up_user(email).await;
    let mut tokens = vec![token];
    for _ in 0..logins {
        app.clock.advance(chrono::Duration::seconds(1));
        tokens.push(app.login(email, PASSWORD).await);
    }
    (tokens, identity.parse().unwrap())
}

async fn id_of(client: &Client, token: &str) -> Uuid {
    client
        .to_session()
        .x_session_token(token)
        .await
        .unwrap()
        .data
        .id
}

api_test!(
    my_sessions_are_listed_paged_and_revoked,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let (tokens, identity) = sessions_of(&app, "me@example.com", 3).await;
        let current = &tokens[3];
        let mut others = Vec::new();
        for t in tokens[..3].iter().rev() {
            others.push(id_of(&client, t).await);
        }

        let all = client
            .list_my_sessions()
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(all.data.iter().map(|s| s.id).collect::<Vec<_>>(), others);
        assert_eq!(all.data[0].identity.as_ref().unwrap().id, identity);
        assert_eq!(all.headers["x-total-count"], "3");

        let page = client
            .list_my_sessions()
            .per_page(2)
            .page(1)
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(
            page.data.iter().map(|s| s.id).collect::<Vec<_>>(),
            others[2..]
        );
        let next = client
            .list_my_sessions()
            .page_size(2)
            .x_session_token(current)
            .await
            .unwrap();
        let token = next.next_page_token().expect("a next page");
        let second = client
            .list_my_sessions()
            .page_size(2)
            .page_token(&token)
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(
            second.data.iter().map(|s| s.id).collect::<Vec<_>>(),
            others[2..]
        );

        let res = client
            .disable_my_session(others[0])
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let err = client
            .disable_my_session(id_of(&client, current).await)
            .x_session_token(current)
            .await
            .unwrap_err();
        let ErrorKind::Api(e) = &err.kind else {
            panic!("{err:?}")
        };
        assert_eq!(e.message, "cannot revoke current session");
        let left = client
            .list_my_sessions()
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(left.data.len(), 2);

        let res = client
            .disable_my_other_sessions()
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(res.data.count, 3);
        assert!(
            client
                .list_my_sessions()
                .x_session_token(current)
                .await
                .unwrap()
                .data
                .is_empty()
        );

        let err = client.list_my_sessions().await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive), "{err:?}");
    }
);

api_test!(
    admin_sessions_are_listed_read_disabled_and_extended,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let (tokens, identity) = sessions_of(&app, "admin@example.com", 2).await;
        let mut newest_first = Vec::new();
        for t in tokens.iter().rev() {
            newest_first.push(id_of(&client, t).await);
        }

        let first = client.list_sessions().page_size(2).await.unwrap();
        assert_eq!(
            first.data.iter().map(|s| s.id).collect::<Vec<_>>(),
            newest_first[..2]
        );
        assert!(first.data[0].identity.is_none() && first.data[0].devices.is_none());
        let token = first.next_page_token().expect("a next page");
        let rest = client
            .list_sessions()
            .page_size(2)
            .page_token(&token)
            .expand("identity")
            .expand("devices")
            .await
            .unwrap();
        assert_eq!(
            rest.data.iter().map(|s| s.id).collect::<Vec<_>>(),
            newest_first[2..]
        );
        assert_eq!(rest.data[0].identity.as_ref().unwrap().id, identity);
        assert!(rest.next_page_token().is_none());

        let id = newest_first[0];
        let got = client.get_session(id).expand("identity").await.unwrap();
        assert_eq!(got.data.identity.unwrap().id, identity);
        assert_eq!(got.data.devices, Some(Vec::new()));

        app.clock.advance(chrono::Duration::hours(1));
        let extended = client
            .extend_session(id)
            .await
            .unwrap()
            .data
            .expect("the session");
        assert_eq!(
            extended.expires_at,
            app.clock.now() + chrono::Duration::hours(24)
        );

        assert_eq!(
            client.disable_session(id).await.unwrap().status,
            StatusCode::NO_CONTENT
        );
        let inactive = client.list_sessions().active(false).await.unwrap();
        assert_eq!(inactive.data.iter().map(|s| s.id).collect::<Vec<_>>(), [id]);
        let err = client.get_session(Uuid::new_v4()).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        let err = client.list_sessions().expand("nothing").await.unwrap_err();
        let ErrorKind::Api(e) = &err.kind else {
            panic!("{err:?}")
        };
        assert_eq!(
            e.reason.as_deref(),
            Some("Could not parse expand option: nothing")
        );
    }
);

api_test!(
    an_identitys_sessions_are_listed_deleted_and_managed_in_bulk,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let (ada, ada_id) = sessions_of(&app, "ada@example.com", 2).await;
        let (bob, bob_id) = sessions_of(&app, "bob@example.com", 1).await;

        let listed = client
            .list_identity_sessions(ada_id)
            .active(true)
            .per_page(2)
            .await
            .unwrap();
        assert_eq!(listed.data.len(), 2);
        assert_eq!(listed.headers["x-total-count"], "3");
        assert!(listed.link("next").is_some());

        let body = ManageSessionsBody::sessions(
            ManageSessionsAction::Disable,
            &[id_of(&client, &ada[0]).await],
        );
        let done = client.manage_sessions(&body).await.unwrap();
        assert_eq!(
            done.data,
            ManageSessionsResponse {
                processed: 1,
                more: false
            }
        );
        let body = ManageSessionsBody::identities(ManageSessionsAction::Disable, &[ada_id, bob_id]);
        assert_eq!(
            client.manage_sessions(&body).await.unwrap().data.processed,
            4
        );
        let err = client
            .manage_sessions(&ManageSessionsBody::sessions(
                ManageSessionsAction::Delete,
                &[],
            ))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));

        let res = client.delete_identity_sessions(ada_id).await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        assert!(
            client
                .list_identity_sessions(ada_id)
                .await
                .unwrap()
                .data
                .is_empty()
        );
        let err = client.delete_identity_sessions(ada_id).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

        let all = ManageSessionsBody::all(ManageSessionsAction::Delete);
        let done = client.manage_sessions(&all).await.unwrap();
        assert_eq!(
            done.data,
            ManageSessionsResponse {
                processed: 2,
                more: false
            }
        );
        let err = client
            .to_session()
            .x_session_token(&bob[0])
            .await
            .unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive));
    }
);

#[tokio::test]
async fn admin_session_calls_without_an_admin_url_send_nothing() {
    let client = Client::builder("http://127.0.0.1:9").build().unwrap();
    let err = client.list_sessions().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Config(_)), "{err:?}");
    let err = client
        .manage_sessions(&ManageSessionsBody::all(ManageSessionsAction::Disable))
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Config(_)), "{err:?}");
}
