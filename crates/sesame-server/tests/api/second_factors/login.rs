//! `aal=aal2` logins (spec part 2, §3; spec §5.8, §5.11): the TOTP method's successes and refusals,
//! and what a password login answers for an identity that has a second factor — the token without
//! the identity for native apps, a 422 for single-page apps, a 303 for HTML forms.

use super::*;
use crate::sdk::{message, only_ui_message};
use crate::settings::{cookie_pair, csrf_cookie_name};
use sesame_testkit::reqwest::{Method, Response};
use sesame_testkit::serde_json::json;
use sesame_testkit::sesame_client::UpdateLoginFlowBody;
use sesame_testkit::sesame_client::sesame_types::UiText;
use sesame_testkit::{TestApp, api_test, expect_json};

const RETURN: &str = "https://www.example.com/home";

fn with_context(id: u32, text: &str, context: Value) -> UiText {
    UiText {
        id,
        text: text.to_owned(),
        kind: "error".to_owned(),
        context: context.as_object().cloned(),
    }
}

api_test!(
    totp_login_on_an_aal2_flow_keeps_the_session_id_and_token_and_appends_the_amr_entry,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (_, _, secret) = user_with_totp(&app, "aal2@example.com").await;
        let login = sdk
            .login_with_password("aal2@example.com", PASSWORD)
            .await
            .unwrap();
        let token = login.data.session_token.clone().unwrap();
        app.clock.advance(chrono::Duration::minutes(2));

        let flow = aal2_flow(&sdk, &token).await;
        assert_eq!(flow.requested_aal, Aal::Aal2);
        assert_eq!(
            node_names(&flow.ui),
            ["csrf_token", "totp_code", "method=totp"]
        );
        assert_eq!(
            crate::sdk::input(&flow.ui, "totp_code").value,
            Some(json!("")),
            "an empty value, not null"
        );
        assert_eq!(
            only_ui_message(&flow.ui),
            &message(
                1010004,
                "Please complete the second authentication challenge.",
                "info"
            )
        );

        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let done = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(done.status, StatusCode::OK);
        assert_eq!(done.data.session_token.as_deref(), Some(token.as_str()));
        assert_eq!(done.data.continue_with, None);
        let session = &done.data.session;
        assert_eq!(session.id, login.data.session.id, "the same session");
        assert_eq!(session.authenticator_assurance_level, Aal::Aal2);
        assert_eq!(session.authenticated_at, app.clock.now());
        assert!(session.expires_at > login.data.session.expires_at);
        let amr = session.authentication_methods.as_ref().unwrap();
        let methods: Vec<(&str, Aal)> = amr.iter().map(|m| (m.method.as_str(), m.aal)).collect();
        assert_eq!(methods, [("password", Aal::Aal1), ("totp", Aal::Aal2)]);
        assert_eq!(amr[1].completed_at, app.clock.now());
        assert!(
            session.identity.is_some(),
            "aal2 satisfies whoami: the identity is shown"
        );

        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(me.data.id, session.id);
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal2);
    }
);

api_test!(
    totp_login_with_a_wrong_code_renders_4000008_globally_and_empties_the_input,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (_, _, secret) = user_with_totp(&app, "wrong@example.com").await;
        let token = password_only_session(&sdk, "wrong@example.com").await;
        let flow = aal2_flow(&sdk, &token).await;
        let right = sesame_testkit::totp_code(&secret, app.clock.now());
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        // Ten digits pass the length rule and then fail the 6-digit check.
        for code in [wrong, "1234567890"] {
            let err = sdk
                .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(code))
                .x_session_token(&token)
                .await
                .unwrap_err();
            let rejected = login_rejected(&err, flow.id);
            assert_eq!(
                only_ui_message(&rejected.ui),
                &message(
                    4000008,
                    "The provided authentication code is invalid, please try again.",
                    "error"
                )
            );
            assert!(node_messages(&rejected.ui, "totp_code").is_empty());
            assert_eq!(crate::sdk::input(&rejected.ui, "totp_code").value, None);
        }
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_eq!(err.id(), Some("session_aal2_required"));
    }
);

