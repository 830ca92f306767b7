//! Backup recovery codes (spec part 2, §2.4, §3): generating, confirming, revealing and disabling
//! them in the settings flow, and `aal=aal2` logins with them — each code works once.

use super::*;
use crate::sdk::{message, only_ui_message};
use sesame_core::identity::CredentialType;
use sesame_testkit::serde_json::json;
use sesame_testkit::sesame_client::UpdateLoginFlowBody;
use sesame_testkit::{TestApp, api_test};

fn lookup(action: LookupSecretAction) -> UpdateSettingsFlowBody {
    UpdateSettingsFlowBody::lookup_secret(action)
}

fn generic(text: &str) -> UiText {
    UiText {
        id: 4000001,
        text: text.to_owned(),
        kind: "error".to_owned(),
        context: json!({ "reason": text }).as_object().cloned(),
    }
}

/// Whether the identity has a stored `lookup_secret` credential.
async fn has_stored_codes(app: &TestApp, identity: Uuid) -> bool {
    let id = sesame_core::IdentityId::parse(&identity.to_string()).unwrap();
    app.store()
        .credentials(&[id])
        .await
        .unwrap()
        .iter()
        .any(|c| c.kind == CredentialType::LookupSecret)
}

/// Signs `email` up and sets backup codes up: `(token of the aal2 session, identity id, codes)`.
async fn user_with_codes(app: &TestApp, email: &str) -> (String, Uuid, Vec<String>) {
    let sdk = app.sdk();
    let (token, id) = sign_up(&sdk, email).await;
    let codes = set_up_backup_codes(&sdk, &token).await;
    (token, id, codes)
}

api_test!(
    regenerating_backup_codes_shows_12_new_codes_and_a_confirm_button_without_saving_them,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "regen@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let buttons: Vec<String> = node_names(&flow.ui)
            .into_iter()
            .filter(|n| n.starts_with("lookup_secret"))
            .collect();
        assert_eq!(buttons, ["lookup_secret_regenerate"]);

        let res = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Regenerate))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        let shown = res.data;
        assert_eq!(shown.state, "show_form", "the state is unchanged");
        assert!(shown.ui.messages.is_empty());
        // Kratos appends the codes and the confirm button after every other node, unsorted.
        let names = node_names(&shown.ui);
        assert_eq!(
            names[names.len() - 2..],
            ["lookup_secret_codes", "lookup_secret_confirm"]
        );
        assert!(
            !names.iter().any(|n| n == "lookup_secret_regenerate"),
            "{names:?}"
        );

        let codes = shown_codes(&shown.ui);
        assert_eq!(codes.len(), 12);
        for code in &codes {
            assert_eq!(code.len(), 8, "{code}");
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{code}"
            );
        }
        let node = other_node(&shown.ui, "lookup_secret_codes");
        assert_eq!(node["text"]["id"], 1050015);
        assert_eq!(node["text"]["text"], codes.join(", "));
        assert_eq!(node["node_type"], "text");
        let label = shown
            .ui
            .nodes
            .iter()
            .find(|n| matches!(&n.attributes, UiNodeAttributes::Other(a) if a["id"] == "lookup_secret_codes"))
            .unwrap()
            .meta
            .label
            .clone();
        assert_eq!(
            label,
            Some(message(
                1050010,
                "These are your back up recovery codes. Please keep them in a safe place!",
                "info"
            ))
        );
        let confirm = crate::sdk::input(&shown.ui, "lookup_secret_confirm");
        assert_eq!(confirm.input_type, "submit");
        assert_eq!(confirm.value, Some(json!("true")));
        assert!(!confirm.required);

        // Nothing is saved until confirmed: a password login still satisfies whoami.
        assert!(!has_stored_codes(&app, identity_id).await);
        let other = password_only_session(&sdk, "regen@example.com").await;
        sdk.to_session().x_session_token(&other).await.unwrap();
        // Regenerating again replaces the pending codes.
        let again = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Regenerate))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_ne!(shown_codes(&again.data.ui), codes);
    }
);

api_test!(
    confirming_backup_codes_that_were_not_generated_renders_4000001,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "confirm-early@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let err = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Confirm))
            .x_session_token(&token)
            .await
            .unwrap_err();
        let rejected = settings_rejected(&err, flow.id);
        assert_eq!(
            only_ui_message(&rejected.ui),
            &generic("You must (re-)generate recovery backup codes before you can save them.")
        );
        assert!(!has_stored_codes(&app, identity_id).await);
    }
);

