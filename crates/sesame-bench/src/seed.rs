//! Seeding: a fresh database, one identity, M sessions inserted in bulk through the store, and an
//! in-process server over it.

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use sesame_core::SessionToken;
use sesame_core::aal::Aal;
use sesame_core::clock::{Clock, SystemClock};
use sesame_core::identity::Identity;
use sesame_core::session::Session;
use sesame_core::types::{AuthenticationMethod, IdentityState};
use sesame_core::{IdentityId, SessionId, Store};
use sesame_server::Application;
use sesame_store::Dsn;
use std::io::Write;
use std::sync::Arc;

/// A running, seeded server.
pub struct Seeded {
    /// `http://127.0.0.1:<port>`.
    pub public_url: String,
    /// A valid session token to measure with.
    pub token: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The store the server uses.
    pub store: Arc<dyn Store>,
}

/// Calls the hot-path lookup directly from `tasks` concurrent tasks for `duration`.
pub async fn time_store_lookups(
    seeded: &Seeded,
    tasks: usize,
    duration: std::time::Duration,
) -> Result<(f64, u64, u64)> {
    let digest = SessionToken::from_client(&seeded.token)
        .ok_or_else(|| anyhow!("empty token"))?
        .digest();
    let deadline = std::time::Instant::now() + duration;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let store = seeded.store.clone();
        let digest = digest.clone();
        handles.push(tokio::spawn(async move {
            let mut hist = hdrhistogram::Histogram::<u64>::new(3)?;
            while std::time::Instant::now() < deadline {
                let t = std::time::Instant::now();
                store
                    .session_by_token(&digest)
                    .await?
                    .ok_or_else(|| anyhow!("seeded session not found"))?;
                hist.record(t.elapsed().as_micros() as u64)?;
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
const BATCH: usize = 10_000;

async fn fresh_store(dsn: &str) -> Result<Arc<dyn Store>> {
    let parsed = Dsn::parse(dsn).map_err(|e| anyhow!(e))?;
    let store = match &parsed {
        Dsn::Sqlite(path) => {
            let file = path.split('?').next().unwrap_or(path);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{file}{suffix}"));
            }
            sesame_store::connect(&parsed).await?
        }
        Dsn::Memory => sesame_store::connect(&parsed).await?,
        Dsn::Postgres(url) => {
            sesame_store::drop_postgres_schema(url, BENCH_SCHEMA).await?;
            sesame_store::connect_postgres_schema(url, BENCH_SCHEMA).await?
        }
    };
    store.migrate().await?;
    Ok(store)
}

fn session(identity: IdentityId, token: &SessionToken, now: chrono::DateTime<Utc>) -> Session {
    let mut s = Session {
        id: SessionId::new(),
        identity_id: identity,
        token_digest: token.digest(),
        logout_token_digest: sesame_core::LogoutToken::generate().digest(),
        active: true,
        aal: Aal::Aal0,
        authentication_methods: Vec::new(),
        devices: Vec::new(),
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

/// Seeds `count` sessions and starts a server on them, or, with `target`, adds them to the database
/// of a server that already runs there (its data is kept).
pub async fn start_seeded_server(dsn: &str, count: u64, target: Option<&str>) -> Result<Seeded> {
    let store = match target {
        None => fresh_store(dsn).await?,
        Some(_) => {
            let store = sesame_store::connect(&Dsn::parse(dsn).map_err(|e| anyhow!(e))?).await?;
            store.migrate().await?;
            store
        }
    };
    let now = SystemClock.now();
    let identity = Identity {
        id: IdentityId::new(),
        schema_id: "default".into(),
        traits: serde_json::json!({ "email": "bench@example.com" }),
        state: IdentityState::Active,
        state_changed_at: Some(now),
        metadata_public: None,
        metadata_admin: None,
        external_id: None,
        organization_id: None,
        verifiable_addresses: Vec::new(),
        recovery_addresses: Vec::new(),
        available_aal: Aal::Aal1,
        created_at: now,
        updated_at: now,
    };
    store.create_identity(&identity, &[]).await?;
    let token = SessionToken::generate();
    let started = std::time::Instant::now();
    let mut done = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    while done < count {
        batch.clear();
        let n = BATCH.min(usize::try_from(count - done).unwrap_or(BATCH));
        for i in 0..n {
            // The measured token sits in the middle of the table, not at either end.
            let t = if done + i as u64 == count / 2 {
                token.clone()
            } else {
                SessionToken::generate()
            };
            batch.push(session(identity.id, &t, now));
        }
        store.insert_sessions(&batch).await?;
        done += n as u64;
        eprint!(
            "\rseeding sessions: {done}/{count} ({:.0}/s)",
            done as f64 / started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    if let Some(url) = target {
        return Ok(Seeded {
            public_url: url.trim_end_matches('/').to_owned(),
            token: token.expose().to_owned(),
            backend: store.backend().to_owned(),
            store,
        });
    }
    if let Ok(Dsn::Postgres(url)) = Dsn::parse(dsn) {
        eprintln!("vacuuming and analysing after the bulk load");
        sesame_store::vacuum_postgres_schema(&url, BENCH_SCHEMA).await?;
    }
    let env = |name: &str| match name {
        "DSN" => Some(dsn.to_owned()),
        "SERVE_PUBLIC_HOST" | "SERVE_ADMIN_HOST" => Some("127.0.0.1".into()),
        "SERVE_PUBLIC_PORT" | "SERVE_ADMIN_PORT" => Some("0".into()),
        "LOG_LEVEL" => Some("error".into()),
        _ => None,
    };
    let loaded = sesame_server::load(None, true, &env).map_err(|e| anyhow!("{e}"))?;
    sesame_server::telemetry::init(&loaded.config.log);
    let app = Application::build_with_store(loaded, store.clone(), Arc::new(SystemClock))
        .await
        .context("starting the server")?;
    let public_url = format!("http://127.0.0.1:{}", app.public_port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok(Seeded {
        public_url,
        token: token.expose().to_owned(),
        backend: store.backend().to_owned(),
        store,
    })
}
