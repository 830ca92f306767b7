//! Second factors end to end: TOTP enrolment in the settings flow, then `aal=aal2` logins.

use crate::sdk::{PASSWORD, sign_up};
use sesame_core::Clock;
use sesame_testkit::sesame_client::sesame_types::{Aal, UiNodeAttributes};
use sesame_testkit::sesame_client::{
    ErrorKind, SettingsFlow, UpdateLoginFlowBody, UpdateSettingsFlowBody,
};
use sesame_testkit::{TestApp, TestAppBuilder, api_test};

/// A server with TOTP and backup codes enabled.
pub async fn mfa_app(builder: TestAppBuilder) -> TestApp {
    builder
        .env("SELFSERVICE_METHODS_TOTP_ENABLED", "true")
        .env("SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED", "true")
        .spawn()
        .await
}

/// The base32 secret a settings flow offers for linking.
pub fn offered_secret(flow: &SettingsFlow) -> String {
    flow.ui
        .nodes
        .iter()
        .find_map(|n| match &n.attributes {
            UiNodeAttributes::Other(a)
                if a.get("id").and_then(|v| v.as_str()) == Some("totp_secret_key") =>
            {
                a["text"]["context"]["secret"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .expect("the flow offers a TOTP secret")
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
