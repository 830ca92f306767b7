//! Creating and fetching settings flows: the flow JSON of spec §1.4 on the wire, the three 401s of
//! §1.2, the 403 `session_aal2_required` of §1.3 per endpoint, the identity check, unknown ids and
//! expiry (§1.12).

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const AAL2_REASON: &str = "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.";

/// The spec §1.4 example's identity schema: one `email` trait titled "E-Mail".
fn email_only_schema() -> String {
    let schema = json!({
        "$id": "https://example.com/email.schema.json",
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"traits": {
            "type": "object",
            "properties": {"email": {
                "type": "string",
                "format": "email",
                "title": "E-Mail",
                "ory.sh/kratos": {
                    "credentials": {"password": {"identifier": true}, "totp": {"account_name": true}},
                    "verification": {"via": "email"},
                    "recovery": {"via": "email"}
                }
            }},
            "required": ["email"],
            "additionalProperties": false
        }}
    });
    json!([{"id": "default", "url": format!("base64://{}", STANDARD.encode(schema.to_string()))}])
        .to_string()
}

api_test!(
    settings_api_init_answers_the_flow_in_kratos_field_order_with_every_methods_nodes,
    |backend| async move {
        let app = mfa(builder(backend))
            .env("IDENTITY_SCHEMAS", &email_only_schema())
            .spawn()
            .await;
        let (token, identity_id) = sign_up(&app.sdk(), "foo@example.com").await;
        let res = with_token(&app, Method::GET, "/self-service/settings/api", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-cache, no-store, must-revalidate"
        );
        let text = res.text().await.unwrap();
        let flow: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys(&flow),
            [
                "id",
                "type",
                "expires_at",
                "issued_at",
                "request_url",
                "ui",
                "identity",
                "state",
                "organization_id"
            ]
        );
        let id = flow["id"].as_str().unwrap();
        let issued =
            chrono::DateTime::parse_from_rfc3339(flow["issued_at"].as_str().unwrap()).unwrap();
        let expires =
            chrono::DateTime::parse_from_rfc3339(flow["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(issued, app.clock.now());
        assert_eq!(expires - issued, chrono::Duration::hours(1));

        let qr = flow["ui"]["nodes"][6]["attributes"]["src"]
            .as_str()
            .unwrap();
        assert!(qr.starts_with("data:image/png;base64,iVBOR"), "{qr}");
        let secret = flow["ui"]["nodes"][7]["attributes"]["text"]["text"]
            .as_str()
            .unwrap();
        let nodes = [
            r#"{"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}}"#.to_owned(),
            r#"{"type":"input","group":"profile","attributes":{"name":"traits.email","type":"email","value":"foo@example.com","required":true,"autocomplete":"email","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070002,"text":"E-Mail","type":"info","context":{"name":"traits.email","title":"E-Mail"}}}}"#.to_owned(),
            r#"{"type":"input","group":"profile","attributes":{"name":"method","type":"submit","value":"profile","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070003,"text":"Save","type":"info"}}}"#.to_owned(),
            r#"{"type":"input","group":"password","attributes":{"name":"password","type":"password","required":true,"autocomplete":"new-password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070001,"text":"Password","type":"info"}}}"#.to_owned(),
            r#"{"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070003,"text":"Save","type":"info"}}}"#.to_owned(),
            r#"{"type":"input","group":"lookup_secret","attributes":{"name":"lookup_secret_regenerate","type":"submit","value":"true","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1050008,"text":"Generate new backup recovery codes","type":"info"}}}"#.to_owned(),
            format!(r#"{{"type":"img","group":"totp","attributes":{{"src":"{qr}","id":"totp_qr","width":256,"height":256,"node_type":"img"}},"messages":[],"meta":{{"label":{{"id":1050005,"text":"Authenticator app QR code","type":"info"}}}}}}"#),
            format!(r#"{{"type":"text","group":"totp","attributes":{{"text":{{"id":1050006,"text":"{secret}","type":"info","context":{{"secret":"{secret}"}}}},"id":"totp_secret_key","node_type":"text"}},"messages":[],"meta":{{"label":{{"id":1050017,"text":"This is your authenticator app secret. Use it if you can not scan the QR code.","type":"info"}}}}}}"#),
            r#"{"type":"input","group":"totp","attributes":{"name":"totp_code","type":"text","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070006,"text":"Verify code","type":"info"}}}"#.to_owned(),
            r#"{"type":"input","group":"totp","attributes":{"name":"method","type":"submit","value":"totp","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070003,"text":"Save","type":"info"}}}"#.to_owned(),
        ];
        let public = &app.public_url;
        let head = format!(
            r#"{{"id":"{id}","type":"api","expires_at":{},"issued_at":{},"request_url":"{public}/self-service/settings/api","ui":{{"action":"{public}/self-service/settings?flow={id}","method":"POST","nodes":[{}]}},"identity":"#,
            flow["expires_at"],
            flow["issued_at"],
            nodes.join(",")
        );
        assert!(text.starts_with(&head), "expected\n{head}\ngot\n{text}");
        assert!(
            text.ends_with(",\"state\":\"show_form\",\"organization_id\":null}\n"),
            "{text}"
        );

        // The identity is the flow owner, shaped as whoami shows it.
        let whoami = expect_json(app.whoami(&token).await, StatusCode::OK).await;
        assert_eq!(flow["identity"], whoami["identity"]);
        assert_eq!(keys(&flow["identity"]), keys(&whoami["identity"]));
        assert_eq!(flow["identity"]["id"], identity_id.to_string());
    }
);

api_test!(
    settings_init_without_methods_enabled_offers_only_profile_and_password,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "plain@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        let groups: Vec<&str> = flow.ui.nodes.iter().map(|n| n.group.as_str()).collect();
        assert_eq!(
            groups,
            [
                "default", "profile", "profile", "profile", "profile", "password", "password"
            ]
        );
        assert_eq!(
            node_names(&flow.ui),
            [
                "csrf_token",
                "traits.email",
                "traits.name.first",
                "traits.name.last",
                "method=profile",
                "password",
                "method=password"
            ]
        );
    }
);

api_test!(
    settings_api_init_without_a_session_answers_401_session_inactive,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let body = envelope(json!({
            "id": "session_inactive",
            "code": 401,
            "status": "Unauthorized",
            "reason": "This endpoint can only be accessed with a valid session. Please log in and try again.",
            "message": "request does not have a valid authentication session"
        }));
        // Always JSON, with or without `Accept`, and for a token that is not a session.
        for req in [
            app.public(Method::GET, "/self-service/settings/api"),
            app.public(Method::GET, "/self-service/settings/api")
                .header("Accept", "application/json"),
            app.public(Method::GET, "/self-service/settings/api")
                .header("X-Session-Token", "ory_st_unknown"),
        ] {
            let res = req.send().await.unwrap();
            assert_error(res, StatusCode::UNAUTHORIZED, "session_inactive", &body).await;
        }
    }
);

api_test!(
    settings_browser_init_without_a_session_answers_credentials_missing_or_redirects_to_login,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let res = app
            .public(Method::GET, "/self-service/settings/browser")
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        // Kratos's Go struct leaks its untagged boolean into this body.
        let body = "{\"error\":{\"id\":\"session_inactive\",\"code\":401,\"status\":\"Unauthorized\",\"reason\":\"No active session was found in this request.\",\"message\":\"request does not have a valid authentication session\"},\"CredentialsMissing\":false}\n";
        assert_error(res, StatusCode::UNAUTHORIZED, "session_inactive", body).await;

        let res = app
            .public(Method::GET, "/self-service/settings/browser")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("{}/self-service/login/browser", app.public_url)
        );

        let res = app
            .public(
                Method::GET,
                "/self-service/settings/browser?return_to=https%3A%2F%2Fapp.example.com%2Fdone",
            )
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!(
                "{}/self-service/login/browser?return_to=https%3A%2F%2Fapp.example.com%2Fdone",
                app.public_url
            )
        );
    }
);

