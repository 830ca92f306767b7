//! `DELETE /self-service/logout/api`: native logout by possession of the session token. What a
//! logout does goes through the SDK's `perform_native_logout`; the 204 on the wire and bodies the
//! SDK cannot send are raw.

use crate::sdk::{PASSWORD, assert_session_inactive, log_in, sign_up};
use sesame_testkit::reqwest::header::HeaderMap;
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::sesame_client::{Error, ErrorKind};
use sesame_testkit::{TestApp, api_test, expect_json};

const UNKNOWN_TOKEN_BODY: &str = "{\"error\":{\"code\":403,\"status\":\"Forbidden\",\"reason\":\"The provided Ory Session Token could not be found, is invalid, or otherwise malformed.\",\"message\":\"The requested action was forbidden\"}}\n";

async fn logout(app: &TestApp, body: Value) -> Response {
    app.public(Method::DELETE, "/self-service/logout/api")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The 403 of a token that is not a known session token, exactly as Kratos answers it.
fn assert_unknown_token_answer(status: StatusCode, headers: &HeaderMap, text: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["ory-error-id"], "");
    assert_eq!(text, UNKNOWN_TOKEN_BODY);
}

async fn assert_unknown_token(res: Response) {
    let (status, headers) = (res.status(), res.headers().clone());
    assert_unknown_token_answer(status, &headers, &res.text().await.unwrap());
}

/// The SDK's view of that 403: an API error with code 403, the answer kept as received.
fn assert_unknown_token_refusal(err: &Error) {
    assert!(
        matches!(&err.kind, ErrorKind::Api(e) if e.code == Some(403)),
        "{err:?}"
    );
    let res = err.response.as_ref().unwrap();
    assert_unknown_token_answer(res.status, &res.headers, &res.text());
}

api_test!(
    native_logout_revokes_the_session_and_answers_204,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "logout@example.com").await;
        // The empty 204 is checked on the wire.
        let res = logout(&app, json!({"session_token": token})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.headers().get("content-type").is_none());
        assert_eq!(res.text().await.unwrap(), "");
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(native_logout_is_idempotent, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let sdk = app.sdk();
    let (token, _) = sign_up(&sdk, "twice@example.com").await;
    let res = sdk.perform_native_logout(&token).await.unwrap();
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = sdk.perform_native_logout(&token).await.unwrap();
    assert_eq!(
        res.status,
        StatusCode::NO_CONTENT,
        "an already revoked token is still found"
    );
    let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
    assert_session_inactive(&err);
});

api_test!(
    native_logout_ends_only_the_given_session,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (first, _) = sign_up(&sdk, "two-sessions@example.com").await;
        let second = log_in(&sdk, "two-sessions@example.com", PASSWORD).await;
        let res = sdk.perform_native_logout(&first).await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let err = sdk.to_session().x_session_token(&first).await.unwrap_err();
        assert_session_inactive(&err);
        let res = sdk.to_session().x_session_token(&second).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
    }
);

api_test!(
    native_logout_needs_no_other_credential_than_the_token_in_the_body,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (mine, _) = sign_up(&sdk, "holder@example.com").await;
        let (theirs, _) = sign_up(&sdk, "bystander@example.com").await;
        let res = sdk
            .perform_native_logout(&mine)
            .header("X-Session-Token", &theirs)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        // The body's token is the one revoked.
        let err = sdk.to_session().x_session_token(&mine).await.unwrap_err();
        assert_session_inactive(&err);
        let res = sdk.to_session().x_session_token(&theirs).await.unwrap();
        assert_eq!(
            res.status,
            StatusCode::OK,
            "the header is not what logs out"
        );
    }
);

api_test!(
    native_logout_with_an_unknown_token_answers_403,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let err = app
            .sdk()
            .perform_native_logout("ory_st_doesnotexist0000000000000000")
            .await
            .unwrap_err();
        assert_unknown_token_refusal(&err);
    }
);

api_test!(
    native_logout_with_an_empty_token_answers_403,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let err = app.sdk().perform_native_logout("").await.unwrap_err();
        assert_unknown_token_refusal(&err);
    }
);

api_test!(
    native_logout_without_a_token_answers_403,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        assert_unknown_token(logout(&app, json!({})).await).await;
    }
);

api_test!(
    native_logout_with_a_logout_token_instead_of_a_session_token_answers_403,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "wrong-kind@example.com").await;
        let err = sdk
            .perform_native_logout(&token.replacen("ory_st_", "ory_lo_", 1))
            .await
            .unwrap_err();
        assert_unknown_token_refusal(&err);
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
    }
);

api_test!(
    native_logout_with_malformed_json_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("malformed@example.com").await;
        let res = app
            .public(Method::DELETE, "/self-service/logout/api")
            .header("Content-Type", "application/json")
            .body(format!("{{\"session_token\": \"{token}\""))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], "application/json");
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["status"], "Bad Request");
        assert!(body["error"]["message"].is_string());
        assert!(
            !body.to_string().contains(&token),
            "error bodies never echo a token"
        );
        assert_eq!(
            app.whoami(&token).await.status(),
            StatusCode::OK,
            "nothing was revoked"
        );
    }
);
