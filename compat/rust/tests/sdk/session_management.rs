//! Session management through the SDK: `listMySessions`, `disableMySession`,
//! `disableMyOtherSessions` (FrontendApi) and `listSessions`, `getSession`, `disableSession`,
//! `extendSession`, `listIdentitySessions`, `deleteIdentitySessions` (IdentityApi).
//! `manageSessions` is newer than the pinned SDK, which has no function for it: it is sent with the
//! configuration's client, through the same checking proxy.

use crate::proxy::Checks;
use crate::support::*;
use ory_kratos_client::apis::{Error, ResponseContent, frontend_api, identity_api};
use ory_kratos_client::models::{
    CreateIdentityBody, IdentityWithCredentials, IdentityWithCredentialsPassword,
    IdentityWithCredentialsPasswordConfig, PerformNativeLogoutBody,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test};

/// An identity created through the admin API, then `logins` native logins through the SDK (so
/// that every session records the SDK's `User-Agent`): the tokens, oldest first, and the id.
async fn user_with_logins(
    app: &TestApp,
    checks: &Checks,
    email: &str,
    logins: usize,
) -> (Vec<String>, String) {
    let created = identity_api::create_identity(
        &native(&checks.admin_url),
        Some(CreateIdentityBody {
            credentials: Some(Box::new(IdentityWithCredentials {
                password: Some(Box::new(IdentityWithCredentialsPassword {
                    config: Some(Box::new(IdentityWithCredentialsPasswordConfig {
                        password: Some(PASSWORD.into()),
                        ..Default::default()
                    })),
                })),
                ..Default::default()
            })),
            ..CreateIdentityBody::new("default".into(), json!({ "email": email }))
        }),
    )
    .await
    .expect("createIdentity");
    let mut tokens = Vec::new();
    for _ in 0..logins {
        app.clock.advance(chrono::Duration::seconds(1));
        let flow = app.login_flow().await;
        let login = frontend_api::update_login_flow(
            &native(&checks.public_url),
            flow["id"].as_str().unwrap(),
            login_body(email, PASSWORD, None),
            None,
            None,
        )
        .await
        .expect("updateLoginFlow");
        tokens.push(login.session_token.expect("a session token"));
    }
    (tokens, created.id)
}

async fn session_id(checks: &Checks, token: &str) -> String {
    frontend_api::to_session(&native(&checks.public_url), Some(token), None, None)
        .await
        .expect("toSession")
        .id
}

/// A raw request (made with a configuration's client): its status and JSON body (`null` when
/// empty).
async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

/// A session's `expires_at`.
fn expiry(session: &ory_kratos_client::models::Session) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(session.expires_at.as_deref().expect("expires_at"))
        .unwrap()
}

/// The `page_token` of the `next` entry of a `Link` header.
fn next_token(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    let next = link
        .split(',')
        .find(|part| part.trim().ends_with("rel=\"next\""))?;
    let target = next.trim().split(';').next()?.trim();
    let url = reqwest::Url::parse(&format!(
        "http://x{}",
        target.trim_start_matches('<').trim_end_matches('>')
    ))
    .ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "page_token")
        .map(|(_, v)| v.into_owned())
}

api_test!(my_sessions_run_through_the_sdk, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let checks = Checks::for_app(&app).await;
    let public = native(&checks.public_url);
    let (tokens, identity) = user_with_logins(&app, &checks, "mine@example.com", 4).await;
    let current = tokens[3].as_str();
    let mut others = Vec::new();
    for t in tokens[..3].iter().rev() {
        others.push(session_id(&checks, t).await);
    }

    let all = frontend_api::list_my_sessions(&public, None, None, None, None, Some(current), None)
        .await
        .expect("listMySessions");
    assert_eq!(all.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), others);
    for s in &all {
        assert_eq!(s.active, Some(true));
        assert_eq!(
            s.identity.as_ref().map(|i| i.id.as_str()),
            Some(identity.as_str())
        );
        let devices = s.devices.as_deref().unwrap_or_default();
        assert_eq!(devices.len(), 1);
        assert!(
            devices[0]
                .user_agent
                .as_deref()
                .unwrap_or_default()
                .starts_with("OpenAPI-Generator")
        );
    }
    let page =
        frontend_api::list_my_sessions(&public, Some(2), Some(1), None, None, Some(current), None)
            .await
            .expect("listMySessions, page 1");
    assert_eq!(
        page.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        others[2..]
    );

    frontend_api::disable_my_session(&public, &others[0], Some(current), None)
        .await
        .expect("disableMySession");
    let own = session_id(&checks, current).await;
    let err = frontend_api::disable_my_session(&public, &own, Some(current), None)
        .await
        .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(frontend_api::DisableMySessionError::Status400(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded 400, got {err:?}");
    };
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.message, "cannot revoke current session");

    let count = frontend_api::disable_my_other_sessions(&public, Some(current), None)
        .await
        .expect("disableMyOtherSessions");
    assert_eq!(count.count, Some(3));
    let left = frontend_api::list_my_sessions(&public, None, None, None, None, Some(current), None)
        .await
        .expect("listMySessions");
    assert!(left.is_empty());

    let err = frontend_api::list_my_sessions(&public, None, None, None, None, None, None)
        .await
        .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(frontend_api::ListMySessionsError::Status400(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded 401, got {err:?}");
    };
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body.error.reason.as_deref(),
        Some("No valid session cookie found.")
    );
    assert_eq!(body.error.id, None);
    checks.finish();
});