api_test!(
    confirming_backup_codes_saves_them_and_adds_lookup_secret_to_the_session,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "confirm@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let shown = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Regenerate))
            .x_session_token(&token)
            .await
            .unwrap();
        let codes = shown_codes(&shown.data.ui);
        app.clock.advance(chrono::Duration::seconds(5));
        let saved = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Confirm))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        assert_eq!(
            only_ui_message(&saved.data.ui),
            &message(1050001, "Your changes have been saved!", "success")
        );
        let buttons: Vec<String> = node_names(&saved.data.ui)
            .into_iter()
            .filter(|n| n.starts_with("lookup_secret"))
            .collect();
        assert_eq!(buttons, ["lookup_secret_reveal", "lookup_secret_disable"]);
        assert!(has_stored_codes(&app, identity_id).await);

        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        let amr = me.data.authentication_methods.unwrap();
        let methods: Vec<(&str, Aal)> = amr.iter().map(|m| (m.method.as_str(), m.aal)).collect();
        assert_eq!(
            methods,
            [("password", Aal::Aal1), ("lookup_secret", Aal::Aal2)]
        );
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal2);
        assert_eq!(me.data.authenticated_at, app.clock.now());

        // The identity now has a second factor: a password alone no longer satisfies whoami.
        let other = password_only_session(&sdk, "confirm@example.com").await;
        let err = sdk.to_session().x_session_token(&other).await.unwrap_err();
        assert_eq!(err.id(), Some("session_aal2_required"));

        // Revealing shows the saved codes; generating on a saved flow keeps its `success` state.
        let revealed = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Reveal))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(shown_codes(&revealed.data.ui), codes);
        let regenerated = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Regenerate))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(regenerated.data.state, "success");
        assert!(regenerated.data.ui.messages.is_empty());
    }
);

api_test!(
    revealing_backup_codes_shows_them_with_used_ones_marked_used,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _, codes) = user_with_codes(&app, "reveal@example.com").await;
        let aal1 = password_only_session(&sdk, "reveal@example.com").await;
        let flow = aal2_flow(&sdk, &aal1).await;
        app.clock.advance(chrono::Duration::milliseconds(700));
        let used_at = app.clock.now();
        sdk.update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[3]))
            .x_session_token(&aal1)
            .await
            .unwrap();

        let flow = settings_flow(&sdk, &token).await;
        let revealed = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Reveal))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(revealed.status, StatusCode::OK);
        assert_eq!(revealed.data.state, "show_form");
        let mut expected = codes.clone();
        expected[3] = "used".to_owned();
        assert_eq!(shown_codes(&revealed.data.ui), expected);
        let node = other_node(&revealed.data.ui, "lookup_secret_codes");
        assert_eq!(node["text"]["text"], expected.join(", "));
        // Rounded to the second, as Kratos stores it, in Go's default time format.
        let rounded = chrono::DateTime::from_timestamp(
            used_at.timestamp() + i64::from(used_at.timestamp_subsec_millis() >= 500),
            0,
        )
        .unwrap();
        assert_eq!(
            node["text"]["context"]["secrets"][3],
            json!({
                "id": 1050014,
                "text": format!("Secret was used at {} +0000 UTC", rounded.format("%Y-%m-%d %H:%M:%S")),
                "type": "info",
                "context": {
                    "used_at": rounded.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "used_at_unix": rounded.timestamp(),
                },
            })
        );
        assert_eq!(
            node["text"]["context"]["secrets"][0],
            json!({"id": 1050009, "text": codes[0], "type": "info", "context": {"secret": codes[0]}})
        );
        // Reveal appends the codes, the disable and the regenerate buttons after every node.
        let names = node_names(&revealed.data.ui);
        assert_eq!(
            names[names.len() - 3..],
            [
                "lookup_secret_codes",
                "lookup_secret_disable",
                "lookup_secret_regenerate"
            ]
        );
    }
);

api_test!(
    revealing_backup_codes_without_any_renders_4000001,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "nothing@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let err = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Reveal))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(
            only_ui_message(&settings_rejected(&err, flow.id).ui),
            &generic("Can not reveal lookup codes because you have none.")
        );
    }
);

api_test!(
    disabling_backup_codes_deletes_them_and_the_second_factor_requirement,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, identity_id, codes) = user_with_codes(&app, "disable@example.com").await;
        let aal1 = password_only_session(&sdk, "disable@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let saved = sdk
            .update_settings_flow(flow.id, &lookup(LookupSecretAction::Disable))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        let buttons: Vec<String> = node_names(&saved.data.ui)
            .into_iter()
            .filter(|n| n.starts_with("lookup_secret"))
            .collect();
        assert_eq!(buttons, ["lookup_secret_regenerate"]);
        assert!(!has_stored_codes(&app, identity_id).await);
        sdk.to_session().x_session_token(&aal1).await.unwrap();

        let flow = aal2_flow(&sdk, &aal1).await;
        assert!(flow.ui.nodes.is_empty(), "{:?}", flow.ui.nodes);
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[0]))
            .x_session_token(&aal1)
            .await
            .unwrap_err();
        assert_eq!(
            only_ui_message(&login_rejected(&err, flow.id).ui),
            &message(
                4000014,
                "You have no backup recovery codes set up.",
                "error"
            )
        );
    }
);

