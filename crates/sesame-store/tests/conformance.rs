//! Storage conformance suite: every check runs on SQLite and on PostgreSQL.
//!
//! Each `conformance!` check expands into a module with two tests, `sqlite` and `postgres`. SQLite
//! runs in memory, or in a temporary file when the check also takes the `db` handle (reconnects,
//! raw storage). PostgreSQL (`SESAME_TEST_POSTGRES_URL`) gets a fresh schema per test, dropped when
//! the test passes and kept (and named on stderr) when it fails. Without the variable the
//! PostgreSQL half is reported as ignored, except under `CI`, where that is an error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sesame_core::aal::Aal;
use sesame_core::flow::{FlowBody, FlowRecord};
use sesame_core::identity::{Credential, CredentialType, Identity, IdentityView};
use sesame_core::messages;
use sesame_core::session::Session;
use sesame_core::store::{IdentityQuery, Store, StoreError};
use sesame_core::{
    Clock, FlowId, IdentityId, LogoutToken, SessionId, SessionToken, SystemClock, TokenDigest,
};
use sesame_store::Dsn;
use sesame_types::{
    AuthenticationMethod, ContinueWith, Device, FlowType, IdentityState, LoginFlow,
    RecoveryAddress, RegistrationFlow, SettingsFlow, UiContainer, VerifiableAddress,
};
use sqlx::Connection;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Expands one check into `mod name { sqlite, postgres }`.
///
/// `fn name(store) { … }` runs on an in-memory SQLite database; `fn name(store, db) { … }` also
/// receives the [`TestDb`] and runs on a SQLite file, so that it can reconnect and read raw
/// storage.
macro_rules! conformance {
    (fn $name:ident($store:ident) $body:block) => {
        conformance!(@expand $name, $store, db, TestDb::memory(), $body);
    };
    (fn $name:ident($store:ident, $db:ident) $body:block) => {
        conformance!(@expand $name, $store, $db, TestDb::sqlite_file(), $body);
    };
    (@expand $name:ident, $store:ident, $db:ident, $sqlite:expr, $body:block) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $db = $sqlite;
                {
                    let $store = $db.open().await;
                    $body
                }
                $db.finish().await;
            }

            sesame_testenv::needs_postgres! {
                #[tokio::test]
                async fn postgres() {
                    let $db = TestDb::postgres();
                    {
                        let $store = $db.open().await;
                        $body
                    }
                    $db.finish().await;
                }
            }
        }
    };
}

/// Where a test's database lives.
enum Target {
    Memory,
    SqliteFile(PathBuf),
    Postgres { url: String, schema: String },
}

/// One test's database: opened fresh, removed afterwards.
struct TestDb {
    target: Target,
}

impl TestDb {
    fn memory() -> Self {
        Self {
            target: Target::Memory,
        }
    }

    fn sqlite_file() -> Self {
        let path = std::env::temp_dir().join(format!(
            "sesame-conformance-{}.sqlite",
            Uuid::new_v4().simple()
        ));
        Self {
            target: Target::SqliteFile(path),
        }
    }

    /// A fresh schema on `SESAME_TEST_POSTGRES_URL`.
    fn postgres() -> Self {
        Self::postgres_at(sesame_testenv::postgres_url())
    }

    fn postgres_at(url: String) -> Self {
        Self {
            target: Target::Postgres {
                url,
                schema: format!("conf_{}", Uuid::new_v4().simple()),
            },
        }
    }

    /// Another, empty database on the same backend.
    fn sibling(&self) -> Self {
        match &self.target {
            Target::Memory => Self::memory(),
            Target::SqliteFile(_) => Self::sqlite_file(),
            Target::Postgres { url, .. } => Self::postgres_at(url.clone()),
        }
    }