api_test!(
    settings_fetch_and_submit_without_a_session_answer_401_without_id_or_302_to_the_login_ui,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let body = envelope(json!({
            "code": 401,
            "status": "Unauthorized",
            "reason": "A valid Ory Session Cookie or Ory Session Token is missing.",
            "message": "The request could not be authorized"
        }));
        let id = Uuid::new_v4();
        let fetch = format!("/self-service/settings/flows?id={id}");
        let submit = format!("/self-service/settings?flow={id}");
        for req in [
            app.public(Method::GET, &fetch)
                .header("Accept", "application/json"),
            app.public(Method::GET, &fetch)
                .header("Accept", "application/json")
                .header("X-Session-Token", "ory_st_unknown"),
            app.public(Method::POST, &submit)
                .json(&json!({"method": "profile"})),
        ] {
            let res = req.send().await.unwrap();
            assert_error(res, StatusCode::UNAUTHORIZED, "", &body).await;
        }
        // Without `Accept: application/json` even a native client is sent to the login UI.
        for req in [
            app.public(Method::GET, &fetch),
            form(app.public(Method::POST, &submit), &[("method", "profile")]),
        ] {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FOUND);
            assert_eq!(location(&res), LOGIN_UI);
        }
    }
);

/// The self-rendering 403 of spec §1.3 sending the browser to `to`.
fn aal2_body(to: &str) -> String {
    let to = to.replace('&', "\\u0026");
    format!(
        "{{\"error\":{{\"id\":\"session_aal2_required\",\"code\":403,\"status\":\"Forbidden\",\"reason\":\"{AAL2_REASON}\",\"details\":{{\"redirect_browser_to\":\"{to}\"}},\"message\":\"Session does not fulfill the requested Authenticator Assurance Level\"}},\"redirect_browser_to\":\"{to}\"}}\n"
    )
}

