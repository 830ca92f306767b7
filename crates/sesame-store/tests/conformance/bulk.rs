//! `BulkStore`: identity imports in batches, and cleanup removing exactly what has ended.

use super::*;
use sesame_core::store::Expired;

/// An identity with a password credential for `email`, not stored.
fn user(email: &str) -> (Identity, Vec<Credential>) {
    let identity = identity(email);
    let credential = password(&identity, email);
    (identity, vec![credential])
}

fn conflicts(results: &[Result<(), StoreError>]) -> Vec<bool> {
    results
        .iter()
        .map(|r| match r {
            Ok(()) => false,
            Err(StoreError::Conflict) => true,
            Err(e) => panic!("expected Ok or Conflict, got {e:?}"),
        })
        .collect()
}

conformance!(fn identities_created_in_bulk_read_back_as_created_one_by_one(store) {
    let mut items: Vec<_> = (0..7).map(|i| user(&format!("bulk{i}@example.com"))).collect();
    let (second_factor_owner, credentials) = &mut items[3];
    credentials.push(totp(second_factor_owner));
    credentials.push(lookup_secret(second_factor_owner));
    second_factor_owner.available_aal = Aal::Aal2;
    items[4].0.external_id = Some("crm-4".into());

    let results = store.create_identities(&items).await.unwrap();
    assert_eq!(conflicts(&results), vec![false; 7]);
    for (identity, credentials) in &items {
        assert_eq!(store.identity(identity.id).await.unwrap().as_ref(), Some(identity));
        let mut stored = store.credentials(&[identity.id]).await.unwrap();
        let mut expected = credentials.clone();
        stored.sort_by_key(|c| c.id);
        expected.sort_by_key(|c| c.id);
        assert_eq!(stored, expected);
        let email = identity.traits["email"].as_str().unwrap();
        let (found, _) = find_password(&store, email).await.expect("findable by identifier");
        assert_eq!(found.id, identity.id);
    }
    assert!(store.create_identities(&[]).await.unwrap().is_empty(), "an empty batch is fine");
});

conformance!(fn a_bulk_create_reports_each_conflict_and_stores_every_other_identity(store) {
    let (taken, _) = create_user(&store, "taken@example.com").await;
    let mut with_external_id = user("external@example.com");
    with_external_id.0.external_id = Some("crm-1".into());
    store.create_identities(std::slice::from_ref(&with_external_id)).await.unwrap();

    let mut items = vec![
        user("fresh0@example.com"),
        user("taken@example.com"),
        user("fresh1@example.com"),
        user("twice@example.com"),
        user("twice@example.com"),
        user("fresh2@example.com"),
        user("fresh3@example.com"),
    ];
    items[5].0.external_id = Some("crm-1".into());
    items[6].0.id = taken.id;
    let results = store.create_identities(&items).await.unwrap();
    assert_eq!(
        conflicts(&results),
        vec![false, true, false, false, true, true, true],
        "a taken identifier, a duplicate within the batch (the first wins), a taken external id \
         and a taken id conflict; the others are stored"
    );
    for (i, (identity, _)) in items.iter().enumerate() {
        let stored = store.identity(identity.id).await.unwrap();
        match i {
            0 | 2 | 3 => assert_eq!(stored.as_ref(), Some(identity)),
            6 => assert_eq!(stored.map(|s| s.traits), Some(taken.traits.clone()), "untouched"),
            _ => assert_eq!(stored, None, "item {i} left nothing behind"),
        }
    }
    let (twice, _) = find_password(&store, "twice@example.com").await.unwrap();
    assert_eq!(twice.id, items[3].0.id);
    assert_eq!(
        store.count_identities(&IdentityQuery::default()).await.unwrap(),
        5,
        "taken, external, fresh0, fresh1 and the first twice"
    );
});

/// A session of `owner` whose expiry and activity are set by the test.
fn session_at(
    owner: &Identity,
    expires_at: DateTime<Utc>,
    active: bool,
    updated_at: DateTime<Utc>,
) -> (SessionToken, Session) {
    let token = SessionToken::generate();
    let mut s = session(owner, &token);
    s.expires_at = expires_at;
    s.active = active;
    s.updated_at = updated_at;
    (token, s)
}

