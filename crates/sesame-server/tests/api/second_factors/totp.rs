//! TOTP in the settings flow (spec part 2, §2.3, §4): the enrolment form, linking with a current
//! code, wrong and missing codes, unlinking, and codes that work once (DESIGN.md difference 8).

use super::*;
use crate::sdk::{message, only_ui_message};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sesame_core::identity::CredentialType;
use sesame_testkit::serde_json::json;
use sesame_testkit::sesame_client::UpdateLoginFlowBody;
use sesame_testkit::sesame_client::sesame_types::flow::InputAttributes;
use sesame_testkit::{TestApp, api_test};

const INVALID_CODE: &str = "The provided authentication code is invalid, please try again.";

/// A 6-digit code that none of the steps T−1, T, T+1 of `secret` shows at the app's time.
fn wrong_code(app: &TestApp, secret: &str) -> String {
    let now = app.clock.now();
    let valid: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|s| sesame_testkit::totp_code(secret, now + chrono::Duration::seconds(*s)))
        .collect();
    (0..10)
        .map(|d| d.to_string().repeat(6))
        .find(|c| !valid.contains(c))
        .unwrap()
}

fn totp_code_input(flow: &SettingsFlow) -> &InputAttributes {
    crate::sdk::input(&flow.ui, "totp_code")
}

api_test!(
    a_user_enrols_totp_and_then_needs_it_to_sign_in,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "totp@example.com").await;
        let flow = sdk
            .create_native_settings_flow()
            .x_session_token(&token)
            .await
            .unwrap();
        let secret = offered_secret(&flow.data);
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let saved = sdk
            .update_settings_flow(flow.data.id, &UpdateSettingsFlowBody::totp_link(&code))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal2);

        // A password alone now gives a session that must still prove the second factor.
        let login = sdk
            .login_with_password("totp@example.com", PASSWORD)
            .await
            .unwrap();
        assert!(login.data.session.identity.is_none());
        let second = login.data.session_token.unwrap();
        let err = sdk.to_session().x_session_token(&second).await.unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::Aal2Required { .. }),
            "{err:?}"
        );

        let flow = sdk
            .create_native_login_flow()
            .aal(Aal::Aal2)
            .x_session_token(&second)
            .await
            .unwrap();
        // The code that linked the app cannot be used again.
        let err = sdk
            .update_login_flow(flow.data.id, &UpdateLoginFlowBody::totp(&code))
            .x_session_token(&second)
            .await
            .unwrap_err();
        let ErrorKind::LoginRejected(rejected) = &err.kind else {
            panic!("{err:?}")
        };
        assert_eq!(rejected.ui.message_ids(), [4000008]);

        app.clock.advance(chrono::Duration::seconds(30));
        let next = sesame_testkit::totp_code(&secret, app.clock.now());
        let done = sdk
            .update_login_flow(flow.data.id, &UpdateLoginFlowBody::totp(&next))
            .x_session_token(&second)
            .await
            .unwrap();
        assert_eq!(done.data.session.authenticator_assurance_level, Aal::Aal2);
        assert_eq!(done.data.session_token.as_deref(), Some(second.as_str()));
        let me = sdk.to_session().x_session_token(&second).await.unwrap();
        assert_eq!(
            me.data.id, login.data.session.id,
            "the same session was upgraded"
        );
    }
);

