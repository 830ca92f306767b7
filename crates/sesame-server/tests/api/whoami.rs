//! `GET /sessions/whoami`: credential order, the 200 body and headers, every 401 case, the AAL rule.
//! Behaviour goes through the SDK's `to_session`; the body, headers and methods on the wire are
//! checked with raw HTTP.

use crate::sdk::{INACTIVE_BODY, PASSWORD, assert_session_inactive, log_in, sign_up};
use sesame_testkit::reqwest::{Method, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::sesame_client::ErrorKind;
use sesame_testkit::sesame_client::sesame_types::identity::{
    CredentialsBody, PasswordConfigBody, PasswordCredentialsBody,
};
use sesame_testkit::sesame_client::sesame_types::{
    Aal, CreateIdentityBody, IdentityState, UpdateIdentityBody,
};
use sesame_testkit::{TestApp, api_test, expect_json};

async fn assert_inactive(res: sesame_testkit::reqwest::Response) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["ory-error-id"], "session_inactive");
    assert_eq!(res.text().await.unwrap(), INACTIVE_BODY);
}

api_test!(
    whoami_answers_a_valid_token_with_the_session_and_identity_header,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("alice@example.com").await;
        let res = app.whoami(&token).await;
        assert_eq!(
            res.headers()["x-kratos-authenticated-identity-id"],
            identity_id.as_str()
        );
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-cache, no-store, must-revalidate"
        );
        let body = expect_json(res, StatusCode::OK).await;
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "active",
                "expires_at",
                "authenticated_at",
                "authenticator_assurance_level",
                "authentication_methods",
                "issued_at",
                "identity",
                "devices"
            ]
        );
        assert_eq!(body["active"], true);
        assert_eq!(body["authenticator_assurance_level"], "aal1");
        assert_eq!(body["authentication_methods"][0]["method"], "password");
        assert_eq!(body["identity"]["id"], identity_id.as_str());
        assert!(body["identity"].get("credentials").is_none());
        assert!(body["identity"].get("metadata_admin").is_none());
        assert_eq!(body["identity"]["metadata_public"], Value::Null);
        assert_eq!(body["identity"]["organization_id"], Value::Null);
        assert_eq!(
            body["identity"]["verifiable_addresses"][0]["value"],
            "alice@example.com"
        );
        assert_eq!(body["devices"][0]["ip_address"], "127.0.0.1");
    }
);

api_test!(
    whoami_accepts_bearer_tokens_and_every_method,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("bob@example.com").await;
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let res = app
                .public(method.clone(), "/sessions/whoami")
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{method}");
        }
        let res = app
            .public(Method::POST, "/sessions/whoami")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("cache-control").is_none(),
            "only GET answers carry Cache-Control"
        );
    }
);

api_test!(
    whoami_without_credentials_answers_the_401_body,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        assert_inactive(
            app.public(Method::GET, "/sessions/whoami")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_inactive(app.whoami("ory_st_unknown").await).await;
    }
);

const AAL2_REASON: &str = "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.";

/// A sealed session cookie for `token`, as the test server would issue it.
fn session_cookie(token: &str) -> String {
    sesame_testkit::sealed_session_cookie(token, chrono::Utc::now() + chrono::Duration::hours(24))
}

api_test!(
    whoami_rejects_an_expired_session_with_401,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SESSION_LIFESPAN", "1h")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "expiring@example.com").await;
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        app.clock.advance(chrono::Duration::minutes(59));
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::OK, "still inside its lifespan");
        app.clock.advance(chrono::Duration::hours(2));
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    whoami_rejects_a_session_revoked_by_native_logout_with_401,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "leaving@example.com").await;
        let res = sdk.perform_native_logout(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    whoami_rejects_the_session_of_an_inactive_identity_with_401,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "disabled@example.com").await;
        let with_state = |state| UpdateIdentityBody {
            traits: json!({"email": "disabled@example.com"}),
            state: Some(state),
            ..Default::default()
        };
        let res = sdk
            .update_identity(identity_id, &with_state(IdentityState::Inactive))
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.state, IdentityState::Inactive);
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);

        let res = sdk
            .update_identity(identity_id, &with_state(IdentityState::Active))
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            res.status,
            StatusCode::OK,
            "re-activating the identity revives its session"
        );
    }
);

