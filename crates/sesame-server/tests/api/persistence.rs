//! Persistence: sessions survive a restart on the same database, and tokens and passwords are never
//! stored in plaintext (DESIGN.md difference 2) — checked in the raw SQLite file and, on PostgreSQL,
//! in every row of every table of the app's schema. Users sign up, log in and ask whoami through
//! the SDK (a restarted server listens on new ports: its client is taken again).

use crate::sdk::{PASSWORD, assert_session_inactive, log_in, sign_up};
use sesame_core::TokenDigest;
use sesame_core::identity::CredentialType;
use sesame_testkit::reqwest::StatusCode;
use sesame_testkit::{Backend, TestApp, api_test};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The SQLite database file and its WAL, as bytes.
fn sqlite_bytes(app: &TestApp) -> Vec<u8> {
    let path = app.sqlite_file().expect("a SQLite app has a file");
    let mut bytes = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
        bytes.extend(wal);
    }
    bytes
}

/// Every row of every table in the PostgreSQL schema that holds `identity_id`, as row text
/// (`bytea` renders as `\x<hex>`).
async fn postgres_rows(url: &str, identity_id: &str) -> Vec<String> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'identities' AND table_schema LIKE 't\\_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let id = uuid::Uuid::parse_str(identity_id).unwrap();
    let mut mine = None;
    for schema in schemas {
        let found: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM \"{schema}\".identities WHERE id = $1)"
        ))
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap_or(false);
        if found {
            mine = Some(schema);
            break;
        }
    }
    let schema = mine.expect("the app's schema holds the identity");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(&schema)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "sessions"), "{tables:?}");
    let mut rows = Vec::new();
    for table in tables {
        let text: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::text FROM \"{schema}\".\"{table}\" t"))
                .fetch_all(&pool)
                .await
                .unwrap();
        rows.extend(text);
    }
    pool.close().await;
    rows
}

api_test!(
    a_session_token_still_works_after_a_restart_on_the_same_database,
    |backend| async move {
        let mut app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "restart@example.com").await;
        let before = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(before.status, StatusCode::OK);
        let before = before.data;

        app.restart().await;

        let sdk = app.sdk();
        let after = sdk.to_session().x_session_token(&token).await.unwrap();
        assert_eq!(after.status, StatusCode::OK);
        let after = after.data;
        assert_eq!(after.id, before.id);
        assert_eq!(after.identity.as_ref().unwrap().id, identity_id);
        assert_eq!(after.expires_at, before.expires_at);
        assert_eq!(after.authentication_methods, before.authentication_methods);
        assert_eq!(after.devices, before.devices);
        let second = log_in(&sdk, "restart@example.com", PASSWORD).await;
        assert_ne!(second, token);
    }
);

api_test!(
    a_revoked_session_stays_revoked_after_a_restart,
    |backend| async move {
        let mut app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, _) = sign_up(&sdk, "revoked-restart@example.com").await;
        let res = sdk.perform_native_logout(&token).await.unwrap();
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        app.restart().await;
        let err = app
            .sdk()
            .to_session()
            .x_session_token(&token)
            .await
            .unwrap_err();
        assert_session_inactive(&err);
    }
);

api_test!(
    no_token_or_password_is_stored_in_plaintext,
    |backend| async move {
        let mut app = TestApp::spawn(backend).await;
        let sdk = app.sdk();
        let (token, identity_id) = sign_up(&sdk, "plaintext@example.com").await;
        let second = log_in(&sdk, "plaintext@example.com", PASSWORD).await;
        app.restart().await;
        let res = app
            .sdk()
            .to_session()
            .x_session_token(&token)
            .await
            .unwrap();
        assert_eq!(res.status, StatusCode::OK);

        match app.backend.clone() {
            Backend::Sqlite => {
                let bytes = sqlite_bytes(&app);
                assert!(
                    contains(&bytes, b"plaintext@example.com"),
                    "the file holds the data"
                );
                assert!(
                    contains(&bytes, TokenDigest::of(&token).as_bytes()),
                    "the token's digest is what is stored"
                );
                for secret in [&token, &second, &PASSWORD.to_owned()] {
                    assert!(
                        !contains(&bytes, secret.as_bytes()),
                        "a secret is stored in plaintext"
                    );
                }
                assert!(
                    !contains(&bytes, b"ory_st_"),
                    "no session token at all is stored"
                );
                assert!(!contains(&bytes, b"ory_lo_"), "no logout token is stored");
            }
            Backend::Postgres(url) => {
                let rows = postgres_rows(&url, &identity_id.to_string())
                    .await
                    .join("\n");
                assert!(
                    rows.contains("plaintext@example.com"),
                    "the rows hold the data"
                );
                assert!(
                    rows.contains(&hex(TokenDigest::of(&token).as_bytes())),
                    "the token's digest is what is stored"
                );
                for secret in [&token, &second, &PASSWORD.to_owned()] {
                    assert!(
                        !rows.contains(secret.as_str()),
                        "a secret is stored in plaintext"
                    );
                }
                assert!(
                    !rows.contains("ory_st_") && !rows.contains("ory_lo_"),
                    "no token is stored"
                );
            }
        }
    }
);

api_test!(
    the_store_api_never_hands_a_token_or_password_back,
    |backend| async move {
        let mut app = TestApp::spawn(backend).await;
        let (token, identity_id) = sign_up(&app.sdk(), "store@example.com").await;
        app.restart().await;
        let store = app.store();
        let (session, identity) = store
            .session_by_token(&TokenDigest::of(&token))
            .await
            .unwrap()
            .expect("found by digest");
        assert_eq!(identity.id.to_string(), identity_id.to_string());
        assert_eq!(session.token_digest, TokenDigest::of(&token));
        let id = identity.id;
        let credentials = store.credentials(&[id]).await.unwrap();
        let (_, by_identifier) = store
            .find_by_identifier(CredentialType::Password, "store@example.com")
            .await
            .unwrap()
            .expect("identifier");
        let dumps = [
            format!("{session:?}"),
            format!("{identity:?}"),
            format!("{credentials:?}"),
            format!("{by_identifier:?}"),
            format!("{:?}", store.identity(id).await.unwrap()),
        ];
        for dump in dumps {
            assert!(!dump.contains(&token), "{dump}");
            assert!(
                !dump.contains("ory_st_") && !dump.contains("ory_lo_"),
                "{dump}"
            );
            assert!(!dump.contains(PASSWORD), "{dump}");
            assert!(
                !dump.contains("$argon2"),
                "hashes are not printed either: {dump}"
            );
        }
        assert!(
            store
                .session_by_token(&TokenDigest::of("ory_st_unknown"))
                .await
                .unwrap()
                .is_none()
        );
    }
);
