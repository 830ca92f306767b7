//! `GET /admin/identities/{id}/sessions` and `DELETE /admin/identities/{id}/sessions` (spec §4.7,
//! §9 item 8).

use super::*;
use crate::sdk::assert_session_inactive;
use sesame_testkit::api_test;

api_test!(
    listing_an_identitys_sessions_shows_them_all_newest_first_in_the_admin_shape,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, identity) = user_with_sessions(&app, "listed@example.com", 4).await;
        let (other, _) = user_with_sessions(&app, "other@example.com", 0).await;
        let body =
            json!({"traits": {"email": "listed@example.com"}, "metadata_admin": {"tier": 2}});
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{identity}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::OK).await;
        let mut expected = Vec::new();
        for t in tokens.iter().rev() {
            expected.push(session_id(&sdk, t).await.to_string());
        }
        sdk.perform_native_logout(&tokens[0]).await.unwrap();

        let path = format!("/admin/identities/{identity}/sessions");
        let res = admin_get(&app, &path).await;
        assert_eq!(res.headers()["x-total-count"], "5");
        assert_eq!(rels(&res), ["first"]);
        let all = expect_json(res, StatusCode::OK).await;
        assert_eq!(ids(&all), expected, "revoked ones too, newest first");
        assert!(!ids(&all).contains(&session_id(&sdk, &other[0]).await.to_string()));
        for s in all.as_array().unwrap() {
            assert_eq!(s["identity"]["id"], identity.to_string());
            assert_eq!(s["identity"]["metadata_admin"], json!({"tier": 2}));
            assert!(s["identity"].get("credentials").is_none());
            assert_eq!(s["devices"][0]["ip_address"], "127.0.0.1");
        }
        assert_eq!(all[4]["active"], false);

        let active = sdk
            .list_identity_sessions(identity)
            .active(true)
            .await
            .unwrap();
        assert_eq!(active.data.len(), 4);
        assert_eq!(active.headers["x-total-count"], "4");
        let inactive = sdk
            .list_identity_sessions(identity)
            .active(false)
            .await
            .unwrap();
        let inactive: Vec<String> = inactive.data.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(inactive, [expected[4].clone()]);

        // Pages, through the Link headers to the end.
        let request = |p: &str| app.admin(Method::GET, p);
        let (pages, rels) = follow(&format!("{path}?per_page=2"), request).await;
        assert_eq!(pages.concat(), expected);
        assert_eq!(rels.len(), 3);
        let (pages, _) = follow(&format!("{path}?page_size=4&active=true"), request).await;
        assert_eq!(pages.concat(), expected[..4]);
        let second = sdk
            .list_identity_sessions(identity)
            .page(1)
            .per_page(3)
            .await
            .unwrap();
        let ids: Vec<String> = second.data.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(ids, expected[3..]);

        // An unknown identity has none; a bad id or filter is a 400.
        let res = admin_get(
            &app,
            &format!("/admin/identities/{}/sessions", Uuid::new_v4()),
        )
        .await;
        assert_eq!(res.headers()["x-total-count"], "0");
        assert_eq!(expect_json(res, StatusCode::OK).await, json!([]));
        assert_bad_request_message(
            admin_get(&app, "/admin/identities/BADUUID/sessions").await,
            BAD_UUID_MESSAGE,
        )
        .await;
        assert_bad_request_message(
            admin_get(&app, &format!("{path}?active=maybe")).await,
            "could not parse parameter active",
        )
        .await;
    }
);

api_test!(
    deleting_an_identitys_sessions_removes_them_and_is_404_when_there_are_none,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, identity) = user_with_sessions(&app, "purged@example.com", 2).await;
        let (other, other_identity) = user_with_sessions(&app, "kept@example.com", 0).await;
        let first = session_id(&sdk, &tokens[0]).await;
        sdk.perform_native_logout(&tokens[0]).await.unwrap();

        let res = app
            .admin(
                Method::DELETE,
                &format!("/admin/identities/{identity}/sessions"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.text().await.unwrap(), "");
        for t in &tokens {
            assert_session_inactive(&sdk.to_session().x_session_token(t).await.unwrap_err());
        }
        let left = sdk.list_identity_sessions(identity).await.unwrap();
        assert!(left.data.is_empty(), "deleted, revoked ones included");
        let err = sdk.get_session(first).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert!(sdk.to_session().x_session_token(&other[0]).await.is_ok());
        assert_eq!(
            sdk.list_identity_sessions(other_identity)
                .await
                .unwrap()
                .data
                .len(),
            1
        );
        assert!(
            sdk.get_identity(identity).await.is_ok(),
            "the identity stays"
        );

        // Nothing left (or nobody): Kratos's 404.
        let err = sdk.delete_identity_sessions(identity).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        let res = app
            .admin(
                Method::DELETE,
                &format!("/admin/identities/{}/sessions", Uuid::new_v4()),
            )
            .send()
            .await
            .unwrap();
        assert_not_found(res).await;
        let res = app
            .admin(Method::DELETE, "/admin/identities/BADUUID/sessions")
            .send()
            .await
            .unwrap();
        assert_bad_request_message(res, BAD_UUID_MESSAGE).await;
        assert_eq!(
            sdk.delete_identity_sessions(other_identity)
                .await
                .unwrap()
                .status,
            StatusCode::NO_CONTENT
        );

        // Asked on the public port, it is a redirect to the admin port.
        let res = app
            .public(
                Method::DELETE,
                &format!("/admin/identities/{identity}/sessions"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities/{identity}/sessions", app.admin_url).as_str()
        );
    }
);
