//! `GET /schemas` and `GET /schemas/{id}` (by id or by its base64url form), and `schema_url`.

use sesame_server::config::SHIPPED_SCHEMA;
use sesame_testkit::reqwest::{Method, StatusCode};
use sesame_testkit::serde_json::{self, Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

fn shipped_schema() -> Value {
    serde_json::from_str(SHIPPED_SCHEMA).unwrap()
}

api_test!(
    listing_schemas_answers_each_id_with_its_raw_schema,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app.public(Method::GET, "/schemas").send().await.unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(res.headers()["x-total-count"], "1");
        assert!(
            res.headers()["link"]
                .to_str()
                .unwrap()
                .contains("rel=\"first\"")
        );
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body, json!([{"id": "default", "schema": shipped_schema()}]));
        let keys: Vec<&str> = body[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["id", "schema"]);
    }
);

api_test!(
    listing_schemas_pages_with_page_and_per_page,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/schemas?page=1&per_page=1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-total-count"], "1");
        assert_eq!(expect_json(res, StatusCode::OK).await, json!([]));
        let res = app
            .public(Method::GET, "/schemas?per_page=x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
);

api_test!(
    getting_a_schema_by_id_answers_the_raw_schema,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/schemas/default")
            .send()
            .await
            .unwrap();
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(expect_json(res, StatusCode::OK).await, shipped_schema());
    }
);

api_test!(
    getting_a_schema_by_its_base64url_id_answers_the_raw_schema,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/schemas/ZGVmYXVsdA")
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(res, StatusCode::OK).await, shipped_schema());
    }
);

api_test!(
    getting_an_unknown_schema_answers_404_with_its_name,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/schemas/nope")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["ory-error-id"], "");
        assert_eq!(
            res.text().await.unwrap(),
            "{\"error\":{\"code\":404,\"status\":\"Not Found\",\"reason\":\"Identity schema `nope` could not be found.\",\"message\":\"The requested resource could not be found\"}}\n"
        );
    }
);

api_test!(
    an_identitys_schema_url_resolves_to_its_schema,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("schema@example.com").await;
        let session = expect_json(app.whoami(&token).await, StatusCode::OK).await;
        let url = session["identity"]["schema_url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(url, format!("{}/schemas/ZGVmYXVsdA", app.public_url));
        let res = app.http.get(&url).send().await.unwrap();
        assert_eq!(expect_json(res, StatusCode::OK).await, shipped_schema());

        let res = app
            .admin(Method::POST, "/admin/identities")
            .json(&json!({"traits": {"email": "admin-made@example.com"}}))
            .send()
            .await
            .unwrap();
        let created = expect_json(res, StatusCode::CREATED).await;
        assert_eq!(
            created["schema_url"],
            url.as_str(),
            "admin views point at the public port too"
        );
    }
);

api_test!(
    schemas_asked_on_the_admin_port_redirect_to_the_public_port,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for (path, target) in [
            ("/schemas", "/schemas"),
            ("/admin/schemas", "/schemas"),
            ("/schemas/default", "/schemas/default"),
        ] {
            let res = app.admin(Method::GET, path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT, "{path}");
            assert_eq!(
                res.headers()["location"],
                format!("{}{target}", app.public_url).as_str()
            );
        }
    }
);
