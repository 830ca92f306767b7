//! `selfservice.flows.settings.after.<method>.hooks` (spec part 2, §1.11): with
//! `revoke_active_sessions`, a change ends every other session of the identity and keeps the one
//! that made it; other identities are untouched. Without the hook, other sessions survive.

use super::*;
use crate::sdk::assert_session_inactive;
use crate::second_factors::{link_totp, set_up_backup_codes};

const REVOKE: &str = r#"[{"hook":"revoke_active_sessions"}]"#;

/// The identity's signed-up session, two more of its sessions, and a session of someone else.
struct Sessions {
    current: String,
    others: [String; 2],
    stranger: String,
}

async fn sessions(app: &TestApp, email: &str) -> Sessions {
    let sdk = app.sdk();
    let (current, _) = sign_up(&sdk, email).await;
    let others = [
        log_in(&sdk, email, PASSWORD).await,
        log_in(&sdk, email, PASSWORD).await,
    ];
    let (stranger, _) = sign_up(&sdk, &format!("stranger-{email}")).await;
    Sessions {
        current,
        others,
        stranger,
    }
}

/// The other sessions answer whoami's 401; the current one and the stranger's still 200.
async fn assert_only_others_revoked(app: &TestApp, s: &Sessions) {
    let sdk = app.sdk();
    for other in &s.others {
        let err = sdk.to_session().x_session_token(other).await.unwrap_err();
        assert_session_inactive(&err);
    }
    let me = sdk.to_session().x_session_token(&s.current).await.unwrap();
    assert_eq!(me.status, StatusCode::OK);
    let stranger = sdk.to_session().x_session_token(&s.stranger).await.unwrap();
    assert_eq!(stranger.status, StatusCode::OK);
}

api_test!(
    revoke_active_sessions_after_a_password_change_ends_the_other_sessions_only,
    |backend| async move {
        let app = builder(backend)
            .env("SELFSERVICE_FLOWS_SETTINGS_AFTER_PASSWORD_HOOKS", REVOKE)
            .spawn()
            .await;
        let sdk = app.sdk();
        let s = sessions(&app, "revoke@example.com").await;
        let flow = settings_flow(&sdk, &s.current).await;
        let saved = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::password("another-good-passphrase-7"),
            )
            .x_session_token(&s.current)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        assert_eq!(
            saved.data.continue_with, None,
            "the hook adds nothing to the answer"
        );
        assert_only_others_revoked(&app, &s).await;

        // A profile change (no hook configured for it) ends nothing.
        let newer = log_in(&sdk, "revoke@example.com", "another-good-passphrase-7").await;
        sdk.update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::profile(
                json!({"email": "revoke@example.com", "name": {"first": "R"}}),
            ),
        )
        .x_session_token(&s.current)
        .await
        .unwrap();
        sdk.to_session().x_session_token(&newer).await.unwrap();
    }
);

api_test!(
    without_the_hook_a_password_change_leaves_the_other_sessions_alive,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let s = sessions(&app, "keep@example.com").await;
        let flow = settings_flow(&sdk, &s.current).await;
        sdk.update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::password("another-good-passphrase-7"),
        )
        .x_session_token(&s.current)
        .await
        .unwrap();
        for token in s.others.iter().chain([&s.current, &s.stranger]) {
            let res = sdk.to_session().x_session_token(token).await.unwrap();
            assert_eq!(res.status, StatusCode::OK);
        }
    }
);

api_test!(
    revoke_active_sessions_after_linking_totp_ends_the_other_sessions_only,
    |backend| async move {
        let app = mfa(builder(backend))
            .env("SELFSERVICE_FLOWS_SETTINGS_AFTER_TOTP_HOOKS", REVOKE)
            .spawn()
            .await;
        let s = sessions(&app, "revoke-totp@example.com").await;
        link_totp(&app, &s.current).await;
        assert_only_others_revoked(&app, &s).await;
    }
);

api_test!(
    revoke_active_sessions_after_confirming_backup_codes_ends_the_other_sessions_only,
    |backend| async move {
        let app = mfa(builder(backend))
            .env(
                "SELFSERVICE_FLOWS_SETTINGS_AFTER_LOOKUP_SECRET_HOOKS",
                REVOKE,
            )
            .spawn()
            .await;
        let sdk = app.sdk();
        let s = sessions(&app, "revoke-codes@example.com").await;
        // Generating codes changes nothing yet: the other sessions live until the codes are saved.
        let flow = settings_flow(&sdk, &s.current).await;
        sdk.update_settings_flow(
            flow.id,
            &UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Regenerate),
        )
        .x_session_token(&s.current)
        .await
        .unwrap();
        sdk.to_session()
            .x_session_token(&s.others[0])
            .await
            .unwrap();
        set_up_backup_codes(&sdk, &s.current).await;
        assert_only_others_revoked(&app, &s).await;
    }
);
