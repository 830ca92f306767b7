//! Browser flow init and fetch: 303 to the UI or the flow as JSON, the anti-CSRF cookie and its
//! masked token, `return_to`, an existing session, and expired flows.

use super::*;
use sesame_testkit::api_test;

/// The real token inside a masked one: base64 of a 32-byte pad ‖ (real XOR pad).
fn unmask(masked: &str) -> Vec<u8> {
    let bytes = STANDARD.decode(masked).unwrap();
    assert_eq!(bytes.len(), 64, "{masked}");
    bytes[32..]
        .iter()
        .zip(&bytes[..32])
        .map(|(x, p)| x ^ p)
        .collect()
}

// --- init ---------------------------------------------------------------------------------------

api_test!(
    browser_login_init_redirects_to_the_login_ui_and_sets_the_anti_csrf_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/login/browser")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let id = flow_param(&location(&res), &format!("{}/ui/login", app.public_url)).to_owned();
        let name = csrf_cookie_name(&app);
        assert_eq!(name.len(), "csrf_token_".len() + 64);
        assert!(
            name["csrf_token_".len()..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        let cookie = cookie_named(&res, &name);
        assert_eq!(set_cookies(&res).len(), 1);
        assert_dev_csrf_cookie(&app, &cookie);
        // The flow behind the redirect is the one the cookie can read.
        let res = app
            .public(Method::GET, &format!("/self-service/login/flows?id={id}"))
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["id"], id.as_str());
        assert_eq!(flow["type"], "browser");
    }
);

api_test!(
    browser_registration_init_redirects_to_the_registration_ui_and_sets_the_anti_csrf_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/registration/browser")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let id = flow_param(
            &location(&res),
            &format!("{}/ui/registration", app.public_url),
        )
        .to_owned();
        let cookie = cookie_named(&res, &csrf_cookie_name(&app));
        assert_dev_csrf_cookie(&app, &cookie);
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/registration/flows?id={id}"),
            )
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["type"], "browser");
    }
);

api_test!(
    browser_init_as_json_answers_the_flow_with_a_masked_token_of_the_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        for kind in ["login", "registration"] {
            let (first, cookie) = browser_flow(&app, kind).await;
            assert_dev_csrf_cookie(&app, &cookie);
            assert_eq!(first["type"], "browser");
            assert_eq!(
                first["ui"]["action"],
                format!(
                    "{}/self-service/{kind}?flow={}",
                    app.public_url,
                    first["id"].as_str().unwrap()
                )
            );
            let real = STANDARD.decode(&cookie.value).unwrap();
            assert_eq!(unmask(&csrf_token(&first)), real);

            // The browser sends its cookie back: no new cookie, a freshly masked token of the same one.
            let res = init_json(&app, kind, Some(&cookie.pair()))
                .send()
                .await
                .unwrap();
            assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
            let second = expect_json(res, StatusCode::OK).await;
            assert_ne!(second["id"], first["id"]);
            assert_ne!(csrf_token(&second), csrf_token(&first));
            assert_eq!(unmask(&csrf_token(&second)), real);
        }
    }
);

api_test!(
    browser_init_redirects_to_the_configured_ui_urls,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_FLOWS_LOGIN_UI_URL",
                "https://ui.example.com/sign-in",
            )
            .env(
                "SELFSERVICE_FLOWS_REGISTRATION_UI_URL",
                "https://ui.example.com/sign-up",
            )
            .spawn()
            .await;
        for (kind, ui) in [
            ("login", "https://ui.example.com/sign-in"),
            ("registration", "https://ui.example.com/sign-up"),
        ] {
            let res = app
                .public(Method::GET, &format!("/self-service/{kind}/browser"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let location = location(&res);
            let id = flow_param(&location, ui);
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        }
    }
);

// --- fetch --------------------------------------------------------------------------------------

api_test!(
    browser_flows_can_be_fetched_only_with_the_anti_csrf_cookie_they_were_made_for,
    |backend| async move {
        let app = spawn(backend).await;
        for kind in ["login", "registration"] {
            let (flow, cookie) = browser_flow(&app, kind).await;
            let (_, other) = browser_flow(&app, kind).await;
            let id = flow["id"].as_str().unwrap();
            let get = |cookie: Option<String>| {
                let req = app.public(Method::GET, &format!("/self-service/{kind}/flows?id={id}"));
                match cookie {
                    Some(c) => req.header("Cookie", c),
                    None => req,
                }
            };
            let res = get(Some(format!("theme=dark; {}", cookie.pair())))
                .send()
                .await
                .unwrap();
            let fetched = expect_json(res, StatusCode::OK).await;
            assert_eq!(fetched["id"], id);
            assert_eq!(csrf_token(&fetched), csrf_token(&flow));

            let res = get(None).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
            assert_eq!(res.headers()["ory-error-id"], "security_csrf_violation");
            let body = expect_json(res, StatusCode::FORBIDDEN).await;
            assert_eq!(body["error"]["id"], "security_csrf_violation");

            let res = get(Some(other.pair())).send().await.unwrap();
            assert_eq!(res.headers()["ory-error-id"], "security_csrf_violation");
            let body = expect_json(res, StatusCode::FORBIDDEN).await;
            assert_eq!(body["error"]["id"], "security_csrf_violation");
            assert_eq!(body["error"]["details"]["reject_reason"], CSRF_MISMATCH);
        }
    }
);

