//! `PATCH /admin/sessions/{id}/extend` (spec §4.8, §9 item 10) and the session cookie whoami
//! re-issues after an extension (§1.5).

use super::*;
use chrono::{DateTime, Duration, Utc};
use sesame_core::Clock;
use sesame_testkit::api_test;

fn expires_at(session: &Value) -> DateTime<Utc> {
    session["expires_at"].as_str().unwrap().parse().unwrap()
}

async fn extend(app: &TestApp, id: &str) -> Response {
    app.admin(Method::PATCH, &format!("/admin/sessions/{id}/extend"))
        .send()
        .await
        .unwrap()
}

api_test!(
    extending_a_session_moves_its_expiry_to_now_plus_the_lifespan,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (tokens, identity) = user_with_sessions(&app, "extend@example.com", 0).await;
        let id = session_id(&sdk, &tokens[0]).await;
        let before = sdk
            .to_session()
            .x_session_token(&tokens[0])
            .await
            .unwrap()
            .data;
        app.clock.advance(Duration::hours(1));

        let res = extend(&app, &id.to_string()).await;
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["id"], id.to_string());
        assert_eq!(expires_at(&body), app.clock.now() + Duration::hours(24));
        assert!(expires_at(&body) > before.expires_at);
        assert_eq!(
            body["identity"]["id"],
            identity.to_string(),
            "the identity is expanded"
        );
        assert!(
            body["identity"].get("metadata_admin").is_none(),
            "the public shape"
        );
        assert_eq!(body["devices"], json!([]));
        let now = sdk
            .to_session()
            .x_session_token(&tokens[0])
            .await
            .unwrap()
            .data;
        assert_eq!(
            now.expires_at,
            expires_at(&body),
            "whoami sees the new expiry"
        );
        assert_eq!(
            now.authenticated_at, before.authenticated_at,
            "nothing else changes"
        );
        assert_eq!(now.issued_at, before.issued_at);

        // Through the SDK; a revoked session is extended too (it stays revoked).
        sdk.disable_session(id).await.unwrap();
        app.clock.advance(Duration::hours(1));
        let extended = sdk.extend_session(id).await.unwrap().data.expect("a body");
        assert_eq!(extended.expires_at, app.clock.now() + Duration::hours(24));
        assert!(!extended.active);

        assert_bad_request_message(extend(&app, "BADUUID").await, BAD_UUID_MESSAGE).await;
        assert_not_found(extend(&app, &Uuid::new_v4().to_string()).await).await;
    }
);

api_test!(
    an_extension_is_a_no_op_while_more_than_earliest_possible_extend_is_left,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SESSION_EARLIEST_POSSIBLE_EXTEND", "1h")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (tokens, _) = user_with_sessions(&app, "early@example.com", 0).await;
        let id = session_id(&sdk, &tokens[0]).await;
        let original = sdk.get_session(id).await.unwrap().data.expires_at;

        let same = sdk.extend_session(id).await.unwrap();
        assert_eq!(same.status, StatusCode::OK, "a no-op is not an error");
        assert_eq!(same.data.unwrap().expires_at, original);
        app.clock.advance(Duration::hours(22));
        assert_eq!(
            sdk.extend_session(id)
                .await
                .unwrap()
                .data
                .unwrap()
                .expires_at,
            original,
            "2h left"
        );

        app.clock.advance(Duration::minutes(90));
        let extended = sdk.extend_session(id).await.unwrap().data.unwrap();
        assert_eq!(
            extended.expires_at,
            app.clock.now() + Duration::hours(24),
            "30m left"
        );
        assert_eq!(
            sdk.get_session(id).await.unwrap().data.expires_at,
            extended.expires_at
        );
    }
);

