//! `sesame-client` beyond whoami, against a real server: login, registration, logout, schemas,
//! health and the admin identities API, with their typed answers and typed refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use sesame_client::sesame_types::identity::{
    CredentialsBody, PasswordConfigBody, PasswordCredentialsBody,
};
use sesame_client::sesame_types::{
    Aal, CreateIdentityBody, FlowType, IdentityState, UpdateIdentityBody,
};
use sesame_client::{
    Client, ErrorKind, HeaderMap, Interceptor, RequestParts, StatusCode, UpdateLoginFlowBody,
    UpdateRegistrationFlowBody, UpdateSettingsFlowBody,
};
use sesame_testkit::{TestApp, api_test};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "a-very-good-passphrase-42";

fn client(app: &TestApp) -> Client {
    Client::builder(&app.public_url)
        .admin_url(&app.admin_url)
        .build()
        .unwrap()
}

/// The `Cookie` header a browser would send back after these `Set-Cookie` headers, merged into
/// the cookies it already had.
fn browser_cookies(jar: &str, headers: &HeaderMap) -> String {
    let mut cookies: Vec<(String, String)> = jar
        .split("; ")
        .filter_map(|c| c.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for set in headers.get_all("set-cookie") {
        let pair = set.to_str().unwrap().split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        cookies.retain(|(k, _)| k != name);
        let expired = set.to_str().unwrap().contains("Max-Age=0") || value.is_empty();
        if !expired {
            cookies.push((name.to_owned(), value.to_owned()));
        }
    }
    cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

api_test!(
    native_registration_then_login_with_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let flow = client.create_native_registration_flow().await.unwrap();
        assert_eq!(flow.status, StatusCode::OK);
        assert_eq!(flow.data.flow_type, FlowType::Api);
        let body =
            UpdateRegistrationFlowBody::password(json!({"email": "new@example.com"}), PASSWORD);
        let registered = client
            .update_registration_flow(flow.data.id, &body)
            .await
            .unwrap();
        assert_eq!(registered.data.identity.traits["email"], "new@example.com");
        let token = registered.data.session_token.clone().unwrap();
        assert!(registered.data.session.as_ref().unwrap().active);

        let login = client
            .login_with_password("new@example.com", PASSWORD)
            .await
            .unwrap();
        assert_eq!(login.status, StatusCode::OK);
        let login_token = login.data.session_token.clone().unwrap();
        assert_ne!(login_token, token, "a login starts a new session");
        assert_eq!(
            login.data.session.identity.as_ref().unwrap().id,
            registered.data.identity.id
        );
        let whoami = client
            .to_session()
            .x_session_token(&login_token)
            .await
            .unwrap();
        assert_eq!(whoami.data.id, login.data.session.id);
        assert_eq!(whoami.data.authenticator_assurance_level, Aal::Aal1);
    }
);

api_test!(
    a_refused_login_is_login_rejected_with_the_flow_and_its_message,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("wrong@example.com").await;
        let client = client(&app);
        let err = client
            .login_with_password("wrong@example.com", "not-the-password")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let ErrorKind::LoginRejected(flow) = &err.kind else {
            panic!("expected LoginRejected, got {err:?}");
        };
        assert_eq!(flow.ui.message_ids(), [4000006]);
        assert_eq!(flow.active.as_deref(), Some("password"));
        assert_eq!(err.id(), None);

        // The same flow takes the right password afterwards.
        let ok = client
            .update_login_flow(
                flow.id,
                &UpdateLoginFlowBody::password("wrong@example.com", PASSWORD),
            )
            .await
            .unwrap();
        assert!(ok.data.session_token.is_some());
    }
);

api_test!(
    a_refused_registration_is_registration_rejected_with_the_flow,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("taken@example.com").await;
        let client = client(&app);
        let flow = client.create_native_registration_flow().await.unwrap();
        let body =
            UpdateRegistrationFlowBody::password(json!({"email": "taken@example.com"}), PASSWORD);
        let err = client
            .update_registration_flow(flow.data.id, &body)
            .await
            .unwrap_err();
        let ErrorKind::RegistrationRejected(flow) = &err.kind else {
            panic!("expected RegistrationRejected, got {err:?}");
        };
        assert_eq!(flow.ui.message_ids(), [4000007]);
    }
);

