//! Second factors set up in the settings flow (TOTP, backup codes), then `aal=aal2` logins with
//! them: natively with the session token, and in a browser with cookies and the anti-CSRF token.

use super::*;
use crate::proxy::Checks;

api_test!(
    totp_and_backup_codes_set_up_in_settings_secure_aal2_logins_through_the_sdk,
    |backend| async move {
        let app = mfa_app(backend).await;
        let checks = Checks::for_app(&app).await;
        let public = native(&checks.public_url);
        let email = "judy@example.com";
        let (token, identity_id) = app.signed_up_user(email).await;
        let flow =
            settings_flow(get_json_with_token(&public, "/self-service/settings/api", &token).await);
        let secret = offered_secret(&flow);
        let now = server_time(&flow.issued_at);

        // A wrong code: 400 with the flow, 4000008 on the code input.
        let wrong = ["000000", "111111"]
            .into_iter()
            .find(|c| (-1..=2).all(|step| totp::code(&secret, now + 30 * step) != *c))
            .unwrap();
        let (status, content) = response_error(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                totp_link(wrong, None),
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let refused = settings_flow(serde_json::from_str(&content).unwrap());
        assert_eq!(node_message_ids(&refused.ui, "totp_code"), [4000008]);
        assert_eq!(offered_secret(&refused), secret, "the secret stays");

        let link_code = totp::code(&secret, now);
        let linked = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                totp_link(&link_code, None),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(state(&linked), "success");
        assert!(has_input(&linked.ui, "totp_unlink"));
        assert!(text_node(&linked.ui, "totp_secret_key").is_none());
        assert_eq!(
            aal_and_methods(&public, &token).await,
            (
                AuthenticatorAssuranceLevel::Aal2,
                vec![MethodEnum::Password, MethodEnum::Totp]
            )
        );

        // Backup codes: regenerate shows them (nothing saved yet), confirm saves them.
        let generated = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                lookup(|b| b.lookup_secret_regenerate = Some(true)),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        let codes = shown_codes(&generated);
        assert_eq!(codes.len(), 12);
        assert!(has_input(&generated.ui, "lookup_secret_confirm"));
        let confirmed = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                lookup(|b| b.lookup_secret_confirm = Some(true)),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(state(&confirmed), "success");
        assert!(has_input(&confirmed.ui, "lookup_secret_reveal"));
        assert_eq!(
            aal_and_methods(&public, &token).await.1,
            [
                MethodEnum::Password,
                MethodEnum::Totp,
                MethodEnum::LookupSecret
            ]
        );

        // A password alone: the SDK gets the token, no identity, and a session that owes aal2.
        let second = {
            let login = login_flow(get_json(&public, "/self-service/login/api", None).await);
            let success = frontend_api::update_login_flow(
                &public,
                &login.id,
                login_body(email, PASSWORD, None),
                None,
                None,
            )
            .await
            .expect("updateLoginFlow");
            assert!(
                success.session.identity.is_none(),
                "the identity waits for aal2"
            );
            success.session_token.unwrap()
        };
        let err = sdk_error_body(
            frontend_api::to_session(&public, Some(&second), None, None).await,
            StatusCode::FORBIDDEN,
        );
        assert_eq!(err.id.as_deref(), Some("session_aal2_required"));

        let login = aal2_login_flow(&public, &second, false).await;
        assert_eq!(login.requested_aal, Some(AuthenticatorAssuranceLevel::Aal2));
        assert!(has_input(&login.ui, "totp_code") && has_input(&login.ui, "lookup_secret"));
        assert!(!has_input(&login.ui, "password"));
        assert!(message_ids(&login.ui).contains(&1010004));

        // The code that linked the app is refused in its window (difference 8).
        let (status, content) = response_error(
            frontend_api::update_login_flow(
                &public,
                &login.id,
                totp_login(&link_code, None),
                Some(&second),
                None,
            )
            .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let replayed = login_flow(serde_json::from_str(&content).unwrap());
        assert!(
            message_ids(&replayed.ui).contains(&4000008),
            "{:?}",
            replayed.ui.messages
        );

        app.clock.advance(chrono::Duration::seconds(30));
        let done = frontend_api::update_login_flow(
            &public,
            &login.id,
            totp_login(&totp::code(&secret, now + 30), None),
            Some(&second),
            None,
        )
        .await
        .expect("updateLoginFlow with totp");
        assert_eq!(done.session_token.as_deref(), Some(second.as_str()));
        assert_eq!(
            done.session.authenticator_assurance_level,
            Some(AuthenticatorAssuranceLevel::Aal2)
        );
        assert_eq!(
            done.session.identity.map(|i| i.id),
            Some(identity_id.clone())
        );
        assert_eq!(
            aal_and_methods(&public, &second).await,
            (
                AuthenticatorAssuranceLevel::Aal2,
                vec![MethodEnum::Password, MethodEnum::Totp]
            )
        );

        // A backup code instead, once.
        let third = password_login(&public, email, PASSWORD).await;
        let login = aal2_login_flow(&public, &third, false).await;
        let (status, content) = response_error(
            frontend_api::update_login_flow(
                &public,
                &login.id,
                lookup_login("zzzzzzzz"),
                Some(&third),
                None,
            )
            .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let unknown = login_flow(serde_json::from_str(&content).unwrap());
        assert!(message_ids(&unknown.ui).contains(&4000016));
        let done = frontend_api::update_login_flow(
            &public,
            &login.id,
            lookup_login(&codes[0]),
            Some(&third),
            None,
        )
        .await
        .expect("updateLoginFlow with lookup_secret");
        assert_eq!(
            done.session.authenticator_assurance_level,
            Some(AuthenticatorAssuranceLevel::Aal2)
        );
        assert_eq!(
            aal_and_methods(&public, &third).await.1,
            [MethodEnum::Password, MethodEnum::LookupSecret]
        );
        let again = aal2_login_flow(&public, &third, true).await;
        let (status, content) = response_error(
            frontend_api::update_login_flow(
                &public,
                &again.id,
                lookup_login(&codes[0]),
                Some(&third),
                None,
            )
            .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let used = login_flow(serde_json::from_str(&content).unwrap());
        assert!(message_ids(&used.ui).contains(&4000012));
        checks.finish();
    }
);

api_test!(
    browser_settings_flows_run_through_the_sdk_with_cookies_and_csrf,
    |backend| async move {
        let app = mfa_app(backend).await;
        let checks = Checks::for_app(&app).await;
        let browser = browser(&checks.public_url);
        let email = "kim@example.com";
        let (session_cookie, identity_id) = browser_sign_up(&checks.public_url, email).await;

        let err = sdk_error_body(
            frontend_api::create_browser_settings_flow(&browser, None, None).await,
            StatusCode::UNAUTHORIZED,
        );
        assert_eq!(err.id.as_deref(), Some("session_inactive"));

        // createBrowserSettingsFlow, typed through the shim; its anti-CSRF cookie is not exposed by
        // the SDK, so the flow used below is created with the configuration's client.
        let sdk_flow = or_shim(
            frontend_api::create_browser_settings_flow(&browser, None, Some(&session_cookie)).await,
            || async {
                settings_flow(
                    get_json(
                        &browser,
                        "/self-service/settings/browser",
                        Some(&session_cookie),
                    )
                    .await,
                )
            },
        )
        .await;
        assert_eq!(sdk_flow.r#type, "browser");
        assert_eq!(sdk_flow.identity.id, identity_id);
        let (json, headers) = get_json_and_headers(
            &browser,
            "/self-service/settings/browser",
            Some(&session_cookie),
        )
        .await;
        let csrf_cookie = set_cookie(&headers, "csrf_token_").expect("an anti-CSRF cookie");
        let cookies = format!("{session_cookie}; {csrf_cookie}");
        let id = settings_flow(json).id;
        let path = format!("/self-service/settings/flows?id={id}");
        let flow = or_shim(
            frontend_api::get_settings_flow(&browser, &id, None, Some(&cookies)).await,
            || async { settings_flow(get_json(&browser, &path, Some(&cookies)).await) },
        )
        .await;
        let token = csrf_token(&flow.ui);
        assert_ne!(token, "");

        // Without the anti-CSRF token: 403.
        let traits = json!({"email": email, "name": {"first": "Kim", "last": "Lee"}});
        let err = sdk_error_body(
            frontend_api::update_settings_flow(
                &browser,
                &id,
                profile(traits.clone(), None),
                None,
                Some(&cookies),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        assert_eq!(err.id.as_deref(), Some("security_csrf_violation"));

        // With it: the SDK's submit, and the same body again read with the configuration's client
        // for the re-issued session cookie and the `continue_with` item.
        let sdk_saved = unless_sdk_defect(
            frontend_api::update_settings_flow(
                &browser,
                &id,
                profile(traits.clone(), Some(token.clone())),
                None,
                Some(&cookies),
            )
            .await,
        );
        if let Some(saved) = sdk_saved {
            assert_eq!(state(&saved), "success");
        }
        let (json, headers) = post_json(
            &browser,
            &format!("/self-service/settings?flow={id}"),
            &profile(traits.clone(), Some(token.clone())),
            Some(&cookies),
            StatusCode::OK,
        )
        .await;
        let saved = settings_flow(json);
        assert_eq!(state(&saved), "success");
        assert_eq!(saved.identity.traits, Some(traits));
        assert!(
            matches!(saved.continue_with.as_deref(), Some([ContinueWith::RedirectBrowserTo(r)])
                if r.redirect_browser_to == format!("{}/ui/settings?flow={id}", app.public_url)),
            "{:?}",
            saved.continue_with
        );
        assert!(set_cookie(&headers, "ory_kratos_session=").is_some());

        // Link an app in the browser flow, then sign in again with a browser: the password
        // answers 422 (a second factor is owed) and the aal2 flow completes with the code.
        let secret = offered_secret(&saved);
        let now = server_time(&saved.issued_at);
        let linked = unless_sdk_defect(
            frontend_api::update_settings_flow(
                &browser,
                &id,
                totp_link(&totp::code(&secret, now), Some(token.clone())),
                None,
                Some(&cookies),
            )
            .await,
        );
        if let Some(linked) = linked {
            assert_eq!(state(&linked), "success");
        }
        let me = frontend_api::to_session(&browser, None, Some(&session_cookie), None)
            .await
            .unwrap();
        assert_eq!(
            me.authenticator_assurance_level,
            Some(AuthenticatorAssuranceLevel::Aal2)
        );

        let (json, headers) =
            get_json_and_headers(&browser, "/self-service/login/browser", None).await;
        let login_csrf = set_cookie(&headers, "csrf_token_").expect("an anti-CSRF cookie");
        let login = login_flow(json);
        let (owed, headers) = post_json(
            &browser,
            &format!("/self-service/login?flow={}", login.id),
            &login_body(email, PASSWORD, Some(csrf_token(&login.ui))),
            Some(&login_csrf),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(owed["error"]["id"], "browser_location_change_required");
        let to = owed["redirect_browser_to"].as_str().unwrap();
        assert!(to.contains("/self-service/login/browser?aal=aal2"), "{to}");
        let aal1 = set_cookie(&headers, "ory_kratos_session=").expect("the aal1 session cookie");
        let cookies = format!("{aal1}; {login_csrf}");
        let second = or_shim(
            frontend_api::create_browser_login_flow(
                &browser,
                None,
                Some("aal2"),
                None,
                Some(&cookies),
                None,
                None,
                None,
                None,
            )
            .await,
            || async {
                login_flow(
                    get_json(
                        &browser,
                        "/self-service/login/browser?aal=aal2",
                        Some(&cookies),
                    )
                    .await,
                )
            },
        )
        .await;
        assert_eq!(
            second.requested_aal,
            Some(AuthenticatorAssuranceLevel::Aal2)
        );
        app.clock.advance(chrono::Duration::seconds(30));
        // A browser login's answer carries a `continue_with` item the SDK cannot decode.
        let done = unless_sdk_defect(
            frontend_api::update_login_flow(
                &browser,
                &second.id,
                totp_login(&totp::code(&secret, now + 30), Some(csrf_token(&second.ui))),
                None,
                Some(&cookies),
            )
            .await,
        );
        if let Some(done) = done {
            assert_eq!(done.session_token, None);
        }
        let me = frontend_api::to_session(&browser, None, Some(&aal1), None)
            .await
            .expect("the upgraded session");
        assert_eq!(
            me.authenticator_assurance_level,
            Some(AuthenticatorAssuranceLevel::Aal2)
        );
        checks.finish();
    }
);
