//! Browser flow submits: HTML forms (303 / 302 redirects) and single-page apps (JSON), success with
//! the session cookie, and errors rendered into the flow.

use super::*;
use sesame_testkit::api_test;

// --- login submit -------------------------------------------------------------------------------

api_test!(
    spa_login_answers_the_session_without_a_token_and_sets_the_session_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        let identity_id = user(&app, "spa@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(&flow, "spa@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let session_cookie = cookie_named(&res, "ory_kratos_session");
        assert_dev_session_cookie(&app, &session_cookie);
        let rotated = cookie_named(&res, &csrf_cookie_name(&app));
        assert_dev_csrf_cookie(&app, &rotated);
        assert_ne!(
            rotated.value, csrf.value,
            "login rotates the anti-CSRF token"
        );
        assert_eq!(set_cookies(&res).len(), 2);

        let body = expect_json(res, StatusCode::OK).await;
        assert!(body.get("session_token").is_none(), "{body}");
        assert_eq!(body["session"]["identity"]["id"], identity_id.as_str());
        assert_eq!(
            body["continue_with"],
            json!([{"action": "redirect_browser_to", "redirect_browser_to": DEFAULT_RETURN}])
        );

        // The cookie is opaque: it seals the token rather than being it.
        let token = unseal(&session_cookie);
        assert!(token.starts_with("ory_st_"));
        assert!(!session_cookie.value.contains(&token));
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);

        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", session_cookie.pair())
            .send()
            .await
            .unwrap();
        let whoami = expect_json(res, StatusCode::OK).await;
        assert_eq!(whoami["id"], body["session"]["id"]);
        assert_eq!(whoami["identity"]["id"], identity_id.as_str());
    }
);

api_test!(
    spa_login_accepts_the_csrf_token_in_the_x_csrf_token_header,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "header@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .header("X-CSRF-Token", csrf_token(&flow))
            .json(&json!({
                "method": "password",
                "identifier": "header@example.com",
                "password": PASSWORD,
            }))
            .send()
            .await
            .unwrap();
        cookie_named(&res, "ory_kratos_session");
        expect_json(res, StatusCode::OK).await;
    }
);

api_test!(
    html_login_redirects_to_the_default_return_url_with_the_session_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "html@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "login", &flow, Some(&csrf.pair())),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("identifier", "html@example.com"),
                ("password", PASSWORD),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), DEFAULT_RETURN);
        let session_cookie = cookie_named(&res, "ory_kratos_session");
        assert_dev_session_cookie(&app, &session_cookie);
        cookie_named(&res, &csrf_cookie_name(&app));
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", session_cookie.pair())
            .send()
            .await
            .unwrap();
        let whoami = expect_json(res, StatusCode::OK).await;
        assert_eq!(whoami["identity"]["traits"]["email"], "html@example.com");
    }
);

api_test!(
    html_login_with_a_wrong_password_redirects_back_to_the_ui_with_the_message_in_the_flow,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "wrong@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let id = flow["id"].as_str().unwrap();
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "login", &flow, Some(&csrf.pair())),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("identifier", "wrong@example.com"),
                ("password", "not-the-password"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("{}/ui/login?flow={id}", app.public_url)
        );
        assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
        let res = app
            .public(Method::GET, &format!("/self-service/login/flows?id={id}"))
            .header("Cookie", csrf.pair())
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(message_ids(&flow), [4000006]);
        assert_eq!(node_value(&flow, "identifier"), "wrong@example.com");

        // The re-rendered flow still works with the same cookie.
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(&flow, "wrong@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::OK).await;
    }
);

api_test!(
    spa_login_with_a_wrong_password_answers_400_with_the_browser_flow,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "wrong-spa@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(
                &flow,
                "wrong-spa@example.com",
                "nope-nope-nope",
            ))
            .send()
            .await
            .unwrap();
        assert!(set_cookies(&res).is_empty());
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert!(body.get("error").is_none(), "{body}");
        assert_eq!(body["id"], flow["id"]);
        assert_eq!(body["type"], "browser");
        assert_eq!(message_ids(&body), [4000006]);
        assert!(!csrf_token(&body).is_empty());
    }
);

