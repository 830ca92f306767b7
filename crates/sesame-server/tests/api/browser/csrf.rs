//! The anti-CSRF check of browser flow submits (spec §5.5): every reject reason, the 403 envelope,
//! and API flows, which need no token but refuse browser cookies.

use super::*;
use sesame_testkit::api_test;

// --- CSRF ---------------------------------------------------------------------------------------

api_test!(
    browser_submits_without_a_valid_csrf_pair_are_refused_with_403,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "csrf@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let (other_flow, other) = browser_flow(&app, "login").await;
        let with_token = password_login(&flow, "csrf@example.com", PASSWORD);
        let mut without_token = with_token.clone();
        without_token.as_object_mut().unwrap().remove("csrf_token");
        let cases: [(Option<String>, &Value, &str); 5] = [
            (None, &with_token, NO_COOKIES),
            (Some("theme=dark".into()), &with_token, CSRF_COOKIE_MISSING),
            (Some(csrf.pair()), &without_token, CSRF_TOKEN_MISSING),
            // The other browser's token does not prove this cookie.
            (
                Some(csrf.pair()),
                &password_login(&other_flow, "csrf@example.com", PASSWORD),
                CSRF_MISMATCH,
            ),
            // A consistent pair, but not the one the flow was made for.
            (
                Some(other.pair()),
                &password_login(&other_flow, "csrf@example.com", PASSWORD),
                CSRF_MISMATCH,
            ),
        ];
        for (cookie, body, reason) in cases {
            let res = submit(&app, "login", &flow, cookie.as_deref())
                .json(body)
                .send()
                .await
                .unwrap();
            assert!(set_cookies(&res).is_empty());
            assert_csrf_violation(res, reason).await;
        }
        // None of these consumed the flow.
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&with_token)
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::OK).await;
    }
);

api_test!(
    browser_registration_submits_without_the_csrf_token_are_refused_with_403,
    |backend| async move {
        let app = spawn(backend).await;
        let (flow, csrf) = browser_flow(&app, "registration").await;
        let body = json!({
            "method": "password",
            "traits": {"email": "csrf-reg@example.com"},
            "password": PASSWORD,
        });
        let res = submit(&app, "registration", &flow, Some(&csrf.pair()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_csrf_violation(res, CSRF_TOKEN_MISSING).await;
        let res = submit(&app, "registration", &flow, None)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_csrf_violation(res, NO_COOKIES).await;
    }
);

api_test!(
    api_flows_need_no_csrf_token_and_still_refuse_browser_cookies,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "api@example.com").await;
        let (_, csrf) = browser_flow(&app, "login").await;
        let flow = app.login_flow().await;
        assert_eq!(csrf_token(&flow), "");
        let body =
            json!({"method": "password", "identifier": "api@example.com", "password": PASSWORD});
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let refused = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(message_ids(&refused), [4000001]);
        let res = submit(&app, "login", &flow, None)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(set_cookies(&res).is_empty());
        let body = expect_json(res, StatusCode::OK).await;
        assert!(
            body["session_token"]
                .as_str()
                .unwrap()
                .starts_with("ory_st_")
        );
    }
);
