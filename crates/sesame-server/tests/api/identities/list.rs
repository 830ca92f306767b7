//! Listing identities: keyset pagination and filters through the SDK; the legacy pagination's
//! `Link` header on the wire.

use super::*;

api_test!(
    listing_identities_pages_through_link_headers,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let mut created = Vec::new();
        for i in 0..5 {
            created.push(add_user(&sdk, &format!("user{i}@example.com")).await);
        }
        created.sort();

        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut request = sdk.list_identities().page_size(2);
            if let Some(token) = &token {
                request = request.page_token(token);
            }
            let page = request.await.unwrap();
            assert_eq!(page.status, StatusCode::OK);
            let link = page.headers.get("link");
            let link = link.expect("every page carries a Link header");
            pages += 1;
            let first = link_rel(link.to_str().unwrap(), "first").expect("rel=first");
            assert!(first.starts_with("/admin/identities?"), "{first}");
            assert!(first.contains("page_size=2"), "{first}");
            assert!(page.data.len() <= 2);
            for item in &page.data {
                let credentials = item.credentials.as_ref().unwrap();
                assert_eq!(credentials["password"].config, None);
            }
            seen.extend(page.data.iter().map(|i| i.id));
            match page.next_page_token() {
                Some(next) => token = Some(next),
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
        let sdk = app.sdk();
        for i in 0..4 {
            add_user(&sdk, &format!("even{i}@example.com")).await;
        }
        let page = sdk.list_identities().page_size(2).await.unwrap();
        assert_eq!(page.data.len(), 2);
        let next = page.next_page_token().expect("a second page exists");
        let page = sdk
            .list_identities()
            .page_size(2)
            .page_token(&next)
            .await
            .unwrap();
        assert_eq!(page.data.len(), 2);
        assert!(page.headers.contains_key("link"));
        assert_eq!(page.link("next"), None, "nothing follows the last page");
    }
);

api_test!(
    listing_identities_with_a_crafted_page_token_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let err = app
            .sdk()
            .list_identities()
            .page_token("crafted")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let ErrorKind::Api(error) = &err.kind else {
            panic!("expected an API error, got {err:?}");
        };
        assert_eq!(
            error.reason.as_deref(),
            Some("The page token is invalid, do not craft your own page tokens")
        );
    }
);

api_test!(
    listing_identities_filters_by_credentials_identifier_case_insensitively,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let alice = add_user(&sdk, "alice@example.com").await;
        add_user(&sdk, "bob@example.com").await;
        let list = sdk
            .list_identities()
            .credentials_identifier("ALICE@example.com")
            .await
            .unwrap();
        assert_eq!(list.status, StatusCode::OK);
        let ids: Vec<Uuid> = list.data.iter().map(|i| i.id).collect();
        assert_eq!(ids, [alice]);
        let credentials = list.data[0].credentials.as_ref().unwrap();
        assert_eq!(credentials["password"].identifiers, ["alice@example.com"]);
        let list = sdk
            .list_identities()
            .credentials_identifier("nobody@example.com")
            .await
            .unwrap();
        assert_eq!(list.data, []);
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
