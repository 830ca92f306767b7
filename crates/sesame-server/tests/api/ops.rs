//! Operations and wire conventions: health and version on both ports, `Cache-Control` on GET, Go's
//! 404, the 5 MiB body limit, content types, and Go-style HTML escaping in JSON bodies.

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::json;
use sesame_testkit::{TestApp, api_test, expect_json};

const NO_CACHE: &str = "private, no-cache, no-store, must-revalidate";

async fn assert_ok_status(res: Response) {
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(res.text().await.unwrap(), "{\"status\":\"ok\"}\n");
}

api_test!(
    health_endpoints_answer_ok_on_both_ports,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for path in ["/health/alive", "/health/ready"] {
            assert_ok_status(app.public(Method::GET, path).send().await.unwrap()).await;
            assert_ok_status(app.admin(Method::GET, path).send().await.unwrap()).await;
            assert_ok_status(
                app.admin(Method::GET, &format!("/admin{path}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
        }
    }
);

api_test!(the_admin_port_reports_the_version, |backend| async move {
    let app = TestApp::spawn(backend).await;
    for path in ["/admin/version", "/version"] {
        let res = app.admin(Method::GET, path).send().await.unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["version"]);
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }
});

api_test!(
    every_get_answer_carries_no_cache_and_other_methods_do_not,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, id) = app.signed_up_user("cache@example.com").await;
        let public_gets = [
            "/health/alive",
            "/health/ready",
            "/schemas",
            "/schemas/nope",
            "/sessions/whoami",
            "/no/such/route",
            "/admin/identities",
        ];
        for path in public_gets {
            let res = app.public(Method::GET, path).send().await.unwrap();
            assert_eq!(
                res.headers()
                    .get("cache-control")
                    .map(|v| v.to_str().unwrap()),
                Some(NO_CACHE),
                "public GET {path}"
            );
        }
        let res = app.whoami(&token).await;
        assert_eq!(res.headers()["cache-control"], NO_CACHE);
        let admin_gets = [
            "/admin/health/alive".to_owned(),
            "/admin/version".to_owned(),
            "/admin/identities".to_owned(),
            format!("/admin/identities/{id}"),
            format!("/admin/identities/{}", uuid::Uuid::new_v4()),
            "/admin/sessions/whoami".to_owned(),
            "/admin/no/such/route".to_owned(),
        ];
        for path in admin_gets {
            let res = app.admin(Method::GET, &path).send().await.unwrap();
            assert_eq!(
                res.headers()
                    .get("cache-control")
                    .map(|v| v.to_str().unwrap()),
                Some(NO_CACHE),
                "admin GET {path}"
            );
        }

        let res = app
            .admin(Method::POST, "/admin/identities")
            .json(&json!({"traits": {"email": "post@example.com"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert!(res.headers().get("cache-control").is_none(), "POST");
        let res = app
            .admin(Method::DELETE, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.headers().get("cache-control").is_none(), "DELETE");
        let res = app
            .public(Method::DELETE, "/self-service/logout/api")
            .json(&json!({"session_token": token}))
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("cache-control").is_none(),
            "DELETE logout"
        );
    }
);

api_test!(
    an_unknown_route_answers_go_s_plain_text_404_on_both_ports,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let responses = [
            app.public(Method::GET, "/no/such/route")
                .send()
                .await
                .unwrap(),
            app.public(Method::POST, "/sessions/whoami/extra")
                .send()
                .await
                .unwrap(),
            app.public(
                Method::PATCH,
                "/sessions/00000000-0000-4000-8000-000000000000/extend",
            )
            .send()
            .await
            .unwrap(),
            app.admin(Method::GET, "/admin/no/such/route")
                .send()
                .await
                .unwrap(),
            app.admin(Method::GET, "/no/such/route")
                .send()
                .await
                .unwrap(),
        ];
        for res in responses {
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{}", res.url());
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/plain")
            );
            assert!(res.headers().get("ory-error-id").is_none());
            assert_eq!(res.text().await.unwrap(), "404 page not found\n");
        }
    }
);

api_test!(
    a_known_route_with_the_wrong_method_answers_405_with_allow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::POST, "/health/alive")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(res.headers()["allow"].to_str().unwrap().contains("GET"));
    }
);

