//! Two nodes on one PostgreSQL database behave as one service: a session created on one is valid
//! on the other, and a change made on one is what the other answers on its very next request —
//! with the cache on (the change reaches the other node through `LISTEN`/`NOTIFY`) and off. A node
//! that loses its notification connection stops trusting its cache, and recovers.
//!
//! Each node is a full, independent server (its own pools, cache and listener connection) built by
//! the testkit on the same schema. These tests need PostgreSQL: without `SESAME_TEST_POSTGRES_URL`
//! they are reported as ignored.

use super::*;
use crate::sdk::{PASSWORD, log_in, sign_up};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Nodes A and B on one fresh PostgreSQL schema, with the cache on or off on both.
async fn two_nodes(url: String, cache: bool) -> (TestApp, TestApp) {
    let node = |builder: TestAppBuilder| {
        builder.env(
            "SESSION_WHOAMI_CACHE_ENABLED",
            if cache { "true" } else { "false" },
        )
    };
    let a = node(TestApp::builder(Backend::Postgres(url.clone())))
        .spawn()
        .await;
    let b = node(TestApp::builder(Backend::Postgres(url)).database_of(&a))
        .spawn()
        .await;
    (a, b)
}

/// What node A does to a session or its identity; node B must refuse the session next.
#[derive(Debug, Clone, Copy)]
enum Change {
    Logout,
    RevokeFromAnotherSession,
    RevokeOtherSessions,
    AdminDisable,
    DeactivateIdentity,
    DeleteIdentity,
}

const EVERY_CHANGE: [Change; 6] = [
    Change::Logout,
    Change::RevokeFromAnotherSession,
    Change::RevokeOtherSessions,
    Change::AdminDisable,
    Change::DeactivateIdentity,
    Change::DeleteIdentity,
];

async fn change(a: &TestApp, change: Change, email: &str, token: &str, identity: &str) {
    let res = match change {
        Change::Logout => a
            .public(Method::DELETE, "/self-service/logout/api")
            .json(&json!({"session_token": token}))
            .send()
            .await
            .unwrap(),
        Change::RevokeFromAnotherSession => {
            let other = log_in(&a.sdk(), email, PASSWORD).await;
            let id = session_id_of(a, token).await;
            a.public(Method::DELETE, &format!("/sessions/{id}"))
                .header("X-Session-Token", other)
                .send()
                .await
                .unwrap()
        }
        Change::RevokeOtherSessions => {
            let other = log_in(&a.sdk(), email, PASSWORD).await;
            let res = a
                .public(Method::DELETE, "/sessions")
                .header("X-Session-Token", other)
                .send()
                .await
                .unwrap();
            assert_eq!(expect_json(res, StatusCode::OK).await["count"], 1);
            return;
        }
        Change::AdminDisable => {
            let id = session_id_of(a, token).await;
            a.admin(Method::DELETE, &format!("/admin/sessions/{id}"))
                .send()
                .await
                .unwrap()
        }
        Change::DeactivateIdentity => {
            set_state(a, identity, "inactive").await;
            return;
        }
        Change::DeleteIdentity => a
            .admin(Method::DELETE, &format!("/admin/identities/{identity}"))
            .send()
            .await
            .unwrap(),
    };
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{change:?}");
}

async fn one_service(cache: bool) {
    let url = sesame_testkit::testenv::postgres_url();
    let (a, b) = two_nodes(url, cache).await;
    assert_eq!(b.whoami_cache().is_some(), cache);
    for (n, what) in EVERY_CHANGE.into_iter().enumerate() {
        let email = format!("user{n}@example.com");
        let (token, identity) = sign_up(&a.sdk(), &email).await;
        // Created on A, valid on B (and cached there when the cache is on).
        assert_cached(&b, &token).await;
        change(&a, what, &email, &token, &identity.to_string()).await;
        let res = whoami(&b, &token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what:?} on A");
        assert_refused(&a, &token).await;
    }

    // Changes that keep the session: B answers with them at once.
    let (token, identity) = sign_up(&a.sdk(), "kept@example.com").await;
    let before = assert_cached(&b, &token).await;
    rename(&a, &identity.to_string(), "Ada").await;
    let after = expect_json(whoami(&b, &token).await, StatusCode::OK).await;
    assert_eq!(after["identity"]["traits"]["name"]["first"], "Ada");
    a.clock.advance(chrono::Duration::hours(1));
    let id = before["id"].as_str().unwrap();
    let res = a
        .admin(Method::PATCH, &format!("/admin/sessions/{id}/extend"))
        .send()
        .await
        .unwrap();
    let extended = expect_json(res, StatusCode::OK).await;
    let after = expect_json(whoami(&b, &token).await, StatusCode::OK).await;
    assert_eq!(after["expires_at"], extended["expires_at"]);
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_behave_as_one_service_with_the_cache_on() {
        one_service(true).await;
    }
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_behave_as_one_service_with_the_cache_off() {
        one_service(false).await;
    }
}

