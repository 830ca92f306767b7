//! The lock: at most 100 consecutive failures (NIST SP 800-63B), after which even the right
//! password answers 403 `identity_locked`, for an unknown identifier alike, until the admin API
//! (or the CLI, or a recovery) lifts it.

use super::*;

/// Fails with a wrong password until the answer is no longer a refusal or a wait, moving the clock
/// through every wait: the number of failures admitted, and that last answer.
async fn fail_until_locked(app: &TestApp, identifier: &str) -> (usize, Answer) {
    let mut admitted = 0;
    loop {
        let answer = attempt(app, identifier, WRONG, None).await;
        match answer.status {
            StatusCode::BAD_REQUEST => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                app.clock.advance(chrono::Duration::seconds(answer.wait()));
            }
            _ => return (admitted, answer),
        }
        assert!(admitted <= 1000, "never locked");
    }
}

api_test!(
    a_hundred_failures_lock_the_account_until_an_administrator_unlocks_it,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (_, id) = sign_up(&sdk, "ada@example.com").await;
        let start = app.clock.now();
        let (failures, answer) = fail_until_locked(&app, "ada@example.com").await;
        assert_eq!(failures, 100, "the default lock_after");
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.error_id.as_deref(), Some("identity_locked"));
        assert_eq!(answer.retry_after, None, "waiting does not help");
        assert_eq!(answer.body, identity_locked());
        // The waits of the defaults (1 s doubling to 15 min) spread them over most of a day.
        let took = app.clock.now() - start;
        assert!(took > chrono::Duration::hours(20), "{took}");

        // Even the right password, and however long one waits.
        app.clock.advance(chrono::Duration::days(400));
        let right = attempt(&app, "ada@example.com", PASSWORD, None).await;
        assert_eq!(right.body, identity_locked());
        let err = sdk
            .login_with_password("ada@example.com", PASSWORD)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("identity_locked"));
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));

        let lock = sdk.get_identity_lock(id).await.unwrap().data;
        assert!(lock.locked);
        assert_eq!(lock.identity_id, id);
        assert_eq!(lock.failed_attempts.len(), 1);
        assert_eq!(lock.failed_attempts[0].scope, "password");
        assert_eq!(lock.failed_attempts[0].failures, 100);
        assert_eq!(lock.locked_at, lock.failed_attempts[0].locked_at);
        let raw = lock_of(&app, &id.to_string()).await;
        assert_eq!(
            raw.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["identity_id", "locked", "locked_at", "failed_attempts"]
        );

        // Kratos's identity JSON is untouched by the lock.
        let res = app
            .admin(Method::GET, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        let identity = expect_json(res, StatusCode::OK).await;
        assert!(identity.get("locked").is_none(), "{identity}");

        let res = sdk.unlock_identity(id).await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let lock = sdk.get_identity_lock(id).await.unwrap().data;
        assert!(!lock.locked);
        assert_eq!(lock.locked_at, None);
        assert!(lock.failed_attempts.is_empty());
        let token = app.login("ada@example.com", PASSWORD).await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
    }
);

api_test!(
    an_unknown_identifier_locks_with_the_same_answer,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SECURITY_BRUTE_FORCE_LOCK_AFTER", "12")
            .spawn()
            .await;
        let (_, id) = app.signed_up_user("ada@example.com").await;
        let (known, known_answer) = fail_until_locked(&app, "ada@example.com").await;
        let (unknown, unknown_answer) = fail_until_locked(&app, "nobody@example.com").await;
        assert_eq!((known, unknown), (12, 12));
        assert_eq!(known_answer, unknown_answer);
        assert_eq!(
            attempt(&app, "ada@example.com", PASSWORD, None).await,
            attempt(&app, "nobody@example.com", PASSWORD, None).await
        );
        let lock = lock_of(&app, &id).await;
        assert_eq!(lock["locked"], true);
        assert_eq!(lock["failed_attempts"][0]["failures"], 12);
    }
);

api_test!(
    the_lock_endpoints_answer_404_for_an_unknown_identity,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for path in [
            format!("/admin/identities/{}/lock", uuid::Uuid::new_v4()),
            "/admin/identities/not-a-uuid/lock".to_owned(),
        ] {
            for method in [Method::GET, Method::DELETE] {
                let res = app.admin(method.clone(), &path).send().await.unwrap();
                let body = expect_json(res, StatusCode::NOT_FOUND).await;
                assert_eq!(body["error"]["code"], 404, "{method} {path}");
            }
        }
        // A fresh identity is not locked and has no failures.
        let (_, id) = app.signed_up_user("ada@example.com").await;
        let lock = lock_of(&app, &id).await;
        assert_eq!(
            lock,
            json!({"identity_id": id, "locked": false, "locked_at": null, "failed_attempts": []})
        );
        // Without the `/admin` prefix too, as every admin route.
        let res = app
            .admin(Method::DELETE, &format!("/identities/{id}/lock"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
);

api_test!(an_admin_unlock_also_ends_a_wait, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let (_, id) = app.signed_up_user("ada@example.com").await;
    for _ in 0..6 {
        attempt(&app, "ada@example.com", WRONG, None).await;
    }
    let lock = lock_of(&app, &id).await;
    assert_eq!(lock["locked"], false);
    let count = &lock["failed_attempts"][0];
    assert_eq!(count["failures"], 5);
    assert!(count["delayed_until"].is_string(), "{lock}");
    assert_eq!(
        attempt(&app, "ada@example.com", PASSWORD, None)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let res = app
        .admin(Method::DELETE, &format!("/admin/identities/{id}/lock"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.login("ada@example.com", PASSWORD).await;
});

api_test!(
    the_metrics_count_waits_locks_and_refusals_of_a_locked_account,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SECURITY_BRUTE_FORCE_LOCK_AFTER", "7")
            .spawn()
            .await;
        let limiter = |m: &[crate::metrics::Sample]| {
            ["waits", "locked_refusals", "locks"].map(|name| {
                crate::metrics::value(m, &format!("sesame_throttle_{name}_total"), &[])
                    .unwrap_or_else(|| panic!("no sesame_throttle_{name}_total"))
            })
        };
        assert_eq!(limiter(&crate::metrics::scrape(&app).await), [0.0; 3]);
        let (failures, answer) = fail_until_locked(&app, "nobody@example.com").await;
        assert_eq!((failures, answer.status), (7, StatusCode::FORBIDDEN));
        // Two free failures past the five asked for a wait each (the clock then moved past it),
        // the seventh locked, and the attempt after it was refused as locked.
        assert_eq!(
            limiter(&crate::metrics::scrape(&app).await),
            [2.0, 1.0, 1.0]
        );
    }
);
