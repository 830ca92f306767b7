//! `SessionAdminStore`: listings, revocation by id and identity, extension, bulk disable/delete.

use super::*;
use sesame_core::store::{SessionQuery, SessionSelector};

/// Every session of every identity, at `at`, ten at a time.
fn query(at: DateTime<Utc>) -> SessionQuery {
    SessionQuery {
        identity: None,
        except: None,
        active: None,
        now: at,
        after: None,
        offset: 0,
        limit: 10,
    }
}

async fn listed(store: &Arc<dyn Store>, q: &SessionQuery) -> Vec<SessionId> {
    store
        .list_sessions(q)
        .await
        .unwrap()
        .into_iter()
        .map(|(s, _)| s.id)
        .collect()
}

/// A session of `owner` created `minutes_ago` minutes before `base`.
fn created(owner: &Identity, base: DateTime<Utc>, minutes_ago: i64) -> Session {
    let s = session(owner, &SessionToken::generate());
    Session {
        created_at: base - Duration::minutes(minutes_ago),
        ..s
    }
}

async fn read(store: &Arc<dyn Store>, s: &Session) -> Session {
    store.session(s.id).await.unwrap().unwrap().0
}

conformance!(fn a_session_is_found_by_id_with_its_identity(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let s = session(&ada, &SessionToken::generate());
    store.insert_session(&s).await.unwrap();
    let (found, identity) = store.session(s.id).await.unwrap().unwrap();
    assert_eq!(found, s);
    assert_eq!(identity, ada);
    assert!(store.session(SessionId::new()).await.unwrap().is_none());
});

conformance!(fn sessions_list_newest_first_with_ties_by_id_and_page_by_keyset_and_offset(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let base = now();
    let old = created(&ada, base, 30);
    let tied: Vec<Session> = (0..3).map(|_| created(&bob, base, 10)).collect();
    let new = created(&ada, base, 1);
    let mut all = vec![old.clone(), new.clone()];
    all.extend(tied.iter().cloned());
    store.insert_sessions(&all).await.unwrap();
    let mut tied_ids: Vec<SessionId> = tied.iter().map(|s| s.id).collect();
    tied_ids.sort();
    let mut expected = vec![new.id];
    expected.extend(tied_ids.iter().copied());
    expected.push(old.id);

    let t = now();
    assert_eq!(listed(&store, &query(t)).await, expected);
    let rows = store.list_sessions(&query(t)).await.unwrap();
    assert_eq!(rows[0].1, ada, "each session comes with its identity");
    assert_eq!(rows[1].1, bob);
    assert_eq!(store.count_matching_sessions(&query(t)).await.unwrap(), 5);

    // Keyset: two at a time, each page after the last one seen, to the end.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let q = SessionQuery { after, limit: 2, ..query(t) };
        let page = store.list_sessions(&q).await.unwrap();
        if page.is_empty() {
            break;
        }
        let (last, _) = page.last().unwrap();
        after = Some((last.created_at, last.id));
        seen.extend(page.into_iter().map(|(s, _)| s.id));
    }
    assert_eq!(seen, expected, "ties at one creation time are neither skipped nor repeated");

    // Offset pages.
    let q = SessionQuery { offset: 1, limit: 2, ..query(t) };
    assert_eq!(listed(&store, &q).await, expected[1..3]);
    let q = SessionQuery { offset: 4, limit: 2, ..query(t) };
    assert_eq!(listed(&store, &q).await, expected[4..]);
    let q = SessionQuery { offset: 5, ..query(t) };
    assert!(listed(&store, &q).await.is_empty());
});