api_test!(admin_sessions_run_through_the_sdk, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let checks = Checks::for_app(&app).await;
    let admin = native(&checks.admin_url);
    let (tokens, identity) = user_with_logins(&app, &checks, "admin@example.com", 3).await;
    let (bob, _) = user_with_logins(&app, &checks, "bob@example.com", 1).await;
    let mut newest_first = vec![session_id(&checks, &bob[0]).await];
    for t in tokens.iter().rev() {
        newest_first.push(session_id(&checks, t).await);
    }

    // Not expanded: `identity` and `devices` are null, as in Kratos (see KNOWN_MISMATCHES).
    let all = identity_api::list_sessions(&admin, None, None, None, None)
        .await
        .expect("listSessions");
    assert_eq!(
        all.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        newest_first
    );
    assert!(all[0].identity.is_none() && all[0].devices.is_none());
    let expanded = identity_api::list_sessions(
        &admin,
        Some(2),
        None,
        Some(true),
        Some(vec!["identity".into(), "devices".into()]),
    )
    .await
    .expect("listSessions, expanded");
    assert_eq!(expanded.len(), 2);
    assert!(
        expanded
            .iter()
            .all(|s| s.identity.is_some() && s.devices.is_some())
    );

    // Keyset pages: the SDK returns no headers, so the next token comes from the same read made
    // with the configuration's client; the SDK then fetches each page.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = "/admin/sessions?page_size=2".to_owned();
        if let Some(t) = &token {
            path.push_str(&format!("&page_token={}", urlencode(t)));
        }
        let (_, headers) = get_json_and_headers(&admin, &path, None).await;
        let page = identity_api::list_sessions(&admin, Some(2), token.as_deref(), None, None)
            .await
            .expect("listSessions, one page");
        seen.extend(page.iter().map(|s| s.id.clone()));
        match next_token(&headers) {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);
    let err = identity_api::list_sessions(&admin, None, Some("crafted"), None, None)
        .await
        .unwrap_err();
    let Error::ResponseError(ResponseContent {
        entity: Some(identity_api::ListSessionsError::Status400(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded 400, got {err:?}");
    };
    assert_eq!(
        body.error.reason.as_deref(),
        Some("The page token is invalid, do not craft your own page tokens")
    );

    let id = newest_first[1].clone();
    let plain = identity_api::get_session(&admin, &id, None)
        .await
        .expect("getSession");
    assert!(plain.identity.is_none());
    assert_eq!(plain.devices.as_deref().map(<[_]>::len), Some(0));
    let got =
        identity_api::get_session(&admin, &id, Some(vec!["Identity".into(), "Devices".into()]))
            .await
            .expect("getSession, expanded");
    assert_eq!(got.identity.map(|i| i.id), Some(identity.clone()));
    assert_eq!(got.devices.as_deref().map(<[_]>::len), Some(1));

    app.clock.advance(chrono::Duration::hours(1));
    let extended = identity_api::extend_session(&admin, &id)
        .await
        .expect("extendSession");
    assert_eq!(extended.id, id);
    assert!(expiry(&extended) > expiry(&plain));
    assert_eq!(extended.identity.map(|i| i.id), Some(identity.clone()));

    identity_api::disable_session(&admin, &id)
        .await
        .expect("disableSession");
    let after = identity_api::get_session(&admin, &id, None)
        .await
        .expect("getSession");
    assert_eq!(after.active, Some(false));
    let err = frontend_api::to_session(&native(&checks.public_url), Some(&tokens[2]), None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ResponseError(r) if r.status == StatusCode::UNAUTHORIZED),
        "{err:?}"
    );
    let err = identity_api::get_session(&admin, "00000000-0000-4000-8000-000000000000", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ResponseError(r) if r.status == StatusCode::NOT_FOUND),
        "{err:?}"
    );
    checks.finish();
});

