//! Session and anti-CSRF cookie attributes from the configuration (spec §4.4), and whoami re-issuing
//! a session cookie whose recorded expiry fell behind the session's (spec §1.5).

use super::*;
use sesame_testkit::api_test;

// --- cookie configuration -----------------------------------------------------------------------

api_test!(
    cookies_secure_makes_the_anti_csrf_and_session_cookies_secure,
    |backend| async move {
        let app = builder(backend).env("COOKIES_SECURE", "true").spawn().await;
        user(&app, "secure@example.com").await;
        let (_, csrf) = browser_flow(&app, "login").await;
        assert_eq!(
            csrf.raw,
            format!(
                "{}={}; Path=/; Expires={}; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax",
                csrf.name,
                csrf.value,
                expires_in(&app, ONE_YEAR)
            )
        );
        let (session, _) = browser_login(&app, "secure@example.com").await;
        assert!(session.has("Secure"), "{}", session.raw);
        assert!(session.raw.ends_with("; HttpOnly; Secure; SameSite=Lax"));
    }
);

api_test!(
    a_non_persistent_session_cookie_has_neither_expires_nor_max_age,
    |backend| async move {
        let app = builder(backend)
            .env("SESSION_COOKIE_PERSISTENT", "false")
            .spawn()
            .await;
        user(&app, "transient@example.com").await;
        let (cookie, _) = browser_login(&app, "transient@example.com").await;
        assert_eq!(
            cookie.raw,
            format!(
                "ory_kratos_session={}; Path=/; HttpOnly; SameSite=Lax",
                cookie.value
            )
        );
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::OK).await;
    }
);

