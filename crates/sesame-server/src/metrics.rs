//! Prometheus metrics, served on the admin port only (`GET /admin/metrics` and Kratos's path
//! `GET /admin/metrics/prometheus`, see [`crate::routes::metrics`]).
//!
//! Two kinds of numbers. Requests and database errors are counted as they happen, by the request
//! layer of both ports ([`crate::access_log::log_request`], through an [`Observer`]): a counter
//! and a latency histogram per port, method, route and status. Everything else — whoami's cache,
//! the password hashing queue, the connection pools — is read when Prometheus scrapes, by a
//! [`Collector`] over counters the parts keep anyway, so it costs the request paths nothing.
//!
//! Every label value comes from a fixed set: the route is the path template a request matched
//! (`/admin/identities/{id}`) or `(unmatched)`, never the path itself, and a method outside the
//! standard ones is `other`. A client can therefore not make the server keep one series per path
//! or method it invents.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: its registry, metric
//! types and both text formats (Prometheus 0.0.4 and OpenMetrics 1.0).

use crate::error::DatabaseFailure;
use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, LabelValueEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sesame_core::password::Hasher;
use sesame_core::store::{PoolStatus, Store, StoreError};
use sesame_core::throttle::Throttle;
use sesame_core::whoami_cache::WhoamiCache;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The label of requests no route matched.
pub const UNMATCHED: &str = "(unmatched)";

/// Upper bounds of the latency buckets, in seconds: from half a millisecond (a cached whoami
/// answers in a fraction of that) to ten seconds (the database pool's wait), about 2.5× apart.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `kind` label of a database error: the name of its [`StoreError`] variant. The one place
/// that names them, so a new variant cannot be counted without a label of its own.
pub fn database_error_kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::Conflict => "conflict",
        StoreError::NotFound => "not_found",
        StoreError::Open(_) => "open",
        StoreError::Backend(_) => "backend",
        StoreError::Unavailable(_) => UNAVAILABLE,
    }
}

/// The kind of a database that cannot be reached (answered 503).
pub const UNAVAILABLE: &str = "unavailable";

/// Every [`database_error_kind`]: each starts at zero, so that `increase()` sees a kind's first
/// error (a series that appears with the value 1 shows no increase).
const DATABASE_ERROR_KINDS: [&str; 5] = ["conflict", "not_found", "open", "backend", UNAVAILABLE];

/// The port a request came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Port {
    /// The public API (4433).
    Public,
    /// The admin API (4434).
    Admin,
}

impl Port {
    fn as_str(self) -> &'static str {
        match self {
            Port::Public => "public",
            Port::Admin => "admin",
        }
    }
}

impl EncodeLabelValue for Port {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// The methods that are labels of their own; any other is `other`.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other",
];

/// A request's method as a label: the standard methods by name, anything else `other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodLabel(u8);

impl MethodLabel {
    /// The label of `method`.
    pub fn of(method: &Method) -> Self {
        Self(match *method {
            Method::GET => 0,
            Method::HEAD => 1,
            Method::POST => 2,
            Method::PUT => 3,
            Method::PATCH => 4,
            Method::DELETE => 5,
            Method::OPTIONS => 6,
            Method::CONNECT => 7,
            Method::TRACE => 8,
            _ => 9,
        })
    }

    fn as_str(self) -> &'static str {
        METHODS.get(usize::from(self.0)).copied().unwrap_or("other")
    }
}

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// The route a request matched. The template is shared with the router (cloning it copies no
/// text), so recording a request allocates nothing once its series exists.
#[derive(Clone, Debug)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl Route {
    /// The same template at the same address (see [`Series`]).
    fn is(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => std::ptr::eq(a.as_str(), b.as_str()),
            (None, None) => true,
            _ => false,
        }
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    port: Port,
    method: MethodLabel,
    route: Route,
    status: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    port: Port,
    method: MethodLabel,
    route: Route,
}

// The first request of a kind on a thread looks its two series up by these keys (the next ones
// find them in that thread's `Series`): hashing the small fields as one number and the route's
// text once costs half of hashing them field by field (the derived `Hash`). Consistent with `Eq`,
// which compares the same fields.
impl std::hash::Hash for RequestLabels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u32(small_fields(self.port, self.method) | u32::from(self.status) << 16);
        state.write(self.route.as_str().as_bytes());
    }
}

impl std::hash::Hash for LatencyLabels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u32(small_fields(self.port, self.method));
        state.write(self.route.as_str().as_bytes());
    }
}