api_test!(
    a_body_over_5_mib_answers_413_in_the_error_envelope,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let padding = "x".repeat(5 * 1024 * 1024 + 1);
        let body = format!(
            "{{\"traits\":{{\"email\":\"big@example.com\"}},\"metadata_admin\":\"{padding}\"}}"
        );
        let res = app
            .admin(Method::POST, "/admin/identities")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(res.headers()["content-type"], "application/json");
        let envelope = expect_json(res, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(envelope["error"]["code"], 413);
        assert_eq!(envelope["error"]["status"], "Payload Too Large");
        assert!(envelope["error"]["message"].is_string());

        // Just under the limit is read (and then judged on its content).
        let padding = "x".repeat(4 * 1024 * 1024);
        let body =
            json!({"traits": {"email": "big@example.com"}, "metadata_admin": {"blob": padding}});
        let res = app
            .admin(Method::POST, "/admin/identities")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
);

api_test!(
    success_bodies_carry_a_charset_and_error_bodies_do_not,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("types@example.com").await;
        let ok = [
            app.whoami(&token).await,
            app.public(Method::GET, "/schemas").send().await.unwrap(),
            app.admin(Method::GET, "/admin/identities")
                .send()
                .await
                .unwrap(),
            app.public(Method::GET, "/self-service/login/api")
                .send()
                .await
                .unwrap(),
        ];
        for res in ok {
            assert!(res.status().is_success(), "{}", res.url());
            assert_eq!(
                res.headers()["content-type"],
                "application/json; charset=utf-8",
                "{}",
                res.url()
            );
            let text = res.text().await.unwrap();
            assert!(
                text.ends_with("}\n") || text.ends_with("]\n"),
                "Go's encoder ends with a newline: {text}"
            );
        }
        let errors = [
            app.whoami("ory_st_unknown").await,
            app.public(Method::GET, "/schemas/nope")
                .send()
                .await
                .unwrap(),
            app.admin(
                Method::GET,
                &format!("/admin/identities/{}", uuid::Uuid::new_v4()),
            )
            .send()
            .await
            .unwrap(),
            app.admin(Method::POST, "/admin/identities")
                .json(&json!({"traits": {}}))
                .send()
                .await
                .unwrap(),
            app.public(Method::DELETE, "/self-service/logout/api")
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
        ];
        for res in errors {
            assert!(res.status().is_client_error(), "{}", res.url());
            assert_eq!(
                res.headers()["content-type"],
                "application/json",
                "{}",
                res.url()
            );
            assert!(res.headers().contains_key("ory-error-id"), "{}", res.url());
            let text = res.text().await.unwrap();
            assert!(
                text.starts_with("{\"error\":{") && text.ends_with("}\n"),
                "{text}"
            );
        }
    }
);

api_test!(
    json_bodies_escape_html_characters_as_go_does,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::POST, "/admin/identities")
            .json(&json!({
                "traits": {"email": "escape@example.com", "name": {"first": "<&>"}},
                "metadata_public": {"html": "<b>&amp;</b>"},
                "credentials": {"password": {"config": {"password": "a-very-good-passphrase-42"}}}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let raw = res.text().await.unwrap();
        assert!(raw.contains("\"first\":\"\\u003c\\u0026\\u003e\""), "{raw}");
        assert!(
            raw.contains("\"html\":\"\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e\""),
            "{raw}"
        );
        assert!(
            !raw.contains('<') && !raw.contains('>') && !raw.contains('&'),
            "{raw}"
        );
        assert!(raw.ends_with("}\n"), "compact with a trailing newline");
        assert!(!raw.contains(": ") && !raw.contains("\n "), "compact");

        let token = app
            .login("escape@example.com", "a-very-good-passphrase-42")
            .await;
        let raw = app.whoami(&token).await.text().await.unwrap();
        assert!(raw.contains("\"first\":\"\\u003c\\u0026\\u003e\""), "{raw}");
    }
);

api_test!(
    self_service_answers_vary_by_cookie_but_whoami_does_not,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/login/api")
            .send()
            .await
            .unwrap();
        assert!(res.headers().get_all("vary").iter().any(|v| v == "Cookie"));
        let res = app
            .public(Method::GET, "/sessions/whoami")
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("vary").is_none());
        let res = app
            .admin(Method::GET, "/admin/identities")
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("vary").is_none(),
            "the admin port has no anti-CSRF middleware"
        );
    }
);