api_test!(
    faster_session_extend_answers_204_without_a_body,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("FEATURE_FLAGS_FASTER_SESSION_EXTEND", "true")
            .spawn()
            .await;
        let sdk = app.sdk();
        let (tokens, _) = user_with_sessions(&app, "fast@example.com", 0).await;
        let id = session_id(&sdk, &tokens[0]).await;
        app.clock.advance(Duration::hours(3));

        let res = extend(&app, &id.to_string()).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.text().await.unwrap(), "");
        let session = sdk.get_session(id).await.unwrap().data;
        assert_eq!(session.expires_at, app.clock.now() + Duration::hours(24));

        let res = sdk.extend_session(id).await.unwrap();
        assert_eq!((res.status, res.data), (StatusCode::NO_CONTENT, None));
        assert_not_found(extend(&app, &Uuid::new_v4().to_string()).await).await;
    }
);

/// Every `Set-Cookie` of a response as `(name, value, whole line)`.
fn set_cookies(res: &Response) -> Vec<(String, String, String)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            let line = v.to_str().unwrap().to_owned();
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_owned(), value.to_owned(), line.clone())
        })
        .collect()
}

/// Signs `email` in as a single-page app would: the session cookie as `name=value`.
async fn browser_login(app: &TestApp, email: &str) -> String {
    let res = app
        .public(Method::GET, "/self-service/login/browser")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let (csrf_name, csrf_value, _) = set_cookies(&res)
        .into_iter()
        .find(|(name, _, _)| name.starts_with("csrf_token"))
        .expect("an anti-CSRF cookie");
    let flow = expect_json(res, StatusCode::OK).await;
    let csrf_token = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "csrf_token")
        .map(|n| n["attributes"]["value"].clone())
        .unwrap();
    let res = app
        .public(
            Method::POST,
            &format!("/self-service/login?flow={}", flow["id"].as_str().unwrap()),
        )
        .header("Accept", "application/json")
        .header("Cookie", format!("{csrf_name}={csrf_value}"))
        .json(&json!({"method": "password", "identifier": email, "password": PASSWORD, "csrf_token": csrf_token}))
        .send()
        .await
        .unwrap();
    let (_, value, _) = set_cookies(&res)
        .into_iter()
        .find(|(name, _, _)| name == "ory_kratos_session")
        .expect("a session cookie");
    expect_json(res, StatusCode::OK).await;
    format!("ory_kratos_session={value}")
}

async fn whoami_with_cookie(app: &TestApp, cookie: &str) -> Response {
    app.public(Method::GET, "/sessions/whoami")
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

api_test!(
    whoami_reissues_the_session_cookie_after_an_extension,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        user_with_sessions(&app, "cookie@example.com", 0).await;
        let cookie = browser_login(&app, "cookie@example.com").await;
        let res = whoami_with_cookie(&app, &cookie).await;
        assert!(set_cookies(&res).is_empty(), "an up-to-date cookie stays");
        let session = expect_json(res, StatusCode::OK).await;
        let id = session["id"].as_str().unwrap().to_owned();

        app.clock.advance(Duration::hours(2));
        let extended = expect_json(extend(&app, &id).await, StatusCode::OK).await;
        let new_expiry = expires_at(&extended);
        assert!(new_expiry > expires_at(&session));

        let res = whoami_with_cookie(&app, &cookie).await;
        let cookies = set_cookies(&res);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let (name, value, line) = &cookies[0];
        assert_eq!(name, "ory_kratos_session");
        assert!(
            line.contains(&format!(
                "Expires={}; Max-Age=86400;",
                new_expiry.format("%a, %d %b %Y %H:%M:%S GMT")
            )),
            "{line}"
        );
        assert_eq!(expect_json(res, StatusCode::OK).await["id"], id.as_str());

        let fresh = format!("ory_kratos_session={value}");
        let res = whoami_with_cookie(&app, &fresh).await;
        assert!(
            set_cookies(&res).is_empty(),
            "the re-issued cookie is up to date"
        );
        assert_eq!(
            expires_at(&expect_json(res, StatusCode::OK).await),
            new_expiry
        );

        // Extending again at the same instant changes nothing, so neither does the cookie.
        expect_json(extend(&app, &id).await, StatusCode::OK).await;
        let res = whoami_with_cookie(&app, &fresh).await;
        assert!(set_cookies(&res).is_empty());
    }
);