api_test!(
    settings_endpoints_answer_403_session_aal2_required_each_with_its_return_to,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "aal@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        // Now the identity has a second factor its password-only session has not proven.
        app.add_totp_credential(&identity_id.to_string()).await;
        let public = &app.public_url;
        let login = format!("{public}/self-service/login/browser?aal=aal2");
        let with_return = |r: &str| format!("{login}&return_to={}", query_escape(r));
        let cookie = session_cookie(&token);

        // `GET …/settings/api`: no return_to.
        let res = with_token(&app, Method::GET, "/self-service/settings/api", &token)
            .send()
            .await
            .unwrap();
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_aal2_required",
            &aal2_body(&login),
        )
        .await;

        // `GET …/settings/browser`: the init URL only when it carried a return_to.
        let res = app
            .public(Method::GET, "/self-service/settings/browser")
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_aal2_required",
            &aal2_body(&login),
        )
        .await;
        let init = "/self-service/settings/browser?return_to=https%3A%2F%2Fapp.example.com%2Fdone";
        let res = app
            .public(Method::GET, init)
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let to = with_return(&format!("{public}{init}"));
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_aal2_required",
            &aal2_body(&to),
        )
        .await;
        let res = app
            .public(Method::GET, init)
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), to);

        // `GET …/flows`: the settings UI showing the flow; this endpoint never redirects.
        let to = with_return(&format!("{SETTINGS_UI}?flow={}", flow.id));
        for accept in ["application/json", "text/html"] {
            let res = with_token(
                &app,
                Method::GET,
                &format!("/self-service/settings/flows?id={}", flow.id),
                &token,
            )
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
            assert_error(
                res,
                StatusCode::FORBIDDEN,
                "session_aal2_required",
                &aal2_body(&to),
            )
            .await;
        }

        // Submit: the submit URL; an HTML form post follows it.
        let to = with_return(&format!("{public}/self-service/settings?flow={}", flow.id));
        let res = submit_api(
            &app,
            flow.id,
            &token,
            json!({"method": "profile", "traits": {"email": "aal@example.com"}}),
        )
        .await;
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "session_aal2_required",
            &aal2_body(&to),
        )
        .await;
        let err = sdk
            .update_settings_flow(
                flow.id,
                &UpdateSettingsFlowBody::password("another-good-passphrase-7"),
            )
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(err.redirect_browser_to(), Some(to.clone()));
        let res = form(
            app.public(
                Method::POST,
                &format!("/self-service/settings?flow={}", flow.id),
            )
            .header("Cookie", &cookie),
            &[("method", "profile"), ("traits.email", "aal@example.com")],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), to);
    }
);

