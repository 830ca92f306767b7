//! `sesame identities unlock ID` against the database of a server that keeps serving: the lock
//! after too many failed sign-ins is lifted, as `DELETE /admin/identities/{id}/lock` does.

use super::support::run;
use serde_json::json;
use sesame_testkit::TestApp;
use sesame_testkit::reqwest::StatusCode;

sesame_testkit::api_test!(
    unlock_lifts_the_lock_of_an_identity_the_server_locked,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SECURITY_BRUTE_FORCE_FREE_ATTEMPTS", "3")
            .env("SECURITY_BRUTE_FORCE_LOCK_AFTER", "3")
            .spawn()
            .await;
        let (_, id) = app.signed_up_user("cli@example.com").await;
        let wrong = json!({"method": "password", "identifier": "cli@example.com", "password": "wrong-password-1"});
        for _ in 0..3 {
            assert_eq!(
                app.submit_login(wrong.clone()).await.status(),
                StatusCode::BAD_REQUEST
            );
        }
        let right = json!({"method": "password", "identifier": "cli@example.com", "password": "a-very-good-passphrase-42"});
        assert_eq!(
            app.submit_login(right.clone()).await.status(),
            StatusCode::FORBIDDEN
        );

        let out = run(["identities", "unlock", id.as_str()])
            .dsn(app.dsn())
            .output()
            .await
            .success();
        assert_eq!(
            out.stderr().trim(),
            format!("identity {id} unlocked; its failed attempts are forgotten")
        );
        assert_eq!(app.submit_login(right).await.status(), StatusCode::OK);

        let out = run(["identities", "unlock", id.as_str()])
            .dsn(app.dsn())
            .output()
            .await
            .success();
        assert!(out.stderr().contains("was not locked"), "{}", out.stderr());
        let unknown = sesame_core::IdentityId::new().0.to_string();
        let out = run(["identities", "unlock", unknown.as_str()])
            .dsn(app.dsn())
            .output()
            .await;
        assert_eq!(out.code(), Some(1));
        assert_eq!(
            out.stderr().trim(),
            format!("sesame: no identity {unknown}")
        );
        let out = run(["identities", "unlock", "nope"])
            .dsn(app.dsn())
            .output()
            .await;
        assert_eq!(
            out.stderr().trim(),
            "sesame: \"nope\" is not an identity id"
        );
    }
);
