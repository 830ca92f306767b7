//! Native settings flows: create, fetch, profile and password updates, the error answers, and
//! `session_refresh_required` followed by a refresh login and a resubmit.

use super::*;
use crate::proxy::Checks;

api_test!(
    native_settings_flows_update_profile_and_password_through_the_sdk,
    |backend| async move {
        let app = mfa_app(backend).await;
        let checks = Checks::for_app(&app).await;
        let public = native(&checks.public_url);
        let email = "ivy@example.com";
        let (token, identity_id) = app.signed_up_user(email).await;

        let flow = or_shim(
            frontend_api::create_native_settings_flow(&public, Some(&token)).await,
            || async {
                settings_flow(
                    get_json_with_token(&public, "/self-service/settings/api", &token).await,
                )
            },
        )
        .await;
        assert_eq!(flow.r#type, "api");
        assert_eq!(state(&flow), "show_form");
        assert_eq!(flow.identity.id, identity_id);
        assert_eq!(flow.identity.credentials, None);
        assert_eq!(
            flow.ui.action,
            format!("{}/self-service/settings?flow={}", app.public_url, flow.id)
        );
        assert_eq!(
            csrf_token(&flow.ui),
            "",
            "API flows carry an empty csrf_token"
        );
        assert_eq!(
            input(&flow.ui, "traits.email").value,
            Some(Some(json!(email))),
            "the traits are pre-filled"
        );
        assert!(has_input(&flow.ui, "password") && has_input(&flow.ui, "totp_code"));
        assert!(has_input(&flow.ui, "lookup_secret_regenerate"));
        let secret = offered_secret(&flow);

        let fetched = flow_after(
            frontend_api::get_settings_flow(&public, &flow.id, Some(&token), None).await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(fetched.id, flow.id);
        assert_eq!(offered_secret(&fetched), secret);

        // profile
        let traits = json!({"email": email, "name": {"first": "Ivy", "last": "Bell"}});
        let saved = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                profile(traits.clone(), None),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(state(&saved), "success");
        assert_eq!(saved.identity.traits, Some(traits.clone()));
        assert_eq!(message_ids(&saved.ui), [1050001]);
        let me = frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .unwrap();
        assert_eq!(me.identity.and_then(|i| i.traits), Some(traits));

        // Invalid traits: 400 with the flow, the message on the field.
        let (status, content) = response_error(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                profile(json!({"email": "not-an-email"}), None),
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let invalid = settings_flow(serde_json::from_str(&content).unwrap());
        assert_eq!(invalid.id, flow.id);
        assert_eq!(node_message_ids(&invalid.ui, "traits.email").len(), 1);

        // password: too short, then a new one that signs in.
        let (status, content) = response_error(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                password("short"),
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let short = settings_flow(serde_json::from_str(&content).unwrap());
        assert_eq!(node_message_ids(&short.ui, "password"), [4000032]);
        let changed = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                password(NEW_PASSWORD),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(state(&changed), "success");
        let again = password_login(&public, email, NEW_PASSWORD).await;
        assert!(again.starts_with("ory_st_"));

        // Errors: no session 401, another identity 403, unknown flow 404.
        let err = sdk_error_body(
            frontend_api::create_native_settings_flow(&public, None).await,
            StatusCode::UNAUTHORIZED,
        );
        assert_eq!(err.id.as_deref(), Some("session_inactive"));
        let (bob, _) = app.signed_up_user("bob@example.com").await;
        let err = sdk_error_body(
            frontend_api::get_settings_flow(&public, &flow.id, Some(&bob), None).await,
            StatusCode::FORBIDDEN,
        );
        assert_eq!(err.id.as_deref(), Some("security_identity_mismatch"));
        let err = sdk_error_body(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                password(NEW_PASSWORD),
                Some(&bob),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        assert_eq!(err.id.as_deref(), Some("security_identity_mismatch"));
        let err = sdk_error_body(
            frontend_api::get_settings_flow(
                &public,
                "6a1f4f4e-2a34-4a5e-9d59-0b7c1c8f2e11",
                Some(&token),
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(err.code, Some(404));
        checks.finish();
    }
);

api_test!(
    an_old_session_gets_session_refresh_required_then_refreshes_and_resubmits,
    |backend| async move {
        let app = mfa_app(backend).await;
        let checks = Checks::for_app(&app).await;
        let public = native(&checks.public_url);
        let email = "lou@example.com";
        let (token, _) = app.signed_up_user(email).await;
        let before = frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .unwrap();
        // Past `privileged_session_max_age` (1h by default); the flow is new (flows live 1h too).
        app.clock.advance(chrono::Duration::minutes(61));
        let flow =
            settings_flow(get_json_with_token(&public, "/self-service/settings/api", &token).await);

        let (err, body) = sdk_error_and_content(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                password(NEW_PASSWORD),
                Some(&token),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        assert_eq!(err.id.as_deref(), Some("session_refresh_required"));
        let back = format!("{}/self-service/settings?flow={}", app.public_url, flow.id);
        let expected = format!(
            "{}/self-service/login/browser?refresh=true&return_to={}",
            app.public_url,
            form_encode(&back)
        );
        assert_eq!(body["redirect_browser_to"], expected.as_str());

        // Traits that identify nobody need no fresh sign-in.
        let named = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                profile(json!({"email": email, "name": {"first": "Lou"}}), None),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(state(&named), "success");

        // The refresh login keeps the session and renews authenticated_at; then the change is
        // submitted again (Sesame keeps no continuity container).
        let refresh = or_shim(
            frontend_api::create_native_login_flow(
                &public,
                Some(true),
                None,
                Some(&token),
                None,
                None,
                None,
                None,
                None,
            )
            .await,
            || async {
                login_flow(
                    get_json_with_token(&public, "/self-service/login/api?refresh=true", &token)
                        .await,
                )
            },
        )
        .await;
        assert_eq!(refresh.refresh, Some(true));
        let refreshed = frontend_api::update_login_flow(
            &public,
            &refresh.id,
            login_body(email, PASSWORD, None),
            Some(&token),
            None,
        )
        .await
        .expect("the refresh login");
        assert_eq!(refreshed.session.id, before.id);
        let authenticated_at = |s: &ory_kratos_client::models::Session| {
            server_time(s.authenticated_at.as_deref().unwrap())
        };
        assert!(authenticated_at(&refreshed.session) > authenticated_at(&before));
        let changed = flow_after(
            frontend_api::update_settings_flow(
                &public,
                &flow.id,
                password(NEW_PASSWORD),
                Some(&token),
                None,
            )
            .await,
            &public,
            &flow.id,
            &token,
        )
        .await;
        assert_eq!(state(&changed), "success");
        password_login(&public, email, NEW_PASSWORD).await;
        checks.finish();
    }
);
