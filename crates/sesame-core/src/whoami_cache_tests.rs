#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::aal::Aal;
use crate::token::{LogoutToken, SessionToken};
use chrono::Duration;
use serde_json::json;
use sesame_types::IdentityState;
use sesame_types::{AuthenticationMethod, Device, RecoveryAddress, VerifiableAddress};
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn identity(n: usize) -> Identity {
    let t = t0();
    let email = format!("user{n}@example.com");
    Identity {
        id: IdentityId::new(),
        schema_id: "default".into(),
        traits: json!({ "email": email }),
        state: IdentityState::Active,
        state_changed_at: Some(t),
        metadata_public: None,
        metadata_admin: None,
        external_id: None,
        organization_id: None,
        verifiable_addresses: vec![VerifiableAddress {
            id: Uuid::new_v4(),
            value: email.clone(),
            verified: false,
            via: "email".into(),
            status: "pending".into(),
            verified_at: None,
            created_at: t,
            updated_at: t,
        }],
        recovery_addresses: vec![RecoveryAddress {
            id: Uuid::new_v4(),
            value: email,
            via: "email".into(),
            created_at: t,
            updated_at: t,
        }],
        available_aal: Aal::Aal1,
        created_at: t,
        updated_at: t,
    }
}

fn session(owner: &Identity) -> Session {
    let t = t0();
    Session {
        id: SessionId::new(),
        identity_id: owner.id,
        token_digest: SessionToken::generate().digest(),
        logout_token_digest: LogoutToken::generate().digest(),
        active: true,
        aal: Aal::Aal1,
        authentication_methods: vec![AuthenticationMethod {
            method: "password".into(),
            aal: Aal::Aal1,
            completed_at: t,
            provider: None,
        }],
        devices: vec![Device {
            id: Uuid::new_v4(),
            ip_address: Some("203.0.113.7".into()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
                    .into(),
            ),
            location: Some(String::new()),
        }],
        issued_at: t,
        expires_at: t + Duration::hours(24),
        authenticated_at: t,
        created_at: t,
        updated_at: t,
    }
}

fn cache(max: usize) -> WhoamiCache {
    WhoamiCache::new(Duration::minutes(1), max)
}

fn cached(c: &WhoamiCache, s: &Session, i: &Identity) {
    let ticket = c.ticket().unwrap();
    c.fill(ticket, s, i, t0());
}

#[test]
fn a_filled_answer_is_returned_until_its_ttl_is_over() {
    let c = cache(10);
    let i = identity(1);
    let s = session(&i);
    assert!(c.get(&s.token_digest, t0()).is_none());
    cached(&c, &s, &i);
    let hit = c
        .get(&s.token_digest, t0() + Duration::seconds(59))
        .unwrap();
    assert_eq!(*hit.session, s);
    assert_eq!(*hit.identity, i);
    assert!(hit.memo.is_some());
    assert!(
        c.get(&s.token_digest, t0() + Duration::seconds(60))
            .is_none()
    );
}

#[test]
fn only_active_sessions_of_active_identities_are_cached() {
    let c = cache(10);
    let mut i = identity(1);
    let mut s = session(&i);
    s.active = false;
    cached(&c, &s, &i);
    s.active = true;
    s.expires_at = t0();
    cached(&c, &s, &i);
    s.expires_at = t0() + Duration::hours(1);
    i.state = IdentityState::Inactive;
    cached(&c, &s, &i);
    assert!(c.is_empty());
}

#[test]
fn each_invalidation_drops_what_it_names_and_nothing_else() {
    let c = cache(10);
    let alice = identity(1);
    let bob = identity(2);
    let (a1, a2, b1) = (session(&alice), session(&alice), session(&bob));
    let fill_all = || {
        for (s, i) in [(&a1, &alice), (&a2, &alice), (&b1, &bob)] {
            cached(&c, s, i);
        }
    };
    let present = |s: &Session| c.get(&s.token_digest, t0()).is_some();

    fill_all();
    c.invalidate(&Invalidation::Token(a1.token_digest.clone()));
    assert_eq!(
        [present(&a1), present(&a2), present(&b1)],
        [false, true, true]
    );

    fill_all();
    c.invalidate(&Invalidation::Session(a2.id));
    assert_eq!(
        [present(&a1), present(&a2), present(&b1)],
        [true, false, true]
    );

    fill_all();
    c.invalidate(&Invalidation::Identity(alice.id));
    assert_eq!(
        [present(&a1), present(&a2), present(&b1)],
        [false, false, true]
    );

    fill_all();
    c.invalidate(&Invalidation::All);
    assert!(c.is_empty());
}

