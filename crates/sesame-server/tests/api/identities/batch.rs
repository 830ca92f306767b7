//! `PATCH /admin/identities`: batch create with one result per item, imported hashes included; a
//! bad item fails alone; the limits and a malformed body fail the whole request.

use super::*;
use sesame_testkit::sesame_client::sesame_types::{
    BatchPatchAction, IdentityPatch, PatchIdentitiesBody,
};

fn item(body: Value) -> Value {
    json!({"create": body})
}

async fn batch_raw(app: &TestApp, body: &Value) -> Response {
    app.admin(Method::PATCH, "/admin/identities")
        .json(body)
        .send()
        .await
        .unwrap()
}

api_test!(
    a_batch_creates_the_good_items_and_reports_each_bad_one,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let ids: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
        let create = |value: Value| serde_json::from_value(value).unwrap();
        let patch = |i: usize, value: Value| IdentityPatch {
            create: Some(create(value)),
            patch_id: Some(ids[i]),
        };
        let body = PatchIdentitiesBody {
            identities: vec![
                patch(
                    0,
                    json!({"traits": {"email": "bcrypt@example.com"},
                    "credentials": {"password": {"config": {"hashed_password": bcrypt_hash(PASSWORD)}}}}),
                ),
                patch(1, json!({"traits": {"email": 7}})),
                patch(2, json!({"traits": {"email": "BCRYPT@example.com"}})),
                patch(
                    3,
                    json!({"traits": {"email": "badhash@example.com"},
                    "credentials": {"password": {"config": {"hashed_password": "$md4$nope"}}}}),
                ),
                patch(
                    4,
                    json!({"traits": {"email": "argon@example.com"}, "state": "inactive",
                    "credentials": {"password": {"config": {"hashed_password": argon2id_hash(PASSWORD)}}}}),
                ),
                patch(
                    5,
                    json!({"traits": {"email": "plain@example.com"}, "external_id": "ext-5",
                    "credentials": {"password": {"config": {"password": PASSWORD}}}}),
                ),
                IdentityPatch {
                    create: None,
                    patch_id: None,
                },
            ],
        };
        let res = sdk.batch_patch_identities(&body).await.unwrap();
        assert_eq!(res.status, StatusCode::OK);
        let results = &res.data.identities;
        assert_eq!(results.len(), 7);
        let actions: Vec<BatchPatchAction> = results.iter().map(|r| r.action).collect();
        use BatchPatchAction::{Create, Error};
        assert_eq!(
            actions,
            [Create, Error, Error, Error, Create, Create, Error]
        );
        for (i, result) in results.iter().take(6).enumerate() {
            assert_eq!(result.patch_id, Some(ids[i]), "item {i}");
        }
        let error = |i: usize| results[i].error.clone().unwrap();
        assert_eq!(error(1).code, Some(400));
        assert!(error(1).reason.unwrap().starts_with("I[#/traits"));
        assert_eq!(error(2).code, Some(409));
        assert_eq!(error(2).status.as_deref(), Some("Conflict"));
        assert_eq!(
            error(2).message,
            "Unable to insert or update resource because a resource with that value exists already"
        );
        assert_eq!(
            error(3).reason.as_deref(),
            Some("The imported password does not match any known hash format.")
        );
        assert_eq!(results[6].patch_id, None);
        assert_eq!(error(6).code, Some(400));

        // The created identities exist as their bodies said, and their passwords sign in.
        let created = |i: usize| results[i].identity.unwrap();
        let listed = sdk
            .list_identities()
            .ids(&[created(0), created(4), created(5)])
            .await
            .unwrap();
        assert_eq!(listed.data.len(), 3);
        assert!(results[1].identity.is_none());
        log_in(&sdk, "bcrypt@example.com", PASSWORD).await;
        log_in(&sdk, "plain@example.com", PASSWORD).await;
        let inactive = sdk.get_identity(created(4)).await.unwrap().data;
        assert_eq!(inactive.state, IdentityState::Inactive);
        let by_external = sdk.get_identity_by_external_id("ext-5").await.unwrap();
        assert_eq!(by_external.data.id, created(5));
        let all = sdk.list_identities().await.unwrap().data;
        assert_eq!(all.len(), 3, "nothing of the failed items was stored");
    }
);

api_test!(
    a_batch_answers_each_item_in_kratos_shape,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let patch_id = Uuid::new_v4();
        let body = json!({"identities": [
            {"create": {"traits": {"email": "shape@example.com"}}, "patch_id": patch_id},
            item(json!({"traits": {"email": "shape@example.com"}}))
        ]});
        let res = batch_raw(&app, &body).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let text = res.text().await.unwrap();
        let got: Value = serde_json::from_str(&text).unwrap();
        let id = got["identities"][0]["identity"].as_str().unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"identities\":[{{\"action\":\"create\",\"identity\":\"{id}\",\"patch_id\":\"{patch_id}\"}},\
                 {{\"action\":\"error\",\"error\":{{\"code\":409,\"status\":\"Conflict\",\
                 \"message\":\"Unable to insert or update resource because a resource with that value exists already\"}}}}]}}\n"
            )
        );

        let res = batch_raw(&app, &json!({"identities": []})).await;
        assert_eq!(
            expect_json(res, StatusCode::OK).await,
            json!({"identities": []})
        );
        let res = batch_raw(&app, &json!({})).await;
        assert_eq!(
            expect_json(res, StatusCode::OK).await,
            json!({"identities": []})
        );
    }
);

api_test!(
    a_batch_over_the_limits_or_malformed_fails_whole,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let many: Vec<Value> = (0..1001)
            .map(|i| item(json!({"traits": {"email": format!("u{i}@example.com")}})))
            .collect();
        let res = batch_raw(&app, &json!({"identities": many})).await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "The maximum number of identities per request that can be created or deleted at once is 1000."
        );

        let plaintext: Vec<Value> = (0..201)
            .map(|i| {
                item(json!({"traits": {"email": format!("p{i}@example.com")},
                    "credentials": {"password": {"config": {"password": PASSWORD}}}}))
            })
            .collect();
        let res = batch_raw(&app, &json!({"identities": plaintext})).await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "The maximum number of identities per request that can be created with a plaintext password is 200."
        );

        let res = batch_raw(
            &app,
            &json!({"identities": [item(json!({"traits": {"email": "x@example.com"}, "id": "nope"}))]}),
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["message"], "json: unknown field \"id\"");
        let res = batch_raw(&app, &json!({"identities": [{"delete": {}}]})).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);

        let (_, list) = get_json(&app, "/admin/identities").await;
        assert_eq!(list, json!([]), "a refused batch creates nothing");
    }
);

api_test!(
    a_full_batch_of_imported_hashes_is_created,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let hash = bcrypt_hash(PASSWORD);
        let items: Vec<Value> = (0..1000)
            .map(|i| {
                item(json!({"traits": {"email": format!("bulk{i}@example.com")},
                    "credentials": {"password": {"config": {"hashed_password": hash}}}}))
            })
            .collect();
        let res = batch_raw(&app, &json!({"identities": items})).await;
        let body = expect_json(res, StatusCode::OK).await;
        let results = body["identities"].as_array().unwrap();
        assert_eq!(results.len(), 1000);
        assert!(results.iter().all(|r| r["action"] == "create"));
        let res = app
            .admin(Method::GET, "/admin/identities?page=0&per_page=1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-total-count"], "1000");
        assert_eq!(
            login_status(&app, "bulk999@example.com", PASSWORD).await,
            StatusCode::OK
        );
    }
);