api_test!(
    settings_flows_require_aal1_only_when_configured,
    |backend| async move {
        let app = builder(backend)
            .env("SELFSERVICE_FLOWS_SETTINGS_REQUIRED_AAL", "aal1")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "aal1@example.com").await;
        app.add_totp_credential(&identity_id.to_string()).await;
        let flow = settings_flow(&sdk, &token).await;
        let res = sdk
            .get_settings_flow(flow.id)
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(res.data.id, flow.id);
    }
);

api_test!(
    settings_flow_fetch_and_submit_by_another_identity_are_refused_with_security_identity_mismatch,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (owner, owner_id) = sign_up(&sdk, "owner@example.com").await;
        let (other, _) = sign_up(&sdk, "other@example.com").await;
        let flow = settings_flow(&sdk, &owner).await;
        assert_eq!(flow.identity.id, owner_id);
        let fetched = sdk
            .get_settings_flow(flow.id)
            .x_session_token(&owner)
            .await
            .unwrap();
        assert_eq!(fetched.data.id, flow.id);

        let res = with_token(
            &app,
            Method::GET,
            &format!("/self-service/settings/flows?id={}", flow.id),
            &other,
        )
        .send()
        .await
        .unwrap();
        let body = envelope(json!({
            "id": "security_identity_mismatch",
            "code": 403,
            "status": "Forbidden",
            "reason": "The request was made for another identity and has been blocked for security reasons.",
            "message": "The requested action was forbidden"
        }));
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "security_identity_mismatch",
            &body,
        )
        .await;

        let res = submit_api(
            &app,
            flow.id,
            &other,
            json!({"method": "profile", "traits": {"email": "owner@example.com"}}),
        )
        .await;
        let body = envelope(json!({
            "id": "security_identity_mismatch",
            "code": 403,
            "status": "Forbidden",
            "reason": "The request was initiated by someone else and has been blocked for security reasons. Please go back and try again.",
            "message": "The requested action was forbidden"
        }));
        assert_error(
            res,
            StatusCode::FORBIDDEN,
            "security_identity_mismatch",
            &body,
        )
        .await;
        // The owner's traits are untouched.
        let me = sdk.to_session().x_session_token(&owner).await.unwrap();
        assert_eq!(
            me.data.identity.unwrap().traits["email"],
            "owner@example.com"
        );
    }
);

api_test!(
    settings_flow_with_an_unknown_id_answers_404_and_a_malformed_id_400,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "ids@example.com").await;
        let unknown = Uuid::new_v4();
        let res = with_token(
            &app,
            Method::GET,
            &format!("/self-service/settings/flows?id={unknown}"),
            &token,
        )
        .send()
        .await
        .unwrap();
        let body = envelope(json!({
            "code": 404,
            "status": "Not Found",
            "message": "Unable to locate the resource"
        }));
        assert_error(res, StatusCode::NOT_FOUND, "", &body).await;

        let res = submit_api(&app, unknown, &token, json!({"method": "profile"})).await;
        let body = envelope(json!({
            "code": 404,
            "status": "Not Found",
            "reason": "The settings request could not be found. Please restart the flow.",
            "message": "The requested resource could not be found"
        }));
        assert_error(res, StatusCode::NOT_FOUND, "", &body).await;

        let malformed = envelope(json!({
            "code": 400,
            "status": "Bad Request",
            "reason": "The flow query parameter is missing or malformed.",
            "message": "The request was malformed or contained invalid parameters"
        }));
        for path in [
            "/self-service/settings/flows?id=not-a-uuid",
            "/self-service/settings/flows",
        ] {
            let res = with_token(&app, Method::GET, path, &token)
                .send()
                .await
                .unwrap();
            assert_error(res, StatusCode::BAD_REQUEST, "", &malformed).await;
        }
        for path in [
            "/self-service/settings?flow=not-a-uuid",
            "/self-service/settings",
        ] {
            let res = with_token(&app, Method::POST, path, &token)
                .json(&json!({"method": "profile"}))
                .send()
                .await
                .unwrap();
            assert_error(res, StatusCode::BAD_REQUEST, "", &malformed).await;
        }
    }
);

