//! `DELETE /self-service/logout/api`: native logout by possession of the session token.

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

const UNKNOWN_TOKEN_BODY: &str = "{\"error\":{\"code\":403,\"status\":\"Forbidden\",\"reason\":\"The provided Ory Session Token could not be found, is invalid, or otherwise malformed.\",\"message\":\"The requested action was forbidden\"}}\n";

async fn logout(app: &TestApp, body: Value) -> Response {
    app.public(Method::DELETE, "/self-service/logout/api")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn assert_unknown_token(res: Response) {
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["ory-error-id"], "");
    assert_eq!(res.text().await.unwrap(), UNKNOWN_TOKEN_BODY);
}

api_test!(
    native_logout_revokes_the_session_and_answers_204,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("logout@example.com").await;
        let res = logout(&app, json!({"session_token": token})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.headers().get("content-type").is_none());
        assert_eq!(res.text().await.unwrap(), "");
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
    }
);

api_test!(native_logout_is_idempotent, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signed_up_user("twice@example.com").await;
    assert_eq!(
        logout(&app, json!({"session_token": token})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        logout(&app, json!({"session_token": token})).await.status(),
        StatusCode::NO_CONTENT,
        "an already revoked token is still found"
    );
    assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
});

api_test!(
    native_logout_ends_only_the_given_session,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (first, _) = app.signed_up_user("two-sessions@example.com").await;
        let second = app
            .login("two-sessions@example.com", "a-very-good-passphrase-42")
            .await;
        assert_eq!(
            logout(&app, json!({"session_token": first})).await.status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(app.whoami(&first).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.whoami(&second).await.status(), StatusCode::OK);
    }
);

api_test!(
    native_logout_needs_no_other_credential_than_the_token_in_the_body,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (mine, _) = app.signed_up_user("holder@example.com").await;
        let (theirs, _) = app.signed_up_user("bystander@example.com").await;
        let res = app
            .public(Method::DELETE, "/self-service/logout/api")
            .header("X-Session-Token", &theirs)
            .json(&json!({"session_token": mine}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            app.whoami(&mine).await.status(),
            StatusCode::UNAUTHORIZED,
            "the body's token is the one revoked"
        );
        assert_eq!(
            app.whoami(&theirs).await.status(),
            StatusCode::OK,
            "the header is not what logs out"
        );
    }
);

api_test!(
    native_logout_with_an_unknown_token_answers_403,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        assert_unknown_token(
            logout(
                &app,
                json!({"session_token": "ory_st_doesnotexist0000000000000000"}),
            )
            .await,
        )
        .await;
    }
);

api_test!(
    native_logout_with_an_empty_token_answers_403,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        assert_unknown_token(logout(&app, json!({"session_token": ""})).await).await;
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
        let (token, _) = app.signed_up_user("wrong-kind@example.com").await;
        assert_unknown_token(
            logout(
                &app,
                json!({"session_token": token.replacen("ory_st_", "ory_lo_", 1)}),
            )
            .await,
        )
        .await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
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
