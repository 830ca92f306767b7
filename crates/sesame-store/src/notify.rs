//! Whoami cache invalidations between the servers of one PostgreSQL database: `NOTIFY` on a
//! channel named after the schema, `LISTEN` on a connection of its own (every node listens, with
//! or without a cache, to hear the confirmations of its own invalidations).
//!
//! A payload is `<node>:<seq>|<items>`, items separated by spaces:
//! - invalidations: `t<hex>` a token digest, `s<uuid>` a session id, `i<uuid>` an identity id,
//!   `*` everything. A batch longer than one payload (PostgreSQL allows < 8000 bytes) goes out as
//!   several, in one statement;
//! - `a<node>.<seq>`: the sender has applied that node's payload `seq` (sent by caching nodes for
//!   every payload with invalidations);
//! - heartbeats: `c` (the sender caches) or `n` (it does not), sent on connecting and every few
//!   seconds, by which a node knows its own connection works; `x` when a node stops.
//!
//! Who must confirm: the writer of an invalidation asks PostgreSQL which listening connections of
//! the schema are open (`pg_stat_activity`; each is named `sesame whoami cache <channel> <node>
//! <c|n>`, `c` for a node that caches) and waits for the confirmation of every caching node among
//! them, for at most [`ACK_WAIT`]. The database, not what a node has heard, is the roster, because
//! it is right from the first moment: a node opens its listening connection before its cache
//! serves, and the writer looks after its write committed, so a node the writer does not see yet
//! can only fill its cache from reads that see the write. (A roster built from heartbeats missed a
//! node that started during the last heartbeat period.) A revocation is thus answered once every
//! caching node has dropped the old answer; a node that died costs writes that wait at most
//! [`ACK_WAIT`] until PostgreSQL notices its connection is gone.
//!
//! A connection that has heard nothing for three heartbeat periods (not even its own heartbeat)
//! is treated as lost: a dead TCP peer may never say so. While the connection is lost the cache is
//! suspended (empty and bypassed); it is emptied again once listening resumes, since notifications
//! sent meanwhile are gone.

use sesame_core::store::StoreError;
use sesame_core::whoami_cache::{Invalidation, InvalidationBus, Listening, WhoamiCache};
use sesame_core::{IdentityId, SessionId, TokenDigest};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, watch};

/// Payload bytes PostgreSQL accepts (fewer than 8000), less room for the header.
const MAX_ITEMS_BYTES: usize = 7900;
/// How long a write waits for the other caching nodes to confirm its invalidations.
pub const ACK_WAIT: Duration = Duration::from_secs(1);
/// Heartbeat period; three without a word mean a connection (or a peer) is gone.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Reconnection delays, doubling.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// How `application_name` of a listening connection starts, to find it in `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "sesame whoami cache";
/// How long a node that said it stops is not waited for (its connection closes soon after).
const LEFT_FOR: Duration = Duration::from_secs(30);

fn backend(e: sqlx::Error) -> StoreError {
    crate::errors::store_error(e)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `LISTEN`/`NOTIFY` for one database schema.
#[derive(Clone)]
pub struct PgBus(Arc<Inner>);

struct Inner {
    pool: PgPool,
    node: String,
    seq: AtomicU64,
    channel: OnceCell<String>,
    connected: AtomicBool,
    caching: AtomicBool,
    /// Nodes that said they stop, and when.
    left: Mutex<HashMap<String, Instant>>,
    /// Confirmations received for the payloads a write is waiting on, by sequence number.
    pending: Mutex<HashMap<u64, HashSet<String>>>,
    /// Bumped on every confirmation recorded in `pending`.
    acked: watch::Sender<u64>,
}

impl std::fmt::Debug for PgBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBus")
            .field("node", &self.0.node)
            .field("channel", &self.0.channel.get())
            .finish()
    }
}

impl PgBus {
    /// A bus over the store's pool (the channel is resolved on first use).
    pub fn new(pool: PgPool) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self(Arc::new(Inner {
            pool,
            node: id[..16].to_owned(),
            seq: AtomicU64::new(0),
            channel: OnceCell::new(),
            connected: AtomicBool::new(false),
            caching: AtomicBool::new(false),
            left: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            acked: watch::Sender::new(0),
        }))
    }
}

/// FNV-1a, to shorten a schema name that would make the channel name too long.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The channel of a schema: one per schema, so that tests (and deployments) sharing a database
/// in separate schemas do not hear each other. Channel names are identifiers (< 64 bytes).
fn channel_of(schema: &str) -> String {
    let name = format!("sesame_whoami_{schema}");
    if name.len() < 64 {
        name
    } else {
        format!("sesame_whoami_{:016x}", fnv(schema))
    }
}