api_test!(
    settings_fetch_of_an_expired_flow_answers_410_pointing_at_the_init_endpoint,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "expired@example.com").await;
        let api = settings_flow(&app.sdk(), &token).await;
        let (browser, cookie) = spa_settings_flow(&app, &token).await;
        app.clock
            .advance(chrono::Duration::hours(1) + chrono::Duration::seconds(1));

        let res = with_token(
            &app,
            Method::GET,
            &format!("/self-service/settings/flows?id={}", api.id),
            &token,
        )
        .send()
        .await
        .unwrap();
        let body = envelope(json!({
            "id": "self_service_flow_expired",
            "code": 410,
            "status": "Gone",
            "reason": "The settings flow has expired. Call the settings flow init API endpoint to initialize a new settings flow.",
            "details": {"api": format!("{}/self-service/settings/api", app.public_url)},
            "message": "The requested resource is no longer available because it has expired or is otherwise invalid."
        }));
        assert_error(res, StatusCode::GONE, "self_service_flow_expired", &body).await;

        let res = app
            .public(
                Method::GET,
                &format!(
                    "/self-service/settings/flows?id={}",
                    browser["id"].as_str().unwrap()
                ),
            )
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let body = envelope(json!({
            "id": "self_service_flow_expired",
            "code": 410,
            "status": "Gone",
            "reason": "The settings flow has expired. Redirect the user to the settings flow init endpoint to initialize a new settings flow.",
            "details": {
                "redirect_to": format!("{}/self-service/settings/browser", app.public_url),
                "return_to": ""
            },
            "message": "The requested resource is no longer available because it has expired or is otherwise invalid."
        }));
        assert_error(res, StatusCode::GONE, "self_service_flow_expired", &body).await;
    }
);

api_test!(
    settings_submit_to_an_expired_flow_answers_410_with_a_replacement_carrying_4050001,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "late@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        app.clock
            .advance(chrono::Duration::hours(1) + chrono::Duration::seconds(3));
        let res = submit_api(
            &app,
            flow.id,
            &token,
            json!({"method": "profile", "traits": {"email": "late@example.com", "name": {"first": "Late"}}}),
        )
        .await;
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["ory-error-id"], "self_service_flow_expired");
        let body = expect_json(res, StatusCode::GONE).await;
        assert_eq!(keys(&body), ["error", "expired_at", "since", "use_flow_id"]);
        assert_eq!(
            body["error"],
            json!({
                "id": "self_service_flow_expired",
                "code": 410,
                "status": "Gone",
                "reason": "The self-service flow expired 0.05 minutes ago, initialize a new one.",
                "message": "self-service flow expired"
            })
        );
        let expired_at = flow.expires_at;
        assert_eq!(
            body["expired_at"],
            sesame_testkit::sesame_client::sesame_types::time::format(&expired_at)
        );
        assert_eq!(body["since"], 3_000_000_000i64);
        let replacement = Uuid::parse_str(body["use_flow_id"].as_str().unwrap()).unwrap();
        assert_ne!(replacement, flow.id);

        // The replacement is a flow of the same kind that says why, and nothing was saved.
        let fresh = sdk
            .get_settings_flow(replacement)
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(fresh.data.flow_type, FlowType::Api);
        assert_eq!(fresh.data.request_url, flow.request_url);
        assert_eq!(
            only_ui_message(&fresh.data.ui),
            &UiText {
                id: 4050001,
                text: "The settings flow expired 0.05 minutes ago, please try again.".into(),
                kind: "error".into(),
                context: json!({
                    "expired_at": sesame_testkit::sesame_client::sesame_types::time::format(&expired_at),
                    "expired_at_unix": expired_at.timestamp(),
                })
                .as_object()
                .cloned(),
            }
        );
        let me = sdk.to_session().x_session_token(&token).await.unwrap();
        assert!(me.data.identity.unwrap().traits.get("name").is_none());
        let saved = sdk
            .update_settings_flow(
                replacement,
                &UpdateSettingsFlowBody::profile(
                    json!({"email": "late@example.com", "name": {"first": "Late"}}),
                ),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
    }
);
