//! Admin identities (admin port): create with password import, get, list with pagination and
//! filters, replace, delete, the `/admin` prefix, and the cross-port redirects.

use argon2::password_hash::{PasswordHasher, SaltString};
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
const NOT_FOUND_BODY: &str = "{\"error\":{\"code\":404,\"status\":\"Not Found\",\"message\":\"Unable to locate the resource\"}}\n";
const CONFLICT_BODY: &str = "{\"error\":{\"code\":409,\"status\":\"Conflict\",\"reason\":\"This identity conflicts with another identity that already exists.\",\"message\":\"The resource could not be created due to a conflict\"}}\n";

async fn post_identity(app: &TestApp, body: Value) -> Response {
    app.admin(Method::POST, "/admin/identities")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates an identity through the admin API and returns its body.
async fn create_identity(app: &TestApp, body: Value) -> Value {
    expect_json(post_identity(app, body).await, StatusCode::CREATED).await
}

async fn create_user(app: &TestApp, email: &str) -> String {
    let body = json!({"traits": {"email": email}, "credentials": {"password": {"config": {"password": PASSWORD}}}});
    create_identity(app, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get_json(app: &TestApp, path: &str) -> (Option<String>, Value) {
    let res = app.admin(Method::GET, path).send().await.unwrap();
    let link = res
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    (link, expect_json(res, StatusCode::OK).await)
}

/// The URL of the `rel` entry of a `Link` header.
fn link_rel(link: &str, rel: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        (params.trim() == format!("rel=\"{rel}\"")).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn assert_not_found(res: Response) {
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
}

async fn login_status(app: &TestApp, identifier: &str, password: &str) -> StatusCode {
    app.submit_login(json!({"method": "password", "identifier": identifier, "password": password}))
        .await
        .status()
}

fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

fn argon2id_hash(password: &str) -> String {
    let params = argon2::Params::new(1024, 1, 1, None).unwrap();
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    hasher
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

api_test!(
    creating_an_identity_answers_201_with_location_and_credentials_without_config,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = post_identity(
            &app,
            json!({
                "schema_id": "default",
                "traits": {"email": "Created@Example.com", "name": {"first": "Ada"}},
                "credentials": {"password": {"config": {"password": PASSWORD}}},
                "metadata_public": {"plan": "free"},
                "metadata_admin": {"note": "vip"}
            }),
        )
        .await;
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let body = expect_json(res, StatusCode::CREATED).await;
        let id = body["id"].as_str().unwrap();
        assert_eq!(location, format!("{}/identities/{id}", app.admin_url));
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "credentials",
                "schema_id",
                "schema_url",
                "state",
                "state_changed_at",
                "traits",
                "verifiable_addresses",
                "recovery_addresses",
                "metadata_public",
                "metadata_admin",
                "created_at",
                "updated_at",
                "organization_id"
            ]
        );
        assert_eq!(body["schema_id"], "default");
        assert_eq!(body["state"], "active");
        assert_eq!(
            body["traits"]["email"], "Created@Example.com",
            "traits are stored as given"
        );
        assert_eq!(body["credentials"]["password"]["type"], "password");
        assert_eq!(
            body["credentials"]["password"]["identifiers"],
            json!(["created@example.com"])
        );
        assert!(
            body["credentials"]["password"].get("config").is_none(),
            "create never shows config"
        );
        assert_eq!(body["metadata_public"], json!({"plan": "free"}));
        assert_eq!(body["metadata_admin"], json!({"note": "vip"}));
        assert_eq!(body["organization_id"], Value::Null);
        assert_eq!(
            body["verifiable_addresses"][0]["value"],
            "created@example.com"
        );
        assert_eq!(body["verifiable_addresses"][0]["verified"], false);
        assert_eq!(body["verifiable_addresses"][0]["status"], "pending");
        assert_eq!(
            body["recovery_addresses"][0]["value"],
            "created@example.com"
        );
    }
);

api_test!(
    creating_an_identity_without_credentials_or_metadata_omits_them,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let body = create_identity(
            &app,
            json!({"traits": {"email": "bare@example.com"}, "state": "inactive"}),
        )
        .await;
        assert_eq!(body["state"], "inactive");
        assert_eq!(body["credentials"], json!({}));
        assert_eq!(body["metadata_public"], Value::Null);
        assert!(
            body.get("metadata_admin").is_none(),
            "metadata_admin is omitted when empty"
        );
    }
);

api_test!(
    creating_an_identity_with_traits_that_fail_the_schema_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for traits in [
            json!({"email": 42}),
            json!({}),
            json!({"email": "x@example.com", "unknown": true}),
        ] {
            let res = post_identity(&app, json!({"traits": traits})).await;
            assert_eq!(res.headers()["content-type"], "application/json");
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            let reason = body["error"]["reason"].as_str().unwrap();
            assert!(reason.starts_with("I[#/traits"), "{traits}: {reason}");
            assert_eq!(body["error"]["code"], 400);
        }
        let (_, list) = get_json(&app, "/admin/identities").await;
        assert_eq!(list, json!([]), "nothing was stored");
    }
);

