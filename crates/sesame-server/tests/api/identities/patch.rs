//! `PATCH /admin/identities/{id}`: JSON Patch against the admin JSON, through the SDK, and its
//! refusals (denied paths, unsupported operations, bad documents) on the wire.

use super::*;
use sesame_core::Clock;
use sesame_testkit::sesame_client::sesame_types::JsonPatch;

const PATCH_FAILED: &str = "An error occured when applying the JSON patch";

async fn patch_raw(app: &TestApp, id: &str, body: &str) -> Response {
    app.admin(Method::PATCH, &format!("/admin/identities/{id}"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// A 400 whose reason is Kratos's patch failure and whose message is `message`, exactly.
async fn assert_patch_refused(res: Response, message: &str) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": 400, "status": "Bad Request", "reason": PATCH_FAILED, "message": message}})
    );
}

api_test!(
    patching_the_email_moves_the_login_identifier_and_the_addresses,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "before@example.com").await;
        let res = sdk
            .patch_identity(
                id,
                &[JsonPatch::replace(
                    "/traits/email",
                    json!("After@Example.com"),
                )],
            )
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            res.headers["content-type"],
            "application/json; charset=utf-8"
        );
        let identity = &res.data;
        assert_eq!(identity.traits, json!({"email": "After@Example.com"}));
        let password = &identity.credentials.as_ref().unwrap()["password"];
        assert_eq!(password.identifiers, ["after@example.com"]);
        assert_eq!(password.config, None, "a patch answer shows no secrets");
        assert_eq!(identity.verifiable_addresses.len(), 1);
        assert_eq!(identity.verifiable_addresses[0].value, "after@example.com");
        assert_eq!(identity.recovery_addresses[0].value, "after@example.com");

        log_in(&sdk, "after@example.com", PASSWORD).await;
        assert_login_refused(&sdk, "before@example.com", PASSWORD).await;
        assert_eq!(sdk.get_identity(id).await.unwrap().data, res.data);
    }
);

api_test!(
    patching_metadata_external_id_and_state_saves_them,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "meta@example.com").await;
        let before = sdk.get_identity(id).await.unwrap().data;
        app.clock.advance(chrono::Duration::seconds(5));
        let patch = [
            // `add` creates the missing parents; `replace` of a missing member adds it.
            JsonPatch::add("/metadata_public/plan/tier", json!("pro")),
            JsonPatch::replace("/metadata_admin", json!({"note": "vip"})),
            JsonPatch::replace("/external_id", json!("crm-42")),
            JsonPatch::replace("/state", json!("inactive")),
            // Server-managed fields are not patched.
            JsonPatch::replace("/created_at", json!("2001-01-01T00:00:00Z")),
            JsonPatch::replace("/schema_url", json!("http://elsewhere/")),
        ];
        let patched = sdk.patch_identity(id, &patch).await.unwrap().data;
        assert_eq!(
            patched.metadata_public,
            Some(json!({"plan": {"tier": "pro"}}))
        );
        assert_eq!(patched.metadata_admin, Some(json!({"note": "vip"})));
        assert_eq!(patched.external_id.as_deref(), Some("crm-42"));
        assert_eq!(patched.state, IdentityState::Inactive);
        assert!(patched.state_changed_at > before.state_changed_at);
        assert!(patched.updated_at > before.updated_at);
        assert_eq!(patched.created_at, before.created_at);
        assert_eq!(patched.schema_url, before.schema_url);

        let found = sdk.get_identity_by_external_id("crm-42").await.unwrap();
        assert_eq!(found.data.id, id);

        // An explicit null clears; removing the external id frees it.
        let patch = [
            JsonPatch::replace("/metadata_public", Value::Null),
            JsonPatch::remove("/external_id"),
        ];
        let patched = sdk.patch_identity(id, &patch).await.unwrap().data;
        assert_eq!(patched.metadata_public, None);
        assert_eq!(patched.external_id, None);
        let res = app
            .admin(Method::GET, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::OK).await;
        assert_eq!(body["metadata_public"], Value::Null);
        assert!(body.get("external_id").is_none());
    }
);

