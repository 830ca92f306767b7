//! Test harness: [`TestApp::spawn`] boots a real Sesame (both ports on port 0) over a fresh
//! database (a temporary SQLite file, or a fresh schema in the PostgreSQL database named by
//! `SESAME_TEST_POSTGRES_URL`), with a fixed clock the test can move, and hands back helpers that
//! speak raw HTTP, or the Rust SDK through [`TestApp::sdk`]. [`api_test!`] runs one test body on
//! every backend.
//!
//! This crate is test support: it may unwrap and panic, and nothing ships with it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use sesame_core::SessionToken;
use sesame_core::aal::Aal;
use sesame_core::clock::{Clock, FixedClock};
use sesame_core::cookie::{CookieRecord, CookieSealer};
use sesame_core::identity::{Credential, CredentialType};
use sesame_core::store::Store;
use sesame_core::whoami_cache::WhoamiCache;
use sesame_server::Application;
use sesame_store::Dsn;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod private_postgres;

pub use private_postgres::PrivatePostgres;
pub use reqwest;
pub use serde_json;
pub use sesame_client;
pub use sesame_testenv as testenv;
pub use sesame_testenv::{KratosFixtures, needs_kratos_fixtures, needs_postgres};

/// The session cookie key (`secrets.cookie`) of test servers started without a configuration file.
pub const TEST_COOKIE_SECRET: &str = "test-cookie-secret-0123456789";

/// Seals and opens cookies named `name` as a test server does.
pub fn cookie_sealer(name: &str) -> CookieSealer {
    CookieSealer::new(&[TEST_COOKIE_SECRET.to_owned()], name)
}

/// A `Cookie` header carrying a session cookie for `token` that records `expires_at`, sealed as a
/// test server seals them.
pub fn sealed_session_cookie(token: &str, expires_at: chrono::DateTime<chrono::Utc>) -> String {
    let record = CookieRecord {
        token: SessionToken::from_client(token).expect("a non-empty token"),
        expires_at,
    };
    let value = cookie_sealer("ory_kratos_session")
        .seal(&record)
        .expect("the cookie seals");
    format!("ory_kratos_session={value}")
}

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh schema in this PostgreSQL database.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL from `SESAME_TEST_POSTGRES_URL`, for a test that [`needs_postgres!`]: a panic
    /// naming the variable when it is not set.
    pub fn postgres() -> Backend {
        Backend::Postgres(sesame_testenv::postgres_url())
    }
}

/// Runs a test body on SQLite and on PostgreSQL: `api_test!(name, |backend| async move { … });`.
/// The PostgreSQL variant is reported as ignored without `SESAME_TEST_POSTGRES_URL` (outside CI).
/// `api_test!(name, needs_kratos_fixtures, |backend| …)` is a test that also needs Kratos's
/// documents ([`KratosFixtures`]): both variants are ignored without them.
#[macro_export]
macro_rules! api_test {
    ($(#[$meta:meta])* $name:ident, needs_kratos_fixtures, $body:expr) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $crate::needs_kratos_fixtures! {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    ($body)($crate::Backend::Sqlite).await
                }
            }

            $crate::testenv::needs_postgres_and_kratos_fixtures! {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    ($body)($crate::Backend::postgres()).await
                }
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, $body:expr) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::Backend::Sqlite).await
            }

            $crate::needs_postgres! {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    ($body)($crate::Backend::postgres()).await
                }
            }
        }
    };
}

/// Builds a [`TestApp`] with configuration overrides.
pub struct TestAppBuilder {
    backend: Backend,
    env: HashMap<String, String>,
    config_file: Option<PathBuf>,
    shared: Option<SharedDatabase>,
}

/// The database of another test app, for a second node on it.
struct SharedDatabase {
    dsn: String,
    sqlite_file: Option<PathBuf>,
    pg_schema: Option<String>,
}