fn encode(item: &Invalidation, out: &mut String) {
    let _ = match item {
        Invalidation::Token(t) => {
            out.push('t');
            t.as_bytes().iter().try_for_each(|b| write!(out, "{b:02x}"))
        }
        Invalidation::Session(id) => write!(out, "s{}", id.0.simple()),
        Invalidation::Identity(id) => write!(out, "i{}", id.0.simple()),
        Invalidation::All => {
            out.push('*');
            Ok(())
        }
    };
}

/// One item of a payload.
#[derive(Debug, PartialEq)]
enum Item<'a> {
    Drop(Invalidation),
    Ack { node: &'a str, seq: u64 },
    Heartbeat,
    Leaving,
}

fn decode(item: &str) -> Option<Item<'_>> {
    let (kind, rest) = item.split_at_checked(1)?;
    Some(match kind {
        "t" if rest.len() == 64 => {
            let mut bytes = [0u8; 32];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = u8::from_str_radix(rest.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Item::Drop(Invalidation::Token(TokenDigest(bytes)))
        }
        "s" => Item::Drop(Invalidation::Session(SessionId(
            uuid::Uuid::try_parse(rest).ok()?,
        ))),
        "i" => Item::Drop(Invalidation::Identity(IdentityId(
            uuid::Uuid::try_parse(rest).ok()?,
        ))),
        "*" if rest.is_empty() => Item::Drop(Invalidation::All),
        "a" => {
            let (node, seq) = rest.split_once('.')?;
            Item::Ack {
                node,
                seq: seq.parse().ok()?,
            }
        }
        "c" | "n" if rest.is_empty() => Item::Heartbeat,
        "x" if rest.is_empty() => Item::Leaving,
        _ => return None,
    })
}

/// Splits a batch into payload bodies (each below the size limit).
fn bodies(batch: &[Invalidation]) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut current = String::new();
    let mut item = String::new();
    for what in batch {
        item.clear();
        encode(what, &mut item);
        if !current.is_empty() && current.len() + 1 + item.len() > MAX_ITEMS_BYTES {
            bodies.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        bodies.push(current);
    }
    bodies
}