api_test!(
    flow_errors_in_an_envelope_are_api_errors,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        // An unknown flow.
        let err = client
            .get_login_flow(uuid::Uuid::new_v4())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert!(
            matches!(&err.kind, ErrorKind::Api(e) if e.code == Some(404)),
            "{err:?}"
        );
        // A second-factor login without a session.
        let err = client
            .create_native_login_flow()
            .aal(Aal::Aal2)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(err.id(), Some("session_aal1_required"));
        // A login with a session already present.
        let (token, _) = app.signed_up_user("already@example.com").await;
        let err = client
            .create_native_login_flow()
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("session_already_available"), "{err:?}");
        let err = client
            .create_native_registration_flow()
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("session_already_available"), "{err:?}");
        // Refreshing that session is allowed, and says so.
        let flow = client
            .create_native_login_flow()
            .x_session_token(&token)
            .refresh(true)
            .await
            .unwrap();
        assert!(flow.data.refresh);
    }
);

api_test!(
    browser_login_and_logout_forwarding_the_browsers_cookies,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.signed_up_user("browser@example.com").await;
        let client = client(&app);

        let flow = client.create_browser_login_flow().await.unwrap();
        assert_eq!(flow.data.flow_type, FlowType::Browser);
        let jar = browser_cookies("", &flow.headers);
        assert!(
            jar.contains("csrf_token"),
            "the anti-CSRF cookie is set: {jar}"
        );
        let fetched = client
            .get_login_flow(flow.data.id)
            .cookie(&jar)
            .await
            .unwrap();
        assert_eq!(fetched.data.id, flow.data.id);
        let csrf = fetched.data.ui.csrf_token().unwrap().to_owned();

        // Without the anti-CSRF token the submission is refused.
        let err = client
            .update_login_flow(
                flow.data.id,
                &UpdateLoginFlowBody::password("browser@example.com", PASSWORD),
            )
            .cookie(&jar)
            .await
            .unwrap_err();
        assert_eq!(err.id(), Some("security_csrf_violation"), "{err:?}");
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));

        let login = client
            .update_login_flow(
                flow.data.id,
                &UpdateLoginFlowBody::password("browser@example.com", PASSWORD)
                    .with_csrf_token(&csrf),
            )
            .cookie(&jar)
            .await
            .unwrap();
        assert_eq!(
            login.data.session_token, None,
            "browsers get a cookie, not a token"
        );
        let jar = browser_cookies(&jar, &login.headers);
        assert!(jar.contains("ory_kratos_session="), "{jar}");
        let whoami = client.to_session().cookie(&jar).await.unwrap();
        assert_eq!(whoami.data.id, login.data.session.id);

        let logout = client
            .create_browser_logout_flow()
            .cookie(&jar)
            .await
            .unwrap();
        assert!(logout.data.logout_url.contains(&logout.data.logout_token));
        let done = client
            .update_logout_flow(&logout.data.logout_token)
            .cookie(&jar)
            .await
            .unwrap();
        assert_eq!(done.status, StatusCode::NO_CONTENT);
        let err = client.to_session().cookie(&jar).await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::SessionInactive), "{err:?}");
        // Without a session there is no logout URL.
        let err = client.create_browser_logout_flow().await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    }
);

api_test!(
    browser_registration_answers_json_and_sets_the_session_cookie,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let flow = client.create_browser_registration_flow().await.unwrap();
        let jar = browser_cookies("", &flow.headers);
        let fetched = client
            .get_registration_flow(flow.data.id)
            .cookie(&jar)
            .await
            .unwrap();
        let csrf = fetched.data.ui.csrf_token().unwrap().to_owned();
        let body =
            UpdateRegistrationFlowBody::password(json!({"email": "spa@example.com"}), PASSWORD)
                .with_csrf_token(csrf);
        let done = client
            .update_registration_flow(flow.data.id, &body)
            .cookie(&jar)
            .await
            .unwrap();
        assert_eq!(done.data.session_token, None);
        let jar = browser_cookies(&jar, &done.headers);
        let whoami = client.to_session().cookie(&jar).await.unwrap();
        assert_eq!(whoami.data.identity.unwrap().id, done.data.identity.id);
    }
);