api_test!(
    patching_the_verified_flag_stamps_and_clears_verified_at,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "verify@example.com").await;
        app.clock.advance(chrono::Duration::seconds(3));
        let now = app.clock.now();
        let patched = sdk
            .patch_identity(
                id,
                &[JsonPatch::replace(
                    "/verifiable_addresses/0/verified",
                    json!(true),
                )],
            )
            .await
            .unwrap()
            .data;
        let address = &patched.verifiable_addresses[0];
        assert!(address.verified);
        assert_eq!(address.verified_at, Some(now));
        assert_eq!(address.updated_at, now);

        let patch = [
            JsonPatch::replace(
                "/verifiable_addresses/0/verified_at",
                json!("1999-01-07T08:23:19Z"),
            ),
            JsonPatch::replace("/verifiable_addresses/0/status", json!("completed")),
        ];
        let patched = sdk.patch_identity(id, &patch).await.unwrap().data;
        let address = &patched.verifiable_addresses[0];
        assert_eq!(
            address.verified_at.map(|t| t.to_rfc3339()),
            Some("1999-01-07T08:23:19+00:00".to_owned())
        );
        assert_eq!(address.status, "completed");

        let patch = [JsonPatch::replace(
            "/verifiable_addresses/0/verified",
            json!(false),
        )];
        let patched = sdk.patch_identity(id, &patch).await.unwrap().data;
        assert!(!patched.verifiable_addresses[0].verified);
        assert_eq!(patched.verifiable_addresses[0].verified_at, None);
        let stored = sdk.get_identity(id).await.unwrap().data;
        assert_eq!(stored.verifiable_addresses, patched.verifiable_addresses);
    }
);

api_test!(
    patching_the_password_hash_changes_the_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "rehash@example.com").await;
        let hash = bcrypt_hash("a-brand-new-passphrase-7");
        let patch = [JsonPatch::replace(
            "/credentials/password/config/hashed_password",
            json!(hash),
        )];
        sdk.patch_identity(id, &patch).await.unwrap();
        log_in(&sdk, "rehash@example.com", "a-brand-new-passphrase-7").await;
        assert_login_refused(&sdk, "rehash@example.com", PASSWORD).await;

        let id = id.to_string();
        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"replace","path":"/credentials/password/config/hashed_password","value":"foo"}]"#,
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "The imported password does not match any known hash format."
        );
        // A plaintext password is never stored as credential configuration.
        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"add","path":"/credentials/password/config/password","value":"plain-text-1"}]"#,
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["reason"], PATCH_FAILED);
        log_in(&sdk, "rehash@example.com", "a-brand-new-passphrase-7").await;
    }
);

api_test!(
    patching_denied_paths_answers_400_and_changes_nothing,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "denied@example.com").await;
        let (_, before) = get_json(&app, &format!("/admin/identities/{id}")).await;
        for (patch, path) in [
            (
                r#"[{"op":"replace","path":"/id","value":"00000000-0000-0000-0000-000000000000"}]"#,
                "/id",
            ),
            (r#"[{"op":"remove","path":"/credentials"}]"#, "/credentials"),
            (
                r#"[{"op":"replace","path":"/credentials","value":{}}]"#,
                "/credentials",
            ),
            (
                r#"[{"op":"replace","path":"/stateChangedAt","value":"x"}]"#,
                "/stateChangedAt",
            ),
            (
                r#"[{"op":"add","path":"/credentials/oidc/config/providers/0/organization","value":"x"}]"#,
                "/credentials/oidc/config/providers/0/organization",
            ),
            (
                r#"[{"op":"add","path":"/credentials/saml","value":{}}]"#,
                "/credentials/saml",
            ),
            // A denied operation anywhere refuses the whole document.
            (
                r#"[{"op":"replace","path":"/traits/email","value":"other@example.com"},{"op":"remove","path":"/id"}]"#,
                "/id",
            ),
        ] {
            assert_patch_refused(
                patch_raw(&app, &id, patch).await,
                &format!("patch includes denied path: {path}"),
            )
            .await;
        }
        let (_, after) = get_json(&app, &format!("/admin/identities/{id}")).await;
        assert_eq!(after, before);
    }
);

api_test!(
    patching_with_move_copy_or_test_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "ops@example.com").await;
        for (patch, op) in [
            (
                r#"[{"op":"test","path":"/state","value":"active"}]"#,
                "test",
            ),
            (
                r#"[{"op":"move","from":"/metadata_public","path":"/metadata_admin"}]"#,
                "move",
            ),
            (
                r#"[{"op":"copy","from":"/traits","path":"/metadata_public"}]"#,
                "copy",
            ),
        ] {
            assert_patch_refused(
                patch_raw(&app, &id, patch).await,
                &format!("unsupported operation: {op}"),
            )
            .await;
        }
    }
);

