//! Browser settings flows (spec part 2, §1.1, §1.7–§1.10): JSON for single-page apps and redirects
//! for HTML forms, the anti-CSRF token on every submit, the session cookie re-issued on success,
//! and where the browser goes afterwards.

use super::*;

const ERROR_UI: &str = "https://ui.example.com/error";

async fn spawn(backend: Backend) -> TestApp {
    builder(backend)
        .env("SELFSERVICE_FLOWS_ERROR_UI_URL", ERROR_UI)
        .spawn()
        .await
}

/// The session token a `Set-Cookie: ory_kratos_session=…` pair seals.
fn unseal(pair: &str) -> String {
    let value = pair.strip_prefix("ory_kratos_session=").unwrap();
    sesame_testkit::cookie_sealer("ory_kratos_session")
        .open(value)
        .expect("the session cookie opens")
        .token
        .expose()
        .to_owned()
}

fn profile_body(flow: &Value, first: &str) -> Value {
    json!({
        "method": "profile",
        "traits": {"email": flow["identity"]["traits"]["email"], "name": {"first": first}},
        "csrf_token": csrf_of(flow),
    })
}

api_test!(
    a_browser_settings_flow_is_json_for_spas_and_a_303_to_the_ui_for_html,
    |backend| async move {
        let app = spawn(backend).await;
        let (token, identity_id) = sign_up(&app.sdk(), "browser@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        assert_eq!(flow["type"], "browser");
        assert_eq!(
            flow["request_url"],
            format!("{}/self-service/settings/browser", app.public_url)
        );
        assert_eq!(flow["identity"]["id"], identity_id.to_string());
        let csrf = csrf_of(&flow);
        use base64::Engine;
        let masked = base64::engine::general_purpose::STANDARD
            .decode(&csrf)
            .unwrap();
        assert_eq!(
            masked.len(),
            64,
            "a masked token: pad and real token XOR pad"
        );

        // Fetching needs the session but no anti-CSRF check.
        let res = app
            .public(
                Method::GET,
                &format!(
                    "/self-service/settings/flows?id={}",
                    flow["id"].as_str().unwrap()
                ),
            )
            .header("Accept", "application/json")
            .header("Cookie", session_cookie(&token))
            .send()
            .await
            .unwrap();
        let fetched = expect_json(res, StatusCode::OK).await;
        assert_eq!(fetched["id"], flow["id"]);
        drop(cookie);

        let res = app
            .public(Method::GET, "/self-service/settings/browser")
            .header("Cookie", session_cookie(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        let id = to
            .strip_prefix(&format!("{SETTINGS_UI}?flow="))
            .unwrap_or_else(|| panic!("{to}"));
        let flow = app
            .sdk()
            .get_settings_flow(Uuid::parse_str(id).unwrap())
            .cookie(&session_cookie(&token))
            .await
            .unwrap();
        assert_eq!(flow.data.flow_type, FlowType::Browser);
    }
);

api_test!(
    a_browser_settings_submit_without_the_matching_csrf_token_is_refused_with_403,
    |backend| async move {
        let app = spawn(backend).await;
        let (token, _) = sign_up(&app.sdk(), "csrf@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        let mut without = profile_body(&flow, "Mallory");
        without.as_object_mut().unwrap().remove("csrf_token");
        let mut wrong = profile_body(&flow, "Mallory");
        let (other, _) = spa_settings_flow(&app, &token).await;
        // A token from another browser's cookie does not match this one's.
        wrong["csrf_token"] = json!(csrf_of(&other));
        for (body, cookie, reason) in [
            (
                &without,
                cookie.as_str(),
                "The anti-CSRF cookie was found but the CSRF token was not included in the HTTP request body (csrf_token) nor in the HTTP Header (X-CSRF-Token).",
            ),
            (
                &wrong,
                cookie.as_str(),
                "The HTTP Cookie Header was set and a CSRF token was sent but they do not match. We recommend deleting all cookies for this domain and retrying the flow.",
            ),
            (
                &profile_body(&flow, "Mallory"),
                &session_cookie(&token),
                "The HTTP Cookie Header was set but did not include the anti-CSRF cookie.",
            ),
        ] {
            let res = browser_submit(&app, &flow, cookie)
                .header("Accept", "application/json")
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.headers()["ory-error-id"], "security_csrf_violation");
            let body = expect_json(res, StatusCode::FORBIDDEN).await;
            assert_eq!(body["error"]["id"], "security_csrf_violation");
            assert_eq!(body["error"]["details"]["reject_reason"], reason);
        }
        // An HTML form post is sent to the error UI.
        let res = form(
            browser_submit(&app, &flow, &cookie),
            &[
                ("method", "profile"),
                ("traits.email", "csrf@example.com"),
                ("traits.name.first", "Mallory"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with(ERROR_UI), "{}", location(&res));
        // Nothing changed.
        let me = app
            .sdk()
            .to_session()
            .x_session_token(&token)
            .await
            .unwrap();
        assert!(me.data.identity.unwrap().traits.get("name").is_none());
    }
);

api_test!(
    a_spa_settings_success_answers_continue_with_and_reissues_the_session_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        let (token, _) = sign_up(&app.sdk(), "spa@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        let res = browser_submit(&app, &flow, &cookie)
            .header("Accept", "application/json")
            .json(&profile_body(&flow, "Spa"))
            .send()
            .await
            .unwrap();
        let session =
            cookie_pair(&res, "ory_kratos_session").expect("the session cookie is re-issued");
        assert_eq!(unseal(&session), token, "for the same session");
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["state"], "success");
        assert_eq!(keys(&body).last(), Some(&"continue_with"));
        assert_eq!(
            body["continue_with"],
            json!([{
                "action": "redirect_browser_to",
                "redirect_browser_to": format!("{SETTINGS_UI}?flow={}", flow["id"].as_str().unwrap())
            }])
        );
        assert_eq!(body["identity"]["traits"]["name"]["first"], "Spa");
        // `continue_with` belongs to the answer only.
        let res = app
            .public(
                Method::GET,
                &format!(
                    "/self-service/settings/flows?id={}",
                    flow["id"].as_str().unwrap()
                ),
            )
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let fetched = expect_json(res, StatusCode::OK).await;
        assert!(fetched.get("continue_with").is_none(), "{fetched}");
    }
);

api_test!(
    an_html_settings_success_redirects_303_with_the_session_cookie,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_FLOWS_SETTINGS_AFTER_DEFAULT_BROWSER_RETURN_URL",
                "https://app.example.com/saved",
            )
            .env(
                "SELFSERVICE_FLOWS_SETTINGS_AFTER_PASSWORD_DEFAULT_BROWSER_RETURN_URL",
                "https://app.example.com/password-changed",
            )
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        let (token, _) = sign_up(&app.sdk(), "html@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        let csrf = csrf_of(&flow);
        let res = form(
            browser_submit(&app, &flow, &cookie),
            &[
                ("csrf_token", &csrf),
                ("method", "profile"),
                ("traits.email", "html@example.com"),
                ("traits.name.first", "Html"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/saved");
        let session =
            cookie_pair(&res, "ory_kratos_session").expect("the session cookie is re-issued");
        assert_eq!(unseal(&session), token);

        // A method's own return URL wins over the flow-wide one.
        let res = form(
            browser_submit(&app, &flow, &cookie),
            &[
                ("csrf_token", &csrf),
                ("method", "password"),
                ("password", "another-good-passphrase-7"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/password-changed");

        // The flow's return_to wins over both.
        let res = app
            .public(
                Method::GET,
                "/self-service/settings/browser?return_to=https%3A%2F%2Fapp.example.com%2Fback",
            )
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["return_to"], "https://app.example.com/back");
        let res = form(
            browser_submit(&app, &flow, &cookie),
            &[
                ("csrf_token", &csrf_of(&flow)),
                ("method", "password"),
                ("password", "a-third-good-passphrase-9"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/back");
    }
);

api_test!(
    an_html_settings_validation_error_redirects_303_to_the_ui_with_the_message_in_the_flow,
    |backend| async move {
        let app = spawn(backend).await;
        let (token, _) = sign_up(&app.sdk(), "invalid@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        let id = flow["id"].as_str().unwrap();
        let res = form(
            browser_submit(&app, &flow, &cookie),
            &[
                ("csrf_token", &csrf_of(&flow)),
                ("method", "password"),
                ("password", "short"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{SETTINGS_UI}?flow={id}"));
        assert!(cookie_pair(&res, "ory_kratos_session").is_none());
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/settings/flows?id={id}"),
            )
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let shown = expect_json(res, StatusCode::OK).await;
        let node = shown["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["attributes"]["name"] == "password")
            .unwrap();
        assert_eq!(node["messages"][0]["id"], 4000032);
        // The form carries a fresh masked token for the same anti-CSRF cookie.
        assert_ne!(csrf_of(&shown), csrf_of(&flow));
        let res = browser_submit(&app, &shown, &cookie)
            .header("Accept", "application/json")
            .json(&json!({"method": "password", "password": "another-good-passphrase-7", "csrf_token": csrf_of(&shown)}))
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::OK).await;
    }
);

api_test!(
    an_html_settings_submit_by_an_old_session_redirects_303_to_the_refresh_login,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_FLOWS_SETTINGS_PRIVILEGED_SESSION_MAX_AGE",
                "5m",
            )
            .spawn()
            .await;
        let (token, _) = sign_up(&app.sdk(), "stale@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        app.clock.advance(chrono::Duration::minutes(10));
        let id = flow["id"].as_str().unwrap();
        let to = format!(
            "{}/self-service/login/browser?refresh=true&return_to={}",
            app.public_url,
            query_escape(&format!(
                "{}/self-service/settings?flow={id}",
                app.public_url
            ))
        );
        let res = form(
            browser_submit(&app, &flow, &cookie),
            &[
                ("csrf_token", &csrf_of(&flow)),
                ("method", "password"),
                ("password", "another-good-passphrase-7"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), to);
        // A single-page app gets the 403 with the same URL.
        let res = browser_submit(&app, &flow, &cookie)
            .header("Accept", "application/json")
            .json(&json!({"method": "password", "password": "another-good-passphrase-7", "csrf_token": csrf_of(&flow)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["ory-error-id"], "session_refresh_required");
        let body = expect_json(res, StatusCode::FORBIDDEN).await;
        assert_eq!(body["redirect_browser_to"], to);
    }
);

api_test!(
    backup_codes_in_a_browser_flow_are_json_for_spas_and_a_303_to_the_ui_for_html,
    |backend| async move {
        let app = mfa(builder(backend)).spawn().await;
        let (token, _) = sign_up(&app.sdk(), "codes@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        let id = flow["id"].as_str().unwrap();
        let res = browser_submit(&app, &flow, &cookie)
            .header("Accept", "application/json")
            .json(&json!({"lookup_secret_regenerate": true, "csrf_token": csrf_of(&flow)}))
            .send()
            .await
            .unwrap();
        assert!(cookie_pair(&res, "ory_kratos_session").is_none());
        let shown = expect_json(res, StatusCode::OK).await;
        assert_eq!(shown["state"], "show_form");
        assert!(shown.get("continue_with").is_none());
        let res = form(
            browser_submit(&app, &shown, &cookie),
            &[
                ("csrf_token", &csrf_of(&shown)),
                ("lookup_secret_confirm", "true"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{SETTINGS_UI}?flow={id}"));
        let me = app
            .sdk()
            .to_session()
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(me.data.authenticator_assurance_level, Aal::Aal2);
    }
);

api_test!(
    a_browser_returning_from_a_refresh_login_is_sent_back_to_the_settings_ui,
    |backend| async move {
        // Where `session_refresh_required` sends the browser back to after signing in again.
        let app = spawn(backend).await;
        let (token, _) = sign_up(&app.sdk(), "resume@example.com").await;
        let (flow, cookie) = spa_settings_flow(&app, &token).await;
        let id = flow["id"].as_str().unwrap();
        let res = app
            .public(Method::GET, &format!("/self-service/settings?flow={id}"))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{SETTINGS_UI}?flow={id}"));
    }
);