api_test!(
    whoami_rejects_the_session_of_a_deleted_identity_with_401,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "deleted@example.com").await;
        let res = sdk.delete_identity(identity_id).await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    whoami_prefers_x_session_token_over_an_invalid_bearer_token,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "header@example.com").await;
        let res = sdk
            .to_session()
            .x_session_token(&token)
            .header("Authorization", "Bearer invalid")
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.identity.unwrap().id, identity_id);
    }
);

api_test!(
    whoami_does_not_fall_back_to_bearer_when_x_session_token_is_invalid,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "nofallback@example.com").await;
        let err = sdk
            .to_session()
            .x_session_token("ory_st_invalid")
            .header("Authorization", &format!("Bearer {token}"))
            .await
            .unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    whoami_does_not_fall_back_to_a_valid_cookie_when_x_session_token_is_invalid,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "cookiefallback@example.com").await;
        let err = sdk
            .to_session()
            .x_session_token("ory_st_invalid")
            .cookie(&session_cookie(&token))
            .await
            .unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    whoami_accepts_a_session_cookie_on_its_own,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "cookie@example.com").await;
        let res = sdk
            .to_session()
            .cookie(&session_cookie(&token))
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.identity_id(), Some(identity_id.to_string().as_str()));
        assert_eq!(res.data.identity.unwrap().id, identity_id);
    }
);

api_test!(
    whoami_prefers_the_session_cookie_over_a_bearer_token_of_another_user,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (cookie_token, cookie_identity) = sign_up(&sdk, "cookie-owner@example.com").await;
        let (bearer_token, bearer_identity) = sign_up(&sdk, "bearer-owner@example.com").await;
        let res = sdk
            .to_session()
            .cookie(&format!("other=1; {}", session_cookie(&cookie_token)))
            .header("Authorization", &format!("Bearer {bearer_token}"))
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        let identity = res.data.identity.unwrap();
        assert_eq!(identity.id, cookie_identity);
        assert_ne!(identity.id, bearer_identity);
    }
);

api_test!(
    whoami_ignores_an_unreadable_cookie_next_to_a_valid_x_session_token,
    |backend| async move {
        // DESIGN.md difference 4: Kratos answers 500 here.
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "garbage-cookie@example.com").await;
        let res = sdk
            .to_session()
            .x_session_token(&token)
            .cookie("ory_kratos_session=garbage")
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.identity.unwrap().id, identity_id);
    }
);

api_test!(
    whoami_treats_an_unreadable_cookie_as_no_cookie,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "garbage-only@example.com").await;
        let err = sdk
            .to_session()
            .cookie("ory_kratos_session=garbage")
            .await
            .unwrap_err();
        assert_session_inactive(&err);

        // An unreadable cookie is "no cookie", so the bearer token is consulted.
        let res = sdk
            .to_session()
            .cookie("ory_kratos_session=garbage")
            .header("Authorization", &format!("Bearer {token}"))
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.identity.unwrap().id, identity_id);
    }
);

api_test!(
    whoami_rejects_a_bearer_header_with_two_spaces,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("spaces@example.com").await;
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Authorization", format!("Bearer  {token}"))
            .send()
            .await
            .unwrap();
        assert_inactive(res).await;
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Authorization", "Bearer  x")
            .send()
            .await
            .unwrap();
        assert_inactive(res).await;
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Authorization", format!("bEaReR {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the scheme is case-insensitive"
        );
    }
);

api_test!(
    whoami_copies_x_request_id_into_the_401_body_after_status,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("X-Request-ID", "abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["ory-error-id"], "session_inactive");
        assert_eq!(
            res.text().await.unwrap(),
            "{\"error\":{\"id\":\"session_inactive\",\"code\":401,\"status\":\"Unauthorized\",\"request\":\"abc\",\"reason\":\"No valid session credentials found in the request.\",\"message\":\"The request could not be authorized\"}}\n"
        );
    }
);

