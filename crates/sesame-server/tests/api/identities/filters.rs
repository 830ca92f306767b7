//! Listing filters (`ids`, `credentials_identifier`, `organization_id`), each with both
//! paginations and its `Link` headers followed to the end; `GET /admin/identities/by/external/…`.

use super::*;

/// Follows keyset `next` links from `path` to the end: every page's ids, in order.
async fn follow_keyset(app: &TestApp, path: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let (link, page) = get_json(app, &path).await;
        let link = link.expect("a Link header on every page");
        assert!(link_rel(&link, "first").is_some(), "{link}");
        pages.push(ids(&page));
        next = link_rel(&link, "next");
        assert!(pages.len() < 10, "pagination does not end");
    }
    pages
}

async fn users(app: &TestApp, n: usize) -> Vec<String> {
    let mut created = Vec::new();
    for i in 0..n {
        created.push(create_user(app, &format!("filter{i}@example.com")).await);
    }
    created.sort();
    created
}

api_test!(
    the_ids_filter_pages_with_keyset_links_to_the_end,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let all = users(&app, 5).await;
        let wanted = [&all[0], &all[2], &all[3], &all[4]];
        let query: String = wanted
            .iter()
            .map(|id| format!("ids={id}&"))
            .chain([format!("ids={}&", Uuid::new_v4())])
            .collect();
        let pages = follow_keyset(&app, &format!("/admin/identities?{query}page_size=3")).await;
        assert_eq!(
            pages,
            [
                vec![all[0].clone(), all[2].clone(), all[3].clone()],
                vec![all[4].clone()]
            ],
            "only the named identities, unknown ids skipped, the filter kept in the links"
        );

        let sdk = app.sdk();
        let listed = sdk
            .list_identities()
            .ids(&[all[1].parse().unwrap(), all[4].parse().unwrap()])
            .await
            .unwrap();
        let got: Vec<String> = listed.data.iter().map(|i| i.id.to_string()).collect();
        assert_eq!(got, [all[1].clone(), all[4].clone()]);
    }
);

api_test!(
    the_ids_filter_works_with_legacy_pagination,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let all = users(&app, 4).await;
        let query = format!("ids={}&ids={}&ids={}", all[0], all[1], all[3]);
        let res = app
            .admin(
                Method::GET,
                &format!("/admin/identities?{query}&page=0&per_page=2"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-total-count"], "3");
        let link = res.headers()["link"].to_str().unwrap().to_owned();
        assert_eq!(ids(&expect_json(res, StatusCode::OK).await), all[0..2]);
        let next = link_rel(&link, "next").expect("a next page");
        assert_eq!(
            next,
            format!("/admin/identities?{query}&page=1&per_page=2"),
            "the filter is kept in the links"
        );
        let (link, last) = get_json(&app, &next).await;
        assert_eq!(ids(&last), [all[3].clone()]);
        assert_eq!(link_rel(&link.unwrap(), "next"), None);
    }
);

api_test!(
    the_credentials_identifier_filter_works_with_both_paginations,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let all = users(&app, 3).await;
        let one = create_user(&app, "wanted@example.com").await;
        let pages = follow_keyset(
            &app,
            "/admin/identities?credentials_identifier=WANTED%40example.com&page_size=1",
        )
        .await;
        assert_eq!(pages, [vec![one.clone()]]);
        let res = app
            .admin(
                Method::GET,
                "/admin/identities?credentials_identifier=wanted%40example.com&page=0&per_page=1",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-total-count"], "1");
        assert_eq!(ids(&expect_json(res, StatusCode::OK).await), [one]);
        let (_, everyone) = get_json(&app, "/admin/identities?page_size=10").await;
        assert_eq!(ids(&everyone).len(), all.len() + 1);
    }
);

api_test!(
    the_organization_filter_lists_an_organizations_identities,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let org = Uuid::new_v4();
        let mut members = Vec::new();
        for i in 0..3 {
            let body = json!({"traits": {"email": format!("member{i}@example.com")}, "organization_id": org});
            members.push(
                create_identity(&app, body).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        members.sort();
        create_user(&app, "outsider@example.com").await;
        let pages = follow_keyset(
            &app,
            &format!("/admin/identities?organization_id={org}&page_size=2"),
        )
        .await;
        assert_eq!(pages.concat(), members);
        let (_, none) = get_json(
            &app,
            &format!("/admin/identities?organization_id={}", Uuid::new_v4()),
        )
        .await;
        assert_eq!(none, json!([]));
    }
);

api_test!(bad_or_combined_filters_answer_400, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let id = Uuid::new_v4();
    let too_many: String = (0..501)
        .map(|_| format!("ids={}&", Uuid::new_v4()))
        .collect();
    for (query, reason) in [
        (
            "ids=nope".to_owned(),
            "Invalid UUID value `nope` for parameter `ids`.",
        ),
        (
            format!("ids={id}&ids="),
            "Invalid UUID value `` for parameter `ids`.",
        ),
        (too_many, "The number of ids to filter must not exceed 500."),
        (
            "organization_id=acme".to_owned(),
            "Invalid UUID value `acme` for parameter `organization_id`.",
        ),
        (
            format!("ids={id}&credentials_identifier=a%40example.com"),
            "You cannot combine multiple filters in this API",
        ),
        (
            format!("organization_id={id}&credentials_identifier=a%40example.com"),
            "You cannot combine multiple filters in this API",
        ),
    ] {
        let res = app
            .admin(Method::GET, &format!("/admin/identities?{query}"))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["reason"], reason, "{query}");
    }
});

api_test!(
    an_identity_is_found_by_its_external_id,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let external = "crm/42 ünï";
        let body = json!({"traits": {"email": "external@example.com"}, "external_id": external,
            "credentials": {"password": {"config": {"password": PASSWORD}}}});
        let created = create_identity(&app, body).await;
        let found = sdk.get_identity_by_external_id(external).await.unwrap();
        assert_eq!(found.status, StatusCode::OK);
        assert_eq!(found.data.id.to_string(), created["id"].as_str().unwrap());
        assert_eq!(found.data.external_id.as_deref(), Some(external));
        let password = &found.data.credentials.as_ref().unwrap()["password"];
        assert_eq!(password.config, None);
        let declassified = sdk
            .get_identity_by_external_id(external)
            .include_credential("password")
            .await
            .unwrap();
        let password = &declassified.data.credentials.as_ref().unwrap()["password"];
        assert!(password.config.as_ref().unwrap()["hashed_password"].is_string());

        let err = sdk.get_identity_by_external_id("crm/43").await.unwrap_err();
        assert_not_found_refusal(&err);
        let res = app
            .admin(Method::GET, "/admin/identities/by/external/")
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "The external ID must not be empty."
        );
    }
);
