//! The admin identities API, identity schemas, health and version, through the SDK.

use crate::proxy::Checks;
use crate::support::*;
use ory_kratos_client::apis::{Error, ResponseContent, frontend_api, identity_api, metadata_api};
use ory_kratos_client::models::{
    CreateIdentityBody, IdentityWithCredentials, IdentityWithCredentialsPassword,
    IdentityWithCredentialsPasswordConfig, UpdateIdentityBody, create_identity_body, identity,
    identity_credentials, update_identity_body,
};
use reqwest::StatusCode;
use serde_json::json;
use sesame_testkit::{TestApp, api_test};

api_test!(admin_identities_run_through_the_sdk, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let checks = Checks::for_app(&app).await;
    let admin = native(&checks.admin_url);

    let created = identity_api::create_identity(
        &admin,
        Some(CreateIdentityBody {
            credentials: Some(Box::new(IdentityWithCredentials {
                password: Some(Box::new(IdentityWithCredentialsPassword {
                    config: Some(Box::new(IdentityWithCredentialsPasswordConfig {
                        password: Some(PASSWORD.into()),
                        ..Default::default()
                    })),
                })),
                ..Default::default()
            })),
            metadata_public: Some(Some(json!({"plan": "free"}))),
            state: Some(create_identity_body::StateEnum::Active),
            ..CreateIdentityBody::new("default".into(), json!({"email": "heidi@example.com"}))
        }),
    )
    .await
    .expect("createIdentity");
    assert_eq!(created.schema_id, "default");
    assert!(
        created.schema_url.ends_with("/schemas/ZGVmYXVsdA"),
        "{}",
        created.schema_url
    );
    assert_eq!(created.traits, Some(json!({"email": "heidi@example.com"})));
    assert_eq!(created.state, Some(identity::StateEnum::Active));
    assert_eq!(created.metadata_public, Some(Some(json!({"plan": "free"}))));
    let password = &created.credentials.as_ref().expect("credentials")["password"];
    assert_eq!(
        password.r#type,
        Some(identity_credentials::TypeEnum::Password)
    );
    assert_eq!(
        password.identifiers.as_deref(),
        Some(&["heidi@example.com".to_owned()][..])
    );
    let recovery = created.recovery_addresses.as_deref().unwrap_or_default();
    assert_eq!(
        recovery
            .iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>(),
        ["heidi@example.com"]
    );
    let verifiable = created.verifiable_addresses.as_deref().unwrap_or_default();
    assert_eq!(
        verifiable
            .iter()
            .map(|a| a.status.as_str())
            .collect::<Vec<_>>(),
        ["pending"]
    );

    let conflict = identity_api::create_identity(
        &admin,
        Some(CreateIdentityBody::new(
            "default".into(),
            json!({"email": "heidi@example.com"}),
        )),
    )
    .await
    .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(identity_api::CreateIdentityError::Status400(body)),
        ..
    }) = conflict
    else {
        panic!("expected a decoded conflict, got {conflict:?}");
    };
    assert_eq!((status, body.error.code), (StatusCode::CONFLICT, Some(409)));

    // The imported password signs in through the SDK.
    let flow = app.login_flow().await;
    frontend_api::update_login_flow(
        &native(&checks.public_url),
        flow["id"].as_str().unwrap(),
        login_body("heidi@example.com", PASSWORD, None),
        None,
        None,
    )
    .await
    .expect("updateLoginFlow with the imported password");

    let got = identity_api::get_identity(&admin, &created.id, Some(vec!["password".into()]))
        .await
        .expect("getIdentity");
    assert_eq!(
        (got.id.as_str(), got.traits.as_ref()),
        (created.id.as_str(), created.traits.as_ref())
    );
    let config = got
        .credentials
        .as_ref()
        .and_then(|c| c["password"].config.as_ref());
    assert!(
        config
            .and_then(|c| c["hashed_password"].as_str())
            .is_some_and(|h| h.starts_with("$argon2id$")),
        "include_credential=password declassifies the hash: {config:?}"
    );

    let listed = identity_api::list_identities(
        &admin, None, None, None, None, None, None, None, None, None, None,
    )
    .await
    .expect("listIdentities");
    assert_eq!(
        listed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()]
    );

    let updated = identity_api::update_identity(
        &admin,
        &created.id,
        Some(UpdateIdentityBody::new(
            "default".into(),
            update_identity_body::StateEnum::Inactive,
            json!({"email": "heidi.new@example.com"}),
        )),
    )
    .await
    .expect("updateIdentity");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.state, Some(identity::StateEnum::Inactive));
    assert_eq!(
        updated.traits,
        Some(json!({"email": "heidi.new@example.com"}))
    );

    identity_api::delete_identity(&admin, &created.id)
        .await
        .expect("deleteIdentity");
    let err = identity_api::get_identity(&admin, &created.id, None)
        .await
        .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(identity_api::GetIdentityError::Status404(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded 404, got {err:?}");
    };
    assert_eq!(
        (status, body.error.code),
        (StatusCode::NOT_FOUND, Some(404))
    );
    assert!(
        identity_api::list_identities(
            &admin, None, None, None, None, None, None, None, None, None, None
        )
        .await
        .expect("listIdentities")
        .is_empty()
    );
    checks.finish();
});

api_test!(identity_schemas_run_through_the_sdk, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let checks = Checks::for_app(&app).await;
    let public = native(&checks.public_url);

    let schemas = identity_api::list_identity_schemas(&public, None, None, None, None)
        .await
        .expect("listIdentitySchemas");
    assert_eq!(
        schemas.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["default"]
    );
    assert_eq!(
        schemas[0].schema["properties"]["traits"]["properties"]["email"]["format"],
        "email"
    );

    let schema = identity_api::get_identity_schema(&public, "default")
        .await
        .expect("getIdentitySchema");
    assert_eq!(schema, schemas[0].schema);

    let err = identity_api::get_identity_schema(&public, "nope")
        .await
        .unwrap_err();
    let Error::ResponseError(ResponseContent {
        status,
        entity: Some(identity_api::GetIdentitySchemaError::Status404(body)),
        ..
    }) = err
    else {
        panic!("expected a decoded 404, got {err:?}");
    };
    assert_eq!(
        (status, body.error.code),
        (StatusCode::NOT_FOUND, Some(404))
    );
    checks.finish();
});

api_test!(
    health_and_version_run_through_the_sdk,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let checks = Checks::for_app(&app).await;
        for base in [&checks.public_url, &checks.admin_url] {
            let config = native(base);
            let alive = metadata_api::is_alive(&config).await.expect("isAlive");
            assert_eq!(alive.status, "ok");
            let ready = metadata_api::is_ready(&config).await.expect("isReady");
            assert_eq!(ready.status, "ok");
        }
        let version = metadata_api::get_version(&native(&checks.admin_url))
            .await
            .expect("getVersion");
        assert_eq!(version.version, env!("CARGO_PKG_VERSION"));
        checks.finish();
    }
);