// --- registration submit ------------------------------------------------------------------------

api_test!(
    html_registration_redirects_to_the_default_return_url_with_the_session_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        let (flow, csrf) = browser_flow(&app, "registration").await;
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "registration", &flow, Some(&csrf.pair())),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("traits.email", "new-html@example.com"),
                ("password", PASSWORD),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), DEFAULT_RETURN);
        let session_cookie = cookie_named(&res, "ory_kratos_session");
        assert_dev_session_cookie(&app, &session_cookie);
        cookie_named(&res, &csrf_cookie_name(&app));
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", session_cookie.pair())
            .send()
            .await
            .unwrap();
        let whoami = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            whoami["identity"]["traits"]["email"],
            "new-html@example.com"
        );
    }
);

api_test!(
    spa_registration_answers_session_and_identity_without_a_token,
    |backend| async move {
        let app = spawn(backend).await;
        let (flow, csrf) = browser_flow(&app, "registration").await;
        let res = submit(&app, "registration", &flow, Some(&csrf.pair()))
            .json(&json!({
                "method": "password",
                "traits": {"email": "new-spa@example.com"},
                "password": PASSWORD,
                "csrf_token": csrf_token(&flow),
            }))
            .send()
            .await
            .unwrap();
        let session_cookie = cookie_named(&res, "ory_kratos_session");
        assert_dev_session_cookie(&app, &session_cookie);
        let body = expect_json(res, StatusCode::OK).await;
        assert!(body.get("session_token").is_none(), "{body}");
        assert_eq!(body["identity"]["traits"]["email"], "new-spa@example.com");
        assert_eq!(body["session"]["identity"]["id"], body["identity"]["id"]);
        assert_eq!(
            body["continue_with"],
            json!([{"action": "redirect_browser_to", "redirect_browser_to": DEFAULT_RETURN}])
        );
    }
);

api_test!(
    html_registration_with_invalid_traits_redirects_back_to_the_ui_with_302,
    |backend| async move {
        let app = spawn(backend).await;
        let (flow, csrf) = browser_flow(&app, "registration").await;
        let id = flow["id"].as_str().unwrap();
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "registration", &flow, Some(&csrf.pair())),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("traits.email", "not-an-email"),
                ("password", PASSWORD),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(
            location(&res),
            format!("{}/ui/registration?flow={id}", app.public_url)
        );
        assert!(set_cookies(&res).is_empty());
        let res = app
            .public(
                Method::GET,
                &format!("/self-service/registration/flows?id={id}"),
            )
            .header("Cookie", csrf.pair())
            .send()
            .await
            .unwrap();
        let flow = expect_json(res, StatusCode::OK).await;
        let email = flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["attributes"]["name"] == "traits.email")
            .unwrap();
        assert_eq!(email["attributes"]["value"], "not-an-email");
        assert!(!email["messages"].as_array().unwrap().is_empty(), "{flow}");
    }
);

// --- a session already present ------------------------------------------------------------------

api_test!(
    login_submit_while_signed_in_sends_html_to_the_default_return_url_and_answers_json_with_the_flow,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "twice@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let (session, _) = browser_login(&app, "twice@example.com").await;
        let cookies = format!("{}; {}", csrf.pair(), session.pair());
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "login", &flow, Some(&cookies)),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("identifier", "twice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), DEFAULT_RETURN);
        assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));

        let res = submit(&app, "login", &flow, Some(&cookies))
            .json(&password_login(&flow, "twice@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert!(set_cookies(&res).is_empty());
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["id"], flow["id"]);
        assert_eq!(
            body["ui"]["messages"],
            json!([{
                "id": 4000001,
                "text": "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?",
                "type": "error",
            }])
        );
    }
);

