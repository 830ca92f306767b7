//! Second factors: wrong TOTP and backup codes are counted on the account's second-factor count
//! (one count for both), a wait refuses even the right code, and a password login does not reset
//! it (a stolen password must not buy more code guesses).

use super::*;
use crate::second_factors::{
    aal2_flow, mfa, password_only_session, set_up_backup_codes, user_with_totp,
};
use sesame_testkit::sesame_client::sesame_types::Aal;
use sesame_testkit::sesame_client::{Client, UpdateLoginFlowBody};

/// Submits a second factor to a new `aal=aal2` flow of `token`'s session.
async fn second_factor(
    sdk: &Client,
    token: &str,
    body: &UpdateLoginFlowBody,
) -> Result<Aal, sesame_testkit::sesame_client::Error> {
    let flow = aal2_flow(sdk, token).await;
    sdk.update_login_flow(flow.id, body)
        .x_session_token(token)
        .await
        .map(|ok| ok.data.session.authenticator_assurance_level)
}

api_test!(
    wrong_totp_codes_are_counted_and_a_wait_refuses_the_right_one,
    |backend| async move {
        let app = mfa(TestApp::builder(backend)).spawn().await;
        let sdk = app.sdk();
        let (_, id, secret) = user_with_totp(&app, "ada@example.com").await;
        let token = password_only_session(&sdk, "ada@example.com").await;
        for _ in 0..5 {
            let err = second_factor(&sdk, &token, &UpdateLoginFlowBody::totp("000000"))
                .await
                .unwrap_err();
            assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");
        }
        // A new password login does not reset the second-factor count.
        let token = password_only_session(&sdk, "ada@example.com").await;
        let right = sesame_testkit::totp_code(&secret, app.clock.now());
        let err = second_factor(&sdk, &token, &UpdateLoginFlowBody::totp(&right))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(err.id(), Some("security_too_many_attempts"));
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(1)));
        let lock = lock_of(&app, &id.to_string()).await;
        assert_eq!(
            lock["failed_attempts"],
            json!([{
                "scope": "second_factor",
                "failures": 5,
                "last_failure_at": lock["failed_attempts"][0]["last_failure_at"],
                "delayed_until": lock["failed_attempts"][0]["delayed_until"],
                "locked_at": null,
            }])
        );

        app.clock.advance(chrono::Duration::seconds(1));
        let right = sesame_testkit::totp_code(&secret, app.clock.now());
        let aal = second_factor(&sdk, &token, &UpdateLoginFlowBody::totp(&right))
            .await
            .unwrap();
        assert_eq!(aal, Aal::Aal2);
        assert!(
            lock_of(&app, &id.to_string()).await["failed_attempts"]
                .as_array()
                .unwrap()
                .is_empty(),
            "the success forgot the failures"
        );
    }
);

api_test!(
    wrong_backup_codes_share_the_count_with_totp,
    |backend| async move {
        let app = mfa(TestApp::builder(backend)).spawn().await;
        let sdk = app.sdk();
        let (token, id, _) = user_with_totp(&app, "ada@example.com").await;
        let codes = set_up_backup_codes(&sdk, &token).await;
        let token = password_only_session(&sdk, "ada@example.com").await;
        for wrong in ["00000000", "11111111", "22222222"] {
            let err = second_factor(&sdk, &token, &UpdateLoginFlowBody::lookup_secret(wrong))
                .await
                .unwrap_err();
            assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        }
        for _ in 0..2 {
            let err = second_factor(&sdk, &token, &UpdateLoginFlowBody::totp("000000"))
                .await
                .unwrap_err();
            assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        }
        let err = second_factor(&sdk, &token, &UpdateLoginFlowBody::lookup_secret(&codes[0]))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
        let lock = lock_of(&app, &id.to_string()).await;
        assert_eq!(lock["failed_attempts"][0]["failures"], 5);

        app.clock.advance(chrono::Duration::seconds(1));
        let aal = second_factor(&sdk, &token, &UpdateLoginFlowBody::lookup_secret(&codes[0]))
            .await
            .unwrap();
        assert_eq!(aal, Aal::Aal2);
    }
);