api_test!(native_logout_ends_the_session, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signed_up_user("logout@example.com").await;
    let client = client(&app);
    let res = client.perform_native_logout(&token).await.unwrap();
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let err = client
        .to_session()
        .x_session_token(&token)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::SessionInactive));
    // Revoking a revoked session again is still a success; an unknown token is not.
    let again = client.perform_native_logout(&token).await.unwrap();
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let err = client
        .perform_native_logout("ory_st_unknown")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "{err:?}");
    assert!(matches!(&err.kind, ErrorKind::Api(e) if e.code == Some(403)));
});

api_test!(schemas_health_and_version, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let client = client(&app);
    let schemas = client
        .list_identity_schemas()
        .per_page(10)
        .page(0)
        .await
        .unwrap();
    assert_eq!(schemas.data.len(), 1);
    assert_eq!(schemas.data[0].id, "default");
    assert!(
        schemas
            .link("first")
            .unwrap()
            .ends_with("/schemas?page=0&per_page=10")
    );
    let schema = client.get_identity_schema("default").await.unwrap();
    assert_eq!(schema.data, schemas.data[0].schema);
    let err = client
        .get_identity_schema("no such/schema")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(
        err.request.url.ends_with("/schemas/no%20such%2Fschema"),
        "{}",
        err.request.url
    );

    assert_eq!(client.is_alive().await.unwrap().data.status, "ok");
    assert_eq!(client.is_ready().await.unwrap().data.status, "ok");
    assert_eq!(client.admin_is_alive().await.unwrap().data.status, "ok");
    assert_eq!(client.admin_is_ready().await.unwrap().data.status, "ok");
    let version = client.get_version().await.unwrap();
    assert!(!version.data.version.is_empty());
});

api_test!(
    admin_identities_create_read_update_delete,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let body = CreateIdentityBody {
            traits: json!({"email": "admin-made@example.com"}),
            credentials: Some(CredentialsBody {
                password: Some(PasswordCredentialsBody {
                    config: PasswordConfigBody {
                        password: Some(PASSWORD.to_owned()),
                        ..Default::default()
                    },
                }),
            }),
            metadata_admin: Some(json!({"plan": "pro"})),
            ..Default::default()
        };
        let created = client.create_identity(&body).await.unwrap();
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.data.id;
        assert!(
            created.headers["location"]
                .to_str()
                .unwrap()
                .ends_with(&format!("/identities/{id}"))
        );
        // The imported password works.
        client
            .login_with_password("admin-made@example.com", PASSWORD)
            .await
            .unwrap();

        let got = client.get_identity(id).await.unwrap();
        assert_eq!(got.data.metadata_admin, Some(json!({"plan": "pro"})));
        let with_hash = client
            .get_identity(id)
            .include_credential("password")
            .await
            .unwrap();
        let password = &with_hash.data.credentials.as_ref().unwrap()["password"];
        let hashed = password.config.as_ref().unwrap()["hashed_password"]
            .as_str()
            .unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");

        let update = UpdateIdentityBody {
            traits: json!({"email": "renamed@example.com"}),
            state: Some(IdentityState::Inactive),
            ..Default::default()
        };
        let updated = client.update_identity(id, &update).await.unwrap();
        assert_eq!(updated.data.traits["email"], "renamed@example.com");
        assert_eq!(updated.data.state, IdentityState::Inactive);

        // A body the server refuses is an API error with its reason.
        let bad = UpdateIdentityBody {
            traits: json!({"email": 42}),
            ..Default::default()
        };
        let err = client.update_identity(id, &bad).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");

        let deleted = client.delete_identity(id).await.unwrap();
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let err = client.get_identity(id).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert!(matches!(&err.kind, ErrorKind::Api(e) if e.code == Some(404)));
    }
);

