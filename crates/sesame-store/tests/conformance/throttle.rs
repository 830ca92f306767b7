//! `ThrottleStore`: the limiter's failed-attempt counts — waits that double, locks that only
//! clearing lifts, buckets that drain, all-or-nothing admission, settling a success, the admin
//! view, cleanup, and concurrent attempts that never slip past a limit.

use super::*;
use sesame_core::store::Expired;
use sesame_core::throttle::{Admission, Backoff, Limit, Rate, ThrottleKey, Ticket};

fn backoff() -> Backoff {
    Backoff {
        free: 3,
        base: Duration::seconds(1),
        max: Duration::seconds(10),
        window: Duration::hours(1),
        lock_after: 8,
    }
}

fn account(n: u8, owner: Option<IdentityId>, scope: &'static str) -> ThrottleKey {
    ThrottleKey {
        digest: [n; 32],
        scope,
        identity: owner,
        limit: Limit::Backoff(backoff()),
    }
}

fn address(n: u8, burst: u32) -> ThrottleKey {
    ThrottleKey {
        digest: [n; 32],
        scope: "ip",
        identity: None,
        limit: Limit::Rate(Rate {
            burst,
            interval: Duration::seconds(10),
        }),
    }
}

/// Millisecond precision, as the counts keep time.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(now().timestamp_millis()).unwrap()
}

async fn admit(
    store: &Arc<dyn Store>,
    keys: &[ThrottleKey],
    owner: Option<IdentityId>,
    at: DateTime<Utc>,
) -> Admission {
    store.admit_attempt(keys, owner, at).await.unwrap()
}

fn tickets(a: Admission) -> Vec<Ticket> {
    match a {
        Admission::Admitted(t) => t,
        other => panic!("expected admission, got {other:?}"),
    }
}

/// Counts `n` failures from `at` on, each as soon as it is admitted: the last one's tickets and
/// the time it was admitted.
async fn fail(
    store: &Arc<dyn Store>,
    keys: &[ThrottleKey],
    owner: Option<IdentityId>,
    mut at: DateTime<Utc>,
    n: usize,
) -> (Vec<Ticket>, DateTime<Utc>) {
    let mut last = Vec::new();
    for _ in 0..n {
        last = match admit(store, keys, owner, at).await {
            Admission::Admitted(t) => t,
            Admission::Delayed { until } => {
                at = until;
                tickets(admit(store, keys, owner, at).await)
            }
            Admission::Locked => panic!("locked too early"),
        };
    }
    (last, at)
}

conformance!(fn free_failures_are_admitted_then_waits_double_up_to_the_cap(store) {
    let key = [account(1, None, "password")];
    let t = t0();
    for n in 1..=3 {
        let got = tickets(admit(&store, &key, None, t).await);
        assert_eq!(got[0].failures, n, "free failure {n}");
    }
    // After failure 3 (= free), the wait is 1 s; then 2, 4, 8 and the 10 s cap.
    let mut at = t;
    for (failures, wait) in [(3, 1), (4, 2), (5, 4), (6, 8), (7, 10)] {
        assert_eq!(backoff().wait_after(failures), Duration::seconds(wait));
        let until = at + Duration::seconds(wait);
        assert_eq!(
            admit(&store, &key, None, until - Duration::milliseconds(1)).await,
            Admission::Delayed { until },
            "after {failures} failures"
        );
        at = until;
        let got = tickets(admit(&store, &key, None, at).await);
        assert_eq!(got[0].failures, i64::try_from(failures).unwrap() + 1);
    }
});

conformance!(fn free_attempts_are_admitted_in_any_order_of_their_times(store) {
    // Concurrent requests take their time first and reach the database in any order: while
    // failures are free, one stamped a moment before the last failure is admitted too.
    let key = [account(17, None, "password")];
    let t = t0();
    tickets(admit(&store, &key, None, t).await);
    let got = tickets(admit(&store, &key, None, t - Duration::milliseconds(5)).await);
    assert_eq!(got[0].failures, 2);
    tickets(admit(&store, &key, None, t - Duration::milliseconds(9)).await);
    // The failure that starts the waits does ask for one, from its own time.
    assert_eq!(
        admit(&store, &key, None, t).await,
        Admission::Delayed { until: t - Duration::milliseconds(9) + Duration::seconds(1) }
    );
});