api_test!(
    creating_an_identity_with_an_unknown_schema_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = post_identity(
            &app,
            json!({"schema_id": "nope", "traits": {"email": "x@example.com"}}),
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "Unable to find JSON Schema ID: nope"
        );
    }
);

api_test!(
    creating_an_identity_with_an_unknown_field_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for field in ["id", "schema_url"] {
            let mut body = json!({"traits": {"email": "x@example.com"}});
            body[field] = json!("00000000-0000-4000-8000-000000000000");
            let res = post_identity(&app, body).await;
            assert_eq!(res.headers()["content-type"], "application/json");
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(
                body["error"]["message"],
                format!("json: unknown field \"{field}\"")
            );
        }
    }
);

api_test!(
    creating_an_identity_with_malformed_json_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::POST, "/admin/identities")
            .header("Content-Type", "application/json")
            .body("{\"traits\":")
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["status"], "Bad Request");
    }
);

api_test!(
    creating_an_identity_with_a_taken_email_answers_409,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        create_user(&app, "taken@example.com").await;
        let res = post_identity(&app, json!({"traits": {"email": "TAKEN@example.com"}, "credentials": {"password": {"config": {"password": PASSWORD}}}})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.text().await.unwrap(), CONFLICT_BODY);

        // Without credentials the verification/recovery address still collides.
        let res = post_identity(&app, json!({"traits": {"email": "taken@example.com"}})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
    }
);

api_test!(
    an_imported_bcrypt_hash_logs_in_and_is_rehashed_to_argon2id,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let hash = bcrypt_hash("imported-bcrypt-password");
        let body = create_identity(
        &app,
        json!({"traits": {"email": "bcrypt@example.com"}, "credentials": {"password": {"config": {"hashed_password": hash}}}}),
    )
    .await;
        assert!(body["credentials"]["password"].get("config").is_none());
        let id = body["id"].as_str().unwrap();
        assert_eq!(
            login_status(&app, "bcrypt@example.com", "wrong-password-entirely").await,
            StatusCode::BAD_REQUEST
        );
        app.login("bcrypt@example.com", "imported-bcrypt-password")
            .await;

        let (_, identity) = get_json(
            &app,
            &format!("/admin/identities/{id}?include_credential=password"),
        )
        .await;
        let stored = identity["credentials"]["password"]["config"]["hashed_password"]
            .as_str()
            .unwrap();
        assert!(
            stored.starts_with("$argon2id$"),
            "re-hashed on login (DESIGN.md difference 5): {stored}"
        );
        app.login("bcrypt@example.com", "imported-bcrypt-password")
            .await;
    }
);

api_test!(an_imported_argon2id_hash_logs_in, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let hash = argon2id_hash("imported-argon2-password");
    create_identity(
        &app,
        json!({"traits": {"email": "argon@example.com"}, "credentials": {"password": {"config": {"hashed_password": hash}}}}),
    )
    .await;
    app.login("argon@example.com", "imported-argon2-password")
        .await;
    assert_eq!(
        login_status(&app, "argon@example.com", "imported-argon2-passwort").await,
        StatusCode::BAD_REQUEST
    );
});