api_test!(
    list_identities_follows_next_links_to_the_end,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        let mut made = Vec::new();
        for i in 0..5 {
            let body = CreateIdentityBody {
                traits: json!({"email": format!("page{i}@example.com")}),
                ..Default::default()
            };
            made.push(client.create_identity(&body).await.unwrap().data.id);
        }
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut request = client.list_identities().page_size(2);
            if let Some(token) = &token {
                request = request.page_token(token);
            }
            let page = request.await.unwrap();
            pages += 1;
            seen.extend(page.data.iter().map(|i| i.id));
            match page.next_page_token() {
                Some(next) => token = Some(next),
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        made.sort();
        seen.sort();
        assert_eq!(seen, made);
        assert_eq!(pages, 3);

        let legacy = client.list_identities().page(1).per_page(2).await.unwrap();
        assert_eq!(legacy.data.len(), 2);
        assert_eq!(legacy.headers["x-total-count"], "5");
        assert_eq!(legacy.data[0].id, made[2]);

        // Only identities with a password have a credentials identifier.
        let (_, member) = app.signed_up_user("member@example.com").await;
        let one = client
            .list_identities()
            .credentials_identifier("member@example.com")
            .await
            .unwrap();
        assert_eq!(one.data.len(), 1);
        assert_eq!(one.data[0].id.to_string(), member);

        let err = client
            .list_identities()
            .page_token("crafted")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    }
);

/// Counts the requests that reach the interceptors (that is, that would be sent).
#[derive(Default)]
struct Counter(AtomicUsize);

impl Interceptor for Counter {
    fn on_request(&self, _: &mut RequestParts) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn admin_calls_without_an_admin_url_fail_before_sending() {
    let counter = Arc::new(Counter::default());
    let client = Client::builder("http://127.0.0.1:9")
        .interceptor(counter.clone())
        .build()
        .unwrap();
    let err = client.get_identity(uuid::Uuid::new_v4()).await.unwrap_err();
    let ErrorKind::Config(message) = &err.kind else {
        panic!("expected Config, got {err:?}");
    };
    assert!(message.contains("admin URL"), "{message}");
    assert!(err.response.is_none());
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
}

api_test!(
    send_progress_counts_the_body_up_to_its_length,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let client = client(&app);
        // A body several chunks long.
        let body = CreateIdentityBody {
            traits: json!({"email": "big@example.com"}),
            metadata_admin: Some(json!({"notes": "x".repeat(40_000)})),
            ..Default::default()
        };
        let expected = serde_json::to_vec(&body).unwrap().len() as u64;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let created = client
            .create_identity(&body)
            .on_send_progress(move |done, total| record.lock().unwrap().push((done, total)))
            .await
            .unwrap();
        assert_eq!(created.request.headers["content-type"], "application/json");
        let seen = seen.lock().unwrap().clone();
        assert!(seen.len() >= 3, "several chunks: {seen:?}");
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
        assert!(seen.iter().all(|&(_, total)| total == expected), "{seen:?}");
        assert_eq!(seen.last(), Some(&(expected, expected)));
        // The server received it whole.
        let stored = client.get_identity(created.data.id).await.unwrap();
        assert_eq!(stored.data.metadata_admin, body.metadata_admin);
    }
);

api_test!(
    settings_flows_change_the_profile_and_password_and_reject_bad_values,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("settings@example.com").await;
        let client = client(&app);
        let flow = client
            .create_native_settings_flow()
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(flow.data.state, "show_form");
        assert_eq!(flow.data.identity.id.to_string(), identity_id);
        let fetched = client
            .get_settings_flow(flow.data.id)
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(fetched.data.id, flow.data.id);

        // A weak password is refused with the flow and its message.
        let err = client
            .update_settings_flow(flow.data.id, &UpdateSettingsFlowBody::password("short"))
            .x_session_token(&token)
            .await
            .unwrap_err();
        let ErrorKind::SettingsRejected(rejected) = &err.kind else {
            panic!("expected SettingsRejected, got {err:?}");
        };
        assert_eq!(rejected.ui.message_ids(), [4000032]);

        let saved = client
            .update_settings_flow(
                flow.data.id,
                &UpdateSettingsFlowBody::password("another-good-passphrase-7"),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        assert_eq!(saved.data.ui.message_ids(), [1050001]);
        client
            .login_with_password("settings@example.com", "another-good-passphrase-7")
            .await
            .unwrap();

        let saved = client
            .update_settings_flow(
                flow.data.id,
                &UpdateSettingsFlowBody::profile(json!({"email": "renamed@example.com"})),
            )
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(saved.data.identity.traits["email"], "renamed@example.com");

        // Without a session there is no settings flow.
        let err = client.create_native_settings_flow().await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(err.id(), Some("session_inactive"));
    }
);

