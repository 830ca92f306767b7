//! `sesame cleanup` against the database of a server that keeps serving.

use super::support::run;
use chrono::{Duration, Utc};
use sesame_core::aal::Aal;
use sesame_core::session::Session;
use sesame_core::{IdentityId, LogoutToken, SessionId, SessionToken};
use sesame_testkit::TestApp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A session of `owner` that expires at `expires_at`, deactivated at `revoked_at` if given.
fn stored_session(
    owner: IdentityId,
    expires_at: chrono::DateTime<Utc>,
    revoked_at: Option<chrono::DateTime<Utc>>,
) -> Session {
    let created = expires_at - Duration::hours(24);
    Session {
        id: SessionId::new(),
        identity_id: owner,
        token_digest: SessionToken::generate().digest(),
        logout_token_digest: LogoutToken::generate().digest(),
        active: revoked_at.is_none(),
        aal: Aal::Aal1,
        authentication_methods: Vec::new(),
        devices: Vec::new(),
        issued_at: created,
        expires_at,
        authenticated_at: created,
        created_at: created,
        updated_at: revoked_at.unwrap_or(created),
    }
}

sesame_testkit::api_test!(
    cleanup_removes_what_ended_in_batches_while_whoami_keeps_answering,
    |backend| async move {
        // Login flows that expire a millisecond after they are made: by the time cleanup runs,
        // every one of them has ended.
        let app = TestApp::builder(backend)
            .env("SELFSERVICE_FLOWS_LOGIN_LIFESPAN", "1ms")
            .spawn()
            .await;
        let mut live = Vec::new();
        for i in 0..3 {
            live.push(app.signed_up_user(&format!("live{i}@example.com")).await);
        }
        for _ in 0..40 {
            app.login_flow().await;
        }
        let owner = IdentityId::parse(&live[0].1).unwrap();
        let now = Utc::now();
        let mut ended: Vec<Session> = (0..4000)
            .map(|i| stored_session(owner, now - Duration::minutes(15 + i % 300), None))
            .collect();
        ended.extend((0..500).map(|_| {
            stored_session(
                owner,
                now + Duration::hours(5),
                Some(now - Duration::hours(2)),
            )
        }));
        let recent = [
            stored_session(owner, now - Duration::minutes(5), None),
            stored_session(
                owner,
                now + Duration::hours(5),
                Some(now - Duration::minutes(5)),
            ),
        ];
        let store = app.store();
        store.insert_sessions(&ended).await.unwrap();
        store.insert_sessions(&recent).await.unwrap();
        assert_eq!(store.count_sessions().await.unwrap(), 4505);

        // Ask who the live users are, without pause, for as long as cleanup runs.
        let stop = Arc::new(AtomicBool::new(false));
        let (answered, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let asking = {
            let (stop, answered, refused) = (stop.clone(), answered.clone(), refused.clone());
            let tokens: Vec<String> = live.iter().map(|(t, _)| t.clone()).collect();
            let (http, url) = (app.http.clone(), app.public_url.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let res = http
                        .get(format!("{url}/sessions/whoami"))
                        .header("X-Session-Token", &tokens[i % tokens.len()])
                        .send()
                        .await
                        .unwrap();
                    let counter = if res.status() == 200 {
                        &answered
                    } else {
                        &refused
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        };

        let out = run(["cleanup", "--keep-last", "10m", "--batch-size", "250"])
            .dsn(app.dsn())
            .output()
            .await;
        stop.store(true, Ordering::Relaxed);
        asking.await.unwrap();
        let out = out.success();
        let err = out.stderr();
        assert!(
            err.contains("deleted 4500 expired and inactive sessions"),
            "{err}"
        );
        assert!(
            err.contains("deleted 0 expired self-service flows"),
            "the login flows ended less than 10 minutes ago: {err}"
        );
        assert!(
            err.contains("deleted 0 used one-time code records"),
            "{err}"
        );
        assert!(
            answered.load(Ordering::Relaxed) > 0,
            "whoami was asked during cleanup"
        );
        assert_eq!(
            refused.load(Ordering::Relaxed),
            0,
            "and always answered 200"
        );

        assert_eq!(
            store.count_sessions().await.unwrap(),
            5,
            "the live sessions and those that ended less than --keep-last ago are kept"
        );
        for (token, _) in &live {
            assert_eq!(app.whoami(token).await.status(), 200);
        }

        let out = run(["cleanup"]).dsn(app.dsn()).output().await.success();
        let err = out.stderr();
        assert!(
            err.contains("deleted 2 expired and inactive sessions"),
            "--keep-last defaults to 0: {err}"
        );
        assert!(
            err.contains("deleted 40 expired self-service flows"),
            "{err}"
        );
        assert_eq!(store.count_sessions().await.unwrap(), 3);
    }
);

#[test]
fn cleanup_refuses_bad_flags_with_a_usage_error() {
    for args in [
        ["cleanup", "--keep-last", "1 day"],
        ["cleanup", "--batch-size", "0"],
    ] {
        let out = run(args).output_blocking();
        assert_eq!(out.code(), Some(2), "{}", out.stderr());
        assert!(out.stderr().contains(args[1]), "{}", out.stderr());
    }
}