api_test!(
    the_session_cookie_name_is_configurable,
    |backend| async move {
        let app = builder(backend)
            .env("SESSION_COOKIE_NAME", "my_session")
            .spawn()
            .await;
        let identity_id = user(&app, "named@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(&flow, "named@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let cookie = cookie_named(&res, "my_session");
        assert!(
            set_cookies(&res)
                .iter()
                .all(|c| c.name != "ory_kratos_session"),
            "{:?}",
            set_cookies(&res)
        );
        expect_json(res, StatusCode::OK).await;
        unseal(&cookie);
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", cookie.pair())
            .send()
            .await
            .unwrap();
        let whoami = expect_json(res, StatusCode::OK).await;
        assert_eq!(whoami["identity"]["id"], identity_id.as_str());
        // Under another name the same value is not a session cookie.
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", format!("ory_kratos_session={}", cookie.value))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
);

api_test!(
    cookies_domain_applies_to_the_session_and_anti_csrf_cookies,
    |backend| async move {
        let app = builder(backend)
            .env("COOKIES_DOMAIN", "example.com")
            .spawn()
            .await;
        user(&app, "domain@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        assert_eq!(csrf.attr("Domain"), Some("example.com"));
        assert!(csrf.raw.contains("; Path=/; Domain=example.com; Expires="));
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(&flow, "domain@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        let session = cookie_named(&res, "ory_kratos_session");
        assert!(
            session
                .raw
                .contains("; Path=/; Domain=example.com; Expires="),
            "{}",
            session.raw
        );
        assert_eq!(
            cookie_named(&res, &csrf_cookie_name(&app)).attr("Domain"),
            Some("example.com")
        );
    }
);

api_test!(
    session_cookie_domain_applies_to_the_session_cookie_only,
    |backend| async move {
        let app = builder(backend)
            .env("SESSION_COOKIE_DOMAIN", "sso.example.com")
            .spawn()
            .await;
        user(&app, "session-domain@example.com").await;
        let (flow, csrf) = browser_flow(&app, "login").await;
        assert_eq!(csrf.attr("Domain"), None);
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(
                &flow,
                "session-domain@example.com",
                PASSWORD,
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(
            cookie_named(&res, "ory_kratos_session").attr("Domain"),
            Some("sso.example.com")
        );
        assert_eq!(
            cookie_named(&res, &csrf_cookie_name(&app)).attr("Domain"),
            None
        );
    }
);

// --- whoami and the session cookie --------------------------------------------------------------

fn expires_at(session: &Value) -> chrono::DateTime<chrono::Utc> {
    session["expires_at"].as_str().unwrap().parse().unwrap()
}

api_test!(
    whoami_reissues_a_cookie_whose_expiry_is_behind_the_sessions,
    |backend| async move {
        let app = spawn(backend).await;
        let (token, _) = app.signed_up_user("refresh@example.com").await;
        let session = expect_json(app.whoami(&token).await, StatusCode::OK).await;
        let session_expiry = expires_at(&session);
        app.clock.advance(chrono::Duration::hours(1));
        let stale = sesame_testkit::sealed_session_cookie(
            &token,
            session_expiry - chrono::Duration::hours(1),
        );

        let res = whoami_with(&app, &stale).await;
        let all = set_cookies(&res);
        assert_eq!(all.len(), 1, "{all:?}");
        let fresh = cookie_named(&res, "ory_kratos_session");
        let remaining = (session_expiry - app.clock.now()).num_seconds();
        assert_eq!(remaining, 23 * 3600);
        assert_eq!(
            fresh.raw,
            format!(
                "ory_kratos_session={}; Path=/; Expires={}; Max-Age={remaining}; HttpOnly; SameSite=Lax",
                fresh.value,
                session_expiry.format("%a, %d %b %Y %H:%M:%S GMT")
            )
        );
        assert_eq!(unseal(&fresh), token);
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["id"], session["id"]);

        // The re-issued cookie is up to date.
        let res = whoami_with(&app, &fresh.pair()).await;
        assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
        expect_json(res, StatusCode::OK).await;
    }
);

api_test!(
    whoami_leaves_an_up_to_date_cookie_and_token_requests_alone,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "steady@example.com").await;
        let (cookie, _) = browser_login(&app, "steady@example.com").await;
        app.clock.advance(chrono::Duration::minutes(5));
        let res = whoami_with(&app, &cookie.pair()).await;
        assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
        expect_json(res, StatusCode::OK).await;

        let token = unseal(&cookie);
        for res in [
            app.whoami(&token).await,
            app.public(Method::GET, "/sessions/whoami")
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        ] {
            assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
            expect_json(res, StatusCode::OK).await;
        }
    }
);

api_test!(
    whoami_never_sets_an_anti_csrf_cookie,
    |backend| async move {
        let app = spawn(backend).await;
        let (token, _) = app.signed_up_user("no-csrf@example.com").await;
        let session = expect_json(app.whoami(&token).await, StatusCode::OK).await;
        let stale = sesame_testkit::sealed_session_cookie(
            &token,
            expires_at(&session) - chrono::Duration::minutes(1),
        );
        let responses = [
            whoami_with(&app, &stale).await,
            app.public(Method::GET, "/sessions/whoami")
                .send()
                .await
                .unwrap(),
            whoami_with(&app, "ory_kratos_session=garbage").await,
        ];
        let name = csrf_cookie_name(&app);
        for res in responses {
            assert!(
                set_cookies(&res).iter().all(|c| c.name != name),
                "{:?}",
                set_cookies(&res)
            );
        }
    }
);

api_test!(
    old_session_cookies_still_open_after_a_new_secret_is_prepended,
    |backend| async move {
        let mut app = builder(backend)
            .env("SECRETS_COOKIE", "first-secret-0123456789")
            .spawn()
            .await;
        user(&app, "rotate@example.com").await;
        let (session, _) = browser_login(&app, "rotate@example.com").await;
        assert_eq!(
            whoami_with(&app, &session.pair()).await.status(),
            StatusCode::OK
        );

        app.set_env(
            "SECRETS_COOKIE",
            "second-secret-0123456789,first-secret-0123456789",
        );
        app.restart().await;
        assert_eq!(
            whoami_with(&app, &session.pair()).await.status(),
            StatusCode::OK,
            "the old key still opens cookies it sealed"
        );
        let (fresh, _) = browser_login(&app, "rotate@example.com").await;

        app.set_env("SECRETS_COOKIE", "second-secret-0123456789");
        app.restart().await;
        assert_eq!(
            whoami_with(&app, &session.pair()).await.status(),
            StatusCode::UNAUTHORIZED,
            "a cookie sealed by a removed key is no cookie"
        );
        assert_eq!(
            whoami_with(&app, &fresh.pair()).await.status(),
            StatusCode::OK,
            "new cookies are sealed with the first key"
        );
    }
);
