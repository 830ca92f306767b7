//! NUL, which PostgreSQL cannot store in text, is refused at the edge with 400 on both backends:
//! in identifiers, traits, metadata, external ids, query parameters and path segments. Nothing
//! reaches SQL, so no backend answers 500.

use super::*;

const NUL_REASON_END: &str = "contains a NUL character (\\u0000), which is not accepted.";

async fn assert_nul_refused(res: Response, field: &str) {
    let reason = bad_request_reason(res).await;
    assert_eq!(
        reason,
        format!("The value of `{field}` {NUL_REASON_END}"),
        "the reason names the field"
    );
}

api_test!(
    nul_in_a_login_or_registration_body_is_refused_as_json_and_as_form,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        user(&app, "nul-login@example.com").await;
        let flow = app.login_flow().await;
        let login = format!("/self-service/login?flow={}", flow["id"].as_str().unwrap());
        let res = app
            .public(Method::POST, &login)
            .json(&json!({"method": "password", "identifier": "nul-login@example.com\u{0}", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_nul_refused(res, "identifier").await;
        let res = app
            .public(Method::POST, &login)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "method=password&identifier=nul-login%40example.com%00&password={PASSWORD}"
            ))
            .send()
            .await
            .unwrap();
        assert_nul_refused(res, "identifier").await;

        let res = app
            .submit_registration(json!({"method": "password", "password": PASSWORD, "traits": {"email": "a\u{0}@example.com"}}))
            .await;
        assert_nul_refused(res, "traits.email").await;
        let res = app
            .submit_registration(json!({"method": "password", "password": PASSWORD, "traits": {"email": "b@example.com", "name": {"first\u{0}": "x"}}}))
            .await;
        assert_nul_refused(res, "traits.name.first\\u0000").await;

        // The flow is untouched: the right credentials still sign in.
        app.login("nul-login@example.com", PASSWORD).await;
    }
);

api_test!(
    nul_in_admin_identity_fields_is_refused_on_create_replace_patch_and_batch,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let post = |body: Value| {
            app.admin(Method::POST, "/admin/identities")
                .json(&body)
                .send()
        };
        let email = "nul-admin@example.com";
        for (body, field) in [
            (
                json!({"traits": {"email": email}, "external_id": "ext\u{0}"}),
                "external_id",
            ),
            (
                json!({"traits": {"email": "nul\u{0}@example.com"}}),
                "traits.email",
            ),
            (
                json!({"traits": {"email": email}, "metadata_public": {"a": ["\u{0}"]}}),
                "metadata_public.a.0",
            ),
            (
                json!({"traits": {"email": email}, "metadata_admin": {"k\u{0}": 1}}),
                "metadata_admin.k\\u0000",
            ),
        ] {
            assert_nul_refused(post(body).await.unwrap(), field).await;
        }
        let created = expect_json(
            post(json!({"traits": {"email": email}, "external_id": "ext-1"}))
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        let path = format!("/admin/identities/{}", created["id"].as_str().unwrap());

        let res = app
            .admin(Method::PUT, &path)
            .json(&json!({"traits": {"email": email}, "external_id": "ext\u{0}"}))
            .send()
            .await
            .unwrap();
        assert_nul_refused(res, "external_id").await;
        for (op_path, value, field) in [
            ("/external_id", json!("x\u{0}"), "external_id"),
            ("/traits/email", json!("x\u{0}@example.com"), "traits.email"),
            (
                "/metadata_public",
                json!({"\u{0}": 1}),
                "metadata_public.\\u0000",
            ),
        ] {
            let res = app
                .admin(Method::PATCH, &path)
                .json(&json!([{"op": "replace", "path": op_path, "value": value}]))
                .send()
                .await
                .unwrap();
            assert_nul_refused(res, field).await;
        }

        let res = app
            .admin(Method::PATCH, "/admin/identities")
            .json(&json!({"identities": [
                {"create": {"traits": {"email": "batch-nul@example.com"}, "external_id": "b\u{0}"}},
                {"create": {"traits": {"email": "batch-ok@example.com"}}}
            ]}))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        let items = body["identities"].as_array().unwrap();
        assert_eq!(items[0]["action"], "error", "{body}");
        assert_eq!(items[0]["error"]["code"], 400, "{body}");
        assert_eq!(
            items[0]["error"]["reason"],
            format!("The value of `external_id` {NUL_REASON_END}")
        );
        assert_eq!(items[1]["action"], "create", "{body}");

        let res = app.admin(Method::GET, &path).send().await.unwrap();
        let stored = expect_json(res, StatusCode::OK).await;
        assert_eq!(stored["external_id"], "ext-1", "nothing changed");
    }
);

api_test!(
    nul_in_query_parameters_and_path_segments_is_refused_before_any_handler,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = user(&app, "nul-query@example.com").await;
        for (path, field) in [
            (
                "/admin/identities?credentials_identifier=a%00b",
                "credentials_identifier",
            ),
            (
                "/admin/identities?credentials_identifier=nul-query%40example.com%00",
                "credentials_identifier",
            ),
            ("/admin/identities/by/external/ext%00", "request path"),
            ("/admin/sessions/%00", "request path"),
            ("/admin/identities?page_token=%00", "page_token"),
        ] {
            let res = app.admin(Method::GET, path).send().await.unwrap();
            assert_nul_refused(res, field).await;
        }
        for (method, path, field) in [
            (Method::GET, "/self-service/login/flows?id=%00", "id"),
            (
                Method::GET,
                "/self-service/login/api?return_to=https%3A%2F%2Fa%00",
                "return_to",
            ),
            (
                Method::GET,
                "/self-service/registration/browser?return_to=%00",
                "return_to",
            ),
            (Method::POST, "/self-service/login?flow=%00", "flow"),
            (Method::DELETE, "/sessions/%00", "request path"),
            (Method::GET, "/sessions?page_token=x%00", "page_token"),
            (Method::GET, "/sessions/whoami?%00=x", "\\u0000"),
        ] {
            let res = app
                .public(method, path)
                .header("X-Session-Token", &token)
                .send()
                .await
                .unwrap();
            assert_nul_refused(res, field).await;
        }
        // The same lookups without NUL work.
        let res = app
            .admin(
                Method::GET,
                "/admin/identities?credentials_identifier=nul-query%40example.com",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect_json(res, StatusCode::OK)
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
    }
);

api_test!(
    form_fields_that_are_not_utf8_are_refused,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.login_flow().await;
        let res = app
            .public(
                Method::POST,
                &format!("/self-service/login?flow={}", flow["id"].as_str().unwrap()),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("method=password&identifier=a%FF&password=x")
            .send()
            .await
            .unwrap();
        let reason = bad_request_reason(res).await;
        assert_eq!(reason, "The value of `identifier` is not valid UTF-8.");
        // A path segment that is not UTF-8: Kratos's envelope, not a plain-text answer.
        let res = app
            .admin(Method::GET, "/admin/identities/by/external/%FF")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()["content-type"], "application/json");
    }
);
