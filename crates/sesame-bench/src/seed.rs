//! Seeding: a fresh database, identities with their sessions inserted in bulk through the store
//! (as registrations would leave them: traits, a verifiable and a recovery address, a device), a
//! password user for the login storm, and an in-process server over it.
//!
//! Batches are generated on a separate thread while the previous one is stored, each in one
//! transaction of multi-row `INSERT`s (identities through the import path, `BulkStore`).

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use sesame_core::aal::Aal;
use sesame_core::clock::{Clock, SystemClock};
use sesame_core::cookie::CookieSealer;
use sesame_core::identity::{Credential, CredentialType, Identity};
use sesame_core::password::{Hasher, HasherConfig, Password};
use sesame_core::session::Session;
use sesame_core::types::{
    AuthenticationMethod, Device, IdentityState, RecoveryAddress, VerifiableAddress,
};
use sesame_core::{IdentityId, LogoutToken, SessionId, SessionToken, Store};
use sesame_server::Application;
use sesame_store::Dsn;
use std::io::Write;
use std::sync::Arc;

use crate::storm::StormUser;

/// The session cookie key of the in-process server, so that the bench can seal cookies for it.
pub const BENCH_COOKIE_SECRET: &str = "sesame-bench-cookie-secret-0123456789";

/// How the in-process server is configured beyond its defaults.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `session.whoami.cache.enabled`, when the bench was asked to set it.
    pub whoami_cache: Option<bool>,
}

/// A running, seeded server.
pub struct Seeded {
    /// `http://127.0.0.1:<port>`.
    pub public_url: String,
    /// Session tokens to measure with, spread evenly over the seeded sessions.
    pub tokens: Vec<String>,
    /// When every seeded session expires (sealed into cookies).
    pub expires_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The store the server uses.
    pub store: Arc<dyn Store>,
    /// The password user of the login storm.
    pub storm_user: StormUser,
    /// Sessions seeded so far.
    pub sessions: u64,
    /// Seeded sessions per identity.
    pub per_identity: u64,
    /// The database the server opens.
    dsn: Dsn,
}

impl Seeded {
    /// A `Cookie` header value carrying a sealed session cookie for `token`, as the in-process
    /// server seals them (`secret` for a server started elsewhere).
    pub fn cookie(&self, token: &str, secret: &str) -> Result<String> {
        let record = sesame_core::cookie::CookieRecord {
            token: SessionToken::from_client(token).ok_or_else(|| anyhow!("empty token"))?,
            expires_at: self.expires_at,
        };
        let value = CookieSealer::new(&[secret.to_owned()], "ory_kratos_session")
            .seal(&record)
            .ok_or_else(|| anyhow!("the cookie does not seal"))?;
        Ok(format!("ory_kratos_session={value}"))
    }
}

/// Calls the hot-path lookup directly from `tasks` concurrent tasks for `duration`.
pub async fn time_store_lookups(
    seeded: &Seeded,
    tasks: usize,
    duration: std::time::Duration,
) -> Result<(f64, u64, u64)> {
    let digests: Vec<_> = seeded
        .tokens
        .iter()
        .filter_map(|t| SessionToken::from_client(t))
        .map(|t| t.digest())
        .collect();
    let digests = Arc::new(digests);
    if digests.is_empty() {
        return Err(anyhow!("no tokens to look up"));
    }
    let deadline = std::time::Instant::now() + duration;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = seeded.store.clone();
        let digests = digests.clone();
        handles.push(tokio::spawn(async move {
            let mut hist = hdrhistogram::Histogram::<u64>::new(3)?;
            let mut i = task;
            while std::time::Instant::now() < deadline {
                let t = std::time::Instant::now();
                store
                    .session_by_token(&digests[i % digests.len()])
                    .await?
                    .ok_or_else(|| anyhow!("seeded session not found"))?;
                hist.record(t.elapsed().as_micros() as u64)?;
                i += 1;
            }
            anyhow::Ok(hist)
        }));
    }
    let mut all = hdrhistogram::Histogram::<u64>::new(3)?;
    for h in handles {
        all.add(h.await??)?;
    }
    Ok((
        all.len() as f64 / duration.as_secs_f64(),
        all.value_at_quantile(0.5),
        all.value_at_quantile(0.99),
    ))
}

