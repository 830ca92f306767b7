//! One node with the cache on: what it reuses, what it still judges on every request, and every
//! write path that must drop a cached answer before it answers.

use super::*;
use crate::sdk::{PASSWORD, log_in, sign_up};
use crate::second_factors::{aal2_flow, link_totp, password_only_session, set_up_backup_codes};
use sesame_server::whoami_body::RenderedAnswer;
use sesame_testkit::api_test;
use sesame_testkit::reqwest::header::HeaderValue;
use sesame_testkit::sesame_client::UpdateLoginFlowBody;
use sesame_testkit::sesame_client::UpdateSettingsFlowBody;

api_test!(
    a_cached_answer_is_reused_until_its_ttl_even_when_the_database_changes_behind_sesames_back,
    |backend| async move {
        let app = cached(backend).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "ttl@example.com").await;
        assert_cached(&app, &token).await;
        // Another process revokes the session without telling Sesame: the cache still answers.
        let now = app.clock.now();
        raw_store(&app)
            .await
            .revoke_session_by_token(&TokenDigest::of(&token), now)
            .await
            .unwrap();
        assert_eq!(whoami(&app, &token).await.status(), StatusCode::OK);
        // …for at most the ttl (default 1m).
        app.clock.advance(chrono::Duration::seconds(60));
        assert_refused(&app, &token).await;
    }
);

api_test!(
    a_cached_session_still_expires_on_time,
    |backend| async move {
        let app = cached(backend)
            .env("SESSION_LIFESPAN", "10m")
            .env("SESSION_WHOAMI_CACHE_TTL", "1h")
            .spawn()
            .await;
        let (token, _) = sign_up(&app.sdk(), "expiry@example.com").await;
        assert_cached(&app, &token).await;
        app.clock.advance(chrono::Duration::minutes(10));
        assert_refused(&app, &token).await;
    }
);