api_test!(
    a_body_that_is_no_json_patch_answers_400_with_the_reason,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "malformed@example.com").await;
        for body in [
            "",
            "not json",
            r#"{"op":"replace","path":"/state","value":"inactive"}"#,
            r#"[{"op":"replace","value":"x"}]"#,
            r#"[{"op":"frobnicate","path":"/state"}]"#,
        ] {
            let res = patch_raw(&app, &id, body).await;
            let got = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(got["error"]["reason"], PATCH_FAILED, "{body}");
            let message = got["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("the body is not a JSON Patch document: "),
                "{body}: {message}"
            );
        }
        // A well-formed patch that does not apply names the failing operation.
        assert_patch_refused(
            patch_raw(&app, &id, r#"[{"op":"remove","path":"/traits/nickname"}]"#).await,
            "operation '/0' failed at path '/traits/nickname': path is invalid",
        )
        .await;
        assert_patch_refused(
            patch_raw(
                &app,
                &id,
                r#"[{"op":"replace","path":"/verifiable_addresses/7/verified","value":true}]"#,
            )
            .await,
            "operation '/0' failed at path '/verifiable_addresses/7/verified': path is invalid",
        )
        .await;
        // A patched document that is no identity says which field is wrong.
        assert_patch_refused(
            patch_raw(
                &app,
                &id,
                r#"[{"op":"replace","path":"/schema_id","value":7}]"#,
            )
            .await,
            "json: cannot unmarshal number into Go struct field Identity.schema_id of type string",
        )
        .await;
    }
);

api_test!(
    patching_an_invalid_state_schema_or_traits_answers_400_and_changes_nothing,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "invalid@example.com").await;
        let (_, before) = get_json(&app, &format!("/admin/identities/{id}")).await;

        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"replace","path":"/state","value":"frozen"}]"#,
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "The supplied state ('frozen') was not valid. Valid states are ('active', 'inactive')."
        );

        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"replace","path":"/schema_id","value":"invalid-id"}]"#,
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["reason"],
            "Unable to find JSON Schema ID: invalid-id"
        );

        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"replace","path":"/traits/email","value":42}]"#,
        )
        .await;
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        let reason = body["error"]["reason"].as_str().unwrap();
        assert!(reason.starts_with("I[#/traits"), "{reason}");

        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"add","path":"/credentials/webauthn","value":{"config":{}}}]"#,
        )
        .await;
        assert_patch_refused(res, "unsupported credentials type: webauthn").await;

        let (_, after) = get_json(&app, &format!("/admin/identities/{id}")).await;
        assert_eq!(after, before);
    }
);

api_test!(
    patching_onto_a_taken_email_answers_409,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "mine@example.com").await;
        create_user(&app, "taken@example.com").await;
        let res = patch_raw(
            &app,
            &id,
            r#"[{"op":"replace","path":"/traits/email","value":"taken@example.com"}]"#,
        )
        .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(res.text().await.unwrap(), CONFLICT_BODY);
        assert_eq!(
            login_status(&app, "mine@example.com", PASSWORD).await,
            StatusCode::OK
        );
    }
);

api_test!(
    patching_an_unknown_or_malformed_id_answers_404,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let patch = r#"[{"op":"replace","path":"/state","value":"inactive"}]"#;
        assert_not_found(patch_raw(&app, &Uuid::new_v4().to_string(), patch).await).await;
        assert_not_found(patch_raw(&app, "not-a-uuid", patch).await).await;
        let err = app
            .sdk()
            .patch_identity(Uuid::new_v4(), &[JsonPatch::remove("/metadata_public")])
            .await
            .unwrap_err();
        assert_not_found_refusal(&err);
    }
);

api_test!(
    patching_on_the_public_port_redirects_to_the_admin_port,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = Uuid::new_v4();
        for path in [
            format!("/admin/identities/{id}"),
            format!("/admin/identities/{id}/credentials/totp"),
            "/admin/identities/by/external/crm-1".to_owned(),
        ] {
            let res = app.public(Method::PATCH, &path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
            assert_eq!(
                res.headers()["location"],
                format!("{}{path}", app.admin_url).as_str()
            );
        }
    }
);
