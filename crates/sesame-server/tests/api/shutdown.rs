//! Graceful shutdown: stopping the server lets requests already in flight finish.

use sesame_testkit::reqwest::{Method, StatusCode};
use sesame_testkit::serde_json::json;
use sesame_testkit::{TestApp, api_test};
use std::time::Duration;

api_test!(
    shutdown_lets_an_in_flight_login_finish,
    |backend| async move {
        // Deliberately slow hashing, so the login is still running when the shutdown starts.
        let mut app = TestApp::builder(backend)
            .env("HASHERS_ARGON2_MEMORY", "33554432")
            .env("HASHERS_ARGON2_ITERATIONS", "4")
            .spawn()
            .await;
        app.register("slow@example.com", "a-very-good-passphrase-42")
            .await;
        let flow = app.login_flow().await;
        let login = app
        .public(Method::POST, &format!("/self-service/login?flow={}", flow["id"].as_str().unwrap()))
        .json(&json!({"method": "password", "identifier": "slow@example.com", "password": "a-very-good-passphrase-42"}))
        .send();
        let in_flight = tokio::spawn(login);
        tokio::time::sleep(Duration::from_millis(30)).await;
        app.stop().await;
        let res = in_flight
            .await
            .unwrap()
            .expect("the in-flight request is answered");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            TestApp::spawn_check_refused(&app.public_url).await,
            "no new connections after shutdown"
        );
    }
);