const BENCH_SCHEMA: &str = "sesame_bench";
/// Identities (and their sessions) per transaction: many, because a transaction writes every
/// index page it touched once, and at a million rows random keys touch a page or more per row of
/// a small batch (20 000: 1M sessions in about a minute on SQLite, twice as fast as 5 000).
const BATCH: u64 = 20_000;

/// Makes an empty database (SQLite: a new file; PostgreSQL: a new `sesame_bench` schema) and
/// returns the DSN the server opens it by.
async fn fresh_database(dsn: &str) -> Result<Dsn> {
    let parsed = Dsn::parse(dsn).map_err(|e| anyhow!(e))?;
    match &parsed {
        Dsn::Sqlite(path) => {
            let file = sesame_store::sqlite_file(path);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{file}{suffix}"));
            }
            Ok(parsed)
        }
        Dsn::Memory => Ok(parsed),
        Dsn::Postgres(url) => {
            sesame_store::drop_postgres_schema(url, BENCH_SCHEMA).await?;
            sesame_store::connect_postgres_schema(url, BENCH_SCHEMA)
                .await?
                .migrate()
                .await?;
            // The server opens it as `sesame serve` would (its pool sizing), in the schema.
            Ok(Dsn::Postgres(in_bench_schema(url)))
        }
    }
}

/// The store that seeds: a bulk-load connection, or for `memory` the server's own database.
async fn seeding_store(dsn: &Dsn, server: &Arc<dyn Store>) -> Result<Arc<dyn Store>> {
    if *dsn == Dsn::Memory {
        return Ok(server.clone());
    }
    let store = sesame_store::connect_for_bulk_load(dsn).await?;
    store.migrate().await?;
    Ok(store)
}

/// Tells the addresses of one run from another's in a database that is seeded again (`--target`).
static RUN_TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `url` with the bench's schema as its `search_path`.
fn in_bench_schema(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{BENCH_SCHEMA}")
}

fn identity(n: u64, now: DateTime<Utc>) -> Identity {
    let tag = RUN_TAG.get().map_or("", String::as_str);
    let email = format!("user{n}{tag}@bench.example");
    Identity {
        id: IdentityId::new(),
        schema_id: "default".into(),
        traits: serde_json::json!({ "email": email }),
        state: IdentityState::Active,
        state_changed_at: Some(now),
        metadata_public: None,
        metadata_admin: None,
        external_id: None,
        organization_id: None,
        verifiable_addresses: vec![VerifiableAddress {
            id: uuid::Uuid::new_v4(),
            value: email.clone(),
            verified: false,
            via: "email".into(),
            status: "pending".into(),
            verified_at: None,
            created_at: now,
            updated_at: now,
        }],
        recovery_addresses: vec![RecoveryAddress {
            id: uuid::Uuid::new_v4(),
            value: email,
            via: "email".into(),
            created_at: now,
            updated_at: now,
        }],
        available_aal: Aal::Aal1,
        created_at: now,
        updated_at: now,
    }
}

fn session(identity: IdentityId, token: &SessionToken, now: DateTime<Utc>) -> Session {
    let mut s = Session {
        id: SessionId::new(),
        identity_id: identity,
        token_digest: token.digest(),
        logout_token_digest: LogoutToken::derive(token).digest(),
        active: true,
        aal: Aal::Aal0,
        authentication_methods: Vec::new(),
        devices: vec![Device {
            id: uuid::Uuid::new_v4(),
            ip_address: Some("127.0.0.1".into()),
            user_agent: Some("sesame-bench".into()),
            location: Some(String::new()),
        }],
        issued_at: now,
        expires_at: now + chrono::Duration::days(1),
        authenticated_at: now,
        created_at: now,
        updated_at: now,
    };
    s.complete_factor(AuthenticationMethod {
        method: "password".into(),
        aal: Aal::Aal1,
        completed_at: now,
        provider: None,
    });
    s
}

/// One generated batch: identities, their sessions, and the sampled tokens among them.
struct Batch {
    identities: Vec<(Identity, Vec<Credential>)>,
    sessions: Vec<Session>,
    sampled: Vec<String>,
}

/// Whether session `n` of `range` is among the `want` sampled ones: evenly spread, each in the
/// middle of its stride (so never at either end of the table).
fn sampled(n: u64, range: &std::ops::Range<u64>, want: u64) -> bool {
    let len = range.end.saturating_sub(range.start);
    if want == 0 || len == 0 {
        return false;
    }
    let stride = (len / want.min(len)).max(1);
    let k = n - range.start;
    k % stride == stride / 2 && k / stride < want
}

