//! Identity listing filters (`ids`, organization) with keyset paging and counting, and the
//! lookup by external id.

use super::*;

conformance!(fn listing_identities_by_ids_pages_and_counts_only_those(store) {
    let mut all = Vec::new();
    for n in 0..5 {
        all.push(create_user(&store, &format!("ids{n}@example.com")).await.0);
    }
    all.sort_by_key(|i| i.id);
    let wanted = vec![all[0].id, all[2].id, all[4].id, IdentityId::new()];
    let by_ids = |after, limit| IdentityQuery { ids: wanted.clone(), after, limit, ..IdentityQuery::default() };

    assert_eq!(ids(&list(&store, by_ids(None, 10)).await), vec![all[0].id, all[2].id, all[4].id]);
    assert_eq!(ids(&list(&store, by_ids(None, 2)).await), vec![all[0].id, all[2].id]);
    assert_eq!(ids(&list(&store, by_ids(Some(all[2].id), 2)).await), vec![all[4].id]);
    assert_eq!(store.count_identities(&by_ids(None, 0)).await.unwrap(), 3);
    assert_eq!(
        store.count_identities(&IdentityQuery::default()).await.unwrap(),
        5,
        "no ids: no filter"
    );
});

conformance!(fn listing_identities_by_organization_matches_only_its_members(store) {
    let org = Uuid::new_v4();
    let mut members = Vec::new();
    for n in 0..3 {
        let mut member = identity(&format!("member{n}@example.com"));
        member.organization_id = Some(org);
        store.create_identity(&member, &[]).await.unwrap();
        members.push(member.id);
    }
    members.sort();
    create_user(&store, "outsider@example.com").await;
    let query = IdentityQuery { organization_id: Some(org), limit: 10, ..IdentityQuery::default() };
    assert_eq!(ids(&list(&store, query.clone()).await), members);
    assert_eq!(store.count_identities(&query).await.unwrap(), 3);
    let other = IdentityQuery { organization_id: Some(Uuid::new_v4()), limit: 10, ..IdentityQuery::default() };
    assert!(list(&store, other).await.is_empty());
});

conformance!(fn an_identity_is_found_by_its_external_id_only(store) {
    let mut linked = identity("linked@example.com");
    linked.external_id = Some("crm/42".into());
    store.create_identity(&linked, &[]).await.unwrap();
    create_user(&store, "unlinked@example.com").await;

    assert_eq!(store.identity_by_external_id("crm/42").await.unwrap(), Some(linked.clone()));
    assert_eq!(store.identity_by_external_id("crm/4").await.unwrap(), None);
    assert_eq!(store.identity_by_external_id("CRM/42").await.unwrap(), None, "exact match");
    assert_eq!(store.identity_by_external_id("").await.unwrap(), None);

    linked.external_id = None;
    store.update_identity(&linked, None).await.unwrap();
    assert_eq!(store.identity_by_external_id("crm/42").await.unwrap(), None);
});
