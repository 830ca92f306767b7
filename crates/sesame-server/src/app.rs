//! Start-up: open and migrate the store (waiting for a database that cannot be reached yet),
//! raise the open-file limit, bind both ports (0 picks a free one, as tests do), resolve base
//! URLs, build the state, and serve until a shutdown signal, finishing in-flight requests.

use crate::config::ServeEndpoint;
use crate::config::{Connections, LoadedConfig};
use crate::connections;
use crate::middleware::admin_prefix;
use crate::routes;
use crate::state::{self, AppState};
use sesame_core::clock::Clock;
use sesame_core::store::{Store, StoreError};
use sesame_core::whoami_cache::{InvalidationBus, Listening, WhoamiCache};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Layer;

/// The first pause before connecting again to a database that cannot be reached at start-up;
/// each later pause is twice as long, up to [`DATABASE_RETRY_MAX`].
const DATABASE_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest pause between attempts to reach the database at start-up.
const DATABASE_RETRY_MAX: Duration = Duration::from_secs(30);

/// File descriptors kept out of the connection bounds: database connections, the SQLite
/// readers, log files, the listeners themselves.
const FD_RESERVE: u64 = 256;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A configuration value is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened or migrated, or (for [`open_store`]) not reached.
    #[error("{}", database_message(.0))]
    Store(#[from] StoreError),
    /// A port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// What went wrong with the database: an error at opening names the database itself.
fn database_message(e: &StoreError) -> String {
    match e {
        StoreError::Open(message) | StoreError::Unavailable(message) => message.clone(),
        other => format!("database: {other}"),
    }
}

/// A server ready to run.
pub struct Application {
    public: TcpListener,
    admin: TcpListener,
    state: AppState,
    public_addr: SocketAddr,
    admin_addr: SocketAddr,
    cors: Option<Arc<crate::cors::CorsPolicy>>,
    whoami_cache: Option<Arc<WhoamiCache>>,
    listening: Option<Listening>,
    bus: Option<Arc<dyn InvalidationBus>>,
    public_connections: Connections,
    admin_connections: Connections,
}

async fn bind(endpoint: &ServeEndpoint) -> Result<(TcpListener, SocketAddr), StartError> {
    let addr = format!("{}:{}", endpoint.host, endpoint.port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, local))
}

fn base_url(endpoint: &ServeEndpoint, local: SocketAddr, dev: bool) -> String {
    if let Some(url) = &endpoint.base_url {
        return url.clone();
    }
    let host = match endpoint.host.as_str() {
        "" | "0.0.0.0" | "::" | "[::]" => "127.0.0.1".to_owned(),
        h => h.to_owned(),
    };
    let scheme = if dev { "http" } else { "https" };
    format!("{scheme}://{host}:{}/", local.port())
}

/// Opens the store a configuration names and applies migrations. A database that cannot be
/// reached fails at once (`StoreError::Unavailable`), as the other commands want.
pub async fn open_store(loaded: &LoadedConfig) -> Result<Arc<dyn Store>, StartError> {
    let store = sesame_store::connect(&loaded.dsn).await?;
    store.migrate().await?;
    Ok(store)
}

/// [`open_store`] for a server: a database that cannot be reached yet (not started, restarting,
/// its name not resolvable yet) is tried again after 1 s, 2 s, 4 s … up to every 30 s, with one
/// log line per attempt, so that Sesame may start before its database, in any order an
/// orchestrator picks. What waiting cannot fix (a refused login, a missing database, a DSN that
/// cannot be read) fails at once.
pub async fn open_store_when_reachable(
    loaded: &LoadedConfig,
) -> Result<Arc<dyn Store>, StartError> {
    let mut pause = DATABASE_RETRY_FIRST;
    loop {
        match open_store(loaded).await {
            Err(StartError::Store(StoreError::Unavailable(reason))) => {
                tracing::warn!(
                    retry_in_seconds = pause.as_secs(),
                    "{reason}; retrying in {} s",
                    pause.as_secs()
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(DATABASE_RETRY_MAX);
            }
            other => return other,
        }
    }
}

/// Raises the soft limit on open files to the hard limit (many systems start processes at 1024,
/// which a few hundred idle connections exhaust) and returns the soft limit then in force.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let (Some(current), Some(maximum)) = (limit.current, limit.maximum) else {
        // Unlimited: nothing to raise, nothing to fit into.
        return limit.current;
    };
    if current >= maximum {
        return Some(current);
    }
    let raised = Rlimit {
        current: Some(maximum),
        maximum: Some(maximum),
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            tracing::debug!(from = current, to = maximum, "raised the open-file limit");
            Some(maximum)
        }
        Err(e) => {
            tracing::warn!(error = %e, limit = current, "cannot raise the open-file limit");
            Some(current)
        }
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

/// A port's connection settings with `max_connections` lowered, with a warning, to what half of
/// the open-file limit (less a reserve) can hold: beyond it, accepting fails for everyone instead
/// of the excess being answered 503.
fn fit_connections(
    port: &str,
    mut connections: Connections,
    open_files: Option<u64>,
) -> Connections {
    let Some(limit) = open_files else {
        return connections;
    };
    let room = u32::try_from(limit.saturating_sub(FD_RESERVE) / 2)
        .unwrap_or(u32::MAX)
        .max(1);
    if connections.max_connections > room {
        tracing::warn!(
            "serve.{port}.max_connections ({}) is lowered to {room}: the open-file limit ({limit}) \
             holds no more connections on both ports; raise the limit (LimitNOFILE=, ulimit -n) \
             to serve more",
            connections.max_connections
        );
        connections.max_connections = room;
    }
    connections
}