api_test!(
    logging_out_through_the_api_or_the_browser_drops_the_cached_answer,
    |backend| async move {
        let app = cached(backend).spawn().await;
        let sdk = app.sdk();
        let (api, _) = sign_up(&sdk, "logout@example.com").await;
        assert_cached(&app, &api).await;
        let res = app
            .public(Method::DELETE, "/self-service/logout/api")
            .json(&json!({"session_token": api}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&app, &api).await;

        let browser = log_in(&sdk, "logout@example.com", PASSWORD).await;
        let session = assert_cached(&app, &browser).await;
        let expires = chrono::DateTime::parse_from_rfc3339(session["expires_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
        let cookie = sesame_testkit::sealed_session_cookie(&browser, expires);
        let res = app
            .public(Method::GET, "/self-service/logout/browser")
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let logout = expect_json(res, StatusCode::OK).await;
        let res = app
            .public(
                Method::GET,
                &format!(
                    "/self-service/logout?token={}",
                    logout["logout_token"].as_str().unwrap()
                ),
            )
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&app, &browser).await;
    }
);

api_test!(
    revoking_my_other_sessions_drops_their_cached_answers,
    |backend| async move {
        let app = cached(backend).spawn().await;
        let sdk = app.sdk();
        let (me, _) = sign_up(&sdk, "mine@example.com").await;
        let one = log_in(&sdk, "mine@example.com", PASSWORD).await;
        let two = log_in(&sdk, "mine@example.com", PASSWORD).await;
        for t in [&me, &one, &two] {
            assert_cached(&app, t).await;
        }
        let id = session_id_of(&app, &one).await;
        let res = app
            .public(Method::DELETE, &format!("/sessions/{id}"))
            .header("X-Session-Token", &me)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&app, &one).await;
        assert_cached(&app, &two).await;

        let res = app
            .public(Method::DELETE, "/sessions")
            .header("X-Session-Token", &me)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_refused(&app, &two).await;
        assert_cached(&app, &me).await;
    }
);

api_test!(
    admin_session_endpoints_drop_the_cached_answers_they_change,
    |backend| async move {
        let app = cached(backend).spawn().await;
        let sdk = app.sdk();
        let (first, identity) = sign_up(&sdk, "admin@example.com").await;
        let mut tokens = vec![first];
        for _ in 0..5 {
            tokens.push(log_in(&sdk, "admin@example.com", PASSWORD).await);
        }
        for t in &tokens {
            assert_cached(&app, t).await;
        }

        // DELETE /admin/sessions/{id}
        let id = session_id_of(&app, &tokens[0]).await;
        let res = app
            .admin(Method::DELETE, &format!("/admin/sessions/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&app, &tokens[0]).await;

        // PATCH /admin/sessions/{id}/extend: the new expiry is what whoami says next.
        let before = assert_cached(&app, &tokens[1]).await;
        app.clock.advance(chrono::Duration::hours(1));
        let id = before["id"].as_str().unwrap();
        let res = app
            .admin(Method::PATCH, &format!("/admin/sessions/{id}/extend"))
            .send()
            .await
            .unwrap();
        let extended = expect_json(res, StatusCode::OK).await;
        assert_ne!(extended["expires_at"], before["expires_at"]);
        let after = expect_json(whoami(&app, &tokens[1]).await, StatusCode::OK).await;
        assert_eq!(after["expires_at"], extended["expires_at"]);

        // POST /admin/sessions: disable by session, then delete by session.
        let id = session_id_of(&app, &tokens[2]).await;
        let body = json!({"action": "disable", "sessions": [id]});
        expect_json(
            admin_json(&app, Method::POST, "/admin/sessions", body).await,
            StatusCode::OK,
        )
        .await;
        assert_refused(&app, &tokens[2]).await;
        let id = session_id_of(&app, &tokens[3]).await;
        let body = json!({"action": "delete", "sessions": [id]});
        expect_json(
            admin_json(&app, Method::POST, "/admin/sessions", body).await,
            StatusCode::OK,
        )
        .await;
        assert_refused(&app, &tokens[3]).await;

        // DELETE /admin/identities/{id}/sessions
        assert_cached(&app, &tokens[4]).await;
        let res = app
            .admin(
                Method::DELETE,
                &format!("/admin/identities/{identity}/sessions"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&app, &tokens[4]).await;
        assert_refused(&app, &tokens[5]).await;

        // POST /admin/sessions by identity, and every session.
        let ada = log_in(&sdk, "admin@example.com", PASSWORD).await;
        let (bob, _) = sign_up(&sdk, "bob@example.com").await;
        assert_cached(&app, &ada).await;
        assert_cached(&app, &bob).await;
        let body = json!({"action": "disable", "identities": [identity]});
        expect_json(
            admin_json(&app, Method::POST, "/admin/sessions", body).await,
            StatusCode::OK,
        )
        .await;
        assert_refused(&app, &ada).await;
        assert_cached(&app, &bob).await;
        let body = json!({"action": "delete", "identities": ["*"]});
        expect_json(
            admin_json(&app, Method::POST, "/admin/sessions", body).await,
            StatusCode::OK,
        )
        .await;
        assert_refused(&app, &bob).await;
    }
);

api_test!(
    identity_changes_are_seen_by_the_next_whoami,
    |backend| async move {
        let app = cached(backend).spawn().await;
        let (token, identity) = sign_up(&app.sdk(), "who@example.com").await;
        let identity = identity.to_string();
        assert_cached(&app, &token).await;

        rename(&app, &identity, "Ada").await;
        let session = assert_cached(&app, &token).await;
        assert_eq!(session["identity"]["traits"]["name"]["first"], "Ada");

        let body = json!({"schema_id": "default", "state": "active", "traits": {"email": "who@example.com", "name": {"first": "Grace"}}});
        let res = admin_json(
            &app,
            Method::PUT,
            &format!("/admin/identities/{identity}"),
            body,
        )
        .await;
        expect_json(res, StatusCode::OK).await;
        let session = assert_cached(&app, &token).await;
        assert_eq!(session["identity"]["traits"]["name"]["first"], "Grace");

        set_state(&app, &identity, "inactive").await;
        assert_refused(&app, &token).await;
        set_state(&app, &identity, "active").await;
        assert_cached(&app, &token).await;

        let res = app
            .admin(Method::DELETE, &format!("/admin/identities/{identity}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&app, &token).await;
    }
);

api_test!(
    second_factor_changes_keep_the_aal_rule_right,
    |backend| async move {
        let app = cached(backend).spawn().await;
        let sdk = app.sdk();
        let (enrolling, identity) = sign_up(&sdk, "mfa@example.com").await;
        let other = log_in(&sdk, "mfa@example.com", PASSWORD).await;
        assert_cached(&app, &other).await;

        // Enrolling TOTP in the settings flow raises the identity's available AAL: the other
        // (aal1) session is refused at once.
        let secret = link_totp(&app, &enrolling).await;
        assert_aal2_required(&app, &other).await;
        assert_cached_answer(&app, &other, StatusCode::FORBIDDEN).await;

        // Completing the second factor upgrades that session: 200 at once.
        let flow = aal2_flow(&sdk, &other).await;
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        sdk.update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
            .x_session_token(&other)
            .await
            .unwrap();
        let session = assert_cached(&app, &other).await;
        assert_eq!(session["authenticator_assurance_level"], "aal2");

        // Removing the TOTP credential lowers the available AAL: a password-only session passes.
        let aal1 = password_only_session(&sdk, "mfa@example.com").await;
        assert_cached_answer(&app, &aal1, StatusCode::FORBIDDEN).await;
        let res = app
            .admin(
                Method::DELETE,
                &format!("/admin/identities/{identity}/credentials/totp"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_cached(&app, &aal1).await;

        // Backup codes are a second factor too.
        set_up_backup_codes(&sdk, &other).await;
        assert_aal2_required(&app, &aal1).await;
    }
);

api_test!(
    settings_changes_are_seen_by_the_next_whoami,
    |backend| async move {
        let app = cached(backend)
            .env(
                "SELFSERVICE_FLOWS_SETTINGS_AFTER_PASSWORD_HOOKS",
                r#"[{"hook":"revoke_active_sessions"}]"#,
            )
            .spawn()
            .await;
        let sdk = app.sdk();
        let (me, _) = sign_up(&sdk, "settings@example.com").await;
        let other = log_in(&sdk, "settings@example.com", PASSWORD).await;
        assert_cached(&app, &me).await;
        assert_cached(&app, &other).await;

        let flow = crate::second_factors::settings_flow(&sdk, &me).await;
        let traits = json!({"email": "settings@example.com", "name": {"first": "Lin"}});
        sdk.update_settings_flow(flow.id, &UpdateSettingsFlowBody::profile(traits))
            .x_session_token(&me)
            .await
            .unwrap();
        for t in [&me, &other] {
            let session = assert_cached(&app, t).await;
            assert_eq!(session["identity"]["traits"]["name"]["first"], "Lin");
        }

        // A new password with the `revoke_active_sessions` hook ends the other session.
        sdk.update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::password("another-good-passphrase-7"),
        )
        .x_session_token(&me)
        .await
        .unwrap();
        assert_refused(&app, &other).await;
        assert_cached(&app, &me).await;
    }
);

api_test!(
    a_cached_answer_is_byte_for_byte_what_a_server_without_the_cache_renders,
    |backend: Backend| async move {
        let app = cached(backend.clone()).spawn().await;
        let (token, identity) = sign_up(&app.sdk(), "bytes@example.com").await;
        rename(&app, &identity.to_string(), "Ada").await;
        // The first answer fills the cache, the next ones come from the cache entry as rendered.
        let first = answer(&app, &token).await;
        let cached_again = answer(&app, &token).await;
        assert_eq!(cached_again, first);
        assert_eq!(first.0.to_str().unwrap(), identity.to_string());
        let cache = app.whoami_cache().expect("the cache is on");
        let entry = cache
            .get(&TokenDigest::of(&token), app.clock.now())
            .unwrap();
        let kept = entry
            .memo
            .expect("a cached answer has a memo")
            .get_or_init::<RenderedAnswer>(|| panic!("the first answer was kept rendered"))
            .expect("the memo keeps the rendered answer");
        assert_eq!(
            String::from_utf8_lossy(&kept.body).replace(&app.public_url, "{public}"),
            first.1
        );
        // A node without the cache on the same database renders the same bytes.
        let plain = crate::second_factors::mfa(TestApp::builder(backend))
            .database_of(&app)
            .spawn()
            .await;
        assert!(plain.whoami_cache().is_none());
        assert_eq!(answer(&plain, &token).await, first);
        drop(plain);
        // After a change the entry is dropped; its successor is rendered from the new identity.
        rename(&app, &identity.to_string(), "Grace").await;
        let renamed = answer(&app, &token).await;
        assert_ne!(renamed.1, first.1);
        assert!(renamed.1.contains("\"Grace\""), "{}", renamed.1);
        assert_eq!(answer(&app, &token).await, renamed);
    }
);

/// whoami's identity header and body, the server's own URL written as `{public}`.
async fn answer(app: &TestApp, token: &str) -> (HeaderValue, String) {
    let res = whoami(app, token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = res.headers()["x-kratos-authenticated-identity-id"].clone();
    let body = res.text().await.unwrap();
    (id, body.replace(&app.public_url, "{public}"))
}
