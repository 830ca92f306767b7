//! Start-up of whoami's cache (`session.whoami.cache`): the cache itself, the store decorator
//! that fills and invalidates it, and — on PostgreSQL — the listener that hears the other nodes.

use crate::config::WhoamiCacheConfig;
use sesame_core::caching_store::CachingStore;
use sesame_core::clock::Clock;
use sesame_core::store::Store;
use sesame_core::whoami_cache::{InvalidationBus, Listening, WhoamiCache};
use std::sync::Arc;

/// The store the services use, and the cache behind it.
pub(crate) struct Installed {
    /// The store to hand the services.
    pub store: Arc<dyn Store>,
    /// The cache, when enabled.
    pub cache: Option<Arc<WhoamiCache>>,
    /// Keeps the PostgreSQL listener running.
    pub listening: Option<Listening>,
    /// The other nodes of the database, to say goodbye to.
    pub bus: Option<Arc<dyn InvalidationBus>>,
}

/// Wraps `store` for a serving node. Even with the cache off, a node on PostgreSQL announces its
/// writes, for the nodes that have it on. Must run inside the Tokio runtime (the listener is a task).
pub(crate) fn install(
    config: &WhoamiCacheConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Installed {
    let bus = store.invalidation_bus();
    let cache = config
        .enabled
        .then(|| Arc::new(WhoamiCache::new(config.ttl.chrono(), config.max_entries)));
    // Every node on PostgreSQL listens, cache or not: it must hear the other nodes confirm its
    // invalidations before it answers the write that caused them.
    let listening = bus.as_ref().map(|bus| bus.listen(cache.clone()));
    let store: Arc<dyn Store> = if cache.is_none() && bus.is_none() {
        store
    } else {
        Arc::new(CachingStore::new(store, cache.clone(), bus.clone(), clock))
    };
    Installed {
        store,
        cache,
        listening,
        bus,
    }
}

/// Wraps `store` for a command that writes without serving: it only announces its writes.
pub(crate) fn announcing(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
    match store.invalidation_bus() {
        Some(bus) => Arc::new(CachingStore::new(store, None, Some(bus), clock)),
        None => store,
    }
}
