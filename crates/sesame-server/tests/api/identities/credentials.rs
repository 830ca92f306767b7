//! `DELETE /admin/identities/{id}/credentials/{type}`: second factors go, the last first factor
//! stays, `available_aal` follows (and with it what whoami accepts); `include_credential` shows
//! each stored type's configuration only when asked.

use super::*;
use sesame_testkit::sesame_client::sesame_types::JsonPatch;

const LAST_FIRST_FACTOR_BODY: &str = "{\"error\":{\"code\":400,\"status\":\"Bad Request\",\"reason\":\"You cannot remove the last first factor credential.\",\"message\":\"The request was malformed or contained invalid parameters\"}}\n";

async fn delete_credential(app: &TestApp, id: &str, kind: &str) -> Response {
    app.admin(
        Method::DELETE,
        &format!("/admin/identities/{id}/credentials/{kind}"),
    )
    .send()
    .await
    .unwrap()
}

/// Gives the identity backup codes through a patch (the admin way to import them).
async fn add_backup_codes(sdk: &Client, id: Uuid) {
    let codes = json!({"config": {"recovery_codes": [
        {"code": "abcd1234", "used_at": null},
        {"code": "efgh5678", "used_at": null}
    ]}});
    let res = sdk
        .patch_identity(id, &[JsonPatch::add("/credentials/lookup_secret", codes)])
        .await
        .unwrap();
    let credentials = res.data.credentials.unwrap();
    assert_eq!(credentials["lookup_secret"].identifiers, [id.to_string()]);
    assert_eq!(credentials["lookup_secret"].config, None);
}

api_test!(
    deleting_totp_lowers_the_available_aal_so_aal1_sessions_pass_whoami,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "totp-gone@example.com").await;
        let token = log_in(&sdk, "totp-gone@example.com", PASSWORD).await;
        app.add_totp_credential(&id.to_string()).await;
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_eq!(err.id(), Some("session_aal2_required"), "{err:?}");

        let res = sdk.delete_identity_credentials(id, "totp").await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let res = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(
            res.status,
            StatusCode::OK,
            "the session was kept, and now suffices"
        );
        let identity = sdk.get_identity(id).await.unwrap().data;
        let credentials = identity.credentials.unwrap();
        assert_eq!(credentials.keys().collect::<Vec<_>>(), ["password"]);

        let res = delete_credential(&app, &id.to_string(), "totp").await;
        let body = expect_json(res, StatusCode::NOT_FOUND).await;
        assert_eq!(
            body,
            json!({"error": {"code": 404, "status": "Not Found",
                "reason": "You tried to remove a totp but this user have no totp set up.",
                "message": "The requested resource could not be found"}})
        );
    }
);

api_test!(
    deleting_backup_codes_keeps_totp_and_aal2,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "codes-gone@example.com").await;
        add_backup_codes(&sdk, id).await;
        app.add_totp_credential(&id.to_string()).await;
        let token = log_in(&sdk, "codes-gone@example.com", PASSWORD).await;

        let res = sdk
            .delete_identity_credentials(id, "lookup_secret")
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        let credentials = sdk
            .get_identity(id)
            .await
            .unwrap()
            .data
            .credentials
            .unwrap();
        assert_eq!(credentials.keys().collect::<Vec<_>>(), ["password", "totp"]);
        let err = sdk.to_session().x_session_token(&token).await.unwrap_err();
        assert_eq!(err.id(), Some("session_aal2_required"), "TOTP still counts");
    }
);

api_test!(
    the_last_first_factor_cannot_be_deleted,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "last@example.com").await;
        let res = delete_credential(&app, &id, "password").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.text().await.unwrap(), LAST_FIRST_FACTOR_BODY);
        assert_eq!(
            login_status(&app, "last@example.com", PASSWORD).await,
            StatusCode::OK
        );

        // Backup codes are a second factor: they do not make the password removable.
        let sdk = app.sdk();
        add_backup_codes(&sdk, id.parse().unwrap()).await;
        let err = sdk
            .delete_identity_credentials(id.parse().unwrap(), "password")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            err.response.as_ref().unwrap().text(),
            LAST_FIRST_FACTOR_BODY
        );
    }
);

api_test!(
    deleting_a_credential_of_an_unknown_identity_or_type_answers_404,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let id = create_user(&app, "types@example.com").await;
        assert_not_found(delete_credential(&app, &Uuid::new_v4().to_string(), "totp").await).await;
        assert_not_found(delete_credential(&app, "not-a-uuid", "totp").await).await;
        for kind in ["webauthn", "oidc", "passkey", "no-such-type"] {
            let res = delete_credential(&app, &id, kind).await;
            let body = expect_json(res, StatusCode::NOT_FOUND).await;
            assert_eq!(
                body["error"]["reason"],
                format!("You tried to remove a {kind} but this user have no {kind} set up."),
            );
        }
        let err = app
            .sdk()
            .delete_identity_credentials(Uuid::new_v4(), "totp")
            .await
            .unwrap_err();
        assert_not_found_refusal(&err);
    }
);

api_test!(
    include_credential_declassifies_each_stored_type_only_when_asked,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let id = add_user(&sdk, "declassify@example.com").await;
        add_backup_codes(&sdk, id).await;
        app.add_totp_credential(&id.to_string()).await;
        let config = |identity: &sesame_testkit::sesame_client::sesame_types::Identity,
                      kind: &str| {
            identity.credentials.as_ref().unwrap()[kind].config.clone()
        };

        let plain = sdk.get_identity(id).await.unwrap().data;
        for kind in ["password", "totp", "lookup_secret"] {
            assert_eq!(config(&plain, kind), None, "{kind}");
        }
        let totp = sdk
            .get_identity(id)
            .include_credential("totp")
            .await
            .unwrap()
            .data;
        assert!(
            config(&totp, "totp").unwrap()["totp_url"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://")
        );
        assert_eq!(config(&totp, "password"), None);
        assert_eq!(config(&totp, "lookup_secret"), None);

        let listed = sdk
            .list_identities()
            .include_credential("lookup_secret")
            .include_credential("password")
            .await
            .unwrap()
            .data;
        let codes = config(&listed[0], "lookup_secret").unwrap();
        assert_eq!(codes["recovery_codes"][0]["code"], "abcd1234");
        assert!(config(&listed[0], "password").unwrap()["hashed_password"].is_string());
        assert_eq!(config(&listed[0], "totp"), None);

        // Types Kratos knows but Sesame does not store are accepted; others are not.
        let res = app
            .admin(
                Method::GET,
                &format!("/admin/identities/{id}?include_credential=oidc"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        for path in [
            format!("/admin/identities/{id}?include_credential=bogus"),
            "/admin/identities?include_credential=bogus".to_owned(),
        ] {
            let res = app.admin(Method::GET, &path).send().await.unwrap();
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(
                body["error"]["reason"],
                "Invalid value `bogus` for parameter `include_credential`."
            );
        }
    }
);