/// `urlencoding` for one query value.
fn urlencode(value: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", value)])
        .unwrap()
        .query()
        .unwrap()
        .trim_start_matches("v=")
        .to_owned()
}

api_test!(
    identity_sessions_and_bulk_management_run_through_the_sdk,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let checks = Checks::for_app(&app).await;
        let admin = native(&checks.admin_url);
        let (ada, ada_id) = user_with_logins(&app, &checks, "ada@example.com", 3).await;
        let (bob, bob_id) = user_with_logins(&app, &checks, "bob@example.com", 2).await;
        frontend_api::perform_native_logout(
            &native(&checks.public_url),
            PerformNativeLogoutBody::new(ada[0].clone()),
        )
        .await
        .expect("performNativeLogout");

        let all =
            identity_api::list_identity_sessions(&admin, &ada_id, None, None, None, None, None)
                .await
                .expect("listIdentitySessions");
        assert_eq!(all.len(), 3);
        assert!(
            all.iter()
                .all(|s| s.identity.as_ref().map(|i| i.id.as_str()) == Some(ada_id.as_str()))
        );
        let active = identity_api::list_identity_sessions(
            &admin,
            &ada_id,
            None,
            None,
            None,
            None,
            Some(true),
        )
        .await
        .expect("listIdentitySessions, active");
        assert_eq!(active.len(), 2);
        let page = identity_api::list_identity_sessions(
            &admin,
            &ada_id,
            Some(2),
            Some(1),
            None,
            None,
            None,
        )
        .await
        .expect("listIdentitySessions, page 1");
        assert_eq!(
            page.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            [all[2].id.clone()]
        );

        identity_api::delete_identity_sessions(&admin, &ada_id)
            .await
            .expect("deleteIdentitySessions");
        assert!(
            identity_api::list_identity_sessions(&admin, &ada_id, None, None, None, None, None)
                .await
                .expect("listIdentitySessions")
                .is_empty()
        );
        let err = identity_api::delete_identity_sessions(&admin, &ada_id)
            .await
            .unwrap_err();
        let Error::ResponseError(ResponseContent {
            status,
            entity: Some(identity_api::DeleteIdentitySessionsError::Status400(body)),
            ..
        }) = err
        else {
            panic!("expected a decoded 404, got {err:?}");
        };
        assert_eq!(
            (status, body.error.code),
            (StatusCode::NOT_FOUND, Some(404))
        );

        // manageSessions, with the configuration's client (the pinned SDK has no function for it).
        let url = format!("{}/admin/sessions", admin.base_path);
        let body = json!({"action": "disable", "identities": [bob_id]});
        let (status, answer) = send(admin.client.post(&url).json(&body)).await;
        assert_eq!(
            (status, answer),
            (StatusCode::OK, json!({"processed": 2, "more": false}))
        );
        let err = frontend_api::to_session(&native(&checks.public_url), Some(&bob[1]), None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::ResponseError(r) if r.status == StatusCode::UNAUTHORIZED),
            "{err:?}"
        );
        let body = json!({"action": "delete", "identities": ["*"]});
        let (status, answer) = send(admin.client.post(&url).json(&body)).await;
        assert_eq!(
            (status, answer),
            (StatusCode::OK, json!({"processed": 2, "more": false}))
        );
        let body = json!({"action": "delete", "sessions": ["*"]});
        let (status, answer) = send(admin.client.post(&url).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["error"]["code"], 400);
        checks.finish();
    }
);

api_test!(
    extend_session_with_faster_session_extend_answers_204_which_the_sdk_cannot_decode,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("FEATURE_FLAGS_FASTER_SESSION_EXTEND", "true")
            .spawn()
            .await;
        let checks = Checks::for_app(&app).await;
        let admin = native(&checks.admin_url);
        let (tokens, _) = user_with_logins(&app, &checks, "fast@example.com", 1).await;
        let id = session_id(&checks, &tokens[0]).await;
        app.clock.advance(chrono::Duration::hours(1));
        let before = identity_api::get_session(&admin, &id, None)
            .await
            .expect("getSession");

        // The generated function expects a session body, as it would from Kratos with the flag.
        let err = identity_api::extend_session(&admin, &id).await.unwrap_err();
        assert!(matches!(err, Error::Serde(_)), "{err:?}");
        let after = identity_api::get_session(&admin, &id, None)
            .await
            .expect("getSession");
        assert!(expiry(&after) > expiry(&before), "the session was extended");
        let url = format!("{}/admin/sessions/{id}/extend", admin.base_path);
        let (status, body) = send(admin.client.patch(&url)).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        checks.finish();
    }
);