conformance!(fn session_listings_filter_by_identity_exception_and_activity(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let t = now();
    let current = created(&ada, t, 1);
    let other = created(&ada, t, 2);
    let revoked = Session { active: false, ..created(&ada, t, 3) };
    let expired = Session { expires_at: t - Duration::seconds(1), ..created(&ada, t, 4) };
    let bobs = created(&bob, t, 5);
    let all = [current.clone(), other.clone(), revoked.clone(), expired.clone(), bobs.clone()];
    store.insert_sessions(&all).await.unwrap();

    let adas = SessionQuery { identity: Some(ada.id), ..query(t) };
    let ids = [current.id, other.id, revoked.id, expired.id];
    assert_eq!(listed(&store, &adas).await, ids);
    assert_eq!(store.count_matching_sessions(&adas).await.unwrap(), 4);
    let others = SessionQuery { except: Some(current.id), active: Some(true), ..adas.clone() };
    assert_eq!(listed(&store, &others).await, [other.id]);
    assert_eq!(store.count_matching_sessions(&others).await.unwrap(), 1);
    let inactive = SessionQuery { active: Some(false), ..query(t) };
    assert_eq!(listed(&store, &inactive).await, [revoked.id, expired.id]);
    assert_eq!(store.count_matching_sessions(&inactive).await.unwrap(), 2);
    let active = SessionQuery { active: Some(true), ..query(t) };
    assert_eq!(listed(&store, &active).await, [current.id, other.id, bobs.id]);
    // A session expiring exactly now still counts as active, as in Kratos's filter.
    let at_expiry = SessionQuery { active: Some(true), ..query(expired.expires_at) };
    assert!(listed(&store, &at_expiry).await.contains(&expired.id));
    let nobody = SessionQuery { identity: Some(IdentityId::new()), ..query(t) };
    assert!(listed(&store, &nobody).await.is_empty());
    assert_eq!(store.count_matching_sessions(&nobody).await.unwrap(), 0);
});

conformance!(fn revoking_a_session_by_id_checks_its_owner_and_keeps_the_first_end_time(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let s = session(&ada, &SessionToken::generate());
    store.insert_session(&s).await.unwrap();
    let later = now() + Duration::minutes(1);

    assert!(!store.revoke_session(s.id, Some(bob.id), later).await.unwrap(), "not bob's");
    assert_eq!(read(&store, &s).await, s);
    assert!(store.revoke_session(s.id, Some(ada.id), later).await.unwrap());
    let ended = Session { active: false, updated_at: later, ..s.clone() };
    assert_eq!(read(&store, &s).await, ended);
    let again = later + Duration::minutes(1);
    assert!(store.revoke_session(s.id, None, again).await.unwrap(), "already inactive still matches");
    assert_eq!(read(&store, &s).await, ended, "a repeat keeps when it ended");
    assert!(!store.revoke_session(SessionId::new(), None, again).await.unwrap());
});

conformance!(fn revoking_other_sessions_counts_every_other_session_of_the_identity(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let current = session(&ada, &SessionToken::generate());
    let other = session(&ada, &SessionToken::generate());
    let earlier = now() - Duration::minutes(5);
    let logged_out = Session { active: false, updated_at: earlier, ..session(&ada, &SessionToken::generate()) };
    let bobs = session(&bob, &SessionToken::generate());
    let all = [current.clone(), other.clone(), logged_out.clone(), bobs.clone()];
    store.insert_sessions(&all).await.unwrap();
    let later = now() + Duration::minutes(1);

    assert_eq!(store.revoke_other_sessions(ada.id, current.id, later).await.unwrap(), 2);
    assert_eq!(read(&store, &current).await, current);
    assert_eq!(read(&store, &other).await, Session { active: false, updated_at: later, ..other.clone() });
    assert_eq!(read(&store, &logged_out).await, logged_out);
    assert_eq!(read(&store, &bobs).await, bobs);
    assert_eq!(store.revoke_other_sessions(ada.id, current.id, later).await.unwrap(), 2);
});

conformance!(fn a_sessions_expiry_can_be_moved(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let s = session(&ada, &SessionToken::generate());
    store.insert_session(&s).await.unwrap();
    let later = now() + Duration::hours(1);
    let expiry = later + Duration::hours(24);
    assert!(store.set_session_expiry(s.id, expiry, later).await.unwrap());
    assert_eq!(read(&store, &s).await, Session { expires_at: expiry, updated_at: later, ..s.clone() });
    assert!(!store.set_session_expiry(SessionId::new(), expiry, later).await.unwrap());
});