fn small_fields(port: Port, method: MethodLabel) -> u32 {
    u32::from(port as u8) | u32::from(method.0) << 8
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DatabaseErrorLabels {
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The server's metrics: what the request layer records, and the registry a scrape encodes.
///
/// Further metrics join through [`Metrics::registry_mut`] while the state is being built, before
/// it is shared: counters of their own (`Counter`, `Family`) recorded where they happen, or a
/// [`Collector`] that reads numbers kept elsewhere when Prometheus scrapes. Names get the
/// `sesame_` prefix.
pub struct Metrics {
    id: u64,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    database_errors: Family<DatabaseErrorLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of a server over `store`, `hasher` and `throttle`, with whoami's cache when it
    /// is on.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Hasher,
        throttle: Throttle,
        cache: Option<Arc<WhoamiCache>>,
    ) -> Self {
        let mut metrics = Self::requests_only();
        metrics.registry.register_collector(Box::new(Gauges {
            store,
            hasher,
            throttle,
            cache,
        }));
        metrics
    }

    /// The metrics recorded as requests happen, without the ones read at scrape time.
    fn requests_only() -> Self {
        let mut registry = Registry::with_prefix("sesame");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by port, method, route template and status",
            requests.clone(),
        );
        let latency: Family<LatencyLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer's headers, by port, method and route template",
            latency.clone(),
        );
        let database_errors = Family::<DatabaseErrorLabels, Counter>::default();
        for kind in DATABASE_ERROR_KINDS {
            drop(database_errors.get_or_create(&DatabaseErrorLabels { kind }));
        }
        registry.register(
            "database_errors",
            "Requests answered with a server error because of a database error, by kind",
            database_errors.clone(),
        );
        Self {
            id: NEXT_METRICS_ID.fetch_add(1, Ordering::Relaxed),
            registry,
            requests,
            latency,
            database_errors,
        }
    }

    /// The registry, to register further metrics before the state is shared (see [`Metrics`]).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Everything, in the format a scraper asked for (see [`Format::for_accept`]).
    pub fn encode(&self, format: Format) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        match format {
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?
            }
            Format::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut text, &self.registry)?
            }
        }
        Ok(text)
    }

    fn record(&self, port: Port, method: MethodLabel, route: Route, res: &Response, took: f64) {
        let status = res.status().as_u16();
        let memoised = SERIES
            .try_with(|memo| {
                let memo = memo.borrow();
                let series = memo.iter().find(|s| {
                    s.metrics == self.id
                        && s.port == port
                        && s.method == method
                        && s.status == status
                        && s.route.is(&route)
                })?;
                series.requests.inc();
                series.latency.observe(took);
                Some(())
            })
            .ok()
            .flatten();
        if memoised.is_none() {
            let latency = self.latency.get_or_create_owned(&LatencyLabels {
                port,
                method,
                route: route.clone(),
            });
            let requests = self.requests.get_or_create_owned(&RequestLabels {
                port,
                method,
                route: route.clone(),
                status,
            });
            requests.inc();
            latency.observe(took);
            let _ = SERIES.try_with(|memo| {
                let mut memo = memo.borrow_mut();
                if memo.len() >= MEMOISED_SERIES {
                    memo.clear();
                }
                memo.push(Series {
                    metrics: self.id,
                    port,
                    method,
                    status,
                    route,
                    requests,
                    latency,
                });
            });
        }
        if let Some(DatabaseFailure(kind)) = res.extensions().get::<DatabaseFailure>() {
            self.database_errors
                .get_or_create(&DatabaseErrorLabels { kind })
                .inc();
        }
    }
}

/// The series of one kind of request (port, method, route, status) of one [`Metrics`], kept by
/// each thread that answered such a request. Finding them in the families hashes their labels,
/// a few hundred instructions on every request; a worker thread sees few kinds of request, so
/// its short list, compared by identity (the route's template by address: the entry holds the
/// template, so the address cannot be reused meanwhile), is cheaper. A miss looks the series up
/// in the families, which stay the one source of truth.
struct Series {
    metrics: u64,
    port: Port,
    method: MethodLabel,
    status: u16,
    route: Route,
    requests: Counter,
    latency: Histogram,
}

/// At most this many series per thread; a full list starts over. Real traffic has fewer kinds of
/// request per port (routes × methods × statuses that occur), so this only bounds a thread that
/// served many servers (tests) or unusual traffic.
const MEMOISED_SERIES: usize = 64;

