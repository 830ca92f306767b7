//! `toSession` by token, cookie and bearer; native and browser logout, through the SDK.

use crate::proxy::Checks;
use crate::support::*;
use ory_kratos_client::apis::{Error, ResponseContent, frontend_api};
use ory_kratos_client::models::{PerformNativeLogoutBody, verifiable_identity_address};
use reqwest::StatusCode;
use serde_json::json;
use sesame_testkit::{TestApp, api_test};

/// Signs up through the testkit and logs in through the SDK (`update_login_flow`, whose success
/// body the SDK decodes: `continue_with` is `null` for native logins, as in Kratos).
async fn sdk_login(app: &TestApp, checks: &Checks, email: &str) -> (String, String) {
    let (_, identity_id) = app.signed_up_user(email).await;
    let flow = app.login_flow().await;
    let login = frontend_api::update_login_flow(
        &native(&checks.public_url),
        flow["id"].as_str().unwrap(),
        login_body(email, PASSWORD, None),
        None,
        None,
    )
    .await
    .expect("updateLoginFlow");
    (login.session_token.expect("a session token"), identity_id)
}

api_test!(
    to_session_reads_the_token_the_cookie_and_a_bearer_token,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let checks = Checks::for_app(&app).await;
        let public = native(&checks.public_url);
        let (token, identity_id) = sdk_login(&app, &checks, "carol@example.com").await;

        let by_token = frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .expect("toSession with X-Session-Token");
        assert_eq!(by_token.active, Some(true));
        assert!(by_token.expires_at.is_some() && by_token.authenticated_at.is_some());
        let identity = by_token.identity.as_ref().expect("the identity");
        assert_eq!(identity.id, identity_id);
        assert_eq!(identity.traits, Some(json!({"email": "carol@example.com"})));
        let addresses = identity.verifiable_addresses.as_deref().unwrap_or_default();
        assert_eq!(addresses.len(), 1);
        assert_eq!(addresses[0].value, "carol@example.com");
        assert_eq!(
            addresses[0].via,
            verifiable_identity_address::ViaEnum::Email
        );
        assert!(!addresses[0].verified);

        let by_bearer =
            frontend_api::to_session(&bearer(&checks.public_url, &token), None, None, None)
                .await
                .expect("toSession with Authorization: Bearer");
        assert_eq!(by_bearer.id, by_token.id);

        let (cookie, cookie_identity) =
            browser_sign_up(&checks.public_url, "dave@example.com").await;
        let by_cookie = frontend_api::to_session(&public, None, Some(&cookie), None)
            .await
            .expect("toSession with Cookie");
        assert_eq!(by_cookie.identity.map(|i| i.id), Some(cookie_identity));

        let err = frontend_api::to_session(&public, Some("ory_st_unknown"), None, None)
            .await
            .unwrap_err();
        let Error::ResponseError(ResponseContent {
            status,
            entity: Some(frontend_api::ToSessionError::Status401(body)),
            ..
        }) = err
        else {
            panic!("expected a decoded 401, got {err:?}");
        };
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body.error.code, Some(401));
        assert_eq!(body.error.status.as_deref(), Some("Unauthorized"));
        assert_eq!(body.error.id.as_deref(), Some("session_inactive"));
        assert_eq!(body.error.message, "The request could not be authorized");
        assert_eq!(
            body.error.reason.as_deref(),
            Some("No valid session credentials found in the request.")
        );
        checks.finish();
    }
);

api_test!(native_logout_runs_through_the_sdk, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let checks = Checks::for_app(&app).await;
    let public = native(&checks.public_url);
    let (token, _) = sdk_login(&app, &checks, "erin@example.com").await;

    frontend_api::perform_native_logout(&public, PerformNativeLogoutBody::new(token.clone()))
        .await
        .expect("performNativeLogout");
    let err = frontend_api::to_session(&public, Some(&token), None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ResponseError(r) if r.status == StatusCode::UNAUTHORIZED),
        "{err:?}"
    );

    let err = frontend_api::perform_native_logout(
        &public,
        PerformNativeLogoutBody::new("ory_st_unknown".into()),
    )
    .await
    .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(frontend_api::PerformNativeLogoutError::Status400(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded error, got {err:?}");
    };
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, Some(403));
    checks.finish();
});

api_test!(browser_logout_runs_through_the_sdk, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let checks = Checks::for_app(&app).await;
    let browser = browser(&checks.public_url);
    let (cookie, _) = browser_sign_up(&checks.public_url, "grace@example.com").await;

    let logout = frontend_api::create_browser_logout_flow(&browser, Some(&cookie), None)
        .await
        .expect("createBrowserLogoutFlow");
    assert!(logout.logout_token.starts_with("ory_lo_"), "{logout:?}");
    assert_eq!(
        logout.logout_url,
        format!(
            "{}/self-service/logout?token={}",
            app.public_url, logout.logout_token
        )
    );

    frontend_api::update_logout_flow(&browser, Some(&logout.logout_token), None, Some(&cookie))
        .await
        .expect("updateLogoutFlow");
    let err = frontend_api::to_session(&browser, None, Some(&cookie), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ResponseError(r) if r.status == StatusCode::UNAUTHORIZED),
        "{err:?}"
    );

    let err = frontend_api::create_browser_logout_flow(&browser, Some(&cookie), None)
        .await
        .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(frontend_api::CreateBrowserLogoutFlowError::Status400(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded error, got {err:?}");
    };
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body.error.id.as_deref(), Some("session_inactive"));
    checks.finish();
});
