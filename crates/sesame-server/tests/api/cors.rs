//! CORS on the public port (`serve.public.cors`), as Kratos's rs/cors answers: preflights before
//! routing, the request `Origin` echoed with credentials for allowed origins, nothing for others.

use sesame_testkit::reqwest::header::HeaderMap;
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::{Backend, TestApp, api_test};

const APP: &str = "https://app.example.com";

/// A server with CORS on and `allowed_origins` set (CSV, as the environment takes it).
async fn with_cors(backend: Backend, origins: &str) -> TestApp {
    TestApp::builder(backend)
        .env("SERVE_PUBLIC_CORS_ENABLED", "true")
        .env("SERVE_PUBLIC_CORS_ALLOWED_ORIGINS", origins)
        .spawn()
        .await
}

/// `OPTIONS path` as a browser sends a preflight.
async fn preflight(
    app: &TestApp,
    path: &str,
    origin: &str,
    method: &str,
    headers: &str,
) -> Response {
    let mut req = app
        .public(Method::OPTIONS, path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method);
    if !headers.is_empty() {
        req = req.header("Access-Control-Request-Headers", headers);
    }
    req.send().await.unwrap()
}

/// `GET /sessions/whoami` with a session token, from `origin`.
async fn whoami_from(app: &TestApp, token: &str, origin: &str) -> Response {
    app.public(Method::GET, "/sessions/whoami")
        .header("X-Session-Token", token)
        .header("Origin", origin)
        .send()
        .await
        .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// Every `Vary` value, split at commas.
fn vary(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|v| v.trim().to_owned())
        .collect()
}

/// `Vary: Origin` once (other layers may vary on more, e.g. `Cookie`).
fn assert_varies_on_origin(headers: &HeaderMap) {
    let vary = vary(headers);
    assert_eq!(
        vary.iter().filter(|v| *v == "Origin").count(),
        1,
        "{vary:?}"
    );
}

fn assert_no_cors_headers(headers: &HeaderMap) {
    let cors: Vec<_> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "unexpected CORS headers: {cors:?}");
}

api_test!(
    cors_is_off_by_default_and_options_then_reaches_the_routes,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let res = whoami_from(&app, &token, APP).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_cors_headers(res.headers());
        assert!(!vary(res.headers()).contains(&"Origin".to_owned()));
        // whoami accepts every method, so a "preflight" is just an unauthenticated whoami.
        let res = preflight(&app, "/sessions/whoami", APP, "GET", "x-session-token").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["ory-error-id"], "session_inactive");
        assert_no_cors_headers(res.headers());
    }
);

api_test!(
    a_preflight_from_an_allowed_origin_is_answered_before_routing,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SERVE_PUBLIC_CORS_ENABLED", "true")
            .env("SERVE_PUBLIC_CORS_ALLOWED_ORIGINS", APP)
            .env("SERVE_PUBLIC_CORS_MAX_AGE", "600")
            .spawn()
            .await;
        for path in [
            "/sessions/whoami",
            "/self-service/login/api",
            "/no/such/route",
        ] {
            let res = preflight(&app, path, APP, "get", "Content-Type,x-session-token").await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT, "{path}");
            let h = res.headers();
            assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
            assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
            assert_eq!(header(h, "access-control-allow-methods"), Some("GET"));
            assert_eq!(
                header(h, "access-control-allow-headers"),
                Some("content-type, x-session-token")
            );
            assert_eq!(header(h, "access-control-max-age"), Some("600"));
            assert_eq!(
                vary(h),
                [
                    "Origin",
                    "Access-Control-Request-Method",
                    "Access-Control-Request-Headers"
                ]
            );
            assert!(h.get("cache-control").is_none());
            assert_eq!(res.text().await.unwrap(), "");
        }
        // Without `Access-Control-Max-Age` configured the header is left out.
        let app = with_cors(app.backend.clone(), APP).await;
        let res = preflight(&app, "/sessions/whoami", APP, "POST", "").await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            header(res.headers(), "access-control-allow-methods"),
            Some("POST")
        );
        assert!(res.headers().get("access-control-max-age").is_none());
        assert!(res.headers().get("access-control-allow-headers").is_none());
    }
);

