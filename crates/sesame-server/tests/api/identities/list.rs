//! Listing identities: keyset and legacy pagination, filters.

use super::*;

api_test!(
    listing_identities_pages_through_link_headers,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut created = Vec::new();
        for i in 0..5 {
            created.push(create_user(&app, &format!("user{i}@example.com")).await);
        }
        created.sort();

        let mut seen = Vec::new();
        let mut path = "/admin/identities?page_size=2".to_owned();
        let mut pages = 0;
        loop {
            let (link, page) = get_json(&app, &path).await;
            let link = link.expect("every page carries a Link header");
            pages += 1;
            let first = link_rel(&link, "first").expect("rel=first");
            assert!(first.starts_with("/admin/identities?"), "{first}");
            assert!(first.contains("page_size=2"), "{first}");
            let page_ids = ids(&page);
            assert!(page_ids.len() <= 2);
            for item in page.as_array().unwrap() {
                assert!(item["credentials"]["password"].get("config").is_none());
            }
            seen.extend(page_ids);
            match link_rel(&link, "next") {
                Some(next) => path = next,
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, created, "every identity once, ordered by id");
    }
);

api_test!(
    the_last_full_page_of_identities_has_no_next_link,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for i in 0..4 {
            create_user(&app, &format!("even{i}@example.com")).await;
        }
        let (link, page) = get_json(&app, "/admin/identities?page_size=2").await;
        assert_eq!(ids(&page).len(), 2);
        let next = link_rel(&link.unwrap(), "next").expect("a second page exists");
        let (link, page) = get_json(&app, &next).await;
        assert_eq!(ids(&page).len(), 2);
        assert_eq!(
            link_rel(&link.unwrap(), "next"),
            None,
            "nothing follows the last page"
        );
    }
);

api_test!(
    listing_identities_with_a_crafted_page_token_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::GET, "/admin/identities?page_token=crafted")
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "The page token is invalid, do not craft your own page tokens"
        );
    }
);

api_test!(
    listing_identities_filters_by_credentials_identifier_case_insensitively,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let alice = create_user(&app, "alice@example.com").await;
        create_user(&app, "bob@example.com").await;
        let (_, list) = get_json(
            &app,
            "/admin/identities?credentials_identifier=ALICE@example.com",
        )
        .await;
        assert_eq!(ids(&list), [alice]);
        assert_eq!(
            list[0]["credentials"]["password"]["identifiers"],
            json!(["alice@example.com"])
        );
        let (_, list) = get_json(
            &app,
            "/admin/identities?credentials_identifier=nobody@example.com",
        )
        .await;
        assert_eq!(list, json!([]));
    }
);

api_test!(
    listing_identities_with_legacy_page_and_per_page,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut created = Vec::new();
        for i in 0..5 {
            created.push(create_user(&app, &format!("legacy{i}@example.com")).await);
        }
        created.sort();
        let (link, first) = get_json(&app, "/admin/identities?page=0&per_page=2").await;
        assert_eq!(ids(&first), created[0..2]);
        let res = app
            .admin(Method::GET, "/admin/identities?page=0&per_page=2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-total-count"], "5");
        assert_eq!(
            link.as_deref().unwrap(),
            "</admin/identities?page=0&per_page=2>; rel=\"first\",\
             </admin/identities?page=1&per_page=2>; rel=\"next\",\
             </admin/identities?page=2&per_page=2>; rel=\"last\""
        );
        let (_, second) = get_json(&app, "/admin/identities?page=1&per_page=2").await;
        assert_eq!(ids(&second), created[2..4]);
        let (link, last) = get_json(&app, "/admin/identities?page=2&per_page=2").await;
        assert_eq!(ids(&last), created[4..5]);
        assert_eq!(
            link.as_deref().unwrap(),
            "</admin/identities?page=0&per_page=2>; rel=\"first\",\
             </admin/identities?page=1&per_page=2>; rel=\"prev\",\
             </admin/identities?page=2&per_page=2>; rel=\"last\""
        );
        let (_, beyond) = get_json(&app, "/admin/identities?page=3&per_page=2").await;
        assert_eq!(beyond, json!([]));
        let res = app
            .admin(Method::GET, "/admin/identities?page=abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
);