/// Rounds of every revoking change: a race that lets one revocation in many through shows here.
const ROUNDS: usize = 12;

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_revocation_is_seen_by_the_other_node_on_its_very_next_request_round_after_round() {
        let url = sesame_testkit::testenv::postgres_url();
        let (a, b) = two_nodes(url, true).await;
        let mut missed = Vec::new();
        for round in 0..ROUNDS {
            // Each way in turn: the writer is the node that started second, then the first.
            let (writer, reader) = if round % 2 == 0 { (&b, &a) } else { (&a, &b) };
            for (n, what) in EVERY_CHANGE.into_iter().enumerate() {
                // Made on the writer and cached by the reader; revoked on the writer; the reader
                // is asked at once.
                let email = format!("round{round}-{n}@example.com");
                let (token, identity) = sign_up(&writer.sdk(), &email).await;
                assert_cached(reader, &token).await;
                change(writer, what, &email, &token, &identity.to_string()).await;
                let status = whoami(reader, &token).await.status();
                if status != StatusCode::UNAUTHORIZED {
                    missed.push((round, what, status));
                }
            }
        }
        assert!(missed.is_empty(), "served after revocation: {missed:?}");
    }
}

/// The backend pids of the schema's listening connections.
async fn listeners(pool: &PgPool, schema: &str) -> BTreeSet<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE starts_with(application_name, $1) AND query LIKE 'LISTEN%' AND query LIKE '%' || $2 || '%'",
    )
    .bind(sesame_store::LISTENER_APPLICATION_NAME)
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Waits until the schema's listeners are exactly `want` in number, none of them in `gone`; the
/// new ones.
async fn wait_for_listeners(
    pool: &PgPool,
    schema: &str,
    want: usize,
    gone: &BTreeSet<i32>,
) -> BTreeSet<i32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = listeners(pool, schema).await;
        if now.len() == want && now.is_disjoint(gone) {
            return now;
        }
        assert!(Instant::now() < deadline, "listeners: {now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_without_the_cache_still_waits_for_the_nodes_that_cache() {
        let url = sesame_testkit::testenv::postgres_url();
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let a = TestApp::spawn(Backend::Postgres(url.clone())).await;
        assert!(a.whoami_cache().is_none());
        let schema = a.pg_schema().unwrap().to_owned();
        wait_for_listeners(&admin, &schema, 1, &BTreeSet::new()).await;
        let b = cached(Backend::Postgres(url)).database_of(&a).spawn().await;
        for n in 0..3 {
            let (token, _) = sign_up(&a.sdk(), &format!("mixed{n}@example.com")).await;
            assert_cached(&b, &token).await;
            let res = a
                .public(Method::DELETE, "/self-service/logout/api")
                .json(&json!({"session_token": token}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            assert_refused(&b, &token).await;
        }
        drop(b);
    }
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_that_loses_its_notification_connection_drops_its_cache_and_recovers() {
        let url = sesame_testkit::testenv::postgres_url();
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let a = cached(Backend::Postgres(url.clone())).spawn().await;
        let schema = a.pg_schema().unwrap().to_owned();
        let a_listener = wait_for_listeners(&admin, &schema, 1, &BTreeSet::new()).await;
        let b = cached(Backend::Postgres(url)).database_of(&a).spawn().await;
        let both = wait_for_listeners(&admin, &schema, 2, &BTreeSet::new()).await;
        let b_listener: BTreeSet<i32> = both.difference(&a_listener).copied().collect();
        let b_cache = b.whoami_cache().unwrap();

        // B caches a session; then it is revoked behind every node's back (no notification), so only
        // dropping the cache can make B see it.
        let (token, _) = sign_up(&a.sdk(), "lost@example.com").await;
        assert_cached(&b, &token).await;
        let now = a.clock.now();
        raw_store(&a)
            .await
            .revoke_session_by_token(&TokenDigest::of(&token), now)
            .await
            .unwrap();
        assert_eq!(
            whoami(&b, &token).await.status(),
            StatusCode::OK,
            "served from B's cache"
        );

        // B's notification connection dies: B drops its cache, reconnects, and refuses the session.
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(b_listener.iter().next().copied().unwrap())
            .fetch_one(&admin)
            .await
            .unwrap();
        assert!(killed);
        let mut gone = both.clone();
        gone.retain(|pid| b_listener.contains(pid));
        let now_listening = wait_for_listeners(&admin, &schema, 2, &gone).await;
        assert!(
            now_listening.is_superset(&a_listener),
            "A kept its connection"
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while !b_cache.is_serving() {
            assert!(Instant::now() < deadline, "B's cache did not resume");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_refused(&b, &token).await;

        // Recovered: B caches again and hears A's revocations again.
        let (token, _) = sign_up(&a.sdk(), "back@example.com").await;
        assert_cached(&b, &token).await;
        let res = a
            .public(Method::DELETE, "/self-service/logout/api")
            .json(&json!({"session_token": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_refused(&b, &token).await;
        drop(b);
    }
}