api_test!(
    a_backup_code_logs_in_once_and_is_refused_with_4000012_afterwards,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (_, _, codes) = user_with_codes(&app, "once@example.com").await;
        let first = password_only_session(&sdk, "once@example.com").await;
        let flow = aal2_flow(&sdk, &first).await;
        assert_eq!(
            node_names(&flow.ui),
            ["csrf_token", "lookup_secret", "method=lookup_secret"]
        );
        let done = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[0]))
            .x_session_token(&first)
            .await
            .unwrap();
        let session = &done.data.session;
        assert_eq!(session.authenticator_assurance_level, Aal::Aal2);
        let amr = session.authentication_methods.as_ref().unwrap();
        assert_eq!(
            amr.last().map(|m| (m.method.as_str(), m.aal)),
            Some(("lookup_secret", Aal::Aal2))
        );
        sdk.to_session().x_session_token(&first).await.unwrap();

        let second = password_only_session(&sdk, "once@example.com").await;
        let flow = aal2_flow(&sdk, &second).await;
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[0]))
            .x_session_token(&second)
            .await
            .unwrap_err();
        let rejected = login_rejected(&err, flow.id);
        assert_eq!(
            only_ui_message(&rejected.ui),
            &message(
                4000012,
                "This backup recovery code has already been used.",
                "error"
            )
        );
        assert_eq!(crate::sdk::input(&rejected.ui, "lookup_secret").value, None);
        let err = sdk.to_session().x_session_token(&second).await.unwrap_err();
        assert_eq!(err.id(), Some("session_aal2_required"));
    }
);

api_test!(
    an_unknown_or_missing_backup_code_is_refused,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (_, _, codes) = user_with_codes(&app, "unknown@example.com").await;
        let token = password_only_session(&sdk, "unknown@example.com").await;
        let flow = aal2_flow(&sdk, &token).await;
        // Comparison is exact: no trimming, no case folding.
        for code in [
            "zzzzzzzz".to_owned(),
            codes[0].to_uppercase(),
            format!(" {}", codes[0]),
        ] {
            let err = sdk
                .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&code))
                .x_session_token(&token)
                .await
                .unwrap_err();
            assert_eq!(
                only_ui_message(&login_rejected(&err, flow.id).ui),
                &message(4000016, "The backup recovery code is not valid.", "error"),
                "{code:?}"
            );
        }
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(""))
            .x_session_token(&token)
            .await
            .unwrap_err();
        let rejected = login_rejected(&err, flow.id);
        assert!(rejected.ui.messages.is_empty());
        assert_eq!(
            node_messages(&rejected.ui, "lookup_secret"),
            [UiText {
                id: 4000002,
                text: "Property lookup_secret is missing.".into(),
                kind: "error".into(),
                context: json!({"property": "lookup_secret"}).as_object().cloned(),
            }]
        );
    }
);

api_test!(
    a_backup_code_login_for_an_identity_without_codes_renders_4000014,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        user_with_totp(&app, "totp-only@example.com").await;
        let token = password_only_session(&sdk, "totp-only@example.com").await;
        let flow = aal2_flow(&sdk, &token).await;
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret("abcd1234"))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(
            only_ui_message(&login_rejected(&err, flow.id).ui),
            &message(
                4000014,
                "You have no backup recovery codes set up.",
                "error"
            )
        );
    }
);

api_test!(
    several_backup_codes_log_in_in_a_row_with_refresh,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (_, _, codes) = user_with_codes(&app, "row@example.com").await;
        let token = password_only_session(&sdk, "row@example.com").await;
        let flow = aal2_flow(&sdk, &token).await;
        sdk.update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[0]))
            .x_session_token(&token)
            .await
            .unwrap();
        // An aal2 session proves the factor again with `refresh=true`.
        for (i, code) in codes.iter().enumerate().skip(1).take(3) {
            app.clock.advance(chrono::Duration::seconds(10));
            let flow = sdk
                .create_native_login_flow()
                .aal(Aal::Aal2)
                .refresh(true)
                .x_session_token(&token)
                .await
                .unwrap()
                .data;
            assert!(flow.refresh);
            assert_eq!(flow.requested_aal, Aal::Aal2);
            assert_eq!(
                node_names(&flow.ui),
                ["csrf_token", "lookup_secret", "method=lookup_secret"],
                "a second-factor refresh offers the second factor"
            );
            assert!(
                flow.ui.message_ids().contains(&1010003),
                "{:?}",
                flow.ui.messages
            );
            let done = sdk
                .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(code))
                .x_session_token(&token)
                .await
                .unwrap();
            assert_eq!(done.data.session_token.as_deref(), Some(token.as_str()));
            assert_eq!(done.data.session.authenticated_at, app.clock.now());
            let amr = done.data.session.authentication_methods.unwrap();
            assert_eq!(amr.len(), i + 2, "password plus one entry per code");
        }
        // The codes used are spent; the rest still work.
        let flow = sdk
            .create_native_login_flow()
            .aal(Aal::Aal2)
            .refresh(true)
            .x_session_token(&token)
            .await
            .unwrap()
            .data;
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[2]))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(login_rejected(&err, flow.id).ui.message_ids(), [4000012]);
        sdk.update_login_flow(flow.id, &UpdateLoginFlowBody::lookup_secret(&codes[11]))
            .x_session_token(&token)
            .await
            .unwrap();
    }
);