impl TestAppBuilder {
    /// Sets a configuration value by its environment name (`SESSION_LIFESPAN`, …).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Loads this YAML file first (environment overrides still apply). The file's values replace the
    /// test defaults (cheap hashing, quiet log, fixed cookie key); the testkit still owns the
    /// database, the listeners and so the base URLs.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Serves the database of `other` instead of a fresh one: a second, fully independent node
    /// (its own connections, cache and listener) of the same service. `other` keeps owning the
    /// database and removes it when dropped, so drop this app first.
    pub fn database_of(mut self, other: &TestApp) -> Self {
        self.shared = Some(SharedDatabase {
            dsn: other.dsn.clone(),
            sqlite_file: other.sqlite_file.clone(),
            pg_schema: other.pg_schema.clone(),
        });
        self
    }

    /// Starts the server.
    pub async fn spawn(self) -> TestApp {
        let owns_database = self.shared.is_none();
        let (dsn, sqlite_file, pg_schema) = match (self.shared, &self.backend) {
            (Some(shared), _) => (shared.dsn, shared.sqlite_file, shared.pg_schema),
            (None, Backend::Sqlite) => {
                let path = std::env::temp_dir().join(format!(
                    "sesame-test-{}.sqlite",
                    uuid::Uuid::new_v4().simple()
                ));
                (format!("sqlite://{}", path.display()), Some(path), None)
            }
            (None, Backend::Postgres(url)) => (
                url.clone(),
                None,
                Some(format!("t_{}", uuid::Uuid::new_v4().simple())),
            ),
        };
        let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
        let mut app = TestApp {
            public_url: String::new(),
            admin_url: String::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            store: None,
            whoami_cache: None,
            clock,
            backend: self.backend,
            dsn,
            sqlite_file,
            pg_schema,
            owns_database,
            env: self.env,
            config_file: self.config_file,
            running: None,
        };
        app.start().await;
        app
    }
}

struct Running {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<std::io::Result<()>>,
}

/// A running server and helpers to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>` of the public API (no trailing slash).
    pub public_url: String,
    /// `http://127.0.0.1:<port>` of the admin API.
    pub admin_url: String,
    /// An HTTP client that neither follows redirects nor keeps cookies.
    pub http: reqwest::Client,
    store: Option<Arc<dyn Store>>,
    whoami_cache: Option<Arc<WhoamiCache>>,
    /// The application clock.
    pub clock: Arc<FixedClock>,
    /// The backend.
    pub backend: Backend,
    dsn: String,
    sqlite_file: Option<PathBuf>,
    pg_schema: Option<String>,
    owns_database: bool,
    env: HashMap<String, String>,
    config_file: Option<PathBuf>,
    running: Option<Running>,
}

