//! Per account: five free failures, then waits that double, the right password refused during a
//! wait, a success that starts the count again, unknown identifiers answered identically,
//! re-authentication counted, and parallel attempts that never get past the count.

use super::*;

api_test!(
    a_sixth_wrong_password_waits_with_429_retry_after_and_kratos_envelope,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("ada@example.com").await;
        for n in 1..=5 {
            let answer = attempt(&app, "ada@example.com", WRONG, None).await;
            assert_refused_credentials(&answer);
            assert_eq!(answer.error_id, None, "failure {n} is free");
        }
        let answer = attempt(&app, "ada@example.com", WRONG, None).await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.retry_after.as_deref(), Some("1"));
        assert_eq!(
            answer.error_id.as_deref(),
            Some("security_too_many_attempts")
        );
        assert_eq!(answer.body, too_many_attempts(1));

        // The wait doubles with each further failure: 1 s, 2 s, 4 s …
        for wait in [1, 2, 4, 8] {
            let refused = attempt(&app, "ada@example.com", WRONG, None).await;
            assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(refused.wait(), wait);
            app.clock
                .advance(chrono::Duration::milliseconds(wait * 1000 - 1));
            let early = attempt(&app, "ada@example.com", WRONG, None).await;
            assert_eq!(
                early.status,
                StatusCode::TOO_MANY_REQUESTS,
                "a moment early"
            );
            app.clock.advance(chrono::Duration::milliseconds(1));
            assert_refused_credentials(&attempt(&app, "ada@example.com", WRONG, None).await);
        }
        let refused = attempt(&app, "ada@example.com", WRONG, None).await;
        assert_eq!(refused.wait(), 16);
        assert_eq!(refused.body, too_many_attempts(16));
    }
);

api_test!(
    the_right_password_during_a_wait_is_refused_and_a_success_starts_the_count_again,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        sign_up(&sdk, "ada@example.com").await;
        for _ in 0..5 {
            assert_refused_credentials(&attempt(&app, "ada@example.com", WRONG, None).await);
        }
        let during = attempt(&app, "ada@example.com", PASSWORD, None).await;
        assert_eq!(during.status, StatusCode::TOO_MANY_REQUESTS, "{during:?}");
        assert_eq!(during.body, too_many_attempts(1));
        // Through the SDK: the id and the wait the server asks for.
        let err = sdk
            .login_with_password("ada@example.com", PASSWORD)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("security_too_many_attempts"));
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(1)));

        app.clock.advance(chrono::Duration::seconds(1));
        let token = app.login("ada@example.com", PASSWORD).await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
        // The success forgot the failures: five free ones again.
        for _ in 0..5 {
            assert_refused_credentials(&attempt(&app, "ada@example.com", WRONG, None).await);
        }
        let answer = attempt(&app, "ada@example.com", WRONG, None).await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    }
);

api_test!(
    an_unknown_identifier_is_throttled_exactly_like_an_account,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("ada@example.com").await;
        // Step by step, at the same moments, the same answers: status, headers and body.
        for step in 0..9 {
            let known = attempt(&app, "ada@example.com", WRONG, None).await;
            let unknown = attempt(&app, "nobody@example.com", WRONG, None).await;
            assert_eq!(known, unknown, "step {step}");
            if known.status == StatusCode::TOO_MANY_REQUESTS {
                app.clock.advance(chrono::Duration::seconds(known.wait()));
            }
        }
        // Identifiers are counted as they are normalised for login.
        let shouted = attempt(&app, "  NOBODY@example.com ", WRONG, None).await;
        let known = attempt(&app, "ada@example.com", WRONG, None).await;
        assert_eq!(shouted, known);
        assert_eq!(shouted.status, StatusCode::TOO_MANY_REQUESTS);
    }
);

api_test!(
    re_authentication_with_refresh_is_counted_like_a_login,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("ada@example.com").await;
        let refresh = |password: &'static str| {
            let app = &app;
            let token = token.clone();
            async move {
                let res = app
                    .public(Method::GET, "/self-service/login/api?refresh=true")
                    .header("X-Session-Token", &token)
                    .send()
                    .await
                    .unwrap();
                let flow = expect_json(res, StatusCode::OK).await;
                let id = flow["id"].as_str().unwrap();
                let res = app
                    .public(Method::POST, &format!("/self-service/login?flow={id}"))
                    .header("X-Session-Token", &token)
                    .json(&json!({"method": "password", "identifier": "ada@example.com", "password": password}))
                    .send()
                    .await
                    .unwrap();
                Answer::of(res).await
            }
        };
        for _ in 0..5 {
            assert_refused_credentials(&refresh(WRONG).await);
        }
        let answer = refresh(PASSWORD).await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        // A plain login of the account shares the count.
        let login = attempt(&app, "ada@example.com", PASSWORD, None).await;
        assert_eq!(login.status, StatusCode::TOO_MANY_REQUESTS);
    }
);

api_test!(
    fifty_parallel_wrong_passwords_admit_only_the_five_free_ones,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (_, id) = app.signed_up_user("ada@example.com").await;
        let mut flows = Vec::new();
        for _ in 0..50 {
            flows.push(app.login_flow().await["id"].as_str().unwrap().to_owned());
        }
        let mut racers = tokio::task::JoinSet::new();
        for flow in flows {
            let req = app
                .public(Method::POST, &format!("/self-service/login?flow={flow}"))
                .json(&json!({"method": "password", "identifier": "ada@example.com", "password": WRONG}));
            racers.spawn(async move { req.send().await.unwrap().status() });
        }
        let mut statuses = Vec::new();
        while let Some(status) = racers.join_next().await {
            statuses.push(status.unwrap());
        }
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count();
        let waited = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((refused, waited), (5, 45), "{statuses:?}");
        let lock = lock_of(&app, &id).await;
        assert_eq!(lock["failed_attempts"][0]["failures"], 5);
    }
);
