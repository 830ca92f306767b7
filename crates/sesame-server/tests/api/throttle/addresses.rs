//! Per client address, against credential stuffing: one address trying many accounts is limited
//! whatever the accounts, the address is taken from a trusted proxy's headers only, and a success
//! from the address gives back its own attempt, not the address's whole count.

use super::*;
use sesame_testkit::TestAppBuilder;

/// Ten failures per address, then one a minute.
fn ten_per_address(builder: TestAppBuilder) -> TestAppBuilder {
    builder
        .env("SECURITY_BRUTE_FORCE_IP_FREE_ATTEMPTS", "10")
        .env("SECURITY_BRUTE_FORCE_IP_INTERVAL", "1m")
}

const STUFFER: &str = "198.51.100.7";

api_test!(
    one_address_is_limited_across_many_identifiers_behind_a_trusted_proxy,
    |backend| async move {
        let app = ten_per_address(TestApp::builder(backend)).spawn().await;
        app.signed_up_user("ada@example.com").await;
        for n in 0..10 {
            let answer = attempt(&app, &format!("user{n}@example.com"), WRONG, Some(STUFFER)).await;
            assert_refused_credentials(&answer);
        }
        let answer = attempt(&app, "user10@example.com", WRONG, Some(STUFFER)).await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.retry_after.as_deref(), Some("60"));
        assert_eq!(answer.body, too_many_attempts(60));
        // Even valid credentials wait, from that address only.
        let valid = attempt(&app, "ada@example.com", PASSWORD, Some(STUFFER)).await;
        assert_eq!(valid.status, StatusCode::TOO_MANY_REQUESTS);
        let elsewhere = attempt(&app, "ada@example.com", PASSWORD, Some("198.51.100.8")).await;
        assert_eq!(elsewhere.status, StatusCode::OK, "{elsewhere:?}");
        // The address forgets one failure a minute.
        app.clock.advance(chrono::Duration::seconds(60));
        assert_refused_credentials(
            &attempt(&app, "user11@example.com", WRONG, Some(STUFFER)).await,
        );
        let answer = attempt(&app, "user12@example.com", WRONG, Some(STUFFER)).await;
        assert_eq!(answer.retry_after.as_deref(), Some("60"));
        // An IPv6 client is counted by its /64, which one subscriber usually holds whole.
        for n in 0..10 {
            let ip = format!("2001:db8:1:2::{n:x}");
            let answer = attempt(&app, &format!("v6user{n}@example.com"), WRONG, Some(&ip)).await;
            assert_refused_credentials(&answer);
        }
        let same = attempt(
            &app,
            "v6user10@example.com",
            WRONG,
            Some("2001:db8:1:2:ffff::1"),
        )
        .await;
        assert_eq!(same.status, StatusCode::TOO_MANY_REQUESTS);
        let next = attempt(&app, "v6user10@example.com", WRONG, Some("2001:db8:1:3::1")).await;
        assert_refused_credentials(&next);
    }
);

api_test!(
    a_success_gives_back_its_own_attempt_only,
    |backend| async move {
        let app = ten_per_address(TestApp::builder(backend)).spawn().await;
        app.signed_up_user("ada@example.com").await;
        for n in 0..9 {
            assert_refused_credentials(
                &attempt(&app, &format!("user{n}@example.com"), WRONG, Some(STUFFER)).await,
            );
        }
        let valid = attempt(&app, "ada@example.com", PASSWORD, Some(STUFFER)).await;
        assert_eq!(valid.status, StatusCode::OK);
        assert_refused_credentials(&attempt(&app, "user9@example.com", WRONG, Some(STUFFER)).await);
        let answer = attempt(&app, "user10@example.com", WRONG, Some(STUFFER)).await;
        assert_eq!(
            answer.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the success did not reset the address"
        );
    }
);

api_test!(
    an_untrusted_peer_cannot_choose_its_address,
    |backend| async move {
        // Loopback is not a trusted proxy here: the forwarding header is ignored, and every
        // attempt counts on the peer's own address.
        let app = ten_per_address(TestApp::builder(backend))
            .env("SERVE_PUBLIC_TRUSTED_PROXIES", "192.0.2.1")
            .spawn()
            .await;
        for n in 0..10 {
            let ip = format!("198.51.100.{n}");
            assert_refused_credentials(
                &attempt(&app, &format!("user{n}@example.com"), WRONG, Some(&ip)).await,
            );
        }
        let answer = attempt(&app, "user10@example.com", WRONG, Some("198.51.100.99")).await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    }
);