api_test!(
    an_imported_hash_of_unknown_format_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for hash in [
            "$md5$x",
            "plaintext",
            "$2b$04$short",
            "$argon2id$garbage",
            "$argon2id$v=19$m=1024,t=1,p=1",
        ] {
            let res = post_identity(
            &app,
            json!({"traits": {"email": "md5@example.com"}, "credentials": {"password": {"config": {"hashed_password": hash}}}}),
        )
        .await;
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(
                body["error"]["reason"],
                "The imported password does not match any known hash format.",
                "{hash}"
            );
            assert!(
                !body.to_string().contains("$2b$04$short"),
                "the hash is not echoed"
            );
        }
        let (_, list) = get_json(&app, "/admin/identities").await;
        assert_eq!(list, json!([]));
    }
);

api_test!(
    a_plaintext_password_set_by_the_admin_logs_in,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        // Admin-set passwords bypass the password policy, as in Kratos.
        create_identity(
        &app,
        json!({"traits": {"email": "plain@example.com"}, "credentials": {"password": {"config": {"password": "short"}}}}),
    )
    .await;
        let token = app.login("PLAIN@example.com", "short").await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
    }
);

api_test!(
    getting_an_identity_answers_200_and_declassifies_only_requested_credentials,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "get@example.com").await;
        let (_, body) = get_json(&app, &format!("/admin/identities/{id}")).await;
        assert_eq!(body["id"], id.as_str());
        assert_eq!(
            body["credentials"]["password"]["identifiers"],
            json!(["get@example.com"])
        );
        assert!(body["credentials"]["password"].get("config").is_none());

        let (_, body) = get_json(
            &app,
            &format!("/admin/identities/{id}?include_credential=password"),
        )
        .await;
        let hash = body["credentials"]["password"]["config"]["hashed_password"]
            .as_str()
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");

        let res = app
            .admin(
                Method::GET,
                &format!("/admin/identities/{id}?include_credential=bogus"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
);

api_test!(
    getting_an_unknown_or_malformed_identity_id_answers_404,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let unknown = uuid::Uuid::new_v4();
        assert_not_found(
            app.admin(Method::GET, &format!("/admin/identities/{unknown}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_not_found(
            app.admin(Method::GET, "/admin/identities/not-a-uuid")
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
);

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

api_test!(
    replacing_an_identity_changes_its_login_identifier,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "old@example.com").await;
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "new@example.com"}, "metadata_public": {"v": 2}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["traits"], json!({"email": "new@example.com"}));
        assert_eq!(
            body["credentials"]["password"]["identifiers"],
            json!(["new@example.com"])
        );
        assert!(body["credentials"]["password"].get("config").is_none());
        assert_eq!(body["verifiable_addresses"][0]["value"], "new@example.com");
        assert_eq!(body["metadata_public"], json!({"v": 2}));

        app.login("new@example.com", PASSWORD).await;
        assert_eq!(
            login_status(&app, "old@example.com", PASSWORD).await,
            StatusCode::BAD_REQUEST
        );
        let (_, listed) = get_json(
            &app,
            "/admin/identities?credentials_identifier=old@example.com",
        )
        .await;
        assert_eq!(listed, json!([]));
    }
);

api_test!(
    replacing_an_identity_replaces_its_metadata,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let body = create_identity(
        &app,
        json!({"traits": {"email": "meta@example.com"}, "metadata_public": {"a": 1}, "metadata_admin": {"b": 2}}),
    )
    .await;
        let id = body["id"].as_str().unwrap();
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "meta@example.com"}}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["metadata_public"], Value::Null);
        assert!(body.get("metadata_admin").is_none());
        assert_eq!(body["state"], "active", "state is kept when not given");
    }
);

api_test!(
    deactivating_an_identity_ends_its_sessions_for_whoami,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "deactivate@example.com").await;
        let token = app.login("deactivate@example.com", PASSWORD).await;
        let before = get_json(&app, &format!("/admin/identities/{id}")).await.1;
        app.clock.advance(chrono::Duration::seconds(5));
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "deactivate@example.com"}, "state": "inactive"}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["state"], "inactive");
        assert_ne!(
            body["state_changed_at"], before["state_changed_at"],
            "a state change is timestamped"
        );
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
    }
);