#[test]
fn a_fill_whose_read_began_before_an_invalidation_is_refused() {
    let c = cache(10);
    let i = identity(1);
    let s = session(&i);
    let ticket = c.ticket().unwrap();
    c.invalidate(&Invalidation::Token(s.token_digest.clone()));
    c.fill(ticket, &s, &i, t0());
    assert!(c.get(&s.token_digest, t0()).is_none());
}

#[test]
fn a_suspended_cache_answers_nothing_and_takes_nothing_until_resumed_empty() {
    let c = cache(10);
    let i = identity(1);
    let s = session(&i);
    cached(&c, &s, &i);
    let before = c.ticket().unwrap();
    c.suspend();
    assert!(!c.is_serving());
    assert!(c.get(&s.token_digest, t0()).is_none());
    assert!(c.ticket().is_none());
    c.fill(before, &s, &i, t0());
    c.resume();
    assert!(c.is_serving());
    assert!(c.is_empty());
    c.fill(before, &s, &i, t0());
    assert!(
        c.is_empty(),
        "a read from before the suspension is not trusted"
    );
    cached(&c, &s, &i);
    assert_eq!(c.len(), 1);
}

#[test]
fn the_oldest_answers_are_evicted_at_the_bound() {
    let c = cache(3);
    let owner = identity(1);
    let sessions: Vec<Session> = (0..5).map(|_| session(&owner)).collect();
    for s in &sessions {
        cached(&c, s, &owner);
    }
    assert_eq!(c.len(), 3);
    let present: Vec<bool> = sessions
        .iter()
        .map(|s| c.get(&s.token_digest, t0()).is_some())
        .collect();
    assert_eq!(present, [false, false, true, true, true]);
    c.invalidate(&Invalidation::Identity(owner.id));
    assert!(c.is_empty());
}

#[test]
fn refilling_one_token_again_and_again_keeps_the_queue_bounded() {
    let c = cache(4);
    let i = identity(1);
    let s = session(&i);
    for _ in 0..10_000 {
        cached(&c, &s, &i);
    }
    assert_eq!(c.len(), 1);
    assert!(c.read().order.len() <= 2 + 1024 + 1);
}

/// Resident memory per cached answer (a one-address identity, a one-device session).
/// `cargo test -p sesame-core --lib whoami_cache -- --ignored --nocapture`
#[test]
#[ignore = "measures process memory; run alone"]
fn memory_per_entry() {
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
    const N: usize = 200_000;
    let answers: Vec<(Session, Identity)> = (0..N)
        .map(|n| {
            let i = identity(n);
            (session(&i), i)
        })
        .collect();
    let c = cache(N);
    let before = rss_kib();
    for (s, i) in &answers {
        cached(&c, s, i);
    }
    let after = rss_kib();
    assert_eq!(c.len(), N);
    let per_entry = (after - before) * 1024 / N as u64;
    println!(
        "{N} entries: {} KiB, {per_entry} bytes per entry",
        after - before
    );
    let started = std::time::Instant::now();
    for (s, _) in &answers {
        assert!(c.get(&s.token_digest, t0()).is_some());
    }
    println!(
        "hit (lookup, nothing copied): {:.0} ns",
        started.elapsed().as_nanos() as f64 / N as f64
    );
}