api_test!(
    a_preflight_from_an_origin_matching_a_wildcard_is_allowed,
    |backend| async move {
        let app = with_cors(backend, "https://*.example.com").await;
        for origin in ["https://a.example.com", "https://a.b.example.com"] {
            let res = preflight(&app, "/sessions/whoami", origin, "GET", "x-session-token").await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            assert_eq!(
                header(res.headers(), "access-control-allow-origin"),
                Some(origin)
            );
            assert_eq!(
                header(res.headers(), "access-control-allow-credentials"),
                Some("true")
            );
        }
        for origin in [
            "https://example.com",
            "http://a.example.com",
            "https://evil.com/.example.com",
        ] {
            let res = preflight(&app, "/sessions/whoami", origin, "GET", "").await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT, "{origin}");
            assert_no_cors_headers(res.headers());
        }
    }
);

api_test!(
    a_disallowed_origin_gets_no_cors_headers,
    |backend| async move {
        let app = with_cors(backend, APP).await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        let res = preflight(
            &app,
            "/sessions/whoami",
            "https://evil.example.net",
            "GET",
            "",
        )
        .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_no_cors_headers(res.headers());
        assert!(vary(res.headers()).contains(&"Origin".to_owned()));
        // The answer itself is not withheld (CORS is enforced by the browser), only the headers.
        let res = whoami_from(&app, &token, "https://evil.example.net").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_cors_headers(res.headers());
        assert_varies_on_origin(res.headers());
        // An allowed origin asking for a method or header outside the lists gets nothing either.
        let res = preflight(&app, "/sessions/whoami", APP, "HEAD", "").await;
        assert_no_cors_headers(res.headers());
        let res = preflight(
            &app,
            "/sessions/whoami",
            APP,
            "GET",
            "x-session-token, x-custom",
        )
        .await;
        assert_no_cors_headers(res.headers());
    }
);

api_test!(
    an_allowed_origin_calling_whoami_gets_the_session_and_the_echoed_origin,
    |backend| async move {
        let app = with_cors(backend, &format!("https://other.example.org,{APP}")).await;
        let (token, identity_id) = app.signed_up_user("alice@example.com").await;
        let res = whoami_from(&app, &token, APP).await;
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
        assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
        assert_eq!(
            header(h, "access-control-expose-headers"),
            Some("Content-Type")
        );
        assert_varies_on_origin(h);
        assert!(h.get("access-control-allow-methods").is_none());
        assert_eq!(
            header(h, "x-kratos-authenticated-identity-id"),
            Some(identity_id.as_str())
        );
        // The SPA must be able to read the 401 too, to send the visitor to sign in.
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .header("Origin", APP)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(res.headers(), "access-control-allow-origin"),
            Some(APP)
        );
        // Same-origin and non-browser requests carry no Origin: only `Vary`.
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_cors_headers(res.headers());
        assert_varies_on_origin(res.headers());
    }
);

api_test!(
    a_star_allows_any_origin_but_echoes_it_instead_of_a_star,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SERVE_PUBLIC_CORS_ENABLED", "true")
            .spawn()
            .await;
        let (token, _) = app.signed_up_user("alice@example.com").await;
        for origin in ["https://anything.test", "http://localhost:3000"] {
            let res = whoami_from(&app, &token, origin).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(
                header(res.headers(), "access-control-allow-origin"),
                Some(origin)
            );
            assert_eq!(
                header(res.headers(), "access-control-allow-credentials"),
                Some("true")
            );
            let res = preflight(&app, "/sessions/whoami", origin, "GET", "").await;
            assert_eq!(
                header(res.headers(), "access-control-allow-origin"),
                Some(origin)
            );
        }
    }
);

api_test!(
    options_passthrough_routes_preflights_with_the_headers_added,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SERVE_PUBLIC_CORS_ENABLED", "true")
            .env("SERVE_PUBLIC_CORS_ALLOWED_ORIGINS", APP)
            .env("SERVE_PUBLIC_CORS_OPTIONS_PASSTHROUGH", "true")
            .spawn()
            .await;
        let res = preflight(&app, "/sessions/whoami", APP, "GET", "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(res.headers(), "access-control-allow-origin"),
            Some(APP)
        );
    }
);

api_test!(the_admin_port_never_answers_cors, |backend| async move {
    let app = with_cors(backend, APP).await;
    let res = app
        .admin(Method::OPTIONS, "/admin/identities")
        .header("Origin", APP)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_no_cors_headers(res.headers());
    let res = app
        .admin(Method::GET, "/admin/identities")
        .header("Origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_cors_headers(res.headers());
    assert!(!vary(res.headers()).contains(&"Origin".to_owned()));
});