conformance!(fn failures_are_forgotten_a_window_after_the_last_one(store) {
    let key = [account(2, None, "password")];
    let t = t0();
    for _ in 0..3 {
        tickets(admit(&store, &key, None, t).await);
    }
    assert!(matches!(admit(&store, &key, None, t).await, Admission::Delayed { .. }));
    let later = t + Duration::hours(1);
    let got = tickets(admit(&store, &key, None, later).await);
    assert_eq!(got[0].failures, 1, "the count starts again");
});

conformance!(fn a_lock_holds_until_the_identitys_counts_are_cleared(store) {
    let (ada, _) = create_user(&store, "lock@example.com").await;
    let key = [account(3, Some(ada.id), "password")];
    let (last, at) = fail(&store, &key, Some(ada.id), t0(), 8).await;
    assert_eq!(last[0].failures, 8, "the eighth failure was admitted and locks");
    assert_eq!(admit(&store, &key, Some(ada.id), at).await, Admission::Locked);
    let years = at + Duration::days(3650);
    assert_eq!(admit(&store, &key, Some(ada.id), years).await, Admission::Locked, "locks do not expire");
    // Another secret of the same identity is locked too.
    let totp = [account(4, Some(ada.id), "second_factor")];
    assert_eq!(admit(&store, &totp, Some(ada.id), at).await, Admission::Locked);

    let counts = store.throttle_counts(ada.id, years).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].scope, "password");
    assert_eq!(counts[0].failures, 8);
    assert_eq!(counts[0].locked_at, Some(at));
    assert_eq!(counts[0].delayed_until, None);

    assert_eq!(store.clear_throttle_counts(ada.id).await.unwrap(), 1);
    assert!(store.throttle_counts(ada.id, years).await.unwrap().is_empty());
    assert_eq!(tickets(admit(&store, &key, Some(ada.id), years).await)[0].failures, 1);
});

conformance!(fn a_success_forgets_the_failures_before_it_and_lifts_the_lock_it_set(store) {
    let (ada, _) = create_user(&store, "success@example.com").await;
    let key = [account(5, Some(ada.id), "password")];
    let t = t0();
    tickets(admit(&store, &key, Some(ada.id), t).await);
    let mine = tickets(admit(&store, &key, Some(ada.id), t).await);
    let later = tickets(admit(&store, &key, Some(ada.id), t).await);
    assert!(!store.attempt_succeeded(&mine, Some(ada.id)).await.unwrap());
    let counts = store.throttle_counts(ada.id, t).await.unwrap();
    assert_eq!(counts[0].failures, 1, "the failure counted after the success stays");
    assert!(!store.attempt_succeeded(&later, Some(ada.id)).await.unwrap());
    assert!(store.throttle_counts(ada.id, t).await.unwrap().is_empty());

    // The attempt that reaches the lock is verified; when it succeeds, its lock goes with it.
    let (last, at) = fail(&store, &key, Some(ada.id), t, 8).await;
    assert_eq!(last[0].failures, 8);
    assert_eq!(admit(&store, &key, Some(ada.id), at).await, Admission::Locked);
    assert!(!store.attempt_succeeded(&last, Some(ada.id)).await.unwrap());
    assert!(store.throttle_counts(ada.id, at).await.unwrap().is_empty());
});

conformance!(fn a_success_reports_a_lock_set_meanwhile_by_another_secret(store) {
    let (ada, _) = create_user(&store, "meanwhile@example.com").await;
    let t = t0();
    let password = [account(6, Some(ada.id), "password")];
    let pending = tickets(admit(&store, &password, Some(ada.id), t).await);
    let totp = [account(7, Some(ada.id), "second_factor")];
    let (_, at) = fail(&store, &totp, Some(ada.id), t, 8).await;
    assert_eq!(admit(&store, &totp, Some(ada.id), at).await, Admission::Locked);
    assert!(store.attempt_succeeded(&pending, Some(ada.id)).await.unwrap());
});