api_test!(
    registration_submit_while_signed_in_sends_html_on_with_302_and_refuses_json,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "again@example.com").await;
        let (flow, csrf) = browser_flow(&app, "registration").await;
        let (session, _) = browser_login(&app, "again@example.com").await;
        let cookies = format!("{}; {}", csrf.pair(), session.pair());
        let token = csrf_token(&flow);
        let res = form(
            submit(&app, "registration", &flow, Some(&cookies)),
            &[
                ("csrf_token", &token),
                ("method", "password"),
                ("traits.email", "another@example.com"),
                ("password", PASSWORD),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(location(&res), DEFAULT_RETURN);

        let res = submit(&app, "registration", &flow, Some(&cookies))
            .json(&json!({
                "method": "password",
                "traits": {"email": "another@example.com"},
                "password": PASSWORD,
                "csrf_token": token,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["ory-error-id"], "session_already_available");
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "A valid session was detected and thus registration is not possible."
        );
    }
);

// --- expired flows ------------------------------------------------------------------------------

api_test!(
    html_submits_of_expired_flows_go_to_a_replacement_that_says_why,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "late@example.com").await;
        let (login, login_csrf) = browser_flow(&app, "login").await;
        let (registration, registration_csrf) = browser_flow(&app, "registration").await;
        app.clock.advance(chrono::Duration::hours(2));
        let cases = [
            (
                "login",
                &login,
                &login_csrf,
                vec![
                    ("method", "password"),
                    ("identifier", "late@example.com"),
                    ("password", PASSWORD),
                ],
                4010001,
            ),
            (
                "registration",
                &registration,
                &registration_csrf,
                vec![
                    ("method", "password"),
                    ("traits.email", "late-new@example.com"),
                    ("password", PASSWORD),
                ],
                4040001,
            ),
        ];
        for (kind, flow, csrf, fields, message_id) in cases {
            let token = csrf_token(flow);
            let mut pairs = vec![("csrf_token", token.as_str())];
            pairs.extend(fields.iter().copied());
            let res = form(submit(&app, kind, flow, Some(&csrf.pair())), &pairs)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{kind}");
            let to = location(&res);
            let new_id = flow_param(&to, &format!("{}/ui/{kind}", app.public_url));
            assert_ne!(new_id, flow["id"].as_str().unwrap());

            // The replacement belongs to the same browser and tells it what happened.
            let res = app
                .public(
                    Method::GET,
                    &format!("/self-service/{kind}/flows?id={new_id}"),
                )
                .header("Cookie", csrf.pair())
                .send()
                .await
                .unwrap();
            let fresh = expect_json(res, StatusCode::OK).await;
            assert_eq!(fresh["type"], "browser");
            assert_eq!(
                fresh["ui"]["messages"],
                json!([{
                    "id": message_id,
                    "text": format!("The {kind} flow expired 60.00 minutes ago, please try again."),
                    "type": "error",
                    "context": {
                        "expired_at": flow["expires_at"],
                        "expired_at_unix": flow["expires_at"]
                            .as_str()
                            .unwrap()
                            .parse::<chrono::DateTime<chrono::Utc>>()
                            .unwrap()
                            .timestamp(),
                    },
                }])
            );
            let token = csrf_token(&fresh);
            let mut pairs = vec![("csrf_token", token.as_str())];
            pairs.extend(fields.iter().copied());
            let res = form(submit(&app, kind, &fresh, Some(&csrf.pair())), &pairs)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{kind}");
            assert_eq!(location(&res), DEFAULT_RETURN);
        }
    }
);

api_test!(
    re_authenticating_the_same_session_keeps_the_anti_csrf_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "again@example.com").await;
        let (session, _) = browser_login(&app, "again@example.com").await;
        // A refresh flow made with the session cookie, submitted by the same browser.
        let res = app
            .public(Method::GET, "/self-service/login/browser?refresh=true")
            .header("Accept", "application/json")
            .header("Cookie", session.pair())
            .send()
            .await
            .unwrap();
        let csrf = cookie_named(&res, &csrf_cookie_name(&app));
        let flow = expect_json(res, StatusCode::OK).await;
        assert_eq!(flow["refresh"], true);
        let both = format!("{}; {}", csrf.pair(), session.pair());
        let res = submit(&app, "login", &flow, Some(&both))
            .header("Accept", "application/json")
            .json(&password_login(&flow, "again@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let names: Vec<String> = set_cookies(&res).into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["ory_kratos_session"],
            "the anti-CSRF cookie is kept for the same session"
        );
    }
);