conformance!(fn cleanup_deletes_sessions_that_ended_before_the_cut_off_and_nothing_else(store) {
    let (owner, _) = create_user(&store, "sessions@example.com").await;
    let t = now();
    let cut_off = t - Duration::hours(1);
    let long_ago = t - Duration::hours(2);
    let recently = t - Duration::minutes(10);
    let later = t + Duration::hours(3);
    let cases = [
        ("live", later, true, t, true),
        ("expired long ago", long_ago, true, long_ago, false),
        ("expired long ago and logged out", long_ago, false, long_ago, false),
        ("expired recently", recently, true, recently, true),
        ("logged out long ago", later, false, long_ago, false),
        ("logged out recently", later, false, recently, true),
        ("expired long ago, logged out recently", long_ago, false, recently, false),
    ];
    let mut tokens = Vec::new();
    for (name, expires_at, active, updated_at, kept) in cases {
        let (token, s) = session_at(&owner, expires_at, active, updated_at);
        store.insert_session(&s).await.unwrap();
        tokens.push((name, token, kept));
    }

    assert_eq!(store.count_expired(Expired::Sessions, cut_off).await.unwrap(), 4);
    assert_eq!(store.delete_expired(Expired::Sessions, cut_off, 3).await.unwrap(), 3);
    assert_eq!(store.count_expired(Expired::Sessions, cut_off).await.unwrap(), 1);
    assert_eq!(
        store.delete_expired(Expired::Sessions, cut_off, 3).await.unwrap(),
        1,
        "a short batch: nothing older is left"
    );
    assert_eq!(store.delete_expired(Expired::Sessions, cut_off, 3).await.unwrap(), 0);
    for (name, token, kept) in &tokens {
        assert_eq!(by_token(&store, token).await.is_some(), *kept, "{name}");
    }
    assert_eq!(store.count_sessions().await.unwrap(), 3);
    assert!(store.identity(owner.id).await.unwrap().is_some(), "identities stay");
});

conformance!(fn cleanup_deletes_many_expired_sessions_in_batches_of_the_given_size(store) {
    let (owner, _) = create_user(&store, "many@example.com").await;
    let t = now();
    let expired: Vec<Session> = (0..25)
        .map(|_| session_at(&owner, t - Duration::minutes(1), true, t).1)
        .collect();
    store.insert_sessions(&expired).await.unwrap();
    let (live, s) = session_at(&owner, t + Duration::hours(1), true, t);
    store.insert_session(&s).await.unwrap();

    let mut batches = Vec::new();
    loop {
        let n = store.delete_expired(Expired::Sessions, t, 10).await.unwrap();
        batches.push(n);
        if n < 10 {
            break;
        }
    }
    assert_eq!(batches, vec![10, 10, 5]);
    assert!(by_token(&store, &live).await.is_some());
    assert_eq!(store.count_sessions().await.unwrap(), 1);
});

conformance!(fn cleanup_deletes_expired_flows_and_keeps_the_others(store) {
    let t = now();
    let mut flows = Vec::new();
    for (minutes, kept) in [(-120, false), (-61, false), (-30, true), (10, true)] {
        let mut flow = login_flow();
        flow.expires_at = t + Duration::minutes(minutes);
        let record = FlowRecord {
            body: FlowBody::Login(flow),
            csrf_token: Some("csrf".into()),
            context: None,
        };
        store.save_flow(&record).await.unwrap();
        flows.push((record.body.id(), kept));
    }
    let mut registration = registration_flow();
    registration.expires_at = t - Duration::hours(5);
    let record = FlowRecord {
        body: FlowBody::Registration(registration),
        csrf_token: None,
        context: None,
    };
    store.save_flow(&record).await.unwrap();
    flows.push((record.body.id(), false));

    let cut_off = t - Duration::hours(1);
    assert_eq!(store.count_expired(Expired::Flows, cut_off).await.unwrap(), 3);
    assert_eq!(store.delete_expired(Expired::Flows, cut_off, 2).await.unwrap(), 2);
    assert_eq!(store.delete_expired(Expired::Flows, cut_off, 2).await.unwrap(), 1);
    for (id, kept) in flows {
        assert_eq!(store.flow(id).await.unwrap().is_some(), kept);
    }
});

conformance!(fn cleanup_forgets_only_code_claims_made_before_the_cut_off(store) {
    let (owner, _) = create_user(&store, "claims@example.com").await;
    let t = now();
    let old = t - Duration::days(2);
    assert!(store.claim_credential_use(owner.id, "old", old, old - Duration::days(1)).await.unwrap());
    assert!(store.claim_credential_use(owner.id, "new", t, old - Duration::days(1)).await.unwrap());

    let cut_off = t - Duration::days(1);
    assert_eq!(store.count_expired(Expired::CredentialUses, cut_off).await.unwrap(), 1);
    assert_eq!(store.delete_expired(Expired::CredentialUses, cut_off, 10).await.unwrap(), 1);
    let far_past = t - Duration::days(30);
    assert!(
        store.claim_credential_use(owner.id, "old", t, far_past).await.unwrap(),
        "the old claim is gone"
    );
    assert!(
        !store.claim_credential_use(owner.id, "new", t, far_past).await.unwrap(),
        "the recent claim still guards its code"
    );
});