api_test!(
    totp_enrolment_shows_a_png_qr_code_and_the_secret_and_stores_the_otpauth_url,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "qr@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let names = node_names(&flow.ui);
        assert_eq!(
            names[names.len() - 4..],
            ["totp_qr", "totp_secret_key", "totp_code", "method=totp"]
        );

        let qr = other_node(&flow.ui, "totp_qr");
        assert_eq!(qr["width"], 256);
        assert_eq!(qr["height"], 256);
        assert_eq!(qr["node_type"], "img");
        let src = qr["src"].as_str().unwrap();
        let png = STANDARD
            .decode(
                src.strip_prefix("data:image/png;base64,")
                    .unwrap_or_else(|| panic!("not a PNG data URI: {src}")),
            )
            .unwrap();
        assert_eq!(png[..8], *b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(png[16..20], 256u32.to_be_bytes(), "256 pixels wide");
        assert_eq!(png[20..24], 256u32.to_be_bytes(), "256 pixels high");

        let secret = offered_secret(&flow);
        assert_eq!(secret.len(), 32, "20 random bytes in base32: {secret}");
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
            "{secret}"
        );
        let text = other_node(&flow.ui, "totp_secret_key");
        assert_eq!(
            text["text"],
            json!({"id": 1050006, "text": secret, "type": "info", "context": {"secret": secret}})
        );
        let code_input = totp_code_input(&flow);
        assert_eq!(code_input.input_type, "text");
        assert!(code_input.required);
        assert_eq!(code_input.value, None);

        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_link(&code))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.status, StatusCode::OK);
        assert_eq!(saved.data.id, flow.id, "the same flow, now saved");
        assert_eq!(saved.data.state, "success");
        assert_eq!(
            only_ui_message(&saved.data.ui),
            &message(1050001, "Your changes have been saved!", "success")
        );
        let names = node_names(&saved.data.ui);
        assert_eq!(names.last().map(String::as_str), Some("totp_unlink"));
        assert!(!names.iter().any(|n| n == "totp_qr"), "{names:?}");

        // The credential keeps Kratos's otpauth URL: issuer = the public host, account = the email.
        let store = app.store();
        let id = sesame_core::IdentityId::parse(&identity_id.to_string()).unwrap();
        let credentials = store.credentials(&[id]).await.unwrap();
        let totp = credentials
            .iter()
            .find(|c| c.kind == CredentialType::Totp)
            .expect("a totp credential");
        assert_eq!(totp.identifiers, [identity_id.to_string()]);
        assert_eq!(
            totp.config,
            json!({"totp_url": format!(
                "otpauth://totp/127.0.0.1:qr@example.com?algorithm=SHA1&digits=6&issuer=127.0.0.1&period=30&secret={secret}"
            )})
        );

        // The session that linked the app proved it: AMR `totp`/`aal2`, authenticated now.
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        let amr = me.data.authentication_methods.unwrap();
        let methods: Vec<(&str, Aal)> = amr.iter().map(|m| (m.method.as_str(), m.aal)).collect();
        assert_eq!(methods, [("password", Aal::Aal1), ("totp", Aal::Aal2)]);
        assert_eq!(amr[1].completed_at, app.clock.now());
        assert_eq!(me.data.authenticated_at, app.clock.now());
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal2);
    }
);

api_test!(
    totp_link_with_a_wrong_code_renders_4000008_on_totp_code_and_keeps_the_secret,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "wrong-link@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let secret = offered_secret(&flow);
        let qr = other_node(&flow.ui, "totp_qr")["src"].clone();
        for code in [
            wrong_code(&app, &secret),
            "12345".to_owned(),
            "1234567890".to_owned(),
        ] {
            let err = sdk
                .update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_link(&code))
                .x_session_token(&token)
                .await
                .unwrap_err();
            let rejected = settings_rejected(&err, flow.id);
            assert_eq!(
                node_messages(&rejected.ui, "totp_code"),
                [message(4000008, INVALID_CODE, "error")],
                "{code}"
            );
            assert!(
                rejected.ui.messages.is_empty(),
                "{:?}",
                rejected.ui.messages
            );
            assert_eq!(rejected.state, "show_form");
            assert_eq!(
                offered_secret(rejected),
                secret,
                "the same secret is offered"
            );
            assert_eq!(other_node(&rejected.ui, "totp_qr")["src"], qr);
        }
        // Nothing was linked: the session needs no second factor.
        let fetched = sdk
            .get_settings_flow(flow.id)
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(offered_secret(&fetched.data), secret);
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal1);

        // The right code still links it.
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_link(&code))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
    }
);

api_test!(
    totp_link_without_a_code_renders_4000002_on_totp_code,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "no-code@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let missing = sesame_testkit::sesame_client::sesame_types::UiText {
            id: 4000002,
            text: "Property totp_code is missing.".into(),
            kind: "error".into(),
            context: json!({"property": "totp_code"}).as_object().cloned(),
        };
        for body in [
            UpdateSettingsFlowBody::Totp {
                totp_code: None,
                totp_unlink: None,
                csrf_token: None,
            },
            UpdateSettingsFlowBody::totp_link(""),
        ] {
            let err = sdk
                .update_settings_flow(flow.id, &body)
                .x_session_token(&token)
                .await
                .unwrap_err();
            let rejected = settings_rejected(&err, flow.id);
            assert_eq!(
                node_messages(&rejected.ui, "totp_code"),
                std::slice::from_ref(&missing)
            );
            assert!(rejected.ui.messages.is_empty());
        }
    }
);