api_test!(
    totp_login_with_a_short_or_missing_code_marks_the_totp_code_node,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        user_with_totp(&app, "short@example.com").await;
        let token = password_only_session(&sdk, "short@example.com").await;
        let flow = aal2_flow(&sdk, &token).await;
        let cases = [
            (
                "12345",
                with_context(
                    4000003,
                    "length must be >= 6, but got 5",
                    json!({"actual_length": 5, "min_length": 6}),
                ),
            ),
            (
                "",
                with_context(
                    4000002,
                    "Property totp_code is missing.",
                    json!({"property": "totp_code"}),
                ),
            ),
        ];
        for (code, expected) in cases {
            let err = sdk
                .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(code))
                .x_session_token(&token)
                .await
                .unwrap_err();
            let rejected = login_rejected(&err, flow.id);
            assert!(
                rejected.ui.messages.is_empty(),
                "{:?}",
                rejected.ui.messages
            );
            assert_eq!(
                node_messages(&rejected.ui, "totp_code"),
                [expected],
                "{code:?}"
            );
        }
    }
);

api_test!(
    totp_login_for_an_identity_without_totp_renders_4000011,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "no-totp@example.com").await;
        let flow = aal2_flow(&sdk, &token).await;
        assert!(
            flow.ui.nodes.is_empty(),
            "an API flow without factors has no nodes"
        );
        assert_eq!(flow.ui.message_ids(), [1010004]);
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::totp("123456"))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(
            only_ui_message(&login_rejected(&err, flow.id).ui),
            &message(4000011, "You have no TOTP device set up.", "error")
        );
    }
);

api_test!(
    totp_login_on_an_aal1_flow_is_refused_with_4010002,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let sdk = app.sdk();
        let (token, _, secret) = user_with_totp(&app, "aal1-flow@example.com").await;
        let no_strategy = message(
            4010002,
            "Could not find a strategy to log you in with. Did you fill out the form correctly?",
            "error",
        );
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        // A first-factor flow without a session.
        let flow = sdk.create_native_login_flow().await.unwrap().data;
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
            .await
            .unwrap_err();
        assert_eq!(
            only_ui_message(&login_rejected(&err, flow.id).ui),
            &no_strategy
        );
        // A refresh flow (aal1) of a session.
        let flow = sdk
            .create_native_login_flow()
            .refresh(true)
            .x_session_token(&token)
            .await
            .unwrap()
            .data;
        let err = sdk
            .update_login_flow(flow.id, &UpdateLoginFlowBody::totp(&code))
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(
            only_ui_message(&login_rejected(&err, flow.id).ui),
            &no_strategy
        );
    }
);

api_test!(
    a_browser_aal2_login_without_a_session_answers_401_session_aal1_required,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        let res = app
            .public(Method::GET, "/self-service/login/browser?aal=aal2")
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["ory-error-id"], "session_aal1_required");
        assert_eq!(
            res.text().await.unwrap(),
            "{\"error\":{\"id\":\"session_aal1_required\",\"code\":401,\"status\":\"Unauthorized\",\"reason\":\"You can not requested a higher AAL (AAL2/AAL3) without an active session.\",\"message\":\"aal2 and aal3 can only be requested if a session exists already\"}}\n"
        );
    }
);