api_test!(
    replacing_an_identity_with_invalid_traits_or_a_taken_email_fails,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "first@example.com").await;
        create_user(&app, "second@example.com").await;
        let path = format!("/admin/identities/{id}");
        let res = app
            .admin(Method::PUT, &path)
            .json(&json!({"traits": {"email": 1}}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert!(
            body["error"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("I[#/traits")
        );
        let res = app
            .admin(Method::PUT, &path)
            .json(&json!({"traits": {"email": "second@example.com"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(res.text().await.unwrap(), CONFLICT_BODY);
        app.login("first@example.com", PASSWORD).await;
    }
);

api_test!(
    replacing_an_unknown_identity_answers_404,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let unknown = uuid::Uuid::new_v4();
        let body = json!({"traits": {"email": "ghost@example.com"}});
        assert_not_found(
            app.admin(Method::PUT, &format!("/admin/identities/{unknown}"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_not_found(
            app.admin(Method::PUT, "/admin/identities/not-a-uuid")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
);

api_test!(
    deleting_an_identity_answers_204_then_404_and_ends_its_sessions,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "delete@example.com").await;
        let token = app.login("delete@example.com", PASSWORD).await;
        let path = format!("/admin/identities/{id}");
        let res = app.admin(Method::DELETE, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.text().await.unwrap(), "");
        assert_not_found(app.admin(Method::GET, &path).send().await.unwrap()).await;
        assert_not_found(app.admin(Method::DELETE, &path).send().await.unwrap()).await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
        // The email is free again.
        create_user(&app, "delete@example.com").await;
    }
);

api_test!(
    admin_paths_work_without_the_admin_prefix_on_the_admin_port,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::POST, "/identities")
            .json(&json!({"traits": {"email": "prefix@example.com"}}))
            .send()
            .await
            .unwrap();
        let created = expect_json(res, StatusCode::CREATED).await;
        let id = created["id"].as_str().unwrap();
        let (_, list) = get_json(&app, "/identities").await;
        assert_eq!(ids(&list), [id]);
        let (_, one) = get_json(&app, &format!("/identities/{id}")).await;
        assert_eq!(one["id"], id);
        assert_eq!(
            app.admin(Method::DELETE, &format!("/identities/{id}"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
    }
);

api_test!(
    admin_paths_on_the_public_port_redirect_to_the_admin_port_with_307,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/admin/identities?x=1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities?x=1", app.admin_url).as_str()
        );
        let res = app
            .public(Method::GET, "/identities?page_size=2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities?page_size=2", app.admin_url).as_str()
        );
        let id = uuid::Uuid::new_v4();
        let res = app
            .public(Method::DELETE, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities/{id}", app.admin_url).as_str()
        );
    }
);

api_test!(
    whoami_on_the_admin_port_redirects_to_the_public_port_with_307,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::GET, "/admin/sessions/whoami")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/sessions/whoami", app.public_url).as_str()
        );
        let res = app
            .admin(Method::GET, "/sessions/whoami?tokenize_as=x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/sessions/whoami?tokenize_as=x", app.public_url).as_str()
        );
    }
);

api_test!(
    replacing_an_identity_with_a_new_password_changes_its_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "repassword@example.com").await;
        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({
                "traits": {"email": "repassword@example.com"},
                "credentials": {"password": {"config": {"password": "a-brand-new-passphrase-7"}}}
            }))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert!(
            body["credentials"]["password"].get("config").is_none(),
            "update never shows config"
        );
        app.login("repassword@example.com", "a-brand-new-passphrase-7")
            .await;
        assert_eq!(
            login_status(&app, "repassword@example.com", PASSWORD).await,
            StatusCode::BAD_REQUEST
        );
    }
);

api_test!(
    creating_an_identity_with_an_invalid_state_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = post_identity(
            &app,
            json!({"traits": {"email": "state@example.com"}, "state": "frozen"}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()["content-type"], "application/json");
    }
);