conformance!(fn bulk_disable_counts_only_sessions_that_were_active(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let (eve, _) = create_user(&store, "eve@example.com").await;
    let adas = [session(&ada, &SessionToken::generate()), session(&ada, &SessionToken::generate())];
    let inactive = Session { active: false, ..session(&ada, &SessionToken::generate()) };
    let bobs = session(&bob, &SessionToken::generate());
    let eves: Vec<Session> = (0..3).map(|_| session(&eve, &SessionToken::generate())).collect();
    let mut all = adas.to_vec();
    all.extend([inactive.clone(), bobs.clone()]);
    all.extend(eves.iter().cloned());
    store.insert_sessions(&all).await.unwrap();
    let later = now() + Duration::minutes(1);

    let by_identity = SessionSelector::Identities(vec![ada.id, IdentityId::new()]);
    assert_eq!(store.disable_sessions(&by_identity, None, later).await.unwrap(), 2);
    assert_eq!(read(&store, &adas[0]).await, Session { active: false, updated_at: later, ..adas[0].clone() });
    assert_eq!(read(&store, &inactive).await, inactive, "already inactive: untouched");
    assert_eq!(store.disable_sessions(&by_identity, None, later).await.unwrap(), 0);

    let by_id = SessionSelector::Sessions(vec![bobs.id, adas[0].id, SessionId::new()]);
    assert_eq!(store.disable_sessions(&by_id, None, later).await.unwrap(), 1);
    assert!(!read(&store, &bobs).await.active);

    assert_eq!(store.disable_sessions(&SessionSelector::All, Some(2), later).await.unwrap(), 2);
    assert_eq!(store.disable_sessions(&SessionSelector::All, Some(2), later).await.unwrap(), 1);
    assert_eq!(store.disable_sessions(&SessionSelector::All, Some(2), later).await.unwrap(), 0);
    for s in &eves {
        assert!(!read(&store, s).await.active);
    }
    assert_eq!(store.count_sessions().await.unwrap(), 7, "disabled sessions are kept");
    let empty = SessionSelector::Sessions(Vec::new());
    assert_eq!(store.disable_sessions(&empty, None, later).await.unwrap(), 0);
});

conformance!(fn bulk_delete_removes_the_selected_sessions(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let adas = [session(&ada, &SessionToken::generate()), Session { active: false, ..session(&ada, &SessionToken::generate()) }];
    let bobs: Vec<Session> = (0..3).map(|_| session(&bob, &SessionToken::generate())).collect();
    let mut all = adas.to_vec();
    all.extend(bobs.iter().cloned());
    store.insert_sessions(&all).await.unwrap();

    let by_identity = SessionSelector::Identities(vec![ada.id]);
    assert_eq!(store.delete_sessions(&by_identity, None).await.unwrap(), 2, "inactive ones too");
    assert!(store.session(adas[1].id).await.unwrap().is_none());
    assert_eq!(store.delete_sessions(&by_identity, None).await.unwrap(), 0);

    let by_id = SessionSelector::Sessions(vec![bobs[0].id, SessionId::new()]);
    assert_eq!(store.delete_sessions(&by_id, None).await.unwrap(), 1);
    assert_eq!(store.delete_sessions(&SessionSelector::All, Some(1)).await.unwrap(), 1);
    assert_eq!(store.delete_sessions(&SessionSelector::All, Some(5)).await.unwrap(), 1);
    assert_eq!(store.count_sessions().await.unwrap(), 0);
    assert!(store.identity(bob.id).await.unwrap().is_some(), "identities stay");
    let empty = SessionSelector::Identities(Vec::new());
    assert_eq!(store.delete_sessions(&empty, None).await.unwrap(), 0);
});