api_test!(
    whoami_rejects_an_unknown_tokenizer_template_with_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "tokenize@example.com").await;
        let err = sdk
            .to_session()
            .x_session_token(&token)
            .tokenize_as("foo")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let headers = &err.response.as_ref().unwrap().headers;
        assert_eq!(headers["content-type"], "application/json");
        let ErrorKind::Api(error) = &err.kind else {
            panic!("expected an API error, got {err:?}");
        };
        assert_eq!(error.code, Some(400));
        assert_eq!(error.status.as_deref(), Some("Bad Request"));
        assert_eq!(
            error.reason.as_deref(),
            Some("Unable to find tokenizer template \"foo\".")
        );
    }
);

api_test!(
    whoami_with_required_aal1_answers_an_aal1_session,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SESSION_WHOAMI_REQUIRED_AAL", "aal1")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "aal1@example.com").await;
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.authenticator_assurance_level, Aal::Aal1);
    }
);

api_test!(
    whoami_answers_an_aal1_session_of_an_identity_without_second_factor_under_highest_available,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "no2fa@example.com").await;
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
    }
);

api_test!(
    whoami_refuses_an_aal1_session_of_an_identity_with_totp_under_highest_available,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("totp@example.com").await;
        app.add_totp_credential(&identity_id).await;

        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("X-Session-Token", &token)
            .header("X-Request-ID", "abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["ory-error-id"], "session_aal2_required");
        assert!(
            res.headers()
                .get("x-kratos-authenticated-identity-id")
                .is_none()
        );
        let to = format!("{}/self-service/login/browser?aal=aal2", app.public_url);
        // Self-rendering error: `redirect_browser_to` twice, and never a `request` field.
        let expected = format!(
            "{{\"error\":{{\"id\":\"session_aal2_required\",\"code\":403,\"status\":\"Forbidden\",\"reason\":\"{AAL2_REASON}\",\"details\":{{\"redirect_browser_to\":\"{to}\"}},\"message\":\"Session does not fulfill the requested Authenticator Assurance Level\"}},\"redirect_browser_to\":\"{to}\"}}\n"
        );
        assert_eq!(res.text().await.unwrap(), expected);
    }
);

api_test!(
    whoami_with_required_aal1_answers_an_aal1_session_of_an_identity_with_totp,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SESSION_WHOAMI_REQUIRED_AAL", "aal1")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "totp-aal1@example.com").await;
        app.add_totp_credential(&identity_id.to_string()).await;
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.data.authenticator_assurance_level, Aal::Aal1);
        assert_eq!(res.data.identity.unwrap().id, identity_id);
    }
);

api_test!(
    whoami_answers_head_options_and_trace_too,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("methods@example.com").await;
        let method = |m: &str| Method::from_bytes(m.as_bytes()).unwrap();
        for m in ["HEAD", "OPTIONS", "TRACE"] {
            let res = app
                .public(method(m), "/sessions/whoami")
                .header("X-Session-Token", &token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{m}");
            assert_eq!(
                res.headers()["x-kratos-authenticated-identity-id"],
                identity_id.as_str(),
                "{m}"
            );
        }
        let res = app
            .public(Method::HEAD, "/sessions/whoami")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
);

api_test!(
    whoami_shows_public_metadata_but_never_admin_metadata_or_credentials,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let body = CreateIdentityBody {
            traits: json!({"email": "meta@example.com"}),
            metadata_public: Some(json!({"plan": "pro"})),
            metadata_admin: Some(json!({"secret_note": "do not show"})),
            credentials: Some(CredentialsBody {
                password: Some(PasswordCredentialsBody {
                    config: PasswordConfigBody {
                        password: Some(PASSWORD.to_owned()),
                        ..Default::default()
                    },
                }),
            }),
            ..Default::default()
        };
        let res = sdk.create_identity(&body).await.unwrap();
        assert_eq!(res.status, StatusCode::CREATED);
        let token = log_in(&sdk, "meta@example.com", PASSWORD).await;
        // The absence of fields is the point here: the body is read raw.
        let res = app.whoami(&token).await;
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["identity"]["metadata_public"], json!({"plan": "pro"}));
        assert!(body["identity"].get("metadata_admin").is_none());
        assert!(body["identity"].get("credentials").is_none());
        assert!(!body.to_string().contains("do not show"));
        assert!(!body.to_string().contains("$argon2"));
    }
);
