//! Routing a submit to a method (spec part 2, §1.6) and the errors rendered into the flow or
//! answered as envelopes (§1.9, §1.10): no strategy, disabled methods, malformed bodies, and
//! browser headers on API flows.

use super::*;

const DISABLED: &str = "This endpoint was disabled by system administrator. Please check your url or contact the system administrator to enable it.";

/// A 400 answer carrying the API settings flow `id`: the flow JSON.
async fn expect_flow(res: Response, id: Uuid) -> Value {
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let flow = expect_json(res, StatusCode::BAD_REQUEST).await;
    assert!(
        flow.get("error").is_none(),
        "an envelope instead of the flow: {flow}"
    );
    assert_eq!(flow["id"], id.to_string());
    flow
}

api_test!(
    a_settings_submit_that_no_method_claims_renders_4010004,
    |backend| async move {
        let app = mfa(builder(backend)).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "nobody@example.com").await;
        let flow = settings_flow(&app.sdk(), &token).await;
        for body in [
            json!({}),
            json!({"method": "carrier-pigeon"}),
            json!({"totp_unlink": false, "lookup_secret_reveal": "false"}),
        ] {
            let flow = expect_flow(
                submit_api(&app, flow.id, &token, body.clone()).await,
                flow.id,
            )
            .await;
            assert_eq!(
                flow["ui"]["messages"],
                json!([{
                    "id": 4010004,
                    "text": "Could not find a strategy to update your settings. Did you fill out the form correctly?",
                    "type": "error"
                }]),
                "{body}"
            );
        }
    }
);

api_test!(
    a_settings_submit_for_a_disabled_method_answers_404,
    |backend| async move {
        // TOTP and backup codes are off by default.
        let app = builder(backend)
            .env("SELFSERVICE_METHODS_PROFILE_ENABLED", "false")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "disabled@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        assert_eq!(
            node_names(&flow.ui),
            ["csrf_token", "password", "method=password"]
        );
        let body = envelope(json!({
            "code": 404,
            "status": "Not Found",
            "reason": DISABLED,
            "message": "The requested resource could not be found"
        }));
        for submitted in [
            json!({"method": "totp", "totp_code": "123456"}),
            json!({"totp_unlink": true}),
            json!({"lookup_secret_regenerate": true}),
            json!({"method": "profile", "traits": {"email": "disabled@example.com"}}),
        ] {
            let res = submit_api(&app, flow.id, &token, submitted.clone()).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{submitted}");
            assert_eq!(res.headers()["content-type"], "application/json");
            assert_eq!(res.text().await.unwrap(), body, "{submitted}");
        }
    }
);

api_test!(
    a_settings_submit_with_a_body_that_is_not_an_object_renders_the_decoder_error_as_4000001,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "decoder@example.com").await;
        let flow = settings_flow(&app.sdk(), &token).await;
        let res = with_token(
            &app,
            Method::POST,
            &format!("/self-service/settings?flow={}", flow.id),
            &token,
        )
        .header("Content-Type", "application/json")
        .body("42")
        .send()
        .await
        .unwrap();
        let text = "Expected JSON sent in request body to be an object but got: Number";
        let flow = expect_flow(res, flow.id).await;
        assert_eq!(
            flow["ui"]["messages"],
            json!([{"id": 4000001, "text": text, "type": "error", "context": {"reason": text}}])
        );
    }
);

api_test!(
    an_api_settings_submit_with_an_origin_or_cookie_header_renders_4000001,
    |backend| async move {
        let app = builder(backend).spawn().await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "headers@example.com").await;
        let flow = settings_flow(&sdk, &token).await;
        for (header, value, key) in [
            ("Origin", "https://app.example.com", "Origin"),
            ("Cookie", "tracking=1", "Cookie"),
        ] {
            let res = with_token(
                &app,
                Method::POST,
                &format!("/self-service/settings?flow={}", flow.id),
                &token,
            )
            .header(header, value)
            .json(&json!({"method": "password", "password": "another-good-passphrase-7"}))
            .send()
            .await
            .unwrap();
            let rejected = expect_flow(res, flow.id).await;
            let messages = rejected["ui"]["messages"].as_array().unwrap();
            assert_eq!(messages.len(), 1, "{rejected}");
            assert_eq!(messages[0]["id"], 4000001);
            let text = messages[0]["text"].as_str().unwrap();
            assert!(
                text.starts_with(&format!(
                    "The HTTP Request Header included the \"{key}\" key"
                )),
                "{text}"
            );
        }
        // Nothing changed.
        log_in(&sdk, "headers@example.com", PASSWORD).await;
    }
);