    /// What `Store::backend` must say.
    fn backend(&self) -> &'static str {
        match self.target {
            Target::Memory | Target::SqliteFile(_) => "sqlite",
            Target::Postgres { .. } => "postgres",
        }
    }

    /// Connects without migrating.
    async fn connect(&self) -> Arc<dyn Store> {
        let store = match &self.target {
            Target::Memory => sesame_store::connect(&Dsn::Memory).await,
            Target::SqliteFile(path) => {
                sesame_store::connect(&Dsn::Sqlite(path.display().to_string())).await
            }
            Target::Postgres { url, schema } => {
                sesame_store::connect_postgres_schema(url, schema).await
            }
        };
        store.expect("connecting the test database")
    }

    /// Connects and migrates.
    async fn open(&self) -> Arc<dyn Store> {
        let store = self.connect().await;
        store.migrate().await.expect("migrating the test database");
        store
    }

    /// A new connection to the same data (not possible in memory).
    async fn reopen(&self) -> Arc<dyn Store> {
        assert!(
            !matches!(self.target, Target::Memory),
            "an in-memory database cannot be reopened"
        );
        self.open().await
    }

    /// `(token_digest, logout_token_digest)` of every session, read over a separate connection.
    async fn stored_token_digests(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        const SQL: &str = "SELECT token_digest, logout_token_digest FROM sessions";
        match &self.target {
            Target::Memory => {
                panic!("an in-memory database cannot be read over a separate connection")
            }
            Target::SqliteFile(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                let rows = sqlx::query_as(SQL).fetch_all(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                rows
            }
            Target::Postgres { url, schema } => {
                let mut conn = self.pg_connection(url, schema).await;
                let rows = sqlx::query_as(SQL).fetch_all(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                rows
            }
        }
    }

    /// Everything the database physically holds: the SQLite file and its WAL, or for PostgreSQL the
    /// text form of every row of every table (bytea shows as hex there).
    async fn raw_storage(&self) -> Vec<u8> {
        match &self.target {
            Target::Memory => panic!("an in-memory database has no raw storage to read"),
            Target::SqliteFile(path) => {
                let mut bytes = std::fs::read(path).unwrap();
                if let Ok(wal) = std::fs::read(wal_path(path)) {
                    bytes.extend_from_slice(&wal);
                }
                bytes
            }
            Target::Postgres { url, schema } => {
                let mut conn = self.pg_connection(url, schema).await;
                let mut dump = String::new();
                for table in [
                    "identities",
                    "identity_addresses",
                    "identity_credentials",
                    "identity_credential_identifiers",
                    "sessions",
                    "selfservice_flows",
                ] {
                    let rows: String = sqlx::query_scalar(&format!(
                        "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM {table} t"
                    ))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                    dump.push_str(&rows);
                    dump.push('\n');
                }
                conn.close().await.unwrap();
                dump.into_bytes()
            }
        }
    }

    async fn pg_connection(&self, url: &str, schema: &str) -> sqlx::PgConnection {
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .unwrap()
            .options([("search_path", schema)]);
        sqlx::PgConnection::connect_with(&options).await.unwrap()
    }

    /// Removes the database after a passing test (files also go on `Drop`).
    async fn finish(self) {
        if let Target::Postgres { url, schema } = &self.target {
            let options = sqlx::postgres::PgConnectOptions::from_str(url).unwrap();
            let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.target {
            Target::Memory => {}
            Target::SqliteFile(path) => {
                for file in [path.clone(), wal_path(path), with_suffix(path, "-shm")] {
                    let _ = std::fs::remove_file(file);
                }
            }
            Target::Postgres { schema, .. } => {
                if std::thread::panicking() {
                    eprintln!("kept PostgreSQL schema {schema} of the failed test for inspection");
                }
            }
        }
    }
}

fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn wal_path(path: &std::path::Path) -> PathBuf {
    with_suffix(path, "-wal")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/// Now, truncated to microseconds like every time the application stores.
fn now() -> DateTime<Utc> {
    SystemClock.now()
}

/// Traits with keys deliberately out of alphabetical order, as compact JSON text.
fn traits_text(email: &str) -> String {
    format!(
        r#"{{"name":{{"last":"Lovelace","first":"Ada"}},"email":"{email}","age":36,"zeta":true,"alpha":null}}"#
    )
}

/// An active identity whose traits, verifiable and recovery address carry `email`.
fn identity(email: &str) -> Identity {
    let t = now();
    Identity {
        id: IdentityId::new(),
        schema_id: "default".into(),
        traits: serde_json::from_str(&traits_text(email)).unwrap(),
        state: IdentityState::Active,
        state_changed_at: Some(t),
        metadata_public: Some(json!({"plan": "pro", "beta": [1, 2]})),
        metadata_admin: Some(json!({"note": "imported"})),
        external_id: None,
        organization_id: None,
        verifiable_addresses: vec![VerifiableAddress {
            id: Uuid::new_v4(),
            value: email.into(),
            verified: false,
            via: "email".into(),
            status: "pending".into(),
            verified_at: None,
            created_at: t,
            updated_at: t,
        }],
        recovery_addresses: vec![RecoveryAddress {
            id: Uuid::new_v4(),
            value: email.into(),
            via: "email".into(),
            created_at: t,
            updated_at: t,
        }],
        available_aal: Aal::Aal1,
        created_at: t,
        updated_at: t,
    }
}

/// A password credential of `owner` with one identifier.
fn password(owner: &Identity, identifier: &str) -> Credential {
    let t = now();
    Credential {
        id: Uuid::new_v4(),
        identity_id: owner.id,
        kind: CredentialType::Password,
        identifiers: vec![identifier.into()],
        config: json!({"hashed_password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"}),
        version: 0,
        created_at: t,
        updated_at: t,
    }
}

/// A TOTP credential of `owner`, identified (as Kratos does) by the identity id.
fn totp(owner: &Identity) -> Credential {
    let t = now();
    Credential {
        id: Uuid::new_v4(),
        identity_id: owner.id,
        kind: CredentialType::Totp,
        identifiers: vec![owner.id.to_string()],
        config: json!({"totp_url": "otpauth://totp/Sesame:ada?secret=JBSWY3DPEHPK3PXP&issuer=Sesame"}),
        version: 0,
        created_at: t,
        updated_at: t,
    }
}

/// A lookup secret (backup code) credential of `owner`, identified by the identity id.
fn lookup_secret(owner: &Identity) -> Credential {
    let t = now();
    Credential {
        id: Uuid::new_v4(),
        identity_id: owner.id,
        kind: CredentialType::LookupSecret,
        identifiers: vec![owner.id.to_string()],
        config: json!({"recovery_codes": [
            {"code": "a1b2c3d4", "used_at": null},
            {"code": "e5f6g7h8", "used_at": sesame_types::time::format(&t)},
        ]}),
        version: 0,
        created_at: t,
        updated_at: t,
    }
}

/// Creates an identity with a password credential for `email`.
async fn create_user(store: &Arc<dyn Store>, email: &str) -> (Identity, Credential) {
    let identity = identity(email);
    let credential = password(&identity, email);
    store
        .create_identity(&identity, std::slice::from_ref(&credential))
        .await
        .unwrap();
    (identity, credential)
}

/// An active aal1 session of `owner` for `token`, valid for a day.
fn session(owner: &Identity, token: &SessionToken) -> Session {
    let t = now();
    Session {
        id: SessionId::new(),
        identity_id: owner.id,
        token_digest: token.digest(),
        logout_token_digest: LogoutToken::generate().digest(),
        active: true,
        aal: Aal::Aal1,
        authentication_methods: vec![AuthenticationMethod {
            method: "password".into(),
            aal: Aal::Aal1,
            completed_at: t,
            provider: None,
        }],
        devices: vec![Device {
            id: Uuid::new_v4(),
            ip_address: Some("203.0.113.7".into()),
            user_agent: Some("sesame-conformance/1.0".into()),
            location: Some(String::new()),
        }],
        issued_at: t,
        expires_at: t + Duration::hours(24),
        authenticated_at: t,
        created_at: t,
        updated_at: t,
    }
}

fn ui(action: String) -> UiContainer {
    UiContainer {
        action,
        method: "POST".into(),
        nodes: vec![messages::csrf_node("")],
        messages: Vec::new(),
    }
}

fn login_flow() -> LoginFlow {
    let t = now();
    let id = Uuid::new_v4();
    LoginFlow {
        id,
        organization_id: None,
        flow_type: FlowType::Browser,
        expires_at: t + Duration::minutes(10),
        issued_at: t,
        request_url: "http://127.0.0.1:4433/self-service/login/browser?return_to=%2Fhome".into(),
        return_to: Some("/home".into()),
        active: None,
        ui: ui(format!(
            "http://127.0.0.1:4433/self-service/login?flow={id}"
        )),
        created_at: t,
        updated_at: t,
        refresh: false,
        requested_aal: Aal::Aal1,
        state: "choose_method".into(),
    }
}

fn registration_flow() -> RegistrationFlow {
    let t = now();
    let id = Uuid::new_v4();
    RegistrationFlow {
        id,
        flow_type: FlowType::Api,
        expires_at: t + Duration::minutes(10),
        issued_at: t,
        request_url: "http://127.0.0.1:4433/self-service/registration/api".into(),
        return_to: None,
        active: None,
        ui: ui(format!(
            "http://127.0.0.1:4433/self-service/registration?flow={id}"
        )),
        organization_id: None,
        state: "choose_method".into(),
    }
}

fn settings_flow(owner: &Identity) -> SettingsFlow {
    let t = now();
    let id = Uuid::new_v4();
    SettingsFlow {
        id,
        flow_type: FlowType::Browser,
        expires_at: t + Duration::hours(1),
        issued_at: t,
        request_url: "http://127.0.0.1:4433/self-service/settings/browser".into(),
        return_to: Some("/account".into()),
        active: None,
        ui: ui(format!(
            "http://127.0.0.1:4433/self-service/settings?flow={id}"
        )),
        identity: owner.to_wire("http://127.0.0.1:4433", IdentityView::Public, None),
        state: "show_form".into(),
        organization_id: None,
        continue_with: None,
    }
}

/// The owner and credential of a password identifier.
async fn find_password(store: &Arc<dyn Store>, identifier: &str) -> Option<(Identity, Credential)> {
    store
        .find_by_identifier(CredentialType::Password, identifier)
        .await
        .unwrap()
}

/// The session of a token, with its identity.
async fn by_token(store: &Arc<dyn Store>, token: &SessionToken) -> Option<(Session, Identity)> {
    store.session_by_token(&token.digest()).await.unwrap()
}

/// A page of identities.
async fn list(store: &Arc<dyn Store>, query: IdentityQuery) -> Vec<Identity> {
    store.list_identities(&query).await.unwrap()
}

fn page(after: Option<IdentityId>, limit: u32) -> IdentityQuery {
    IdentityQuery {
        after,
        limit,
        ..IdentityQuery::default()
    }
}

fn by_identifier(q: &str) -> IdentityQuery {
    IdentityQuery {
        credentials_identifier: Some(q.into()),
        limit: 100,
        ..IdentityQuery::default()
    }
}

fn ids(identities: &[Identity]) -> Vec<IdentityId> {
    identities.iter().map(|i| i.id).collect()
}

// ---------------------------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------------------------

/// Asserts that a store call failed with `Conflict`.
fn assert_conflict(result: Result<(), StoreError>) {
    match result {
        Err(StoreError::Conflict) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
}

/// Asserts that a store call failed with `NotFound`.
fn assert_not_found(result: Result<(), StoreError>) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Asserts that nothing of a rejected identity was stored.
async fn assert_not_stored(store: &Arc<dyn Store>, rejected: &Identity, identifier: &str) {
    assert_eq!(store.identity(rejected.id).await.unwrap(), None);
    assert!(store.credentials(&[rejected.id]).await.unwrap().is_empty());
    assert!(find_password(store, identifier).await.is_none());
    assert!(list(store, by_identifier(identifier)).await.is_empty());
}

conformance!(fn a_created_identity_reads_back_unchanged_with_traits_in_their_original_key_order(
    store
) {
    let text = traits_text("ada@example.com");
    let (created, _) = create_user(&store, "ada@example.com").await;
    assert_eq!(serde_json::to_string(&created.traits).unwrap(), text, "builder keeps key order");

    let stored = store.identity(created.id).await.unwrap().expect("the identity is stored");
    assert_eq!(stored, created);
    assert_eq!(serde_json::to_string(&stored.traits).unwrap(), text);
    assert_eq!(store.identity(IdentityId::new()).await.unwrap(), None, "unknown ids: none");
});

conformance!(fn creating_an_identity_makes_it_findable_by_its_identifier(store) {
    let (created, credential) = create_user(&store, "x@example.com").await;

    assert_eq!(store.credentials(&[created.id]).await.unwrap(), vec![credential.clone()]);
    let (found, found_credential) =
        find_password(&store, "x@example.com").await.expect("found by its password identifier");
    assert_eq!(found, created);
    assert_eq!(found_credential, credential);
    assert_eq!(found_credential.hashed_password(), credential.hashed_password());

    assert!(find_password(&store, "y@example.com").await.is_none());
    let as_totp = store.find_by_identifier(CredentialType::Totp, "x@example.com").await.unwrap();
    assert!(as_totp.is_none(), "identifiers are per credential type");
    assert!(store.credentials(&[]).await.unwrap().is_empty());
    assert!(store.credentials(&[IdentityId::new()]).await.unwrap().is_empty());
});

conformance!(fn credentials_of_several_identities_are_returned_together(store) {
    let a = identity("a@example.com");
    let a_password = password(&a, "a@example.com");
    let a_totp = totp(&a);
    store.create_identity(&a, &[a_password.clone(), a_totp.clone()]).await.unwrap();
    let (b, b_password) = create_user(&store, "b@example.com").await;
    create_user(&store, "c@example.com").await;

    let mut got = store.credentials(&[a.id, b.id]).await.unwrap();
    got.sort_by_key(|cr| cr.id);
    let mut want = vec![a_password, a_totp.clone(), b_password];
    want.sort_by_key(|cr| cr.id);
    assert_eq!(got, want);

    let (found, credential) = store
        .find_by_identifier(CredentialType::Totp, &a.id.to_string())
        .await
        .unwrap()
        .expect("found by its TOTP identifier");
    assert_eq!((found.id, credential), (a.id, a_totp));
});

conformance!(fn identities_without_an_external_id_do_not_conflict(store) {
    create_user(&store, "one@example.com").await;
    create_user(&store, "two@example.com").await;
    let mut with_external = identity("three@example.com");
    with_external.external_id = Some("crm-3".into());
    with_external.organization_id = Some(Uuid::new_v4());
    store.create_identity(&with_external, &[]).await.unwrap();
    assert_eq!(store.identity(with_external.id).await.unwrap(), Some(with_external));
});

conformance!(fn a_taken_identifier_is_a_conflict_and_stores_nothing(store) {
    let (first, _) = create_user(&store, "taken@example.com").await;
    let second = identity("other@example.com");
    let credential = Credential {
        identifiers: vec!["free@example.com".into(), "taken@example.com".into()],
        ..password(&second, "unused")
    };

    assert_conflict(store.create_identity(&second, &[credential]).await);
    assert_not_stored(&store, &second, "free@example.com").await;
    let (owner, _) = find_password(&store, "taken@example.com").await.unwrap();
    assert_eq!(owner.id, first.id, "the identifier still belongs to the first identity");

    // Its address was not kept either: someone else can still use it.
    create_user(&store, "other@example.com").await;
});

conformance!(fn a_taken_verifiable_address_is_a_conflict_and_stores_nothing(store) {
    create_user(&store, "shared@example.com").await;
    let mut second = identity("second@example.com");
    second.verifiable_addresses[0].value = "shared@example.com".into();
    let credential = password(&second, "second@example.com");

    assert_conflict(store.create_identity(&second, &[credential]).await);
    assert_not_stored(&store, &second, "second@example.com").await;
});

conformance!(fn a_taken_recovery_address_is_a_conflict_and_stores_nothing(store) {
    create_user(&store, "shared@example.com").await;
    let mut second = identity("second@example.com");
    second.recovery_addresses[0].value = "shared@example.com".into();
    let credential = password(&second, "second@example.com");

    assert_conflict(store.create_identity(&second, &[credential]).await);
    assert_not_stored(&store, &second, "second@example.com").await;
});

conformance!(fn a_taken_external_id_is_a_conflict_and_stores_nothing(store) {
    let mut first = identity("first@example.com");
    first.external_id = Some("crm-42".into());
    store.create_identity(&first, &[password(&first, "first@example.com")]).await.unwrap();
    let mut second = identity("second@example.com");
    second.external_id = Some("crm-42".into());
    let credential = password(&second, "second@example.com");

    assert_conflict(store.create_identity(&second, &[credential]).await);
    assert_not_stored(&store, &second, "second@example.com").await;
});

conformance!(fn a_taken_identity_id_is_a_conflict(store) {
    let (first, _) = create_user(&store, "first@example.com").await;
    let clash = Identity { id: first.id, ..identity("second@example.com") };
    assert_conflict(store.create_identity(&clash, &[]).await);
    assert_eq!(store.identity(first.id).await.unwrap(), Some(first));
});

conformance!(fn updating_an_identity_with_new_credentials_replaces_its_identifiers(store) {
    let (mut user, old) = create_user(&store, "old@example.com").await;
    let later = now() + Duration::seconds(5);
    user.traits = serde_json::from_str(&traits_text("new@example.com")).unwrap();
    user.verifiable_addresses[0].value = "new@example.com".into();
    user.recovery_addresses[0].value = "new@example.com".into();
    user.state = IdentityState::Inactive;
    user.state_changed_at = Some(later);
    user.metadata_public = None;
    user.external_id = Some("ext-1".into());
    user.available_aal = Aal::Aal2;
    user.updated_at = later;
    let new_identifiers = vec!["new@example.com".to_owned()];
    let new = Credential { identifiers: new_identifiers, updated_at: later, ..old.clone() };
    let second_factor = totp(&user);

    store.update_identity(&user, Some(&[new.clone(), second_factor.clone()])).await.unwrap();

    assert_eq!(store.identity(user.id).await.unwrap(), Some(user.clone()));
    assert!(find_password(&store, "old@example.com").await.is_none());
    let found = find_password(&store, "new@example.com").await.expect("found by the new one");
    assert_eq!(found, (user.clone(), new.clone()));
    let mut credentials = store.credentials(&[user.id]).await.unwrap();
    credentials.sort_by_key(|c| c.kind);
    assert_eq!(credentials, vec![new, second_factor]);

    // The old identifier and address are free again.
    create_user(&store, "old@example.com").await;
});

conformance!(fn enrolling_and_removing_second_factors_replaces_credentials_and_aal(store) {
    let (mut user, pw) = create_user(&store, "2fa@example.com").await;
    let other = identity("other@example.com");
    let other_credentials =
        [password(&other, "other@example.com"), totp(&other), lookup_secret(&other)];
    store.create_identity(&other, &other_credentials).await.unwrap();
    let token = SessionToken::generate();
    store.insert_session(&session(&user, &token)).await.unwrap();
    let sorted = |mut v: Vec<Credential>| {
        v.sort_by_key(|c| c.kind);
        v
    };
    let stored = |id: IdentityId| {
        let store = store.clone();
        async move { sorted(store.credentials(&[id]).await.unwrap()) }
    };

    // Enrol TOTP and backup codes.
    let second = totp(&user);
    let codes = lookup_secret(&user);
    user.available_aal = Aal::Aal2;
    user.updated_at = now() + Duration::seconds(1);
    let enrolled = [pw.clone(), second.clone(), codes.clone()];
    store.update_identity(&user, Some(&enrolled)).await.unwrap();

    assert_eq!(store.identity(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(stored(user.id).await, sorted(enrolled.to_vec()));
    let (_, owner) = by_token(&store, &token).await.unwrap();
    assert_eq!(owner.available_aal, Aal::Aal2, "whoami sees the new level without credentials");
    let by_totp =
        store.find_by_identifier(CredentialType::Totp, &user.id.to_string()).await.unwrap();
    assert_eq!(by_totp, Some((user.clone(), second.clone())));
    let by_code =
        store.find_by_identifier(CredentialType::LookupSecret, &user.id.to_string()).await.unwrap();
    assert_eq!(by_code, Some((user.clone(), codes.clone())));

    // A backup code is used: the lookup secret's config changes, nothing else.
    let mut used = codes.clone();
    used.config["recovery_codes"][0]["used_at"] = json!(sesame_types::time::format(&now()));
    used.updated_at = now() + Duration::seconds(2);
    store.update_credential_config(&used).await.unwrap();
    let expected = sorted(vec![pw.clone(), second.clone(), used.clone()]);
    assert_eq!(stored(user.id).await, expected);

    // Unlink TOTP: the credential and its identifier go, the level stays with the codes.
    user.updated_at = now() + Duration::seconds(3);
    store.update_identity(&user, Some(&[pw.clone(), used.clone()])).await.unwrap();
    assert_eq!(stored(user.id).await, sorted(vec![pw.clone(), used]));
    let gone = store.find_by_identifier(CredentialType::Totp, &user.id.to_string()).await.unwrap();
    assert_eq!(gone, None);

    // Remove the codes too: back to aal1.
    user.available_aal = Aal::Aal1;
    user.updated_at = now() + Duration::seconds(4);
    store.update_identity(&user, Some(std::slice::from_ref(&pw))).await.unwrap();
    assert_eq!(store.identity(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(stored(user.id).await, vec![pw]);
    assert_eq!(by_token(&store, &token).await.unwrap().1.available_aal, Aal::Aal1);

    // The other identity's second factors are untouched.
    assert_eq!(stored(other.id).await, sorted(other_credentials.to_vec()));
});

conformance!(fn updating_an_identity_without_credentials_keeps_them(store) {
    let (mut user, credential) = create_user(&store, "keep@example.com").await;
    user.metadata_admin = Some(json!({"note": "changed"}));
    user.updated_at = now() + Duration::seconds(1);

    store.update_identity(&user, None).await.unwrap();

    assert_eq!(store.identity(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(store.credentials(&[user.id]).await.unwrap(), vec![credential.clone()]);
    assert_eq!(find_password(&store, "keep@example.com").await, Some((user, credential)));
});

conformance!(fn updating_an_identity_onto_a_taken_identifier_is_a_conflict_and_changes_nothing(
    store
) {
    create_user(&store, "taken@example.com").await;
    let (user, credential) = create_user(&store, "mine@example.com").await;
    let mut changed = user.clone();
    changed.metadata_admin = Some(json!({"note": "must not be saved"}));
    let stolen =
        Credential { identifiers: vec!["taken@example.com".into()], ..credential.clone() };

    assert_conflict(store.update_identity(&changed, Some(&[stolen])).await);
    assert_eq!(store.identity(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(store.credentials(&[user.id]).await.unwrap(), vec![credential]);
    assert!(find_password(&store, "mine@example.com").await.is_some());

    let mut address_thief = user.clone();
    address_thief.verifiable_addresses[0].value = "taken@example.com".into();
    assert_conflict(store.update_identity(&address_thief, None).await);
    assert_eq!(store.identity(user.id).await.unwrap(), Some(user));
});

conformance!(fn updating_a_missing_identity_is_not_found(store) {
    let ghost = identity("ghost@example.com");
    let credential = password(&ghost, "ghost@example.com");
    assert_not_found(store.update_identity(&ghost, Some(&[credential])).await);
    assert_not_found(store.update_identity(&ghost, None).await);
    assert_eq!(store.identity(ghost.id).await.unwrap(), None);
    assert!(find_password(&store, "ghost@example.com").await.is_none());
});

conformance!(fn updating_a_credential_config_changes_only_that_credential(store) {
    let (user, credential) = create_user(&store, "rehash@example.com").await;
    let (other, other_credential) = create_user(&store, "other@example.com").await;
    let rehashed = Credential {
        config: json!({"hashed_password": "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA"}),
        updated_at: now() + Duration::seconds(1),
        ..credential
    };

    store.update_credential_config(&rehashed).await.unwrap();

    assert_eq!(store.credentials(&[user.id]).await.unwrap(), vec![rehashed.clone()]);
    assert_eq!(store.credentials(&[other.id]).await.unwrap(), vec![other_credential]);
    let (_, found) = find_password(&store, "rehash@example.com").await.unwrap();
    assert_eq!(found.hashed_password(), rehashed.hashed_password());
});

conformance!(fn listing_identities_orders_by_id_and_pages_by_keyset(store) {
    assert!(list(&store, page(None, 10)).await.is_empty());
    let mut all = Vec::new();
    for n in 0..7 {
        all.push(create_user(&store, &format!("user{n}@example.com")).await.0);
    }
    all.sort_by_key(|i| i.id);

    assert_eq!(list(&store, page(None, 100)).await, all, "all identities, ordered by id");

    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let chunk = list(&store, page(after, 3)).await;
        assert!(chunk.len() <= 3);
        let Some(last) = chunk.last() else { break };
        after = Some(last.id);
        pages.push(ids(&chunk));
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
    assert_eq!(pages.concat(), ids(&all), "keyset pages cover everything once, in order");

    let window = list(&store, page(Some(all[2].id), 2)).await;
    assert_eq!(ids(&window), ids(&all[3..5]));
    assert!(list(&store, page(Some(all[6].id), 10)).await.is_empty());
});

conformance!(fn listing_identities_by_credentials_identifier_matches_password_identifiers_only(
    store
) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let bob = identity("bob@example.com");
    let bob_totp = totp(&bob);
    let bob_credentials = [password(&bob, "bob@example.com"), bob_totp.clone()];
    store.create_identity(&bob, &bob_credentials).await.unwrap();

    assert_eq!(list(&store, by_identifier("ada@example.com")).await, vec![ada.clone()]);
    assert_eq!(ids(&list(&store, by_identifier("bob@example.com")).await), vec![bob.id]);
    assert!(list(&store, by_identifier("nobody@example.com")).await.is_empty());
    assert!(
        list(&store, by_identifier(&bob_totp.identifiers[0])).await.is_empty(),
        "a TOTP identifier is not a password identifier"
    );

    let from_start =
        IdentityQuery { after: Some(IdentityId(Uuid::nil())), ..by_identifier("ada@example.com") };
    assert_eq!(ids(&list(&store, from_start).await), vec![ada.id]);
    let past_ada = IdentityQuery { after: Some(ada.id), ..by_identifier("ada@example.com") };
    assert!(list(&store, past_ada).await.is_empty());
});

conformance!(fn deleting_an_identity_removes_its_credentials_and_sessions(store) {
    let (doomed, _) = create_user(&store, "doomed@example.com").await;
    let (kept, kept_credential) = create_user(&store, "kept@example.com").await;
    let doomed_tokens = [SessionToken::generate(), SessionToken::generate()];
    for token in &doomed_tokens {
        store.insert_session(&session(&doomed, token)).await.unwrap();
    }
    let kept_token = SessionToken::generate();
    let kept_session = session(&kept, &kept_token);
    store.insert_session(&kept_session).await.unwrap();
    assert_eq!(store.count_sessions().await.unwrap(), 3);

    assert!(store.delete_identity(doomed.id).await.unwrap());

    assert_eq!(store.identity(doomed.id).await.unwrap(), None);
    assert!(store.credentials(&[doomed.id]).await.unwrap().is_empty());
    assert!(find_password(&store, "doomed@example.com").await.is_none());
    for token in &doomed_tokens {
        assert!(by_token(&store, token).await.is_none());
    }
    assert_eq!(store.count_sessions().await.unwrap(), 1);
    assert!(!store.delete_identity(doomed.id).await.unwrap(), "a second delete finds nothing");
    assert!(!store.delete_identity(IdentityId::new()).await.unwrap());

    // The other identity is untouched; the deleted one's identifier and address are free again.
    assert_eq!(store.credentials(&[kept.id]).await.unwrap(), vec![kept_credential]);
    assert_eq!(by_token(&store, &kept_token).await, Some((kept_session, kept)));
    create_user(&store, "doomed@example.com").await;
});

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

conformance!(fn a_session_always_brings_its_identity_as_stored_now(store, db) {
    // On a SQLite file the lookup keeps decoded identities; each must follow every change.
    let (mut user, _) = create_user(&store, "changing@example.com").await;
    let token = SessionToken::generate();
    store.insert_session(&session(&user, &token)).await.unwrap();
    let before = user.clone();
    assert_eq!(by_token(&store, &token).await.unwrap().1, user);
    assert_eq!(by_token(&store, &token).await.unwrap().1, user, "read again");

    user.metadata_public = Some(json!({"plan": "free"}));
    store.update_identity(&user, None).await.unwrap();
    assert_eq!(by_token(&store, &token).await.unwrap().1, user);

    user.state = IdentityState::Inactive;
    store.update_identity(&user, None).await.unwrap();
    assert_eq!(by_token(&store, &token).await.unwrap().1.state, IdentityState::Inactive);

    store.update_identity(&before, None).await.unwrap();
    assert_eq!(by_token(&store, &token).await.unwrap().1, before, "and back");
});

conformance!(fn a_session_is_found_by_its_token_digest_together_with_its_identity(store) {
    let (user, _) = create_user(&store, "s@example.com").await;
    let token = SessionToken::generate();
    let created = session(&user, &token);
    store.insert_session(&created).await.unwrap();

    let (found, owner) = by_token(&store, &token).await.expect("found by its digest");
    assert_eq!(found, created, "every field, timestamps to the microsecond");
    assert_eq!(owner, user);
    assert_eq!(serde_json::to_string(&owner.traits).unwrap(), traits_text("s@example.com"));

    assert!(by_token(&store, &SessionToken::generate()).await.is_none());
    let by_logout = store.session_by_token(&created.logout_token_digest).await.unwrap();
    assert!(by_logout.is_none(), "a logout token is not a session token");
    let unprefixed = TokenDigest::of(token.expose().trim_start_matches("ory_st_"));
    assert!(store.session_by_token(&unprefixed).await.unwrap().is_none());
});

conformance!(fn revoking_a_session_by_token_deactivates_it(store) {
    let (user, _) = create_user(&store, "r@example.com").await;
    let token = SessionToken::generate();
    let created = session(&user, &token);
    store.insert_session(&created).await.unwrap();
    let later = now() + Duration::minutes(1);

    assert!(store.revoke_session_by_token(&token.digest(), later).await.unwrap());

    let (revoked, _) = by_token(&store, &token).await.expect("revoked sessions are kept");
    assert!(!revoked.active);
    assert!(!revoked.is_active(later, Some(&user)));
    assert_eq!(revoked, Session { active: false, updated_at: later, ..created });
    let again = store.revoke_session_by_token(&token.digest(), later).await.unwrap();
    assert!(again, "revoking a revoked session still finds it");
    assert_eq!(store.count_sessions().await.unwrap(), 1);
});

conformance!(fn revoking_an_unknown_token_reports_false(store) {
    let (user, _) = create_user(&store, "u@example.com").await;
    let token = SessionToken::generate();
    store.insert_session(&session(&user, &token)).await.unwrap();

    let unknown = SessionToken::generate().digest();
    assert!(!store.revoke_session_by_token(&unknown, now()).await.unwrap());
    assert!(by_token(&store, &token).await.unwrap().0.active, "other sessions stay active");
});

conformance!(fn updating_a_session_to_aal2_saves_its_factors_and_times_but_not_its_tokens(store) {
    let (user, _) = create_user(&store, "mfa@example.com").await;
    let token = SessionToken::generate();
    let created = session(&user, &token);
    store.insert_session(&created).await.unwrap();
    let later = now() + Duration::minutes(3);

    // What a second-factor login does to the session it steps up (services::login::reactivate).
    let mut changed = created.clone();
    changed.complete_factor(AuthenticationMethod {
        method: "totp".into(),
        aal: Aal::Aal2,
        completed_at: later,
        provider: None,
    });
    assert_eq!(changed.aal, Aal::Aal2);
    changed.active = true;
    changed.issued_at = later;
    changed.expires_at = later + Duration::hours(48);
    changed.updated_at = later;
    // An update must not save any of these.
    let mut update = changed.clone();
    update.identity_id = IdentityId::new();
    update.token_digest = SessionToken::generate().digest();
    update.logout_token_digest = LogoutToken::generate().digest();
    update.devices = Vec::new();
    update.created_at = later;

    store.update_session(&update).await.unwrap();

    let (found, owner) = by_token(&store, &token).await.expect("still found by its old token");
    assert_eq!(found, changed, "aal, both AMR entries in order, and every time");
    assert_eq!(found.authentication_methods.len(), 2);
    assert_eq!(found.authenticated_at, later);
    assert_eq!(owner, user);
    assert!(store.session_by_token(&update.token_digest).await.unwrap().is_none());
    assert_eq!(store.count_sessions().await.unwrap(), 1);

    // The active flag is saved too, both ways.
    let revoked = Session { active: false, updated_at: later + Duration::seconds(1), ..changed };
    store.update_session(&revoked).await.unwrap();
    assert_eq!(by_token(&store, &token).await.unwrap().0, revoked);
    let revived = Session { active: true, updated_at: later + Duration::seconds(2), ..revoked };
    store.update_session(&revived).await.unwrap();
    assert_eq!(by_token(&store, &token).await.unwrap().0, revived);
});

conformance!(fn revoking_an_identitys_sessions_spares_the_current_one_and_other_identities(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let current = session(&ada, &SessionToken::generate());
    let other = session(&ada, &SessionToken::generate());
    let another = session(&ada, &SessionToken::generate());
    let earlier = now() - Duration::minutes(5);
    let logged_out =
        Session { active: false, updated_at: earlier, ..session(&ada, &SessionToken::generate()) };
    let bobs = session(&bob, &SessionToken::generate());
    let all = [current.clone(), other.clone(), another.clone(), logged_out.clone(), bobs.clone()];
    store.insert_sessions(&all).await.unwrap();
    let later = now() + Duration::minutes(1);

    let revoked = store.revoke_identity_sessions(ada.id, Some(current.id), later).await.unwrap();

    assert_eq!(revoked, 2, "the two other active sessions; the logged-out one does not count");
    let read = |s: &Session| {
        let store = store.clone();
        let digest = s.token_digest.clone();
        async move { store.session_by_token(&digest).await.unwrap().unwrap().0 }
    };
    assert_eq!(read(&current).await, current, "the kept session is untouched");
    assert_eq!(read(&other).await, Session { active: false, updated_at: later, ..other.clone() });
    let another_revoked = Session { active: false, updated_at: later, ..another.clone() };
    assert_eq!(read(&another).await, another_revoked);
    assert_eq!(read(&logged_out).await, logged_out, "an inactive session keeps its update time");
    assert_eq!(read(&bobs).await, bobs, "another identity's sessions are untouched");
    assert_eq!(store.count_sessions().await.unwrap(), 5, "revoked sessions are kept");

    let again = store.revoke_identity_sessions(ada.id, Some(current.id), later).await.unwrap();
    assert_eq!(again, 0, "nothing left to revoke but the kept one");
    let last = later + Duration::seconds(1);
    assert_eq!(store.revoke_identity_sessions(ada.id, None, last).await.unwrap(), 1);
    let current_revoked = Session { active: false, updated_at: last, ..current.clone() };
    assert_eq!(read(&current).await, current_revoked);
    assert_eq!(store.revoke_identity_sessions(ada.id, None, last).await.unwrap(), 0);
    assert_eq!(read(&bobs).await, bobs);
    let nobody = store.revoke_identity_sessions(IdentityId::new(), None, last).await.unwrap();
    assert_eq!(nobody, 0);
});

conformance!(fn revoking_an_identitys_sessions_except_another_identitys_session_revokes_all(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let adas = session(&ada, &SessionToken::generate());
    let bobs = session(&bob, &SessionToken::generate());
    store.insert_sessions(&[adas.clone(), bobs.clone()]).await.unwrap();

    let revoked = store.revoke_identity_sessions(ada.id, Some(bobs.id), now()).await.unwrap();

    assert_eq!(revoked, 1);
    assert!(!store.session_by_token(&adas.token_digest).await.unwrap().unwrap().0.active);
    assert_eq!(store.session_by_token(&bobs.token_digest).await.unwrap().unwrap().0, bobs);
});

conformance!(fn updating_a_missing_session_is_not_found(store) {
    let (user, _) = create_user(&store, "m@example.com").await;
    let ghost = session(&user, &SessionToken::generate());
    assert_not_found(store.update_session(&ghost).await);
    assert_eq!(store.count_sessions().await.unwrap(), 0);
});

conformance!(fn sessions_can_be_inserted_in_bulk_and_counted(store) {
    assert_eq!(store.count_sessions().await.unwrap(), 0);
    store.insert_sessions(&[]).await.unwrap();
    assert_eq!(store.count_sessions().await.unwrap(), 0);

    let mut owners = Vec::new();
    for n in 0..3 {
        owners.push(create_user(&store, &format!("bulk{n}@example.com")).await.0);
    }
    let owner_of = |n: usize| &owners[n % owners.len()];
    let tokens: Vec<SessionToken> = (0..1200).map(|_| SessionToken::generate()).collect();
    let sessions: Vec<Session> =
        tokens.iter().enumerate().map(|(n, token)| session(owner_of(n), token)).collect();

    store.insert_sessions(&sessions).await.unwrap();
    assert_eq!(store.count_sessions().await.unwrap(), 1200);

    for n in [0, 499, 500, 999, 1000, 1199] {
        let found = by_token(&store, &tokens[n]).await.expect("every batch is stored");
        assert_eq!(found, (sessions[n].clone(), owner_of(n).clone()));
    }

    store.insert_session(&session(&owners[0], &SessionToken::generate())).await.unwrap();
    let more = [
        session(&owners[1], &SessionToken::generate()),
        session(&owners[2], &SessionToken::generate()),
    ];
    store.insert_sessions(&more).await.unwrap();
    assert_eq!(store.count_sessions().await.unwrap(), 1203);
});

conformance!(fn a_bulk_insert_with_a_taken_token_is_a_conflict_and_inserts_nothing(store) {
    let (user, _) = create_user(&store, "dup@example.com").await;
    let token = SessionToken::generate();
    store.insert_session(&session(&user, &token)).await.unwrap();

    // The duplicate comes last, in the second multi-row INSERT, after a first one succeeded.
    let mut batch: Vec<Session> =
        (0..700).map(|_| session(&user, &SessionToken::generate())).collect();
    batch.push(session(&user, &token));
    assert_conflict(store.insert_sessions(&batch).await);
    assert_eq!(store.count_sessions().await.unwrap(), 1, "the whole batch was rolled back");
    assert!(store.session_by_token(&batch[0].token_digest).await.unwrap().is_none());

    assert_conflict(store.insert_session(&session(&user, &token)).await);
});

conformance!(fn a_session_of_an_unknown_identity_is_rejected(store) {
    let stranger = identity("stranger@example.com");
    let token = SessionToken::generate();
    assert!(store.insert_session(&session(&stranger, &token)).await.is_err());
    assert_eq!(store.count_sessions().await.unwrap(), 0);
    assert!(by_token(&store, &token).await.is_none());
});

conformance!(fn session_tokens_are_stored_only_as_digests(store, db) {
    let (user, _) = create_user(&store, "secret@example.com").await;
    let token = SessionToken::generate();
    let logout = LogoutToken::generate();
    let created = Session { logout_token_digest: logout.digest(), ..session(&user, &token) };
    store.insert_session(&created).await.unwrap();

    let digests = db.stored_token_digests().await;
    let expected = (token.digest().as_bytes().to_vec(), logout.digest().as_bytes().to_vec());
    assert_eq!(digests, vec![expected]);

    let raw = db.raw_storage().await;
    for digest in [token.digest(), logout.digest()] {
        let bytes = digest.as_bytes();
        assert!(
            contains(&raw, bytes) || contains(&raw, hex(bytes).as_bytes()),
            "the digest is visible in raw storage (else the absence checks below prove nothing)"
        );
    }
    for secret in [token.expose(), logout.expose()] {
        assert!(!contains(&raw, secret.as_bytes()), "a token is stored in plaintext");
        let random_part = &secret.as_bytes()[7..]; // after `ory_st_` / `ory_lo_`
        assert!(!contains(&raw, random_part), "a token's random part is stored in plaintext");
    }
});

// ---------------------------------------------------------------------------------------------
// One-time code claims
// ---------------------------------------------------------------------------------------------

/// Claims `key` for `owner` at `at`, forgetting nothing recent.
async fn claim(store: &Arc<dyn Store>, owner: IdentityId, key: &str, at: DateTime<Utc>) -> bool {
    store
        .claim_credential_use(owner, key, at, at - Duration::days(1))
        .await
        .unwrap()
}

conformance!(fn a_one_time_code_can_be_claimed_once_per_identity(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    let t = now();

    assert!(claim(&store, ada.id, "totp:59123456", t).await, "a new claim");
    assert!(!claim(&store, ada.id, "totp:59123456", t).await, "a replay in the same instant");
    let later = t + Duration::seconds(20);
    assert!(!claim(&store, ada.id, "totp:59123456", later).await, "a replay later");
    assert!(claim(&store, ada.id, "totp:59123457", t).await, "another key");
    assert!(claim(&store, ada.id, "lookup_secret:a1b2c3d4", t).await);
    assert!(!claim(&store, ada.id, "lookup_secret:a1b2c3d4", later).await);
    assert!(claim(&store, bob.id, "totp:59123456", t).await, "keys are per identity");
    assert!(!claim(&store, bob.id, "totp:59123456", t).await);
});

conformance!(fn claims_made_before_forget_before_are_forgotten(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let (bob, _) = create_user(&store, "bob@example.com").await;
    // Whole seconds, milliseconds and microseconds (SQLite compares the stored text).
    let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let t_ms = t0 + Duration::milliseconds(500);
    let t_us = t0 + Duration::microseconds(500_001);
    assert!(claim(&store, ada.id, "old", t0).await);
    assert!(claim(&store, ada.id, "mid", t_ms).await);
    assert!(claim(&store, ada.id, "new", t_us).await);
    assert!(claim(&store, bob.id, "old", t0).await);

    // A claim forgets the identity's claims made strictly before `forget_before`.
    let t1 = t0 + Duration::seconds(60);
    assert!(store.claim_credential_use(ada.id, "fresh", t1, t_ms).await.unwrap());
    assert!(claim(&store, ada.id, "old", t1).await, "forgotten, so new again");
    assert!(!claim(&store, ada.id, "mid", t1).await, "made exactly at forget_before: kept");
    assert!(!claim(&store, ada.id, "new", t1).await);
    assert!(!claim(&store, ada.id, "fresh", t1).await);
    assert!(!claim(&store, bob.id, "old", t1).await, "another identity's claims are kept");

    assert!(store.claim_credential_use(ada.id, "other", t1, t_us).await.unwrap());
    assert!(claim(&store, ada.id, "mid", t1).await, "one microsecond too old");
    assert!(!claim(&store, ada.id, "new", t1).await);

    // Forgetting comes first: a key claimed before `forget_before` may be claimed again at once.
    let t2 = t1 + Duration::seconds(60);
    assert!(store.claim_credential_use(ada.id, "new", t2, t1).await.unwrap());
    assert!(!claim(&store, ada.id, "new", t2).await);
});

conformance!(fn concurrent_claims_of_one_key_let_exactly_one_through(store, db) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let t = now();
    for round in 0..5 {
        let key = format!("totp:{round}");
        let racers: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    store.claim_credential_use(ada.id, &key, t, t - Duration::minutes(1)).await
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            if racer.await.unwrap().unwrap() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round} on {}", db.backend());
    }
});

conformance!(fn claims_go_with_their_identity_and_need_one(store) {
    let (ada, _) = create_user(&store, "ada@example.com").await;
    let t = now();
    assert!(claim(&store, ada.id, "totp:1", t).await);

    assert!(store.delete_identity(ada.id).await.unwrap(), "claims do not block a delete");

    let orphan = store.claim_credential_use(ada.id, "totp:2", t, t).await;
    assert!(orphan.is_err(), "a claim for an unknown identity is an error: {orphan:?}");
    let again = Identity { id: ada.id, ..identity("ada@example.com") };
    store.create_identity(&again, &[]).await.unwrap();
    assert!(claim(&store, ada.id, "totp:1", t).await, "the deleted identity's claims are gone");
});

// ---------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------

conformance!(fn a_login_flow_round_trips_and_saving_it_again_replaces_it(store) {
    let flow = login_flow();
    let csrf_token = Some("real-csrf-token".to_owned());
    let record = FlowRecord { body: FlowBody::Login(flow.clone()), csrf_token, context: None };
    store.save_flow(&record).await.unwrap();
    assert_eq!(store.flow(FlowId(flow.id)).await.unwrap(), Some(record));

    let mut submitted = flow.clone();
    submitted.active = Some("password".into());
    submitted.updated_at = now() + Duration::seconds(2);
    submitted.expires_at += Duration::minutes(1);
    submitted.ui.messages = vec![messages::invalid_credentials()];
    submitted.ui.nodes[0].messages = vec![messages::missing("csrf_token")];
    let csrf_token = Some("rotated-csrf-token".to_owned());
    let replaced = FlowRecord { body: FlowBody::Login(submitted), csrf_token, context: None };
    store.save_flow(&replaced).await.unwrap();
    assert_eq!(store.flow(FlowId(flow.id)).await.unwrap(), Some(replaced));
});

conformance!(fn a_registration_flow_round_trips(store) {
    let flow = registration_flow();
    let record = FlowRecord {
        body: FlowBody::Registration(flow.clone()),
        csrf_token: None,
        context: None,
    };
    store.save_flow(&record).await.unwrap();
    assert_eq!(store.flow(FlowId(flow.id)).await.unwrap(), Some(record));
});

conformance!(fn a_settings_flow_round_trips_with_its_server_side_context(store) {
    let (user, _) = create_user(&store, "settings@example.com").await;
    let flow = settings_flow(&user);
    let context = json!({
        "totp_url": "otpauth://totp/Sesame:settings?secret=JBSWY3DPEHPK3PXP&issuer=Sesame",
        "lookup_secrets": ["a1b2c3d4", "e5f6g7h8"],
    });
    let record = FlowRecord {
        body: FlowBody::Settings(flow.clone()),
        csrf_token: Some("real-csrf-token".into()),
        context: Some(context),
    };
    store.save_flow(&record).await.unwrap();
    let found = store.flow(FlowId(flow.id)).await.unwrap().expect("stored");
    assert_eq!(found, record);
    assert_eq!(found.body.kind(), sesame_core::flow::FlowKind::Settings);
    assert!(!format!("{found:?}").contains("JBSWY3DPEHPK3PXP"), "Debug hides the context");

    // Saving again replaces the context too, down to none.
    let mut submitted = flow.clone();
    submitted.state = "success".into();
    submitted.ui.messages = vec![messages::invalid_credentials()];
    let replaced =
        FlowRecord { body: FlowBody::Settings(submitted), csrf_token: None, context: None };
    store.save_flow(&replaced).await.unwrap();
    assert_eq!(store.flow(FlowId(flow.id)).await.unwrap(), Some(replaced));
});

conformance!(fn a_settings_flows_continue_with_is_not_stored(store) {
    let (user, _) = create_user(&store, "continue@example.com").await;
    let flow = settings_flow(&user);
    let answered = SettingsFlow {
        continue_with: Some(vec![ContinueWith::RedirectBrowserTo {
            redirect_browser_to: "http://127.0.0.1:4455/account".into(),
        }]),
        ..flow.clone()
    };
    let record =
        FlowRecord { body: FlowBody::Settings(answered), csrf_token: None, context: None };
    store.save_flow(&record).await.unwrap();
    let stored = FlowRecord { body: FlowBody::Settings(flow.clone()), ..record };
    assert_eq!(store.flow(FlowId(flow.id)).await.unwrap(), Some(stored));
});

conformance!(fn an_unknown_flow_id_reads_as_none(store) {
    let record =
        FlowRecord { body: FlowBody::Login(login_flow()), csrf_token: None, context: None };
    store.save_flow(&record).await.unwrap();
    assert_eq!(store.flow(FlowId::new()).await.unwrap(), None);
});

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

conformance!(fn migrations_are_idempotent_and_readiness_follows_them(store, db) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ready().await.unwrap();
    assert_eq!(store.backend(), db.backend());

    let empty_db = db.sibling();
    {
        let empty = empty_db.connect().await;
        assert!(empty.ready().await.is_err(), "an unmigrated database is not ready");
        empty.migrate().await.unwrap();
        empty.ready().await.unwrap();
        empty.migrate().await.unwrap();
        empty.ready().await.unwrap();
        assert_eq!(empty.count_sessions().await.unwrap(), 0);
    }
    empty_db.finish().await;
});

conformance!(fn data_survives_reconnecting_to_the_same_database(store, db) {
    let (user, credential) = create_user(&store, "durable@example.com").await;
    let token = SessionToken::generate();
    let created = session(&user, &token);
    store.insert_session(&created).await.unwrap();
    let flow = FlowRecord {
        body: FlowBody::Login(login_flow()),
        csrf_token: Some("csrf".into()),
        context: Some(json!({"note": "server side"})),
    };
    store.save_flow(&flow).await.unwrap();
    drop(store);

    let store = db.reopen().await;
    store.ready().await.unwrap();
    assert_eq!(store.identity(user.id).await.unwrap(), Some(user.clone()));
    let found = find_password(&store, "durable@example.com").await;
    assert_eq!(found, Some((user.clone(), credential)));
    assert_eq!(by_token(&store, &token).await, Some((created, user)));
    assert_eq!(store.count_sessions().await.unwrap(), 1);
    assert_eq!(store.flow(flow.body.id()).await.unwrap(), Some(flow));
});

conformance!(fn each_connection_pool_reports_its_size_idle_connections_and_bound(store, db) {
    let pools = store.pool_status();
    let main = pools.iter().find(|p| p.pool == "main").expect("a main pool");
    assert!(
        main.size >= 1 && main.idle <= main.size && main.size <= main.max,
        "{main:?}"
    );
    if db.backend() == "sqlite" {
        // A SQLite file also has whoami's read-only connections, all idle between requests.
        let readers = pools.iter().find(|p| p.pool == "whoami").expect("whoami's pool");
        assert!(readers.size >= 1, "{readers:?}");
        assert_eq!((readers.idle, readers.max), (readers.size, readers.size));
        assert_eq!(pools.len(), 2, "{pools:?}");
    } else {
        assert_eq!(pools.len(), 1, "{pools:?}");
    }
});

#[path = "conformance/bulk.rs"]
mod bulk;

// Listing filters (`ids`, organization) and the external id lookup.
#[path = "conformance/identity_filters.rs"]
mod identity_filters;

#[test]
fn traits_keep_their_key_order_through_serde_json() {
    let text = traits_text("order@example.com");
    let value: Value = serde_json::from_str(&text).unwrap();
    let again = serde_json::to_string(&value).unwrap();
    assert_eq!(again, text, "serde_json's preserve_order feature is on");
}

// Session listings, revocation by id and bulk management (`SessionAdminStore`).
#[path = "conformance/session_admin.rs"]
mod session_admin;

// The limiter's failed-attempt counts (`ThrottleStore`).
#[path = "conformance/throttle.rs"]
mod throttle;