api_test!(
    api_login_of_an_identity_with_totp_returns_the_token_with_a_null_session_identity,
    |backend| async move {
        let app = mfa_app(TestApp::builder(backend)).await;
        user_with_totp(&app, "native@example.com").await;
        let res = app
            .submit_login(json!({
                "method": "password",
                "identifier": "native@example.com",
                "password": PASSWORD,
            }))
            .await;
        let body = expect_json(res, StatusCode::OK).await;
        let keys: Vec<&str> = body["session"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(keys.contains(&"identity"), "{keys:?}");
        assert_eq!(body["session"]["identity"], Value::Null);
        assert_eq!(body["session"]["authenticator_assurance_level"], "aal1");
        assert_eq!(body["continue_with"], Value::Null);
        let token = body["session_token"].as_str().unwrap();
        let res = app.whoami(token).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(res.headers()["ory-error-id"], "session_aal2_required");
    }
);

/// `GET /self-service/login/browser[?query]` as a single-page app with `cookie`: the flow and the
/// `Cookie` header to continue with (the anti-CSRF cookie added if the answer set one).
async fn spa_login_flow(app: &TestApp, query: &str, cookie: &str) -> (Value, String) {
    let res = app
        .public(Method::GET, &format!("/self-service/login/browser{query}"))
        .header("Accept", "application/json")
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    let csrf = cookie_pair(&res, &csrf_cookie_name(app));
    let cookie = match csrf {
        Some(c) if cookie.is_empty() => c,
        Some(c) => format!("{cookie}; {c}"),
        None => cookie.to_owned(),
    };
    (expect_json(res, StatusCode::OK).await, cookie)
}

fn csrf_of(flow: &Value) -> String {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "csrf_token")
        .unwrap()["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn browser_password_login(app: &TestApp, email: &str, json: bool) -> (Response, String) {
    let (flow, cookie) = spa_login_flow(app, "", "").await;
    let id = flow["id"].as_str().unwrap();
    let req = app
        .public(Method::POST, &format!("/self-service/login?flow={id}"))
        .header("Cookie", &cookie);
    let body = [
        ("method", "password"),
        ("identifier", email),
        ("password", PASSWORD),
        ("csrf_token", &csrf_of(&flow)),
    ];
    let req = if json {
        let map: sesame_testkit::serde_json::Map<String, Value> = body
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        req.header("Accept", "application/json").json(&map)
    } else {
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(body)
            .finish();
        req.header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
    };
    (req.send().await.unwrap(), cookie)
}

api_test!(
    spa_login_of_an_identity_with_totp_answers_422_and_still_sets_the_session_cookie,
    |backend| async move {
        let app = mfa(TestApp::builder(backend))
            .env("SELFSERVICE_DEFAULT_BROWSER_RETURN_URL", RETURN)
            .spawn()
            .await;
        let (_, _, secret) = user_with_totp(&app, "spa@example.com").await;
        let (res, _) = browser_password_login(&app, "spa@example.com", true).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(
            res.headers()["ory-error-id"],
            "browser_location_change_required"
        );
        let session = cookie_pair(&res, "ory_kratos_session").expect("the session cookie is set");
        let csrf = cookie_pair(&res, &csrf_cookie_name(&app)).expect("a new anti-CSRF cookie");
        let to = format!("{}/self-service/login/browser?aal=aal2", app.public_url);
        assert_eq!(
            res.text().await.unwrap(),
            format!(
                "{{\"error\":{{\"id\":\"browser_location_change_required\",\"code\":422,\"status\":\"Unprocessable Entity\",\"reason\":\"In order to complete this flow please redirect the browser to: {to}\",\"message\":\"browser location change required\"}},\"redirect_browser_to\":\"{to}\"}}\n"
            )
        );
        let cookie = format!("{session}; {csrf}");
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "the cookie's session owes its second factor"
        );

        // The browser follows the redirect and completes the second factor.
        let (flow, cookie) = spa_login_flow(&app, "?aal=aal2", &cookie).await;
        assert_eq!(flow["requested_aal"], "aal2");
        let id = flow["id"].as_str().unwrap();
        let res = app
            .public(Method::POST, &format!("/self-service/login?flow={id}"))
            .header("Cookie", &cookie)
            .header("Accept", "application/json")
            .json(&json!({
                "method": "totp",
                "totp_code": sesame_testkit::totp_code(&secret, app.clock.now()),
                "csrf_token": csrf_of(&flow),
            }))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["session"]["authenticator_assurance_level"], "aal2");
        assert_eq!(
            body["continue_with"],
            json!([{"action": "redirect_browser_to", "redirect_browser_to": RETURN}])
        );
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
);

api_test!(
    html_login_of_an_identity_with_totp_redirects_303_to_the_aal2_login,
    |backend| async move {
        let app = mfa(TestApp::builder(backend))
            .env("SELFSERVICE_DEFAULT_BROWSER_RETURN_URL", RETURN)
            .spawn()
            .await;
        user_with_totp(&app, "html@example.com").await;
        let (res, _) = browser_password_login(&app, "html@example.com", false).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()["location"],
            format!("{}/self-service/login/browser?aal=aal2", app.public_url).as_str()
        );
        assert!(cookie_pair(&res, "ory_kratos_session").is_some());
    }
);
