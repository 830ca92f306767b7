//! The privileged-session rule (spec part 2, §1.7): with `privileged_session_max_age`, a session
//! signed in longer ago may not change credentials or identifiers (403 `session_refresh_required`,
//! or a 303 for HTML forms) until a `refresh=true` login; other profile changes still pass.

use super::*;
use crate::second_factors::{offered_secret, shown_codes};

const NEW_PASSWORD: &str = "another-good-passphrase-7";

/// A server whose sessions stay privileged for 5 minutes, with TOTP and backup codes enabled.
async fn app(backend: Backend) -> TestApp {
    mfa(builder(backend))
        .env(
            "SELFSERVICE_FLOWS_SETTINGS_PRIVILEGED_SESSION_MAX_AGE",
            "5m",
        )
        .spawn()
        .await
}

/// The exact self-rendering 403 for a submit to `id` (spec §1.7).
fn refresh_required_body(app: &TestApp, id: Uuid) -> String {
    let public = &app.public_url;
    let back = query_escape(&format!("{public}/self-service/settings?flow={id}"));
    format!(
        "{{\"error\":{{\"id\":\"session_refresh_required\",\"code\":403,\"status\":\"Forbidden\",\"reason\":\"The login session is too old and thus not allowed to update these fields. Please re-authenticate.\",\"message\":\"The requested action was forbidden\"}},\"redirect_browser_to\":\"{public}/self-service/login/browser?refresh=true\\u0026return_to={back}\"}}\n"
    )
}

api_test!(
    a_password_change_by_an_old_session_answers_403_session_refresh_required,
    |backend| async move {
        let app = app(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "old@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        app.clock
            .advance(chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
        let res = submit_api(
            &app,
            flow.id,
            &token,
            json!({"method": "password", "password": NEW_PASSWORD}),
        )
        .await;
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_refresh_required",
            &refresh_required_body(&app, flow.id),
        )
        .await;
        // Nothing was changed.
        log_in(&sdk, "old@example.com", PASSWORD).await;
        let err = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(NEW_PASSWORD))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("session_refresh_required"));
        assert_eq!(
            err.redirect_browser_to(),
            Some(format!(
                "{}/self-service/login/browser?refresh=true&return_to={}",
                app.public_url,
                query_escape(&format!(
                    "{}/self-service/settings?flow={}",
                    app.public_url, flow.id
                ))
            ))
        );
    }
);

api_test!(
    a_session_inside_its_privileged_age_changes_the_password,
    |backend| async move {
        let app = app(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "young@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        app.clock.advance(chrono::Duration::minutes(4));
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(NEW_PASSWORD))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
    }
);

api_test!(
    second_factor_changes_by_an_old_session_answer_403_session_refresh_required,
    |backend| async move {
        let app = app(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "old-mfa@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let secret = offered_secret(&flow);
        app.clock.advance(chrono::Duration::minutes(6));
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let res = submit_api(
            &app,
            flow.id,
            &token,
            json!({"method": "totp", "totp_code": code}),
        )
        .await;
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_refresh_required",
            &refresh_required_body(&app, flow.id),
        )
        .await;
        for action in [LookupSecretAction::Regenerate, LookupSecretAction::Reveal] {
            let err = sdk
                .update_settings_flow(flow.id, &UpdateSettingsFlowBody::lookup_secret(action))
                .x_session_token(&token)
                .await
                .unwrap_err();
            assert_eq!(err.id(), Some("session_refresh_required"), "{action:?}");
            assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
        }
        // Nothing was linked.
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal1);
    }
);

api_test!(
    an_old_session_may_change_other_traits_but_not_the_login_identifier,
    |backend| async move {
        let app = app(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "traits@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        // Older than the privileged age, younger than the flow's lifespan.
        app.clock.advance(chrono::Duration::minutes(30));
        let saved = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::profile(
                    json!({"email": "traits@example.com", "name": {"first": "Tess"}}),
                ),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        assert_eq!(saved.data.identity.traits["name"]["first"], "Tess");

        let res = submit_api(
            &app,
            flow.id,
            &token,
            json!({"method": "profile", "traits": {"email": "elsewhere@example.com", "name": {"first": "Tess"}}}),
        )
        .await;
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_refresh_required",
            &refresh_required_body(&app, flow.id),
        )
        .await;
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            me.data.identity.unwrap().traits["email"],
            "traits@example.com"
        );
    }
);

api_test!(
    a_refresh_login_makes_an_old_session_privileged_again,
    |backend| async move {
        let app = app(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "refresh@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        app.clock.advance(chrono::Duration::minutes(30));
        let err = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(NEW_PASSWORD))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("session_refresh_required"));

        // The native app signs in again with `refresh=true` and its token: the same session.
        let login = sdk
            .create_native_login_flow()
            .refresh(true)
            .x_session_token(&token)
            .await
            .unwrap();
        let done = sdk
            .update_login_flow(
                login.data.id,
                &sesame_testkit::sesame_client::UpdateLoginFlowBody::password(
                    "refresh@example.com",
                    PASSWORD,
                ),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(done.data.session_token.as_deref(), Some(token.as_str()));
        assert_eq!(done.data.session.authenticated_at, app.clock.now());

        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(NEW_PASSWORD))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        log_in(&sdk, "refresh@example.com", NEW_PASSWORD).await;
    }
);

api_test!(
    linking_a_second_factor_refreshes_the_sessions_privilege,
    |backend| async move {
        // Proving a factor in the settings flow sets `authenticated_at` (spec part 2, §2.3).
        let app = app(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "relink@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        app.clock.advance(chrono::Duration::minutes(4));
        let shown = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Regenerate),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(shown_codes(&shown.data.ui).len(), 12);
        sdk.update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Confirm),
        )
        .x_session_token(&token)
        .await
        .unwrap();
        app.clock.advance(chrono::Duration::minutes(4));
        // Eight minutes after sign-up, four after the codes were confirmed: still privileged.
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::password(NEW_PASSWORD))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
    }
);
