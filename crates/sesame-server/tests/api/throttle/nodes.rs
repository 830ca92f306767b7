//! Two nodes on one PostgreSQL database keep one count: failures on either node add up, a wait
//! started on one is kept by the other, parallel attempts spread over both never get past the
//! count, and a lock or an unlock on one holds on the other. Without `SESAME_TEST_POSTGRES_URL`
//! these tests are reported as ignored.

use super::*;
use sesame_testkit::Backend;

/// Nodes A and B on one fresh schema, their clocks at one time.
async fn two_nodes(lock_after: &str) -> (TestApp, TestApp) {
    let backend = Backend::postgres();
    let a = TestApp::builder(backend.clone())
        .env("SECURITY_BRUTE_FORCE_LOCK_AFTER", lock_after)
        .spawn()
        .await;
    let b = TestApp::builder(backend)
        .env("SECURITY_BRUTE_FORCE_LOCK_AFTER", lock_after)
        .database_of(&a)
        .spawn()
        .await;
    b.clock.set(a.clock.now());
    (a, b)
}

/// Moves both clocks.
fn advance(a: &TestApp, b: &TestApp, secs: i64) {
    a.clock.advance(chrono::Duration::seconds(secs));
    b.clock.advance(chrono::Duration::seconds(secs));
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_share_counts_waits_and_locks() {
        let (a, b) = two_nodes("10").await;
        let (_, id) = a.signed_up_user("ada@example.com").await;
        for node in [&a, &b, &a, &b, &a] {
            assert_refused_credentials(&attempt(node, "ada@example.com", WRONG, None).await);
        }
        for node in [&a, &b] {
            let answer = attempt(node, "ada@example.com", PASSWORD, None).await;
            assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(answer.body, too_many_attempts(1));
        }
        assert_eq!(lock_of(&b, &id).await["failed_attempts"][0]["failures"], 5);
        // The same for an identifier nobody owns.
        for node in [&b, &a, &b, &a, &b] {
            assert_refused_credentials(&attempt(node, "nobody@example.com", WRONG, None).await);
        }
        assert_eq!(
            attempt(&a, "nobody@example.com", WRONG, None).await.body,
            too_many_attempts(1)
        );

        // Fail on alternating nodes through every wait until the account locks.
        let mut failures = 5;
        let mut nodes = [&a, &b].into_iter().cycle();
        let locked = loop {
            let node = nodes.next().unwrap();
            let answer = attempt(node, "ada@example.com", WRONG, None).await;
            match answer.status {
                StatusCode::BAD_REQUEST => failures += 1,
                StatusCode::TOO_MANY_REQUESTS => advance(&a, &b, answer.wait()),
                _ => break answer,
            }
        };
        assert_eq!(failures, 10);
        assert_eq!(locked.body, identity_locked());
        for node in [&a, &b] {
            let answer = attempt(node, "ada@example.com", PASSWORD, None).await;
            assert_eq!(answer.body, identity_locked());
        }
        assert_eq!(lock_of(&b, &id).await["locked"], true);

        let res = a
            .admin(Method::DELETE, &format!("/admin/identities/{id}/lock"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let token = b.login("ada@example.com", PASSWORD).await;
        assert_eq!(a.whoami(&token).await.status(), StatusCode::OK);
    }
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_attempts_on_two_nodes_never_get_past_the_count() {
        let (a, b) = two_nodes("100").await;
        let (_, id) = a.signed_up_user("ada@example.com").await;
        let mut requests = Vec::new();
        for n in 0..50 {
            let node = if n % 2 == 0 { &a } else { &b };
            let flow = node.login_flow().await["id"].as_str().unwrap().to_owned();
            requests.push(
                node.public(Method::POST, &format!("/self-service/login?flow={flow}"))
                    .json(&json!({"method": "password", "identifier": "ada@example.com", "password": WRONG})),
            );
        }
        let mut racers = tokio::task::JoinSet::new();
        for req in requests {
            racers.spawn(async move { req.send().await.unwrap().status() });
        }
        let mut statuses = Vec::new();
        while let Some(status) = racers.join_next().await {
            statuses.push(status.unwrap());
        }
        let admitted = statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count();
        let waited = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((admitted, waited), (5, 45), "{statuses:?}");
        assert_eq!(lock_of(&b, &id).await["failed_attempts"][0]["failures"], 5);
    }
}