api_test!(
    a_browser_settings_flow_is_driven_with_the_browsers_cookies,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("browser-settings@example.com").await;
        let client = client(&app);
        let jar = sesame_testkit::sealed_session_cookie(
            &token,
            chrono::Utc::now() + chrono::Duration::hours(1),
        );
        let flow = client
            .create_browser_settings_flow()
            .cookie(&jar)
            .await
            .unwrap();
        let jar = browser_cookies(&jar, &flow.headers);
        let csrf = flow.data.ui.csrf_token().unwrap().to_owned();
        let body = UpdateSettingsFlowBody::profile(json!({"email": "browser-renamed@example.com"}))
            .with_csrf_token(csrf);
        let saved = client
            .update_settings_flow(flow.data.id, &body)
            .cookie(&jar)
            .await
            .unwrap();
        assert_eq!(saved.data.state, "success");
        assert!(
            saved.data.continue_with.is_some(),
            "single-page apps are told where to go"
        );
    }
);

api_test!(
    identity_lifecycle_calls_have_typed_answers,
    |backend| async move {
        use sesame_client::sesame_types::{
            BatchPatchAction, IdentityPatch, JsonPatch, PatchIdentitiesBody,
        };
        let app = TestApp::spawn(backend).await;
        let client = client(&app);

        // Batch create: one result per item, in order; the bad item fails alone.
        let patch_id = uuid::Uuid::new_v4();
        let create = |email: &str| CreateIdentityBody {
            traits: json!({"email": email}),
            credentials: Some(CredentialsBody {
                password: Some(PasswordCredentialsBody {
                    config: PasswordConfigBody {
                        password: Some(PASSWORD.to_owned()),
                        ..Default::default()
                    },
                }),
            }),
            ..Default::default()
        };
        let body = PatchIdentitiesBody {
            identities: vec![
                IdentityPatch {
                    create: Some(create("batch@example.com")),
                    patch_id: Some(patch_id),
                },
                IdentityPatch {
                    create: Some(create("batch@example.com")),
                    patch_id: None,
                },
            ],
        };
        let batch = client.batch_patch_identities(&body).await.unwrap();
        assert_eq!(batch.status, StatusCode::OK);
        let [created, taken] = &batch.data.identities[..] else {
            panic!("two results: {:?}", batch.data);
        };
        assert_eq!(
            (created.action, created.patch_id),
            (BatchPatchAction::Create, Some(patch_id))
        );
        assert_eq!(taken.action, BatchPatchAction::Error);
        assert_eq!(taken.error.as_ref().unwrap().code, Some(409));
        let id = created.identity.unwrap();

        // JSON Patch: traits and external id.
        let patched = client
            .patch_identity(
                id,
                &[
                    JsonPatch::replace("/traits/email", json!("patched@example.com")),
                    JsonPatch::add("/external_id", json!("crm-7")),
                ],
            )
            .await
            .unwrap();
        assert_eq!(patched.data.traits["email"], "patched@example.com");
        let refused = client
            .patch_identity(id, &[JsonPatch::remove("/id")])
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(StatusCode::BAD_REQUEST));
        let ErrorKind::Api(error) = &refused.kind else {
            panic!("expected an API error, got {refused:?}");
        };
        assert_eq!(error.message, "patch includes denied path: /id");

        // By external id, and by ids.
        let found = client.get_identity_by_external_id("crm-7").await.unwrap();
        assert_eq!(found.data.id, id);
        let listed = client.list_identities().ids(&[id]).await.unwrap();
        assert_eq!(listed.data.len(), 1);
        assert_eq!(listed.data[0].id, id);

        // Credentials: the only password stays; a type the identity lacks is a 404.
        let err = client
            .delete_identity_credentials(id, "password")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let err = client
            .delete_identity_credentials(id, "totp")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        let codes = json!({"config": {"recovery_codes": [{"code": "abcd1234", "used_at": null}]}});
        client
            .patch_identity(id, &[JsonPatch::add("/credentials/lookup_secret", codes)])
            .await
            .unwrap();
        let removed = client
            .delete_identity_credentials(id, "lookup_secret")
            .await
            .unwrap();
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        let login = client
            .login_with_password("patched@example.com", PASSWORD)
            .await
            .unwrap();
        assert_eq!(login.status, StatusCode::OK);
    }
);