/// Seeds sessions `range` (one identity per `per_identity` sessions) and returns `want` of their
/// tokens, evenly spread.
async fn seed_range(
    store: &Arc<dyn Store>,
    range: std::ops::Range<u64>,
    per_identity: u64,
    want: u64,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let per_identity = per_identity.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let todo = range.end.saturating_sub(range.start);
    let generator = std::thread::spawn(move || {
        let all = range.clone();
        let mut n = range.start;
        let mut owner: Option<IdentityId> = None;
        while n < range.end {
            let end = (n + BATCH * per_identity).min(range.end);
            let mut batch = Batch {
                identities: Vec::new(),
                sessions: Vec::with_capacity((end - n) as usize),
                sampled: Vec::new(),
            };
            for k in n..end {
                if k % per_identity == 0 || owner.is_none() {
                    let i = identity(k, now);
                    owner = Some(i.id);
                    batch.identities.push((i, Vec::new()));
                }
                let token = SessionToken::generate();
                if sampled(k, &all, want) {
                    batch.sampled.push(token.expose().to_owned());
                }
                if let Some(id) = owner {
                    batch.sessions.push(session(id, &token, now));
                }
            }
            n = end;
            if tx.blocking_send(batch).is_err() {
                return;
            }
        }
    });
    let started = std::time::Instant::now();
    let mut done = 0u64;
    let mut last_shown = started;
    let mut tokens = Vec::new();
    while let Some(batch) = rx.recv().await {
        if !batch.identities.is_empty() {
            let results = store.create_identities(&batch.identities).await?;
            if results.iter().any(Result::is_err) {
                return Err(anyhow!("seeding identities hit a conflict"));
            }
        }
        store.insert_sessions(&batch.sessions).await?;
        done += batch.sessions.len() as u64;
        tokens.extend(batch.sampled);
        if done < todo && last_shown.elapsed() < std::time::Duration::from_secs(1) {
            continue;
        }
        last_shown = std::time::Instant::now();
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\rseeding: {done}/{todo} sessions and their identities ({rate:.0}/s, {:.0} s left)   ",
            (todo - done) as f64 / rate.max(1.0)
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    generator
        .join()
        .map_err(|_| anyhow!("the seeding generator panicked"))?;
    Ok(tokens)
}

/// The storm user: an identity with an argon2id password hashed with the server's default
/// parameters (so logins verify without re-hashing).
async fn storm_user(store: &Arc<dyn Store>, now: DateTime<Utc>) -> Result<StormUser> {
    // A new address each time, so that a running server's database can be seeded again.
    let user = StormUser {
        identifier: format!("storm-{}@bench.example", uuid::Uuid::new_v4().simple()),
        password: "storm-password-for-the-bench-42".into(),
    };
    let hasher = Hasher::new(HasherConfig::default()).map_err(|e| anyhow!(e))?;
    let password = Password::new(user.password.clone());
    let hash = hasher.hash(&password).await?;
    let mut i = identity(0, now);
    i.traits = serde_json::json!({ "email": user.identifier });
    for a in &mut i.verifiable_addresses {
        a.value = user.identifier.clone();
    }
    for a in &mut i.recovery_addresses {
        a.value = user.identifier.clone();
    }
    let credential = Credential {
        id: uuid::Uuid::new_v4(),
        identity_id: i.id,
        kind: CredentialType::Password,
        identifiers: vec![user.identifier.clone()],
        config: serde_json::json!({ "hashed_password": hash }),
        version: 0,
        created_at: now,
        updated_at: now,
    };
    store.create_identity(&i, &[credential]).await?;
    Ok(user)
}

/// Seeds `count` sessions (`per_identity` per identity) and starts a server on them, or, with
/// `target`, adds them to the database of a server that already runs there (its data is kept).
pub async fn start_seeded_server(
    dsn: &str,
    count: u64,
    per_identity: u64,
    sample: u64,
    target: Option<&str>,
    options: &ServerOptions,
) -> Result<Seeded> {
    let server_dsn = match target {
        None => fresh_database(dsn).await?,
        Some(_) => {
            let _ = RUN_TAG.set(format!(
                ".{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ));
            Dsn::parse(dsn).map_err(|e| anyhow!(e))?
        }
    };
    let store = sesame_store::connect(&server_dsn).await?;
    store.migrate().await?;
    let now = SystemClock.now();
    let seeder = seeding_store(&server_dsn, &store).await?;
    let storm_user = storm_user(&seeder, now).await?;
    let tokens = seed_range(&seeder, 0..count, per_identity, sample, now).await?;
    drop(seeder);
    let mut seeded = Seeded {
        public_url: target
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_default(),
        tokens,
        expires_at: now + chrono::Duration::days(1),
        backend: store.backend().to_owned(),
        store,
        storm_user,
        sessions: count,
        per_identity,
        dsn: server_dsn,
    };
    seeded.settle().await?;
    if target.is_some() {
        return Ok(seeded);
    }
    let mut env: Vec<(&str, String)> = vec![
        ("DSN", dsn.to_owned()),
        ("SERVE_PUBLIC_HOST", "127.0.0.1".into()),
        ("SERVE_ADMIN_HOST", "127.0.0.1".into()),
        ("SERVE_PUBLIC_PORT", "0".into()),
        ("SERVE_ADMIN_PORT", "0".into()),
        ("LOG_LEVEL", "error".into()),
        ("SECRETS_COOKIE", BENCH_COOKIE_SECRET.into()),
    ];
    if let Some(on) = options.whoami_cache {
        env.push(("SESSION_WHOAMI_CACHE_ENABLED", on.to_string()));
    }
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let loaded = sesame_server::load(None, true, &lookup).map_err(|e| anyhow!("{e}"))?;
    if let Some(on) = options.whoami_cache {
        check_cache_key(&loaded.config, on)?;
    }
    // The bench's server logs errors only, for as long as the process runs: its writer is never
    // stopped.
    std::mem::forget(sesame_server::telemetry::init(&loaded.config.log));
    let app = Application::build_with_store(loaded, seeded.store.clone(), Arc::new(SystemClock))
        .await
        .context("starting the server")?;
    seeded.public_url = format!("http://127.0.0.1:{}", app.public_port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok(seeded)
}

/// `--cache` must reach the server: refuse to measure "cache on" on a build without the key.
fn check_cache_key(config: &sesame_server::config::Config, on: bool) -> Result<()> {
    let value = serde_json::to_value(config)?;
    match value.pointer("/session/whoami/cache/enabled") {
        Some(serde_json::Value::Bool(b)) if *b == on => Ok(()),
        Some(other) => Err(anyhow!(
            "session.whoami.cache.enabled is {other} although --cache asked for {on}"
        )),
        None if !on => Ok(()),
        None => Err(anyhow!(
            "this build has no session.whoami.cache.enabled: the whoami cache has not landed, \
             so --cache on cannot be measured"
        )),
    }
}

impl Seeded {
    /// Grows the data to `total` sessions (same shape) and re-samples `sample` tokens evenly over
    /// all of them.
    pub async fn grow_to(&mut self, total: u64, sample: u64) -> Result<()> {
        if total <= self.sessions {
            return Ok(());
        }
        let now = SystemClock.now();
        // The old sample keeps its share of the new one; the rest comes from the new sessions.
        let keep = usize::try_from(sample.saturating_mul(self.sessions) / total).unwrap_or(0);
        let step = (self.tokens.len() / keep.max(1)).max(1);
        let mut tokens: Vec<String> = self
            .tokens
            .iter()
            .step_by(step)
            .take(keep)
            .cloned()
            .collect();
        let want_new = sample.saturating_sub(tokens.len() as u64);
        let seeder = seeding_store(&self.dsn, &self.store).await?;
        tokens.extend(
            seed_range(
                &seeder,
                self.sessions..total,
                self.per_identity,
                want_new,
                now,
            )
            .await?,
        );
        drop(seeder);
        self.tokens = tokens;
        self.sessions = total;
        self.settle().await
    }

    /// After a bulk load: the SQLite log is checkpointed into the file; PostgreSQL is vacuumed
    /// and analysed (autovacuum would otherwise run during the measurement).
    async fn settle(&self) -> Result<()> {
        match &self.dsn {
            Dsn::Sqlite(path) => sesame_store::checkpoint_sqlite(path).await?,
            Dsn::Postgres(url) if url.contains(BENCH_SCHEMA) => {
                eprintln!("vacuuming and analysing after the bulk load");
                sesame_store::vacuum_postgres_schema(url, BENCH_SCHEMA).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