// --- return_to ----------------------------------------------------------------------------------

api_test!(
    an_allowed_return_to_is_kept_on_the_flow_and_followed_after_html_login,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        user(&app, "return@example.com").await;
        let res = app
            .public(
                Method::GET,
                "/self-service/login/browser?return_to=https%3A%2F%2Fapp.example.com%2Fafter",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let id = flow_param(&location(&res), &format!("{}/ui/login", app.public_url)).to_owned();
        let csrf = cookie_named(&res, &csrf_cookie_name(&app));
        let res = app
            .public(Method::GET, &format!("/self-service/login/flows?id={id}"))
            .header("Cookie", csrf.pair())
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["return_to"], "https://app.example.com/after");
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "login", &flow, Some(&csrf.pair())),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("identifier", "return@example.com"),
                ("password", PASSWORD),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/after");
        cookie_named(&res, "ory_kratos_session");
    }
);

api_test!(
    a_return_to_outside_the_allow_list_is_refused_with_400,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        for kind in ["login", "registration"] {
            let res = init_json(&app, kind, None)
                .query(&[("return_to", "https://evil.example.net/")])
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.headers()["ory-error-id"],
                "self_service_flow_return_to_forbidden"
            );
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(body["error"]["id"], "self_service_flow_return_to_forbidden");
            assert_eq!(body["error"]["code"], 400);
            assert_eq!(
                body["error"]["reason"],
                "Requested return_to URL \"https://evil.example.net/\" is not allowed."
            );
        }
    }
);

api_test!(
    without_allowed_return_urls_return_to_is_ignored,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "ignored@example.com").await;
        let res = init_json(&app, "login", None)
            .query(&[("return_to", "https://elsewhere.example.org/x")])
            .send()
            .await
            .unwrap();
        let csrf = cookie_named(&res, &csrf_cookie_name(&app));
        let flow = expect_json(res, StatusCode::OK).await;
        assert!(flow.get("return_to").is_none(), "{flow}");
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(&flow, "ignored@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            body["continue_with"][0]["redirect_browser_to"],
            DEFAULT_RETURN
        );
    }
);

// --- an existing session ------------------------------------------------------------------------

api_test!(
    browser_init_with_a_session_redirects_html_and_refuses_json,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "signed-in@example.com").await;
        let (session, _) = browser_login(&app, "signed-in@example.com").await;
        for kind in ["login", "registration"] {
            let res = app
                .public(Method::GET, &format!("/self-service/{kind}/browser"))
                .header("Cookie", session.pair())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{kind}");
            assert_eq!(location(&res), DEFAULT_RETURN);

            let res = init_json(&app, kind, Some(&session.pair()))
                .send()
                .await
                .unwrap();
            assert_eq!(res.headers()["ory-error-id"], "session_already_available");
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(body["error"]["id"], "session_already_available");
            assert_eq!(body["error"]["message"], "you are already logged in");
        }
    }
);

// --- expiry -------------------------------------------------------------------------------------

api_test!(
    fetching_an_expired_browser_flow_is_410_pointing_at_the_browser_init,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        let res = init_json(&app, "login", None)
            .query(&[("return_to", "https://app.example.com/after")])
            .send()
            .await
            .unwrap();
        let login_csrf = cookie_named(&res, &csrf_cookie_name(&app));
        let login = expect_json(res, StatusCode::OK).await;
        let (registration, registration_csrf) = browser_flow(&app, "registration").await;
        app.clock.advance(chrono::Duration::hours(2));

        let fetch = |kind: &str, flow: &Value, cookie: Option<&SetCookie>| {
            let req = app.public(
                Method::GET,
                &format!(
                    "/self-service/{kind}/flows?id={}",
                    flow["id"].as_str().unwrap()
                ),
            );
            match cookie {
                Some(c) => req.header("Cookie", c.pair()),
                None => req,
            }
        };
        let res = fetch("login", &login, Some(&login_csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["ory-error-id"], "self_service_flow_expired");
        let body = expect_json(res, StatusCode::GONE).await;
        assert_eq!(
            body,
            json!({"error": {
                "id": "self_service_flow_expired",
                "code": 410,
                "status": "Gone",
                "reason": "The login flow has expired. Redirect the user to the login flow init endpoint to initialize a new login flow.",
                "details": {
                    "redirect_to": format!(
                        "{}/self-service/login/browser?return_to=https%3A%2F%2Fapp.example.com%2Fafter",
                        app.public_url
                    ),
                    "return_to": "https://app.example.com/after",
                },
                "message": "The requested resource is no longer available because it has expired or is otherwise invalid.",
            }})
        );

        let res = fetch("registration", &registration, Some(&registration_csrf))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::GONE).await;
        assert_eq!(
            body["error"]["reason"],
            "The registration flow has expired. Redirect the user to the registration flow init endpoint to initialize a new registration flow."
        );
        assert_eq!(
            body["error"]["details"],
            json!({
                "redirect_to": format!("{}/self-service/registration/browser", app.public_url),
                "return_to": "",
            })
        );

        // Without its cookie, an expired flow is refused like any other.
        let res = fetch("login", &login, None).send().await.unwrap();
        assert_eq!(res.headers()["ory-error-id"], "security_csrf_violation");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
);