impl TestApp {
    /// A server with the test defaults (cheap hashing, `--dev`, random ports).
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::builder(backend).spawn().await
    }

    /// A builder for overrides.
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            env: HashMap::new(),
            config_file: None,
            shared: None,
        }
    }

    /// The store the server's services use (behind its whoami cache, when that is on: writes
    /// through it invalidate as the server's own do).
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone().expect("the app is running")
    }

    /// The server's whoami cache, when `SESSION_WHOAMI_CACHE_ENABLED` is set.
    pub fn whoami_cache(&self) -> Option<Arc<WhoamiCache>> {
        self.whoami_cache.clone()
    }

    /// The schema of a PostgreSQL-backed app.
    pub fn pg_schema(&self) -> Option<&str> {
        self.pg_schema.as_deref()
    }

    /// The SQLite file of a SQLite-backed app.
    pub fn sqlite_file(&self) -> Option<&PathBuf> {
        self.sqlite_file.as_ref()
    }

    /// A DSN for this app's database that another process can open (`sesame cleanup`, …): the
    /// SQLite file, or the PostgreSQL database with the test's schema as its `search_path`.
    pub fn dsn(&self) -> String {
        match &self.pg_schema {
            Some(schema) => {
                let sep = if self.dsn.contains('?') { '&' } else { '?' };
                format!("{}{sep}options=-c%20search_path%3D{schema}", self.dsn)
            }
            None => self.dsn.clone(),
        }
    }

    async fn start(&mut self) {
        // The testkit owns the database and the listeners (loopback, random ports).
        let owned = [
            ("DSN", self.dsn.as_str()),
            ("SERVE_PUBLIC_HOST", "127.0.0.1"),
            ("SERVE_PUBLIC_PORT", "0"),
            ("SERVE_ADMIN_HOST", "127.0.0.1"),
            ("SERVE_ADMIN_PORT", "0"),
        ];
        // Test defaults (cheap hashing, quiet log, a fixed cookie key), unless a configuration file
        // is given: then the file's values stand, as they would in production.
        let defaults = [
            ("HASHERS_ARGON2_MEMORY", "65536"),
            ("HASHERS_ARGON2_ITERATIONS", "1"),
            ("HASHERS_BCRYPT_COST", "4"),
            ("LOG_LEVEL", "warn"),
            ("SECRETS_COOKIE", TEST_COOKIE_SECRET),
        ];
        let defaults = if self.config_file.is_some() {
            &[][..]
        } else {
            &defaults[..]
        };
        let mut env: HashMap<String, String> = owned
            .iter()
            .chain(defaults)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.extend(self.env.clone());
        let mut loaded = sesame_server::load(self.config_file.as_deref(), true, &|name| {
            env.get(name).cloned()
        })
        .unwrap_or_else(|e| panic!("test configuration is invalid: {e}"));
        // The ports are picked at bind time, so the base URLs follow them (a file's `base_url`s
        // name ports this server does not listen on), unless the test sets them itself.
        if !self.env.contains_key("SERVE_PUBLIC_BASE_URL") {
            loaded.config.serve.public.base_url = None;
        }
        if !self.env.contains_key("SERVE_ADMIN_BASE_URL") {
            loaded.config.serve.admin.base_url = None;
        }
        let store = match (&self.backend, &self.pg_schema) {
            (Backend::Postgres(url), Some(schema)) => {
                sesame_store::connect_postgres_schema(url, schema)
                    .await
                    .expect("postgres is reachable")
            }
            _ => sesame_store::connect(&Dsn::parse(&self.dsn).unwrap())
                .await
                .expect("sqlite opens"),
        };
        store.migrate().await.expect("migrations apply");
        let app = Application::build_with_store(loaded, store.clone(), self.clock.clone())
            .await
            .expect("the application builds");
        self.public_url = format!("http://127.0.0.1:{}", app.public_port());
        self.admin_url = format!("http://127.0.0.1:{}", app.admin_port());
        self.store = Some(app.state().deps.store.clone());
        self.whoami_cache = app.whoami_cache().cloned();
        drop(store);
        let (stop, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        self.running = Some(Running { stop, handle });
        // On PostgreSQL the cache serves once its listener hears the other nodes; tests expect a
        // started server to cache at once.
        if let Some(cache) = &self.whoami_cache {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while !cache.is_serving() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the whoami cache did not start listening"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    }

    /// Changes a configuration value (by its environment name) for the next [`TestApp::restart`].
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.insert(name.to_owned(), value.to_owned());
    }

    /// Stops the server (graceful shutdown) and starts a new one on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// Stops the server and waits for it to finish in-flight requests.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            running
                .handle
                .await
                .expect("server task")
                .expect("server shuts down cleanly");
        }
        self.store = None;
        self.whoami_cache = None;
    }

    /// A request to the public port.
    pub fn public(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.public_url, path))
    }

    /// A request to the admin port.
    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.admin_url, path))
    }

    /// Creates an API registration flow and returns its JSON.
    pub async fn registration_flow(&self) -> Value {
        let res = self
            .public(Method::GET, "/self-service/registration/api")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Creates an API login flow and returns its JSON.
    pub async fn login_flow(&self) -> Value {
        let res = self
            .public(Method::GET, "/self-service/login/api")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Submits a registration body to a new API flow.
    pub async fn submit_registration(&self, body: Value) -> Response {
        let flow = self.registration_flow().await;
        let id = flow["id"].as_str().unwrap();
        self.public(
            Method::POST,
            &format!("/self-service/registration?flow={id}"),
        )
        .json(&body)
        .send()
        .await
        .unwrap()
    }

    /// Submits a login body to a new API flow.
    pub async fn submit_login(&self, body: Value) -> Response {
        let flow = self.login_flow().await;
        let id = flow["id"].as_str().unwrap();
        self.public(Method::POST, &format!("/self-service/login?flow={id}"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers `email` with `password` and returns the success body.
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let res = self
            .submit_registration(
                json!({"method": "password", "traits": {"email": email}, "password": password}),
            )
            .await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "registration failed: {body}");
        body
    }

    /// Logs in and returns the session token.
    pub async fn login(&self, identifier: &str, password: &str) -> String {
        let res = self
            .submit_login(
                json!({"method": "password", "identifier": identifier, "password": password}),
            )
            .await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["session_token"].as_str().unwrap().to_owned()
    }

    /// Registers a user and returns `(session token, identity id)`.
    pub async fn signed_up_user(&self, email: &str) -> (String, String) {
        let body = self.register(email, "a-very-good-passphrase-42").await;
        (
            body["session_token"].as_str().unwrap().to_owned(),
            body["identity"]["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Gives the identity a TOTP credential at the store level, so that its highest available AAL
    /// is aal2 (for tests of the AAL rule that need no TOTP enrolment).
    pub async fn add_totp_credential(&self, identity_id: &str) {
        let store = self.store();
        let id = sesame_core::IdentityId::parse(identity_id).expect("an identity id");
        let mut identity = store
            .identity(id)
            .await
            .expect("the store answers")
            .expect("the identity exists");
        let mut credentials = store.credentials(&[id]).await.expect("the store answers");
        let now = self.clock.now();
        credentials.push(Credential {
            id: uuid::Uuid::new_v4(),
            identity_id: id,
            kind: CredentialType::Totp,
            identifiers: vec![identity_id.to_owned()],
            config: json!({"totp_url": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"}),
            version: 0,
            created_at: now,
            updated_at: now,
        });
        identity.available_aal = Aal::Aal2;
        store
            .update_identity(&identity, Some(&credentials))
            .await
            .expect("the identity updates");
    }

    /// The Rust SDK, pointed at this server's public and admin APIs.
    pub fn sdk(&self) -> sesame_client::Client {
        sesame_client::Client::builder(&self.public_url)
            .admin_url(&self.admin_url)
            .build()
            .expect("the test server's URLs are valid")
    }

    /// `GET /sessions/whoami` with `X-Session-Token`.
    pub async fn whoami(&self, token: &str) -> Response {
        self.public(Method::GET, "/sessions/whoami")
            .header("X-Session-Token", token)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            running.handle.abort();
        }
        if !self.owns_database {
            return;
        }
        if let Some(path) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        // A passing test's PostgreSQL schema is dropped; a failing one's is kept to look at.
        if let (Backend::Postgres(url), Some(schema), false) =
            (&self.backend, &self.pg_schema, std::thread::panicking())
        {
            let (url, schema) = (url.clone(), schema.clone());
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(sesame_store::drop_postgres_schema(&url, &schema));
                }
            })
            .join();
        }
    }
}

/// Reads a response as JSON, asserting its status first (the body is printed on mismatch).
pub async fn expect_json(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "unexpected status, body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

impl TestApp {
    /// Whether a new connection to `url` is refused (the server stopped listening).
    pub async fn spawn_check_refused(url: &str) -> bool {
        let client = reqwest::Client::new();
        client
            .get(format!("{url}/health/alive"))
            .send()
            .await
            .is_err()
    }
}

/// The TOTP code an authenticator app shows at `at` for an enrolled secret, given either the bare
/// base32 secret (the `totp_secret_key` node) or the stored `otpauth://` URL.
pub fn totp_code(secret_or_otpauth_url: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let secret = if secret_or_otpauth_url.starts_with("otpauth:") {
        sesame_core::totp::TotpSecret::from_url(secret_or_otpauth_url)
    } else {
        sesame_core::totp::TotpSecret::from_base32(secret_or_otpauth_url)
    }
    .unwrap_or_else(|| panic!("not a TOTP secret or otpauth URL: {secret_or_otpauth_url}"));
    sesame_core::totp::code_at(&secret, at)
}
