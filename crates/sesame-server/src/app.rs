//! Start-up: bind both ports (0 picks a free one, as tests do), resolve base URLs, open and migrate
//! the store, build the state, and serve until a shutdown signal, finishing in-flight requests.

use crate::config::LoadedConfig;
use crate::config::ServeEndpoint;
use crate::middleware::admin_prefix;
use crate::routes;
use crate::state::{self, AppState};
use axum::ServiceExt;
use axum::extract::Request;
use sesame_core::clock::Clock;
use sesame_core::store::{Store, StoreError};
use sesame_core::whoami_cache::{InvalidationBus, Listening, WhoamiCache};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::Layer;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A configuration value is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened or migrated.
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
        StoreError::Open(message) => message.clone(),
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

/// Opens the store a configuration names and applies migrations.
pub async fn open_store(loaded: &LoadedConfig) -> Result<Arc<dyn Store>, StartError> {
    let store = sesame_store::connect(&loaded.dsn).await?;
    store.migrate().await?;
    Ok(store)
}

impl Application {
    /// Opens the configured database, migrates it, and binds both ports.
    pub async fn build(loaded: LoadedConfig, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let store = open_store(&loaded).await?;
        Self::build_with_store(loaded, store, clock).await
    }

    /// Binds both ports over an already opened (and migrated) store.
    pub async fn build_with_store(
        loaded: LoadedConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let config = &loaded.config;
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
        let signal = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
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
        let public = axum::serve(
            self.public,
            public_app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal(rx.clone()));
        let admin = axum::serve(
            self.admin,
            ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(admin_app),
        )
        .with_graceful_shutdown(signal(rx));
        let (a, b) = tokio::join!(async { public.await }, async { admin.await });
        // The listener stops with the server, not before: answers until the last one are correct.
        if let Some(bus) = &self.bus {
            bus.leave().await;
        }
        drop(self.listening);
        a.and(b)
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