impl Application {
    /// Opens the configured database (waiting while it cannot be reached, see
    /// [`open_store_when_reachable`]), migrates it, and binds both ports.
    pub async fn build(loaded: LoadedConfig, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let store = open_store_when_reachable(&loaded).await?;
        Self::build_with_store(loaded, store, clock).await
    }

    /// Binds both ports over an already opened (and migrated) store.
    pub async fn build_with_store(
        loaded: LoadedConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let config = &loaded.config;
        let open_files = raise_open_file_limit();
        let public_connections = fit_connections(
            "public",
            config.serve.public.endpoint(config.dev).connections(),
            open_files,
        );
        let admin_connections =
            fit_connections("admin", config.serve.admin.connections(), open_files);
        let (public, public_addr) = bind(&config.serve.public.endpoint(config.dev)).await?;
        let (admin, admin_addr) = bind(&config.serve.admin).await?;
        let public_url = base_url(
            &config.serve.public.endpoint(config.dev),
            public_addr,
            config.dev,
        );
        let admin_url = base_url(&config.serve.admin, admin_addr, config.dev);
        for w in &loaded.warnings {
            tracing::warn!("{w}");
        }
        let secrets = &config.secrets;
        if !config.dev && secrets.cookie.is_empty() && secrets.default.is_empty() {
            // Kratos keeps quiet here; the symptom (everyone signed out at each restart, cookies
            // refused by the other nodes) is too far from its cause to be found without a word.
            tracing::warn!(
                "no secrets.cookie or secrets.default is set: session cookies are sealed with a \
                 random key made at start-up, so a restart signs every browser out and other \
                 nodes refuse this node's cookies; set secrets.cookie (SECRETS_COOKIE) to a secret \
                 of at least 16 characters, the same on every node"
            );
        }
        let LoadedConfig {
            config,
            schemas,
            cors,
            ..
        } = loaded;
        let cached =
            crate::whoami_cache::install(&config.session.whoami.cache, store, clock.clone());
        let state = state::build(
            &config,
            schemas,
            cached.store,
            cached.cache.clone(),
            clock,
            &public_url,
            &admin_url,
        )
        .map_err(StartError::Other)?;
        Ok(Self {
            public,
            admin,
            state,
            public_addr,
            admin_addr,
            cors,
            whoami_cache: cached.cache,
            listening: cached.listening,
            bus: cached.bus,
            public_connections,
            admin_connections,
        })
    }

    /// The state of a server that does not listen, for command-line tools over the same
    /// database (`sesame identities …`): base URLs as a server on the configured ports has them.
    pub fn offline_state(
        loaded: LoadedConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<AppState, StartError> {
        let config = &loaded.config;
        let configured = |endpoint: &ServeEndpoint| {
            let local = SocketAddr::from(([127, 0, 0, 1], endpoint.port));
            base_url(endpoint, local, config.dev)
        };
        let public_url = configured(&config.serve.public.endpoint(config.dev));
        let admin_url = configured(&config.serve.admin);
        let store = crate::whoami_cache::announcing(store, clock.clone());
        state::build(
            config,
            loaded.schemas,
            store,
            None,
            clock,
            &public_url,
            &admin_url,
        )
        .map_err(StartError::Other)
    }

    /// The bound public port.
    pub fn public_port(&self) -> u16 {
        self.public_addr.port()
    }

    /// The bound admin port.
    pub fn admin_port(&self) -> u16 {
        self.admin_addr.port()
    }

    /// The shared state (services, store, clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// whoami's cache, when `session.whoami.cache.enabled`.
    pub fn whoami_cache(&self) -> Option<&Arc<WhoamiCache>> {
        self.whoami_cache.as_ref()
    }

    /// Serves both ports until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        tracing::info!(
            public = %self.state.public_base_url,
            admin = %self.state.admin_base_url,
            public_addr = %self.public_addr,
            admin_addr = %self.admin_addr,
            backend = self.state.deps.store.backend(),
            "sesame is listening"
        );
        let public_app = routes::public(self.state.clone(), self.cors.clone());
        let admin_app = tower::util::MapRequestLayer::new(admin_prefix)
            .layer(routes::admin(self.state.clone()));
        let public = connections::serve(
            "public",
            self.public,
            public_app,
            self.public_connections,
            rx.clone(),
        );
        let admin = connections::serve("admin", self.admin, admin_app, self.admin_connections, rx);
        tokio::join!(public, admin);
        // The listener stops with the server, not before: answers until the last one are correct.
        if let Some(bus) = &self.bus {
            bus.leave().await;
        }
        drop(self.listening);
        Ok(())
    }
}

/// Resolves when SIGINT or SIGTERM arrives. The handlers are installed when this is called, not
/// when the future is first polled: a signal that arrives as soon as the server says it listens
/// must stop it gracefully, not kill it (the default action).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        tokio::select! {
            () = next_signal(term) => {},
            () = next_signal(int) => {},
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}

/// The next delivery of an installed signal; never, if it could not be installed.
#[cfg(unix)]
async fn next_signal(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(max: u32) -> Connections {
        Connections {
            request_header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(120),
            max_connections: max,
        }
    }

    #[test]
    fn the_connection_bound_fits_both_ports_into_the_open_file_limit() {
        // Plenty of room: the configured bound stands.
        assert_eq!(
            fit_connections("public", connections(4096), Some(1 << 20)).max_connections,
            4096
        );
        // 1024 files: a reserve, and half the rest for each port.
        assert_eq!(
            fit_connections("public", connections(4096), Some(1024)).max_connections,
            384
        );
        assert_eq!(
            fit_connections("admin", connections(100), Some(1024)).max_connections,
            100
        );
        assert_eq!(
            fit_connections("public", connections(4096), Some(10)).max_connections,
            1
        );
        assert_eq!(
            fit_connections("public", connections(4096), None).max_connections,
            4096
        );
    }
}
