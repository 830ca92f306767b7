//! Bodies nested to any depth answer 400 and leave the server running: form keys of 100,000
//! dotted levels on every submit route (with and without a flow), JSON as deep as the decoder
//! takes, traits and metadata past the bound, and JSON Patches that would build depth step by step.

use super::*;

/// `traits.a.a…b=x` with `levels` dots: about 20 bytes per 10 levels.
fn deep_form_key(levels: usize) -> String {
    format!("traits{}.b=x", ".a".repeat(levels))
}

const SUBMIT_ROUTES: [&str; 3] = [
    "/self-service/login",
    "/self-service/registration",
    "/self-service/settings",
];

api_test!(
    a_form_key_of_100000_levels_answers_400_on_every_submit_route,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = user(&app, "deep-form@example.com").await;
        let body = deep_form_key(100_000);
        for route in SUBMIT_ROUTES {
            for query in ["", "?flow=5b2b5e43-6c43-4e0c-9a37-6b1c2f6a9d10"] {
                let res = app
                    .public(Method::POST, &format!("{route}{query}"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("X-Session-Token", &token)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let reason = bad_request_reason(res).await;
                assert!(
                    reason.contains("nests deeper than 64 levels of objects and arrays"),
                    "{route}{query}: {reason}"
                );
            }
            assert_alive(&app).await;
        }
        // The deepest key allowed still reaches the flow, whose schema then has its say.
        let flow = app.registration_flow().await;
        let id = flow["id"].as_str().unwrap();
        let res = app
            .public(
                Method::POST,
                &format!("/self-service/registration?flow={id}"),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "method=password&password={PASSWORD}&{}",
                deep_form_key(63)
            ))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["id"], id,
            "a flow with its messages, not an envelope: {body}"
        );
    }
);

api_test!(
    json_submit_bodies_of_any_depth_answer_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let flow = app.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        let path = format!("/self-service/login?flow={id}");
        // Past serde_json's own limit: a decoder message in the flow.
        let res = app
            .public(Method::POST, &path)
            .header("Content-Type", "application/json")
            .body("[".repeat(100_000))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        // Within the decoder's limit but past Sesame's: an envelope naming the field.
        let res = app
            .public(Method::POST, &path)
            .json(&json!({"method": "password", "identifier": nested(65), "password": "x"}))
            .send()
            .await
            .unwrap();
        let reason = bad_request_reason(res).await;
        assert!(
            reason.starts_with("The value of `identifier.a.a."),
            "{reason}"
        );
        assert_alive(&app).await;
    }
);

api_test!(
    admin_traits_and_metadata_deeper_than_64_levels_are_refused,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let base = json!({"traits": {"email": "deep-admin@example.com"}});
        for (field, value) in [
            ("metadata_public", nested(65)),
            ("metadata_admin", nested(65)),
        ] {
            let mut body = base.clone();
            body[field] = value;
            let res = app
                .admin(Method::POST, "/admin/identities")
                .json(&body)
                .send()
                .await
                .unwrap();
            let reason = bad_request_reason(res).await;
            assert!(
                reason.starts_with(&format!("The value of `{field}.a.a.")),
                "{reason}"
            );
        }
        let mut body = base.clone();
        body["metadata_public"] = nested(64);
        let res = app
            .admin(Method::POST, "/admin/identities")
            .json(&body)
            .send()
            .await
            .unwrap();
        let created = expect_json(res, StatusCode::CREATED).await;
        let id = created["id"].as_str().unwrap();

        let res = app
            .admin(Method::PUT, &format!("/admin/identities/{id}"))
            .json(&json!({"traits": {"email": "deep-admin@example.com", "name": nested(64)}}))
            .send()
            .await
            .unwrap();
        let reason = bad_request_reason(res).await;
        assert!(
            reason.starts_with("The value of `traits.name.a."),
            "{reason}"
        );
        assert_alive(&app).await;
    }
);

api_test!(
    json_patches_cannot_build_depth_step_by_step,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::POST, "/admin/identities")
            .json(&json!({"traits": {"email": "deep-patch@example.com"}}))
            .send()
            .await
            .unwrap();
        let id = expect_json(res, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/admin/identities/{id}");
        // Each operation adds 60 levels ten below the previous one's top: short paths, values
        // within the bound, and a document that would reach 600 levels.
        let mut ops = Vec::new();
        let mut pointer = "/metadata_public".to_owned();
        for _ in 0..6 {
            ops.push(json!({"op": "add", "path": pointer, "value": nested(60)}));
            pointer.push_str(&"/a".repeat(10));
        }
        let res = app
            .admin(Method::PATCH, &path)
            .json(&ops)
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("nest deeper than 64 levels"), "{body}");

        // A pointer of 100,000 tokens is refused before anything is applied.
        let long = "/a".repeat(100_000);
        let res = app
            .admin(Method::PATCH, &path)
            .json(&json!([{"op": "add", "path": format!("/metadata_public{long}"), "value": 1}]))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("patch path is deeper"),
            "{body}"
        );

        let res = app.admin(Method::GET, &path).send().await.unwrap();
        let identity = expect_json(res, StatusCode::OK).await;
        assert_eq!(
            identity["metadata_public"],
            Value::Null,
            "nothing was applied"
        );
        assert_alive(&app).await;
    }
);