impl Inner {
    async fn channel(&self) -> Result<&str, StoreError> {
        self.channel
            .get_or_try_init(|| async {
                let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend)?;
                Ok(channel_of(schema.as_deref().unwrap_or("public")))
            })
            .await
            .map(String::as_str)
    }

    /// Numbers the bodies: the payloads and the last number.
    fn number(&self, bodies: &[String]) -> (Vec<String>, u64) {
        let mut last = 0;
        let payloads = bodies
            .iter()
            .map(|body| {
                last = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
                format!("{}:{last}|{body}", self.node)
            })
            .collect();
        (payloads, last)
    }

    async fn send(&self, payloads: &[String]) -> Result<(), StoreError> {
        let channel = self.channel().await?;
        sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
            .bind(channel)
            .bind(payloads)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn send_item(&self, item: String) {
        let (payloads, _) = self.number(&[item]);
        if let Err(e) = self.send(&payloads).await {
            tracing::debug!(error = %e, "whoami cache: notification not sent");
        }
    }

    fn heartbeat(&self) -> String {
        let caches = self.caching.load(Ordering::Relaxed);
        (if caches { "c" } else { "n" }).to_owned()
    }

    /// The `application_name` prefix of the schema's listening connections.
    async fn roster_prefix(&self) -> Result<String, StoreError> {
        let channel = self.channel().await?;
        // 32 bits of the channel keep the name within PostgreSQL's 63 bytes.
        Ok(format!(
            "{LISTENER_APPLICATION_NAME} {:08x} ",
            fnv(channel) as u32
        ))
    }

    /// The other nodes whose listening connection to the schema is open and that cache.
    async fn caching_peers(&self) -> Result<HashSet<String>, StoreError> {
        let prefix = self.roster_prefix().await?;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT application_name FROM pg_stat_activity WHERE starts_with(application_name, $1)",
        )
        .bind(&prefix)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut left = lock(&self.left);
        left.retain(|_, at| at.elapsed() < LEFT_FOR);
        Ok(names
            .iter()
            .filter_map(|name| name.strip_prefix(&prefix)?.split_once(' '))
            .filter(|(node, caches)| *caches == "c" && *node != self.node)
            .filter(|(node, _)| !left.contains_key(*node))
            .map(|(node, _)| node.to_owned())
            .collect())
    }

    async fn publish(&self, batch: &[Invalidation]) -> Result<(), StoreError> {
        let bodies = bodies(batch);
        if bodies.is_empty() {
            return Ok(());
        }
        let (payloads, last) = self.number(&bodies);
        // An unreadable roster must not keep the notification from going out: it is sent, and
        // waited for as when no confirmation can arrive.
        let roster = self.caching_peers().await;
        if let Err(e) = &roster {
            tracing::warn!(error = %e, "whoami cache: cannot read which nodes listen");
        }
        let waiting_for = roster.as_ref().cloned().unwrap_or_default();
        if roster.is_ok() && waiting_for.is_empty() {
            return self.send(&payloads).await;
        }
        if roster.is_err() || !self.connected.load(Ordering::Acquire) {
            // Without a working listener (or roster) no confirmation can be awaited; the other
            // nodes hear the notification all the same, and usually apply it within milliseconds.
            let sent = self.send(&payloads).await;
            if sent.is_ok() {
                tokio::time::sleep(ACK_WAIT).await;
            }
            return sent;
        }
        lock(&self.pending).insert(last, HashSet::new());
        let mut acked = self.acked.subscribe();
        let sent = self.send(&payloads).await;
        if sent.is_ok() {
            let all_confirmed = async {
                loop {
                    let missing = lock(&self.pending)
                        .get(&last)
                        .is_none_or(|got| !waiting_for.is_subset(got));
                    if !missing || acked.changed().await.is_err() {
                        return;
                    }
                }
            };
            if tokio::time::timeout(ACK_WAIT, all_confirmed).await.is_err() {
                tracing::warn!(
                    nodes = waiting_for.len(),
                    "whoami cache: not every node confirmed an invalidation in time"
                );
            }
        }
        lock(&self.pending).remove(&last);
        sent
    }

    async fn connect(&self) -> Result<PgListener, StoreError> {
        let channel = self.channel().await?;
        // Named for the roster: the channel, the node, and whether it caches.
        let name = format!(
            "{}{} {}",
            self.roster_prefix().await?,
            self.node,
            self.heartbeat()
        );
        let options = (*self.pool.connect_options())
            .clone()
            .application_name(&name);
        // A pool of its own, so that the listener never takes one of the store's connections.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&pool).await.map_err(backend)?;
        listener.ignore_pool_close_event(true);
        listener.eager_reconnect(false);
        listener.listen(channel).await.map_err(backend)?;
        Ok(listener)
    }

    /// Applies one notification; whether it was this node's own.
    fn apply(self: &Arc<Self>, payload: &str, cache: Option<&WhoamiCache>) -> bool {
        let parsed = payload
            .split_once('|')
            .and_then(|(header, items)| Some((header.split_once(':')?, items)));
        let Some(((from, seq), items)) = parsed else {
            tracing::warn!("whoami cache: unreadable notification; dropping the whole cache");
            if let Some(cache) = cache {
                cache.invalidate(&Invalidation::All);
            }
            return false;
        };
        if from == self.node {
            return true;
        }
        let mut dropped = false;
        for item in items.split(' ').filter(|i| !i.is_empty()) {
            match decode(item) {
                Some(Item::Drop(what)) => {
                    if let Some(cache) = cache {
                        cache.invalidate(&what);
                    }
                    dropped = true;
                }
                Some(Item::Ack { node, seq }) if node == self.node => {
                    if let Some(got) = lock(&self.pending).get_mut(&seq) {
                        got.insert(from.to_owned());
                        self.acked.send_modify(|n| *n += 1);
                    }
                }
                Some(Item::Ack { .. }) => {}
                Some(Item::Heartbeat) => {}
                Some(Item::Leaving) => {
                    lock(&self.left).insert(from.to_owned(), Instant::now());
                }
                None => {
                    tracing::warn!(
                        "whoami cache: unreadable notification; dropping the whole cache"
                    );
                    if let Some(cache) = cache {
                        cache.invalidate(&Invalidation::All);
                    }
                    dropped = true;
                }
            }
        }
        if dropped && cache.is_some() {
            let this = self.clone();
            let ack = format!("a{from}.{seq}");
            tokio::spawn(async move { this.send_item(ack).await });
        }
        false
    }

    /// Listens until the connection is lost; returns why.
    async fn serve(
        self: &Arc<Self>,
        listener: &mut PgListener,
        cache: Option<&WhoamiCache>,
    ) -> String {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_word = Instant::now();
        let mut resumed = false;
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(n)) => {
                        let own = self.apply(n.payload(), cache);
                        last_word = Instant::now();
                        // The cache serves again once this node hears itself: listening began
                        // before, so whatever was sent earlier is covered by the emptying, and the
                        // other nodes have been handed the heartbeat that makes them wait for us.
                        if own && !resumed {
                            if let Some(cache) = cache {
                                cache.resume();
                            }
                            resumed = true;
                        }
                    }
                    Ok(None) => return "the connection was closed".into(),
                    Err(e) => return e.to_string(),
                },
                // The first tick is immediate: a node announces itself as soon as it listens.
                _ = ping.tick() => {
                    if last_word.elapsed() > 3 * PING_EVERY {
                        return "no heartbeat came back".into();
                    }
                    let beat = self.heartbeat();
                    if tokio::time::timeout(PING_EVERY, self.send_item(beat)).await.is_err() {
                        tracing::debug!("whoami cache: heartbeat not sent in time");
                    }
                }
            }
        }
    }

    async fn run(self: Arc<Self>, cache: Option<Arc<WhoamiCache>>) {
        let mut retry = RETRY_FIRST;
        loop {
            match self.connect().await {
                Ok(mut listener) => {
                    self.connected.store(true, Ordering::Release);
                    tracing::info!("whoami cache: listening to the other nodes");
                    retry = RETRY_FIRST;
                    let why = self.serve(&mut listener, cache.as_deref()).await;
                    self.connected.store(false, Ordering::Release);
                    if let Some(cache) = &cache {
                        cache.suspend();
                    }
                    tracing::warn!(
                        reason = %why,
                        "whoami cache: lost the notification connection; the cache is bypassed until it is back"
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?retry, "whoami cache: cannot listen to the other nodes; the cache is bypassed");
                }
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MAX);
        }
    }
}

