//! Browser logout (spec §4.5): `GET /self-service/logout/browser` hands out the logout URL,
//! `GET /self-service/logout?token=` ends the session, clears the cookie and rotates the anti-CSRF
//! token.

use super::*;
use sesame_testkit::api_test;

const CLEARED: &str = "ory_kratos_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; SameSite=Lax";

/// `GET /self-service/logout/browser` as a single-page app.
fn logout_flow(app: &TestApp) -> RequestBuilder {
    app.public(Method::GET, "/self-service/logout/browser")
        .header("Accept", "application/json")
}

/// The logout URL and token of the session behind `cookie`.
async fn logout_token(app: &TestApp, cookie: &SetCookie) -> String {
    let res = logout_flow(app)
        .header("Cookie", cookie.pair())
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    body["logout_token"].as_str().unwrap().to_owned()
}

fn end_session(app: &TestApp, query: &str) -> RequestBuilder {
    app.public(Method::GET, &format!("/self-service/logout?{query}"))
}

/// `ory_lo_` followed by 32 ASCII alphanumerics.
fn assert_logout_token(token: &str) {
    let rest = token
        .strip_prefix("ory_lo_")
        .unwrap_or_else(|| panic!("not a logout token: {token}"));
    assert_eq!(rest.len(), 32, "{token}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
}

/// The 401 `session_inactive` of "must be signed in" paths (not whoami's).
async fn assert_session_required(res: Response) {
    assert_eq!(res.headers()["ory-error-id"], "session_inactive");
    let body = expect_json(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error"]["id"], "session_inactive");
    assert_eq!(
        body["error"]["reason"],
        "No active session was found in this request."
    );
    assert_eq!(
        body["error"]["message"],
        "request does not have a valid authentication session"
    );
}

// --- the logout URL -----------------------------------------------------------------------------

api_test!(
    browser_logout_flow_answers_the_logout_url_and_token_of_the_session,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "bye@example.com").await;
        let (cookie, _) = browser_login(&app, "bye@example.com").await;
        let res = logout_flow(&app)
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert!(set_cookies(&res).is_empty());
        let body = expect_json(res, StatusCode::OK).await;
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["logout_url", "logout_token"]);
        let token = body["logout_token"].as_str().unwrap();
        assert_logout_token(token);
        assert_eq!(
            body["logout_url"],
            format!("{}/self-service/logout?token={token}", app.public_url)
        );

        // The same URL every time, and the same for the session's token.
        assert_eq!(logout_token(&app, &cookie).await, token);
        let res = logout_flow(&app)
            .header("X-Session-Token", unseal(&cookie))
            .send()
            .await
            .unwrap();
        let by_token = expect_json(res, StatusCode::OK).await;
        assert_eq!(by_token, body);
    }
);

api_test!(
    browser_logout_flow_puts_an_allowed_return_to_before_the_token,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        user(&app, "bye-return@example.com").await;
        let (cookie, _) = browser_login(&app, "bye-return@example.com").await;
        let res = logout_flow(&app)
            .query(&[("return_to", "https://app.example.com/bye")])
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        let text = res.text().await.unwrap();
        // Go's encoder escapes `&`.
        assert!(text.contains("\\u0026token=ory_lo_"), "{text}");
        let body: Value = sesame_testkit::serde_json::from_str(&text).unwrap();
        let token = body["logout_token"].as_str().unwrap();
        assert_eq!(
            body["logout_url"],
            format!(
                "{}/self-service/logout?return_to=https%3A%2F%2Fapp.example.com%2Fbye&token={token}",
                app.public_url
            )
        );

        let res = logout_flow(&app)
            .query(&[("return_to", "https://evil.example.net/")])
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["id"], "self_service_flow_return_to_forbidden");
    }
);

api_test!(
    browser_logout_flow_without_a_session_is_401_session_inactive,
    |backend| async move {
        let app = spawn(backend).await;
        assert_session_required(logout_flow(&app).send().await.unwrap()).await;
        let res = logout_flow(&app)
            .header("Cookie", "ory_kratos_session=garbage")
            .send()
            .await
            .unwrap();
        assert_session_required(res).await;
        let res = logout_flow(&app)
            .header("X-Session-Token", "ory_st_unknown")
            .send()
            .await
            .unwrap();
        assert_session_required(res).await;
    }
);

// --- ending the session -------------------------------------------------------------------------

