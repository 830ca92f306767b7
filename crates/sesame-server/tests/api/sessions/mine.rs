//! `GET /sessions`, `DELETE /sessions`, `DELETE /sessions/{id}` (spec §4.6, §9 items 3 and 9).

use super::*;
use crate::sdk::assert_session_inactive;
use sesame_testkit::api_test;
use sesame_testkit::sesame_client::ErrorKind;

api_test!(
    listing_my_sessions_shows_the_other_active_ones_newest_first,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, identity) = user_with_sessions(&app, "mine@example.com", 4).await;
        let (other_user, _) = user_with_sessions(&app, "other@example.com", 0).await;
        let mut sessions = Vec::new();
        for t in &tokens {
            sessions.push(session_id(&sdk, t).await);
        }
        sdk.perform_native_logout(&tokens[1]).await.unwrap();
        let current = &tokens[4];

        let res = sdk
            .list_my_sessions()
            .x_session_token(current)
            .await
            .unwrap();
        let listed: Vec<Uuid> = res.data.iter().map(|s| s.id).collect();
        assert_eq!(listed, [sessions[3], sessions[2], sessions[0]]);
        assert!(!listed.contains(&session_id(&sdk, &other_user[0]).await));
        assert_eq!(res.headers["x-total-count"], "3");
        for s in &res.data {
            assert!(s.active);
            let id = s.identity.as_ref().expect("the identity is expanded");
            assert_eq!(id.id, identity);
            assert_eq!(id.metadata_admin, None, "the public shape");
            let devices = s.devices.as_deref().expect("devices are expanded");
            assert_eq!(devices[0].ip_address.as_deref(), Some("127.0.0.1"));
        }

        // The wire: the plain session shape, Link and X-Total-Count, no Vary: Cookie.
        let res = app
            .public(Method::GET, "/sessions")
            .header("X-Session-Token", current)
            .send()
            .await
            .unwrap();
        assert_eq!(rels(&res), ["first"]);
        assert!(
            link_rel(&res, "first")
                .unwrap()
                .starts_with("/sessions?page=0&page_size=3&"),
            "{:?}",
            res.headers()["link"]
        );
        assert!(res.headers().get("vary").is_none());
        let body = expect_json(res, StatusCode::OK).await;
        let first = &body[0];
        assert!(first["identity"].get("credentials").is_none());
        assert!(first["identity"].get("metadata_admin").is_none());
        assert!(first.get("tokenized").is_none());

        // With the session cookie instead of the token.
        let cookie = sesame_testkit::sealed_session_cookie(current, chrono::Utc::now());
        let res = sdk.list_my_sessions().cookie(&cookie).await.unwrap();
        assert_eq!(res.data.len(), 3);
    }
);

api_test!(
    my_sessions_page_through_link_headers_to_the_end,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, _) = user_with_sessions(&app, "pages@example.com", 5).await;
        let current = tokens.last().unwrap().clone();
        let mut expected = Vec::new();
        for t in tokens[..5].iter().rev() {
            expected.push(session_id(&sdk, t).await.to_string());
        }

        let request = |path: &str| {
            app.public(Method::GET, path)
                .header("X-Session-Token", &current)
        };
        let (pages, rels) = follow("/sessions?per_page=2", request).await;
        assert_eq!(pages.concat(), expected);
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(rels[0], ["next", "last"]);
        assert_eq!(rels[1], ["first", "next", "prev", "last"]);
        assert_eq!(rels[2], ["first", "prev"]);

        // The token style (page_token/page_size) pages alike; so does the SDK.
        let (pages, _) = follow("/sessions?page_size=3", request).await;
        assert_eq!(pages.concat(), expected);
        let second = sdk
            .list_my_sessions()
            .page(1)
            .per_page(2)
            .x_session_token(&current)
            .await
            .unwrap();
        let ids: Vec<String> = second.data.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(ids, expected[2..4]);
        assert_eq!(second.headers["x-total-count"], "5");
        assert!(second.link("next").unwrap().contains("page=2"));

        // Nothing else: total 0, and Kratos's first/next/prev.
        let (alone, _) = user_with_sessions(&app, "alone@example.com", 0).await;
        let res = app
            .public(Method::GET, "/sessions")
            .header("X-Session-Token", &alone[0])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-total-count"], "0");
        assert_eq!(super::rels(&res), ["first", "next", "prev"]);
        assert_eq!(expect_json(res, StatusCode::OK).await, json!([]));
    }
);

api_test!(
    listing_my_sessions_follows_the_whoami_aal_rule,
    |backend: sesame_testkit::Backend| async move {
        let app = TestApp::spawn(backend.clone()).await;
        let sdk = app.sdk();
        let (tokens, identity) = user_with_sessions(&app, "aal@example.com", 1).await;
        app.add_totp_credential(&identity.to_string()).await;
        let err = sdk
            .list_my_sessions()
            .x_session_token(&tokens[1])
            .await
            .unwrap_err();
        let ErrorKind::Aal2Required {
            redirect_browser_to,
        } = &err.kind
        else {
            panic!("expected Aal2Required, got {err:?}");
        };
        assert_eq!(
            redirect_browser_to.as_deref(),
            Some(format!("{}/self-service/login/browser?aal=aal2", app.public_url).as_str())
        );
        assert_eq!(
            err.response.as_ref().unwrap().headers["ory-error-id"],
            "session_aal2_required"
        );
        // Revoking needs no second factor (Kratos checks the AAL on the listing only).
        let res = sdk
            .disable_my_other_sessions()
            .x_session_token(&tokens[1])
            .await
            .unwrap();
        assert_eq!(res.data.count, 1);

        let app = TestApp::builder(backend)
            .env("SESSION_WHOAMI_REQUIRED_AAL", "aal1")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (tokens, identity) = user_with_sessions(&app, "aal1@example.com", 1).await;
        app.add_totp_credential(&identity.to_string()).await;
        let res = sdk
            .list_my_sessions()
            .x_session_token(&tokens[1])
            .await
            .unwrap();
        assert_eq!(
            res.data.len(),
            1,
            "required_aal: aal1 lets the aal1 session list"
        );
    }
);