#[async_trait::async_trait]
impl InvalidationBus for PgBus {
    async fn publish(&self, batch: &[Invalidation]) -> Result<(), StoreError> {
        self.0.publish(batch).await
    }

    fn listen(&self, cache: Option<Arc<WhoamiCache>>) -> Listening {
        if let Some(cache) = &cache {
            cache.suspend();
        }
        self.0.caching.store(cache.is_some(), Ordering::Relaxed);
        let task = tokio::spawn(self.0.clone().run(cache));
        Listening::new(task.abort_handle())
    }

    async fn leave(&self) {
        if self.0.connected.load(Ordering::Acquire) {
            // Bounded: a shutdown does not wait on an unreachable database.
            let _ = tokio::time::timeout(ACK_WAIT, self.0.send_item("x".to_owned())).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_invalidation_survives_its_text_form() {
        let items = vec![
            Invalidation::Token(TokenDigest([0xab; 32])),
            Invalidation::Session(SessionId::new()),
            Invalidation::Identity(IdentityId::new()),
            Invalidation::All,
        ];
        let bodies = bodies(&items);
        assert_eq!(bodies.len(), 1);
        let back: Vec<Item<'_>> = bodies[0].split(' ').map(|i| decode(i).unwrap()).collect();
        let want: Vec<Item<'_>> = items.into_iter().map(Item::Drop).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn confirmations_heartbeats_and_farewells_are_read() {
        assert_eq!(
            decode("a0123456789abcdef.42"),
            Some(Item::Ack {
                node: "0123456789abcdef",
                seq: 42
            })
        );
        assert_eq!(decode("c"), Some(Item::Heartbeat));
        assert_eq!(decode("n"), Some(Item::Heartbeat));
        assert_eq!(decode("x"), Some(Item::Leaving));
        assert_eq!(decode("q"), None);
        assert_eq!(decode("tabc"), None);
    }

    #[test]
    fn a_long_batch_is_split_into_payloads_postgresql_accepts() {
        let items: Vec<Invalidation> = (0..1000)
            .map(|_| Invalidation::Session(SessionId::new()))
            .collect();
        let bodies = bodies(&items);
        assert!(bodies.len() > 1);
        assert!(bodies.iter().all(|b| b.len() <= MAX_ITEMS_BYTES));
        let count: usize = bodies.iter().map(|b| b.split(' ').count()).sum();
        assert_eq!(count, 1000);
    }

    #[test]
    fn channel_names_stay_identifiers() {
        assert_eq!(channel_of("public"), "sesame_whoami_public");
        assert!(channel_of(&"x".repeat(63)).len() < 64);
    }
}