conformance!(fn an_address_bucket_admits_a_burst_then_one_attempt_per_interval(store) {
    let key = [address(8, 3)];
    let t = t0();
    for _ in 0..3 {
        tickets(admit(&store, &key, None, t).await);
    }
    let until = t + Duration::seconds(10);
    assert_eq!(admit(&store, &key, None, t).await, Admission::Delayed { until });
    tickets(admit(&store, &key, None, until).await);
    assert_eq!(
        admit(&store, &key, None, until).await,
        Admission::Delayed { until: until + Duration::seconds(10) }
    );
    // A success gives its attempt back.
    let drained = until + Duration::seconds(10);
    let mine = tickets(admit(&store, &key, None, drained).await);
    assert!(!store.attempt_succeeded(&mine, None).await.unwrap());
    tickets(admit(&store, &key, None, drained).await);
    // Once drained, the whole burst is there again.
    let empty = drained + Duration::seconds(60);
    for _ in 0..3 {
        tickets(admit(&store, &key, None, empty).await);
    }
});

conformance!(fn an_attempt_is_counted_on_every_key_or_on_none(store) {
    let (ada, _) = create_user(&store, "all@example.com").await;
    let t = t0();
    let ip = address(9, 1);
    tickets(admit(&store, std::slice::from_ref(&ip), None, t).await);
    let keys = [account(10, Some(ada.id), "password"), ip];
    let refused = admit(&store, &keys, Some(ada.id), t).await;
    assert_eq!(refused, Admission::Delayed { until: t + Duration::seconds(10) });
    assert!(
        store.throttle_counts(ada.id, t).await.unwrap().is_empty(),
        "the account was not charged for a refused attempt"
    );
    let later = t + Duration::seconds(10);
    let got = tickets(admit(&store, &keys, Some(ada.id), later).await);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].digest, [10; 32], "tickets follow the order of the keys");
    assert_eq!(store.throttle_counts(ada.id, later).await.unwrap()[0].failures, 1);
});

conformance!(fn concurrent_attempts_never_slip_past_the_limit(store, db) {
    let key = account(11, None, "password");
    let t = t0();
    let racers: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.admit_attempt(&[key], None, t).await })
        })
        .collect();
    let mut admitted = 0;
    for racer in racers {
        if let Admission::Admitted(_) = racer.await.unwrap().unwrap() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 3, "exactly the free attempts on {}", db.backend());
    // A second connection to the same database sees the same count.
    let other = db.reopen().await;
    assert!(matches!(other.admit_attempt(&[key], None, t).await.unwrap(), Admission::Delayed { .. }));
});

conformance!(fn counts_go_with_their_identity(store) {
    let (ada, _) = create_user(&store, "gone@example.com").await;
    let t = t0();
    tickets(admit(&store, &[account(12, Some(ada.id), "password")], Some(ada.id), t).await);
    assert!(store.delete_identity(ada.id).await.unwrap(), "counts do not block a delete");
    let again = Identity { id: ada.id, ..identity("gone@example.com") };
    store.create_identity(&again, &[]).await.unwrap();
    assert!(store.throttle_counts(ada.id, t).await.unwrap().is_empty());
});

conformance!(fn cleanup_removes_only_counts_that_count_nothing(store) {
    let (ada, _) = create_user(&store, "cleanup@example.com").await;
    let t = t0();
    let old = t - Duration::hours(2);
    // Forgotten (window passed), drained, live, and locked long ago.
    tickets(admit(&store, &[account(13, None, "password")], None, old).await);
    tickets(admit(&store, &[address(14, 5)], None, old).await);
    tickets(admit(&store, &[account(15, None, "password")], None, t).await);
    let locked = [account(16, Some(ada.id), "password")];
    fail(&store, &locked, Some(ada.id), old - Duration::hours(1), 8).await;
    assert_eq!(store.count_expired(Expired::ThrottleCounts, t).await.unwrap(), 2);
    assert_eq!(store.delete_expired(Expired::ThrottleCounts, t, 1).await.unwrap(), 1);
    assert_eq!(store.delete_expired(Expired::ThrottleCounts, t, 10).await.unwrap(), 1);
    assert_eq!(store.count_expired(Expired::ThrottleCounts, t).await.unwrap(), 0);
    assert!(matches!(
        admit(&store, &[account(15, None, "password")], None, t).await,
        Admission::Admitted(_)
    ));
    assert_eq!(admit(&store, &locked, Some(ada.id), t).await, Admission::Locked, "the lock stays");
});
