//! `Ory-Session-Cache-For` on whoami (spec §1.5, §1.7, §1.8): only with
//! `feature_flags.cacheable_sessions`; the seconds until the session expires, capped by
//! `feature_flags.cacheable_sessions_max_age`; 60 on a 401 without any credentials. Raw HTTP: the
//! header itself is under test.

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::{TestApp, api_test};

const CACHE_FOR: &str = "ory-session-cache-for";

fn cache_for(res: &Response) -> Option<&str> {
    res.headers().get(CACHE_FOR).map(|v| v.to_str().unwrap())
}

async fn anonymous_whoami(app: &TestApp) -> Response {
    app.public(Method::GET, "/sessions/whoami")
        .send()
        .await
        .unwrap()
}

api_test!(
    whoami_sends_no_cache_hint_unless_sessions_are_cacheable,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("plain@example.com").await;
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(cache_for(&res), None);
        let res = anonymous_whoami(&app).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(cache_for(&res), None);
    }
);

api_test!(
    whoami_with_cacheable_sessions_says_how_long_until_the_session_expires,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("FEATURE_FLAGS_CACHEABLE_SESSIONS", "true")
            .spawn()
            .await;
        let (token, _) = app.signed_up_user("cached@example.com").await;
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(cache_for(&res), Some("86400"), "the 24h default lifespan");

        app.clock.advance(chrono::Duration::minutes(90));
        let res = app.whoami(&token).await;
        assert_eq!(cache_for(&res), Some("81000"));

        // Every way of presenting the session gets it, the cookie included.
        let cookie = sesame_testkit::sealed_session_cookie(
            &token,
            chrono::Utc::now() + chrono::Duration::days(2),
        );
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(cache_for(&res), Some("81000"));
    }
);

api_test!(
    whoami_caps_the_cache_hint_at_cacheable_sessions_max_age,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("FEATURE_FLAGS_CACHEABLE_SESSIONS", "true")
            .env("FEATURE_FLAGS_CACHEABLE_SESSIONS_MAX_AGE", "1h")
            .spawn()
            .await;
        let (token, _) = app.signed_up_user("capped@example.com").await;
        let res = app.whoami(&token).await;
        assert_eq!(cache_for(&res), Some("3600"));

        // Less than the cap left: the session's own expiry wins.
        app.clock.advance(chrono::Duration::minutes(23 * 60 + 30));
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(cache_for(&res), Some("1800"));

        // Expired: a 401 for a token that was sent carries no hint.
        app.clock.advance(chrono::Duration::hours(1));
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(cache_for(&res), None);
    }
);

api_test!(
    whoami_without_credentials_may_be_cached_for_a_minute,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("FEATURE_FLAGS_CACHEABLE_SESSIONS", "true")
            .spawn()
            .await;
        let res = anonymous_whoami(&app).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(cache_for(&res), Some("60"));
        assert_eq!(res.headers()["ory-error-id"], "session_inactive");

        // A cookie that does not open is no credential either (DESIGN.md difference 3).
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Cookie", "ory_kratos_session=garbage")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(cache_for(&res), Some("60"));

        // An unknown or revoked token is a credential that failed: not cacheable.
        let res = app.whoami("ory_st_unknown").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(cache_for(&res), None);
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Authorization", "Bearer ory_st_unknown")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(cache_for(&res), None);
    }
);

api_test!(
    whoami_sends_no_cache_hint_with_tokenize_as,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("FEATURE_FLAGS_CACHEABLE_SESSIONS", "true")
            .spawn()
            .await;
        let (token, _) = app.signed_up_user("tokenized@example.com").await;
        let res = app
            .public(Method::GET, "/sessions/whoami?tokenize_as=jwt")
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(cache_for(&res), None);
    }
);