api_test!(
    my_session_endpoints_without_a_session_answer_401_with_their_own_reason,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, _) = user_with_sessions(&app, "gone@example.com", 0).await;
        sdk.perform_native_logout(&tokens[0]).await.unwrap();
        let unknown = format!("/sessions/{}", Uuid::new_v4());
        for (method, path) in [
            (Method::GET, "/sessions"),
            (Method::DELETE, "/sessions"),
            (Method::DELETE, "/sessions/BADUUID"),
            (Method::DELETE, unknown.as_str()),
        ] {
            for token in [None, Some("ory_st_unknown"), Some(tokens[0].as_str())] {
                let mut req = app.public(method.clone(), path);
                if let Some(t) = token {
                    req = req.header("X-Session-Token", t);
                }
                let res = req.send().await.unwrap();
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
                assert_eq!(res.headers()["ory-error-id"], "");
                assert_eq!(res.headers()["content-type"], "application/json");
                assert_eq!(res.text().await.unwrap(), NO_COOKIE_BODY);
            }
        }
        // The SDK reads them as SessionInactive.
        let err = sdk.list_my_sessions().await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive), "{err:?}");
        let err = sdk.disable_my_other_sessions().await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive), "{err:?}");
        let err = sdk.disable_my_session(Uuid::new_v4()).await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive), "{err:?}");
    }
);

api_test!(
    revoking_my_other_sessions_counts_them_all_and_keeps_the_current_one,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, _) = user_with_sessions(&app, "everywhere@example.com", 3).await;
        let (bob, _) = user_with_sessions(&app, "bob@example.com", 0).await;
        sdk.perform_native_logout(&tokens[0]).await.unwrap();
        let current = &tokens[3];

        let res = app
            .public(Method::DELETE, "/sessions")
            .header("X-Session-Token", current)
            .send()
            .await
            .unwrap();
        // Kratos's count includes the session that was logged out already.
        assert_eq!(expect_json(res, StatusCode::OK).await, json!({"count": 3}));
        for t in &tokens[..3] {
            assert_session_inactive(&sdk.to_session().x_session_token(t).await.unwrap_err());
        }
        assert!(
            sdk.to_session()
                .x_session_token(current)
                .await
                .unwrap()
                .data
                .active
        );
        assert!(
            sdk.to_session()
                .x_session_token(&bob[0])
                .await
                .unwrap()
                .data
                .active
        );
        let again = sdk
            .disable_my_other_sessions()
            .x_session_token(current)
            .await
            .unwrap();
        assert_eq!(again.data.count, 3);
        assert!(
            sdk.list_my_sessions()
                .x_session_token(current)
                .await
                .unwrap()
                .data
                .is_empty()
        );
    }
);

api_test!(
    revoking_one_of_my_sessions_touches_only_that_one_of_mine,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, _) = user_with_sessions(&app, "one@example.com", 2).await;
        let (bob, _) = user_with_sessions(&app, "bob@example.com", 0).await;
        let current = &tokens[2];
        let target = session_id(&sdk, &tokens[0]).await;
        let bobs = session_id(&sdk, &bob[0]).await;
        let delete = |path: String| {
            app.public(Method::DELETE, &path)
                .header("X-Session-Token", current)
                .send()
        };

        assert_bad_request_message(
            delete("/sessions/BADUUID".into()).await.unwrap(),
            BAD_UUID_MESSAGE,
        )
        .await;
        let own = session_id(&sdk, current).await;
        assert_bad_request_message(
            delete(format!("/sessions/{own}")).await.unwrap(),
            "cannot revoke current session",
        )
        .await;

        let res = delete(format!("/sessions/{target}")).await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.text().await.unwrap(), "");
        assert_session_inactive(
            &sdk.to_session()
                .x_session_token(&tokens[0])
                .await
                .unwrap_err(),
        );
        assert!(
            sdk.to_session()
                .x_session_token(&tokens[1])
                .await
                .unwrap()
                .data
                .active
        );
        assert!(
            sdk.to_session()
                .x_session_token(current)
                .await
                .unwrap()
                .data
                .active
        );

        // Revoked already, unknown, or another identity's: 204, and nothing changes.
        for id in [target, Uuid::new_v4(), bobs] {
            let res = sdk
                .disable_my_session(id)
                .x_session_token(current)
                .await
                .unwrap();
            assert_eq!(res.status, StatusCode::NO_CONTENT);
        }
        assert!(
            sdk.to_session()
                .x_session_token(&bob[0])
                .await
                .unwrap()
                .data
                .active
        );
        let err = sdk
            .disable_my_session(own)
            .x_session_token(current)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    }
);

api_test!(
    delete_sessions_whoami_is_whoami_and_there_is_no_public_extend,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (tokens, identity) = user_with_sessions(&app, "routes@example.com", 0).await;
        let res = app
            .public(Method::DELETE, "/sessions/whoami")
            .header("X-Session-Token", &tokens[0])
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["identity"]["id"], identity.to_string());

        let id = session_id(&app.sdk(), &tokens[0]).await;
        let res = app
            .public(Method::PATCH, &format!("/sessions/{id}/extend"))
            .header("X-Session-Token", &tokens[0])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.text().await.unwrap(), "404 page not found\n");
    }
);