#[test]
fn a_hit_shares_the_cached_answer_and_its_memo_instead_of_copying_them() {
    let c = cache(10);
    let i = identity(1);
    let s = session(&i);
    cached(&c, &s, &i);
    let a = c.get(&s.token_digest, t0()).unwrap();
    let b = c.get(&s.token_digest, t0()).unwrap();
    assert!(Arc::ptr_eq(&a.session, &b.session));
    assert!(Arc::ptr_eq(&a.identity, &b.identity));
    let (ma, mb) = (a.memo.unwrap(), b.memo.unwrap());
    assert!(Arc::ptr_eq(&ma, &mb));
    assert_eq!(*ma.get_or_init(|| 1u32).unwrap(), 1);
    assert_eq!(
        *mb.get_or_init(|| 2u32).unwrap(),
        1,
        "the first value is kept"
    );
    assert!(
        mb.get_or_init(|| "other".to_owned()).is_none(),
        "a value of another type is never handed out"
    );
}

#[test]
fn a_refilled_answer_starts_with_an_empty_memo() {
    let c = cache(10);
    let i = identity(1);
    let s = session(&i);
    cached(&c, &s, &i);
    let old = c.get(&s.token_digest, t0()).unwrap().memo.unwrap();
    old.get_or_init(|| 1u32);
    c.invalidate(&Invalidation::Identity(i.id));
    assert!(c.get(&s.token_digest, t0()).is_none());
    let ticket = c.ticket().unwrap();
    let filled = c
        .fill_shared(ticket, &SharedSession::uncached(s.clone(), i.clone()), t0())
        .unwrap();
    let new = c.get(&s.token_digest, t0()).unwrap().memo.unwrap();
    assert!(Arc::ptr_eq(&filled, &new));
    assert!(!Arc::ptr_eq(&old, &new));
    assert_eq!(*new.get_or_init(|| 2u32).unwrap(), 2);
}

#[test]
fn a_fill_refused_by_an_invalidation_returns_no_memo() {
    let c = cache(10);
    let i = identity(1);
    let s = session(&i);
    let ticket = c.ticket().unwrap();
    c.invalidate(&Invalidation::Identity(i.id));
    let found = SharedSession::uncached(s.clone(), i.clone());
    assert!(c.fill_shared(ticket, &found, t0()).is_none());
    assert!(c.get(&s.token_digest, t0()).is_none());
}

#[test]
fn refilling_another_session_of_an_identity_hands_out_the_new_identity_to_both() {
    // A memo made from the old identity can tell by pointer that it is not the one handed out.
    let c = cache(10);
    let i = identity(1);
    let (a, b) = (session(&i), session(&i));
    cached(&c, &a, &i);
    let before = c.get(&a.token_digest, t0()).unwrap().identity;
    let mut changed = i.clone();
    changed.traits = json!({"email": "changed@example.com"});
    cached(&c, &b, &changed);
    let after = c.get(&a.token_digest, t0()).unwrap().identity;
    assert!(!Arc::ptr_eq(&before, &after));
    assert_eq!(after.traits, changed.traits);
}

#[test]
fn stats_count_hits_misses_and_invalidations_and_show_the_size() {
    let c = cache(10);
    let i = identity(1);
    let (s1, s2) = (session(&i), session(&i));
    assert_eq!(
        c.stats(),
        CacheStats {
            serving: true,
            ..CacheStats::default()
        }
    );
    assert!(c.get(&s1.token_digest, t0()).is_none());
    cached(&c, &s1, &i);
    cached(&c, &s2, &i);
    for _ in 0..3 {
        assert!(c.get(&s1.token_digest, t0()).is_some());
    }
    assert!(
        c.get(&s1.token_digest, t0() + Duration::minutes(2))
            .is_none(),
        "too old: a miss"
    );
    assert_eq!(
        c.stats(),
        CacheStats {
            hits: 3,
            misses: 2,
            invalidations: 0,
            entries: 2,
            serving: true,
        }
    );
    c.invalidate(&Invalidation::Session(s1.id));
    c.invalidate(&Invalidation::Session(s1.id));
    c.suspend();
    assert!(c.get(&s2.token_digest, t0()).is_none(), "suspended: a miss");
    let stats = c.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.invalidations, stats.entries),
        (3, 3, 3, 0),
        "an invalidation that finds nothing still counts; a suspension is one"
    );
    assert!(!stats.serving);
}