api_test!(
    totp_unlink_removes_the_authenticator_and_password_sessions_need_no_second_factor_again,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _, secret) = user_with_totp(&app, "unlink@example.com").await;
        let aal1 = password_only_session(&sdk, "unlink@example.com").await;
        let err = sdk.to_session().x_session_token(&aal1).await.unwrap_err();
        assert_eq!(err.id(), Some("session_aal2_required"));

        let flow = settings_flow(&sdk, &token).await;
        let unlink = flow
            .ui
            .nodes
            .iter()
            .filter(|n| n.group == "totp")
            .collect::<Vec<_>>();
        assert_eq!(unlink.len(), 1, "only the unlink button: {unlink:?}");
        let button = crate::sdk::input(&flow.ui, "totp_unlink");
        assert_eq!(button.input_type, "submit");
        assert_eq!(button.value, Some(json!("true")));
        assert!(button.required);
        assert_eq!(
            unlink[0].meta.label,
            Some(message(1050004, "Unlink TOTP Authenticator App", "info"))
        );

        let before = sdk.to_session().x_session_token(&token).await.unwrap();
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_unlink())
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        // The rebuilt form offers a new secret to link.
        assert_ne!(offered_secret(&saved.data), secret);

        // The session that unlinked is untouched; the password-only one is enough again.
        let after = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            after.data.authentication_methods,
            before.data.authentication_methods
        );
        assert_eq!(after.data.authenticator_assurance_level, Aal::Aal2);
        let me = sdk.to_session().x_session_token(&aal1).await.unwrap();
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal1);
        let login = sdk
            .login_with_password("unlink@example.com", PASSWORD)
            .await
            .unwrap();
        assert!(login.data.session.identity.is_some());

        // A TOTP login has nothing to check against any more (4000011).
        let flow = aal2_flow(&sdk, &aal1).await;
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
            .x_session_token(&aal1)
            .await
            .unwrap_err();
        assert_eq!(login_rejected(&err, flow.id).ui.message_ids(), [4000011]);
    }
);

api_test!(
    totp_link_on_an_identity_that_has_totp_changes_nothing_and_succeeds,
    |backend| async move {
        // Kratos's quirk: `method: totp` without `totp_unlink` on a linked identity is a no-op.
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, identity_id, secret) = user_with_totp(&app, "twice@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let saved = sdk
            .update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_link("000000"))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        let id = sesame_core::IdentityId::parse(&identity_id.to_string()).unwrap();
        let credentials = app.store().credentials(&[id]).await.unwrap();
        let urls: Vec<&Value> = credentials
            .iter()
            .filter(|c| c.kind == CredentialType::Totp)
            .map(|c| &c.config["totp_url"])
            .collect();
        assert_eq!(urls.len(), 1);
        assert!(urls[0].as_str().unwrap().ends_with(&secret));
    }
);

api_test!(
    a_totp_code_that_completed_a_login_is_refused_for_another_login_in_its_window,
    |backend| async move {
        // DESIGN.md difference 8: Kratos accepts the replay.
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (_, _, secret) = user_with_totp(&app, "replay@example.com").await;
        let first = password_only_session(&sdk, "replay@example.com").await;
        let second = password_only_session(&sdk, "replay@example.com").await;
        let code = sesame_testkit::totp_code(&secret, app.clock.now());

        let flow = aal2_flow(&sdk, &first).await;
        sdk.update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
            .x_session_token(&first)
            .await
            .unwrap();

        let flow = aal2_flow(&sdk, &second).await;
        for later in [0, 20] {
            app.clock.advance(chrono::Duration::seconds(later));
            let err = sdk
                .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
                .x_session_token(&second)
                .await
                .unwrap_err();
            let rejected = login_rejected(&err, flow.id);
            assert_eq!(
                only_ui_message(&rejected.ui),
                &message(4000008, INVALID_CODE, "error")
            );
        }
        app.clock.advance(chrono::Duration::seconds(30));
        let fresh = sesame_testkit::totp_code(&secret, app.clock.now());
        let done = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&fresh))
            .x_session_token(&second)
            .await
            .unwrap();
        assert_eq!(done.data.session.authenticator_assurance_level, Aal::Aal2);
    }
);
