//! `GET /admin/sessions`, `GET /admin/sessions/{id}`, `DELETE /admin/sessions/{id}` (spec §4.7,
//! §9 item 8).

use super::*;
use crate::sdk::assert_session_inactive;
use base64::Engine;
use sesame_core::store::SessionAdminStore;
use sesame_testkit::api_test;
use sesame_testkit::sesame_client::sesame_types::{IdentityState, UpdateIdentityBody};

/// The token of Kratos's first page: the nil id at 2200-12-31 23:59:59.
const FIRST_TOKEN: &str = "aWQ9MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwL2NyZWF0ZWRfYXQ9MjIwMC0xMi0zMSAyMzo1OTo1OQ";

/// A user with metadata for both audiences and a session: its token, identity and session ids.
async fn admin_user(app: &TestApp, email: &str) -> (String, Uuid, Uuid) {
    let (tokens, identity) = user_with_sessions(app, email, 0).await;
    let body = json!({"traits": {"email": email}, "metadata_admin": {"note": "vip"}, "metadata_public": {"plan": "pro"}});
    let res = app
        .admin(Method::PUT, &format!("/admin/identities/{identity}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
    let id = session_id(&app.sdk(), &tokens[0]).await;
    (tokens[0].clone(), identity, id)
}

api_test!(
    getting_a_session_expands_identity_and_devices_on_request,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (_, identity, id) = admin_user(&app, "get@example.com").await;

        let plain = expect_json(
            admin_get(&app, &format!("/admin/sessions/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plain["id"], id.to_string());
        assert_eq!(plain["active"], true);
        assert_eq!(plain["identity"], Value::Null);
        assert_eq!(plain["devices"], json!([]));

        let full = expect_json(
            admin_get(
                &app,
                &format!("/admin/sessions/{id}?expand=Identity&expand=DEVICES"),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(full["identity"]["id"], identity.to_string());
        assert_eq!(
            full["identity"]["metadata_admin"],
            json!({"note": "vip"}),
            "the admin shape"
        );
        assert_eq!(full["identity"]["metadata_public"], json!({"plan": "pro"}));
        assert!(full["identity"].get("credentials").is_none());
        assert_eq!(
            full["identity"]["schema_url"],
            format!("{}/schemas/ZGVmYXVsdA", app.public_url)
        );
        assert_eq!(full["devices"][0]["ip_address"], "127.0.0.1");

        let res = sdk.get_session(id).expand("devices").await.unwrap();
        assert!(res.data.identity.is_none());
        assert_eq!(res.data.devices.as_ref().map(Vec::len), Some(1));

        assert_bad_request_reason(
            admin_get(&app, &format!("/admin/sessions/{id}?expand=credentials")).await,
            "Could not parse expand option: credentials",
        )
        .await;
        assert_bad_request_message(
            admin_get(&app, "/admin/sessions/BADUUID").await,
            BAD_UUID_MESSAGE,
        )
        .await;
        assert_not_found(admin_get(&app, &format!("/admin/sessions/{}", Uuid::new_v4())).await)
            .await;
        let err = sdk.get_session(Uuid::new_v4()).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

        // `whoami` is the public whoami.
        let res = admin_get(&app, "/admin/sessions/whoami?tokenize_as=x").await;
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/sessions/whoami?tokenize_as=x", app.public_url).as_str()
        );
    }
);

api_test!(
    a_session_shows_inactive_when_disabled_expired_or_its_identity_is,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SESSION_LIFESPAN", "1h")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, _, id) = admin_user(&app, "state@example.com").await;
        let (other, _, other_id) = admin_user(&app, "other@example.com").await;

        let res = app
            .admin(Method::DELETE, &format!("/admin/sessions/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_session_inactive(&sdk.to_session().x_session_token(&token).await.unwrap_err());
        let got = sdk.get_session(id).await.unwrap();
        assert!(!got.data.active, "kept, inactive");
        assert_eq!(
            sdk.disable_session(id).await.unwrap().status,
            StatusCode::NO_CONTENT,
            "again"
        );
        assert!(
            sdk.to_session().x_session_token(&other).await.is_ok(),
            "the other is untouched"
        );

        let res = app
            .admin(Method::DELETE, "/admin/sessions/BADUUID")
            .send()
            .await
            .unwrap();
        assert_bad_request_message(res, BAD_UUID_MESSAGE).await;
        let err = sdk.disable_session(Uuid::new_v4()).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

        // An inactive identity's session: inactive once the identity is shown with it.
        let other_identity = sdk.get_session(other_id).expand("identity").await.unwrap();
        assert!(other_identity.data.active);
        let body = UpdateIdentityBody {
            traits: json!({"email": "other@example.com"}),
            state: Some(IdentityState::Inactive),
            ..Default::default()
        };
        let owner = other_identity.data.identity.unwrap().id;
        sdk.update_identity(owner, &body).await.unwrap();
        assert!(
            !sdk.get_session(other_id)
                .expand("identity")
                .await
                .unwrap()
                .data
                .active
        );

        // Expired.
        let (_, _, fresh) = admin_user(&app, "fresh@example.com").await;
        assert!(sdk.get_session(fresh).await.unwrap().data.active);
        app.clock.advance(chrono::Duration::hours(2));
        assert!(!sdk.get_session(fresh).await.unwrap().data.active);
    }
);

api_test!(
    listing_sessions_filters_by_activity_and_expands_on_request,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (_, identity, first) = admin_user(&app, "list@example.com").await;
        app.clock.advance(chrono::Duration::seconds(1));
        let (_, _, second) = admin_user(&app, "list2@example.com").await;
        sdk.disable_session(first).await.unwrap();

        let res = admin_get(&app, "/admin/sessions").await;
        let link = res.headers()["link"].to_str().unwrap().to_owned();
        assert_eq!(
            link,
            format!("</admin/sessions?page_size=250&page_token={FIRST_TOKEN}>; rel=\"first\"")
        );
        let all = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            ids(&all),
            [second.to_string(), first.to_string()],
            "newest first"
        );
        for s in all.as_array().unwrap() {
            assert_eq!(s["identity"], Value::Null);
            assert_eq!(s["devices"], Value::Null);
        }
        let token = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(FIRST_TOKEN)
            .unwrap();
        assert_eq!(
            String::from_utf8(token).unwrap(),
            "id=00000000-0000-0000-0000-000000000000/created_at=2200-12-31 23:59:59"
        );

        let active = expect_json(
            admin_get(&app, "/admin/sessions?active=true").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&active), [second.to_string()]);
        let inactive = expect_json(
            admin_get(&app, "/admin/sessions?active=f").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&inactive), [first.to_string()]);
        let unfiltered = expect_json(
            admin_get(&app, "/admin/sessions?active=").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&unfiltered).len(), 2);

        let expanded = sdk
            .list_sessions()
            .active(false)
            .expand("identity")
            .expand("Devices")
            .await
            .unwrap();
        let only = &expanded.data[0];
        assert_eq!(only.identity.as_ref().unwrap().id, identity);
        assert_eq!(
            only.identity.as_ref().unwrap().metadata_admin,
            Some(json!({"note": "vip"}))
        );
        assert_eq!(only.devices.as_ref().unwrap().len(), 1);
        assert!(
            expanded
                .link("first")
                .unwrap()
                .contains("active=false&expand=identity&expand=Devices&page_size=250")
        );

        assert_bad_request_message(
            admin_get(&app, "/admin/sessions?active=yes").await,
            "could not parse parameter active",
        )
        .await;
        assert_bad_request_message(
            admin_get(&app, "/admin/sessions?page_size=ten").await,
            "could not parse parameter page_size",
        )
        .await;
        assert_bad_request_reason(
            admin_get(&app, "/admin/sessions?expand=everything").await,
            "Could not parse expand option: everything",
        )
        .await;
        for crafted in ["garbage", "aWQ9eA", "eyJvZmZzZXQiOiIyNTAiLCJ2IjoyfQ"] {
            assert_bad_request_reason(
                admin_get(&app, &format!("/admin/sessions?page_token={crafted}")).await,
                "The page token is invalid, do not craft your own page tokens",
            )
            .await;
        }
        let err = sdk.list_sessions().page_token("garbage").await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    }
);

api_test!(
    listing_sessions_pages_by_keyset_through_link_headers_to_the_end,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        // Seven sessions: three created at one instant (the order then falls back to the id), the
        // rest a second apart.
        let (mut tokens, _) = user_with_sessions(&app, "keyset@example.com", 3).await;
        for email in ["t1@example.com", "t2@example.com", "t3@example.com"] {
            tokens.push(sign_up_now(&app, email).await);
        }
        let mut expected: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
        for t in &tokens {
            let id = session_id(&sdk, t).await;
            let store = app.store();
            let (s, _) = SessionAdminStore::session(&*store, sesame_core::SessionId(id))
                .await
                .unwrap()
                .unwrap();
            expected.push((s.created_at, id.to_string()));
        }
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

        let request = |path: &str| app.admin(Method::GET, path);
        let (pages, rels) = follow("/admin/sessions?page_size=3&expand=identity", request).await;
        assert_eq!(pages.concat(), expected);
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        assert_eq!(
            rels,
            [vec!["first", "next"], vec!["first", "next"], vec!["first"]]
        );

        // A full last page has no next link.
        let (pages, rels) = follow("/admin/sessions?page_size=7", request).await;
        assert_eq!(pages.concat(), expected);
        assert_eq!(rels, [vec!["first"]]);

        // Through the SDK's next_page_token.
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = sdk.list_sessions().page_size(2);
            if let Some(t) = &token {
                req = req.page_token(t);
            }
            let page = req.await.unwrap();
            seen.extend(page.data.iter().map(|s| s.id.to_string()));
            match page.next_page_token() {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, expected);
    }
);

/// Signs `email` up at the current instant (no clock move): its session token.
async fn sign_up_now(app: &TestApp, email: &str) -> String {
    sign_up(&app.sdk(), email).await.0
}

api_test!(
    admin_delete_sessions_without_an_id_is_the_public_endpoint,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::DELETE, "/admin/sessions")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/sessions", app.public_url).as_str()
        );
        // And the admin prefix applies: `/sessions` on the admin port is `/admin/sessions`.
        let res = app.admin(Method::GET, "/sessions").send().await.unwrap();
        expect_json(res, StatusCode::OK).await;
        let res = app
            .sdk()
            .list_sessions()
            .active(true)
            .page_size(0)
            .await
            .unwrap();
        assert!(
            res.link("first").unwrap().contains("page_size=250"),
            "0 is the default size"
        );
    }
);