api_test!(
    browser_logout_ends_the_session_clears_the_cookie_and_redirects,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "leave@example.com").await;
        let (cookie, _) = browser_login(&app, "leave@example.com").await;
        let token = logout_token(&app, &cookie).await;
        let res = end_session(&app, &format!("token={token}"))
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], DEFAULT_RETURN);
        assert_eq!(cookie_named(&res, "ory_kratos_session").raw, CLEARED);
        let csrf = cookie_named(&res, &csrf_cookie_name(&app));
        assert_eq!(csrf.max_age(), 365 * 24 * 3600);
        assert_eq!(
            csrf.attr("Expires"),
            Some(expires_in(&app, 365 * 24 * 3600).as_str())
        );
        assert_eq!(set_cookies(&res).len(), 2);

        assert_eq!(
            whoami_with(&app, &cookie.pair()).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.whoami(&unseal(&cookie)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        // The session is gone, so its logout URL is too.
        let res = end_session(&app, &format!("token={token}"))
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        assert_session_required(res).await;
    }
);

api_test!(browser_logout_as_json_answers_204, |backend| async move {
    let app = spawn(backend).await;
    user(&app, "leave-spa@example.com").await;
    let (cookie, _) = browser_login(&app, "leave-spa@example.com").await;
    let token = logout_token(&app, &cookie).await;
    let res = end_session(&app, &format!("token={token}"))
        .header("Cookie", cookie.pair())
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers().get("location").is_none());
    assert_eq!(cookie_named(&res, "ory_kratos_session").raw, CLEARED);
    cookie_named(&res, &csrf_cookie_name(&app));
    assert_eq!(res.text().await.unwrap(), "");
    assert_eq!(
        whoami_with(&app, &cookie.pair()).await.status(),
        StatusCode::UNAUTHORIZED
    );
});

api_test!(
    browser_logout_redirects_to_the_configured_after_logout_url_or_an_allowed_return_to,
    |backend| async move {
        let app = builder(backend)
            .env(
                "SELFSERVICE_FLOWS_LOGOUT_AFTER_DEFAULT_BROWSER_RETURN_URL",
                "https://app.example.com/signed-out",
            )
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        user(&app, "leave-config@example.com").await;
        let (cookie, _) = browser_login(&app, "leave-config@example.com").await;
        let token = logout_token(&app, &cookie).await;
        let res = end_session(&app, &format!("token={token}"))
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()["location"],
            "https://app.example.com/signed-out"
        );

        let (cookie, _) = browser_login(&app, "leave-config@example.com").await;
        let res = logout_flow(&app)
            .query(&[("return_to", "https://app.example.com/see-you")])
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        let url = body["logout_url"].as_str().unwrap();
        let path_and_query = url.strip_prefix(app.public_url.as_str()).unwrap();
        let res = app
            .public(Method::GET, path_and_query)
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "https://app.example.com/see-you");
    }
);

api_test!(
    browser_logout_without_a_token_is_400,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "no-token@example.com").await;
        let (cookie, _) = browser_login(&app, "no-token@example.com").await;
        for query in ["", "token="] {
            let res = end_session(&app, query)
                .header("Cookie", cookie.pair())
                .header("Accept", "application/json")
                .send()
                .await
                .unwrap();
            assert!(set_cookies(&res).is_empty());
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(
                body["error"]["reason"],
                "Please include a token in the URL query."
            );
        }
        assert_eq!(
            whoami_with(&app, &cookie.pair()).await.status(),
            StatusCode::OK
        );
    }
);

api_test!(
    browser_logout_without_a_session_is_401,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "gone@example.com").await;
        let (cookie, _) = browser_login(&app, "gone@example.com").await;
        let token = logout_token(&app, &cookie).await;
        let res = end_session(&app, &format!("token={token}"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert!(set_cookies(&res).is_empty());
        assert_session_required(res).await;
        assert_eq!(
            whoami_with(&app, &cookie.pair()).await.status(),
            StatusCode::OK
        );
    }
);

api_test!(
    browser_logout_with_another_sessions_token_is_403_and_ends_nothing,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "mine@example.com").await;
        user(&app, "theirs@example.com").await;
        let (mine, _) = browser_login(&app, "mine@example.com").await;
        let (theirs, _) = browser_login(&app, "theirs@example.com").await;
        let their_token = logout_token(&app, &theirs).await;
        let res = end_session(&app, &format!("token={their_token}"))
            .header("Cookie", mine.pair())
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert!(set_cookies(&res).is_empty());
        let body = expect_json(res, StatusCode::FORBIDDEN).await;
        assert_eq!(
            body["error"]["reason"],
            "Unable to log out because the logout token in the URL query does not match the session cookie."
        );
        for cookie in [&mine, &theirs] {
            assert_eq!(
                whoami_with(&app, &cookie.pair()).await.status(),
                StatusCode::OK
            );
        }
    }
);
