//! An identity's lifecycle through the SDK: batch create, JSON Patch, state changes and sessions,
//! lookup by external id, `ids` listing, and credential removal.

use crate::proxy::Checks;
use crate::support::*;
use ory_kratos_client::apis::{Error, ResponseContent, frontend_api, identity_api};
use ory_kratos_client::models::{
    CreateIdentityBody, IdentityPatch, IdentityWithCredentials, IdentityWithCredentialsPassword,
    IdentityWithCredentialsPasswordConfig, JsonPatch, PatchIdentitiesBody, identity,
    identity_patch_response,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test};

fn with_password(email: &str) -> CreateIdentityBody {
    CreateIdentityBody {
        credentials: Some(Box::new(IdentityWithCredentials {
            password: Some(Box::new(IdentityWithCredentialsPassword {
                config: Some(Box::new(IdentityWithCredentialsPasswordConfig {
                    password: Some(PASSWORD.into()),
                    ..Default::default()
                })),
            })),
            ..Default::default()
        })),
        ..CreateIdentityBody::new("default".into(), json!({"email": email}))
    }
}

fn op(op: &str, path: &str, value: Option<Value>) -> JsonPatch {
    JsonPatch {
        value: value.map(Some),
        ..JsonPatch::new(op.into(), path.into())
    }
}

/// The status and body of a refused SDK call.
fn refusal<E: std::fmt::Debug>(err: Error<E>) -> (StatusCode, Value) {
    let Error::ResponseError(ResponseContent {
        status, content, ..
    }) = err
    else {
        panic!("expected a response error, got {err:?}");
    };
    (
        status,
        serde_json::from_str(&content).expect("a JSON error body"),
    )
}

async fn login(checks: &Checks, app: &TestApp, email: &str) -> String {
    let flow = app.login_flow().await;
    frontend_api::update_login_flow(
        &native(&checks.public_url),
        flow["id"].as_str().unwrap(),
        login_body(email, PASSWORD, None),
        None,
        None,
    )
    .await
    .expect("updateLoginFlow")
    .session_token
    .expect("a session token")
}

api_test!(
    identity_lifecycle_runs_through_the_sdk,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let checks = Checks::for_app(&app).await;
        let admin = native(&checks.admin_url);
        let public = native(&checks.public_url);

        // batchPatchIdentities: the second item takes the first one's email and fails alone.
        let patch_id = "6a7b7c52-95c5-4f87-9d8e-3f1a2b3c4d5e".to_owned();
        let body = PatchIdentitiesBody {
            identities: Some(vec![
                IdentityPatch {
                    create: Some(Box::new(with_password("ivan@example.com"))),
                    patch_id: Some(patch_id.clone()),
                },
                IdentityPatch {
                    create: Some(Box::new(with_password("IVAN@example.com"))),
                    patch_id: None,
                },
            ]),
        };
        let batch = identity_api::batch_patch_identities(&admin, Some(body))
            .await
            .expect("batchPatchIdentities");
        let results = batch.identities.expect("results");
        assert_eq!(
            results.iter().map(|r| r.action).collect::<Vec<_>>(),
            [
                Some(identity_patch_response::ActionEnum::Create),
                Some(identity_patch_response::ActionEnum::Error)
            ]
        );
        assert_eq!(results[0].patch_id.as_deref(), Some(patch_id.as_str()));
        let error = results[1].error.clone().flatten().expect("an error object");
        assert_eq!(error["code"], 409);
        let id = results[0].identity.clone().expect("the new identity's id");

        // patchIdentity: traits, external id, and a denied path.
        let patched = identity_api::patch_identity(
            &admin,
            &id,
            Some(vec![
                op(
                    "replace",
                    "/traits/email",
                    Some(json!("ivan.new@example.com")),
                ),
                op("add", "/external_id", Some(json!("crm-ivan"))),
            ]),
        )
        .await
        .expect("patchIdentity");
        assert_eq!(
            patched.traits,
            Some(json!({"email": "ivan.new@example.com"}))
        );
        assert_eq!(patched.external_id.as_deref(), Some("crm-ivan"));
        let (status, body) = refusal(
            identity_api::patch_identity(&admin, &id, Some(vec![op("remove", "/id", None)]))
                .await
                .unwrap_err(),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["message"], "patch includes denied path: /id");

        // State: inactive ends the session at once, active brings it back.
        let token = login(&checks, &app, "ivan.new@example.com").await;
        frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .expect("toSession");
        let inactive = identity_api::patch_identity(
            &admin,
            &id,
            Some(vec![op("replace", "/state", Some(json!("inactive")))]),
        )
        .await
        .expect("patchIdentity state");
        assert_eq!(inactive.state, Some(identity::StateEnum::Inactive));
        let (status, _) = refusal(
            frontend_api::to_session(&public, Some(&token), None, None)
                .await
                .unwrap_err(),
        );
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        identity_api::patch_identity(
            &admin,
            &id,
            Some(vec![op("replace", "/state", Some(json!("active")))]),
        )
        .await
        .expect("patchIdentity state");
        frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .expect("toSession after re-activation");

        // getIdentityByExternalID and listIdentities with ids.
        let found = identity_api::get_identity_by_external_id(&admin, "crm-ivan", None)
            .await
            .expect("getIdentityByExternalID");
        assert_eq!(found.id, id);
        let (status, _) = refusal(
            identity_api::get_identity_by_external_id(&admin, "crm-nobody", None)
                .await
                .unwrap_err(),
        );
        assert_eq!(status, StatusCode::NOT_FOUND);
        let listed = identity_api::list_identities(
            &admin,
            None,
            None,
            None,
            None,
            None,
            Some(vec![
                id.clone(),
                "00000000-0000-4000-8000-000000000000".into(),
            ]),
            None,
            None,
            None,
            None,
        )
        .await
        .expect("listIdentities with ids");
        assert_eq!(
            listed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            [id.as_str()]
        );

        // deleteIdentityCredentials: backup codes go; the last first factor stays; a missing type is 404.
        let codes = json!({"config": {"recovery_codes": [{"code": "abcd1234", "used_at": null}]}});
        identity_api::patch_identity(
            &admin,
            &id,
            Some(vec![op("add", "/credentials/lookup_secret", Some(codes))]),
        )
        .await
        .expect("patchIdentity credentials");
        identity_api::delete_identity_credentials(&admin, &id, "lookup_secret", None)
            .await
            .expect("deleteIdentityCredentials");
        let (status, body) = refusal(
            identity_api::delete_identity_credentials(&admin, &id, "password", None)
                .await
                .unwrap_err(),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["error"]["reason"],
            "You cannot remove the last first factor credential."
        );
        let (status, _) = refusal(
            identity_api::delete_identity_credentials(&admin, &id, "totp", None)
                .await
                .unwrap_err(),
        );
        assert_eq!(status, StatusCode::NOT_FOUND);
        let after = identity_api::get_identity(&admin, &id, None)
            .await
            .expect("getIdentity");
        assert_eq!(
            after.credentials.unwrap().keys().collect::<Vec<_>>(),
            ["password"]
        );
        checks.finish();
    }
);