thread_local! {
    static SERIES: std::cell::RefCell<Vec<Series>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Tells [`Metrics`] apart in the per-thread lists: never reused, unlike an address.
static NEXT_METRICS_ID: AtomicU64 = AtomicU64::new(1);

/// The text format of a scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`): what Kratos serves, and what
    /// every scraper reads.
    Prometheus,
    /// OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0`): what Prometheus asks for
    /// first when it scrapes.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when the `Accept` header ranks it at least as high as plain text, else the
    /// Prometheus text format (also without an `Accept`, as from `curl`).
    pub fn for_accept(accept: Option<&HeaderValue>) -> Self {
        let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
            return Format::Prometheus;
        };
        let (mut openmetrics, mut text) = (0.0_f32, 0.0_f32);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Counts and times every request of a port: the state of the request layer
/// ([`crate::access_log::log_request`]), which sees the final status of everything a router answers.
#[derive(Clone, Debug)]
pub struct Observer {
    metrics: Arc<Metrics>,
    port: Port,
}

impl Observer {
    /// The layer's state for `port`.
    pub fn new(metrics: Arc<Metrics>, port: Port) -> Self {
        Self { metrics, port }
    }

    /// Records an answered request: its method, the route it matched, and how long it took.
    pub fn record(
        &self,
        method: MethodLabel,
        route: Option<MatchedPath>,
        res: &Response,
        took: Duration,
    ) {
        self.metrics
            .record(self.port, method, Route(route), res, took.as_secs_f64());
    }
}

/// The numbers read at scrape time from the parts that keep them.
struct Gauges {
    store: Arc<dyn Store>,
    hasher: Hasher,
    throttle: Throttle,
    cache: Option<Arc<WhoamiCache>>,
}

impl std::fmt::Debug for Gauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauges")
            .field("backend", &self.store.backend())
            .field("cache", &self.cache.is_some())
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    backend: &'static str,
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    encoder
        .encode_descriptor(name, help, None, MetricType::Gauge)?
        .encode_gauge(&value)
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> std::fmt::Result {
    encoder
        .encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

fn per_pool(
    encoder: &mut DescriptorEncoder,
    pools: &[PoolStatus],
    name: &str,
    help: &str,
    value: fn(&PoolStatus) -> u32,
) -> std::fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for pool in pools {
        metric
            .encode_family(&PoolLabels { pool: pool.pool })?
            .encode_gauge(&value(pool))?;
    }
    Ok(())
}

impl Collector for Gauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let e = &mut encoder;
        e.encode_descriptor(
            "build",
            "Sesame's version and database backend; the value is always 1.",
            None,
            MetricType::Info,
        )?
        .encode_info(&BuildLabels {
            version: env!("CARGO_PKG_VERSION"),
            backend: self.store.backend(),
        })?;

        let pools = self.store.pool_status();
        per_pool(
            e,
            &pools,
            "database_pool_connections",
            "Open database connections, by pool (main; whoami: the read-only connections of a SQLite file).",
            |p| p.size,
        )?;
        per_pool(
            e,
            &pools,
            "database_pool_idle_connections",
            "Open database connections not in use, by pool.",
            |p| p.idle,
        )?;
        per_pool(
            e,
            &pools,
            "database_pool_max_connections",
            "The most connections each pool opens.",
            |p| p.max,
        )?;

        let queue = self.hasher.queue();
        gauge(
            e,
            "password_hash_jobs_waiting",
            "Password hashes and verifications waiting for a hashing thread.",
            queue.waiting,
        )?;
        gauge(
            e,
            "password_hash_jobs_running",
            "Password hashes and verifications being computed.",
            queue.running,
        )?;
        gauge(
            e,
            "password_hash_threads",
            "Threads that hash passwords (one per core).",
            queue.threads,
        )?;

        let limiter = self.throttle.stats();
        counter(
            e,
            "throttle_waits",
            "Attempts at a password or code refused with 429 because their account or address must wait.",
            limiter.waits,
        )?;
        counter(
            e,
            "throttle_locked_refusals",
            "Attempts refused with 403 because the account is locked.",
            limiter.locked,
        )?;
        counter(
            e,
            "throttle_locks",
            "Failed attempts that locked an account (or an identifier nobody owns).",
            limiter.locks,
        )?;

        if let Some(cache) = &self.cache {
            let stats = cache.stats();
            counter(
                e,
                "whoami_cache_hits",
                "whoami lookups answered from the cache.",
                stats.hits,
            )?;
            counter(
                e,
                "whoami_cache_misses",
                "whoami lookups the cache could not answer, which read the database.",
                stats.misses,
            )?;
            counter(
                e,
                "whoami_cache_invalidations",
                "Invalidations applied to the whoami cache (this node's writes, other nodes' and suspensions).",
                stats.invalidations,
            )?;
            gauge(
                e,
                "whoami_cache_entries",
                "Answers in the whoami cache.",
                stats.entries,
            )?;
            gauge(
                e,
                "whoami_cache_serving",
                "1 while the whoami cache answers, 0 while it is suspended (a node that cannot hear the others).",
                u64::from(stats.serving),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> Format {
        Format::for_accept(Some(&HeaderValue::from_static(value)))
    }

    #[test]
    fn prometheus_gets_openmetrics_and_everyone_else_the_classic_text() {
        // Prometheus 2.x and 3.x ask like this.
        assert_eq!(
            accept(
                "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
            ),
            Format::OpenMetrics
        );
        assert_eq!(
            accept("application/openmetrics-text; version=1.0.0"),
            Format::OpenMetrics
        );
        assert_eq!(Format::for_accept(None), Format::Prometheus);
        assert_eq!(accept("*/*"), Format::Prometheus);
        assert_eq!(accept("text/plain;version=0.0.4"), Format::Prometheus);
        assert_eq!(
            accept("text/plain, application/openmetrics-text;q=0.5"),
            Format::Prometheus
        );
        assert_eq!(
            accept("application/openmetrics-text;q=0, */*"),
            Format::Prometheus
        );
        assert_eq!(accept("garbage;;;q=x,,"), Format::Prometheus);
    }

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        for method in [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
        ] {
            let label = MethodLabel::of(&Method::from_bytes(method.as_bytes()).unwrap());
            assert_eq!(label.as_str(), method);
        }
        for invented in ["FOO", "PROPFIND", "get"] {
            let method = Method::from_bytes(invented.as_bytes()).unwrap();
            assert_eq!(MethodLabel::of(&method).as_str(), "other", "{invented}");
        }
    }

    /// `sesame_http_requests_total` of unmatched GETs with `status`, from the text format.
    fn unmatched(metrics: &Metrics, status: u16) -> Option<String> {
        let text = metrics.encode(Format::Prometheus).unwrap();
        let series = format!(
            "sesame_http_requests_total{{port=\"public\",method=\"GET\",route=\"(unmatched)\",status=\"{status}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .map(str::to_owned)
    }

    fn answered(status: u16) -> Response {
        let mut res = Response::default();
        *res.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
        res
    }

    #[test]
    fn each_server_and_each_status_count_apart_on_one_thread() {
        let (a, b) = (
            Arc::new(Metrics::requests_only()),
            Arc::new(Metrics::requests_only()),
        );
        let (on_a, on_b) = (
            Observer::new(a.clone(), Port::Public),
            Observer::new(b.clone(), Port::Public),
        );
        let get = MethodLabel::of(&Method::GET);
        let took = Duration::from_micros(300);
        for _ in 0..3 {
            on_a.record(get, None, &answered(404), took);
        }
        on_a.record(get, None, &answered(200), took);
        on_b.record(get, None, &answered(404), took);
        assert_eq!(unmatched(&a, 404).as_deref(), Some("3"));
        assert_eq!(unmatched(&a, 200).as_deref(), Some("1"));
        assert_eq!(unmatched(&b, 404).as_deref(), Some("1"));
        assert_eq!(unmatched(&b, 200), None);
        // A new server on the same thread, after the first is gone, starts from nothing.
        drop((on_a, a));
        let c = Arc::new(Metrics::requests_only());
        Observer::new(c.clone(), Port::Public).record(get, None, &answered(404), took);
        assert_eq!(unmatched(&c, 404).as_deref(), Some("1"));
    }

    #[test]
    fn every_database_error_kind_starts_at_zero() {
        let all = [
            StoreError::Conflict,
            StoreError::NotFound,
            StoreError::Open(String::new()),
            StoreError::Backend(String::new()),
            StoreError::Unavailable(String::new()),
        ];
        for e in &all {
            assert!(
                DATABASE_ERROR_KINDS.contains(&database_error_kind(e)),
                "{e:?}"
            );
        }
        assert_eq!(all.len(), DATABASE_ERROR_KINDS.len());
    }
}
