//! Prometheus metrics on the admin port: requests by port, method, route template and status with
//! their latency, database errors by kind, whoami's cache, the hashing queue and the connection
//! pools; Kratos's path and the admin prefix; nothing on the public port; no label a client can
//! invent.

use sesame_testkit::reqwest::{Method, StatusCode, header};
use sesame_testkit::{Backend, TestApp, api_test};
use std::collections::BTreeMap;

const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// What Prometheus (2.x and 3.x) sends when it scrapes.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// One sample of the text format: its name, labels and value.
#[derive(Debug)]
pub(crate) struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the sample lines of the Prometheus text format (comments skipped); panics on a line
/// that is not `name{label="value",…} number`.
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
            };
            let (name, labels) = match series.split_once('{') {
                None => (series.to_owned(), BTreeMap::new()),
                Some((name, rest)) => {
                    let rest = rest.strip_suffix('}').expect("labels end with }");
                    (name.to_owned(), parse_labels(rest, line))
                }
            };
            Sample {
                name,
                labels,
                value,
            }
        })
        .collect()
}

fn parse_labels(mut rest: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("bad label in {line}"));
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => panic!("bad escape in {line}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {line}"),
            }
        };
        labels.insert(key.to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}

/// The metrics, scraped as `curl` would (no `Accept`).
pub(crate) async fn scrape(app: &TestApp) -> Vec<Sample> {
    let res = app
        .admin(Method::GET, "/admin/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], PROMETHEUS_TEXT);
    parse(&res.text().await.unwrap())
}

/// The value of the one sample named `name` whose labels include `labels`; `None` when there is
/// none, a panic when several match.
pub(crate) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
    found.first().map(|s| s.value)
}

fn requests(samples: &[Sample], port: &str, method: &str, route: &str, status: &str) -> f64 {
    value(
        samples,
        "sesame_http_requests_total",
        &[
            ("port", port),
            ("method", method),
            ("route", route),
            ("status", status),
        ],
    )
    .unwrap_or(0.0)
}

api_test!(
    requests_are_counted_and_timed_by_port_method_route_template_and_status,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, id) = app.signed_up_user("metrics@example.com").await;
        for _ in 0..3 {
            assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
        }
        assert_eq!(
            app.whoami("ory_st_wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
        app.login("metrics@example.com", "a-very-good-passphrase-42")
            .await;
        let found = app
            .admin(Method::GET, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(found.status(), StatusCode::OK);
        let missing = uuid::Uuid::new_v4();
        let gone = app
            .admin(Method::GET, &format!("/admin/identities/{missing}"))
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
        let unknown = app
            .public(Method::GET, "/no/such/route")
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

        let m = scrape(&app).await;
        let whoami = "/sessions/whoami";
        assert_eq!(requests(&m, "public", "GET", whoami, "200"), 3.0);
        assert_eq!(requests(&m, "public", "GET", whoami, "401"), 1.0);
        assert_eq!(
            requests(&m, "public", "GET", "/self-service/login/api", "200"),
            1.0
        );
        assert_eq!(
            requests(&m, "public", "POST", "/self-service/login", "200"),
            1.0
        );
        assert_eq!(
            requests(&m, "public", "POST", "/self-service/registration", "200"),
            1.0
        );
        assert_eq!(
            requests(&m, "admin", "GET", "/admin/identities/{id}", "200"),
            1.0
        );
        assert_eq!(
            requests(&m, "admin", "GET", "/admin/identities/{id}", "404"),
            1.0
        );
        assert_eq!(requests(&m, "public", "GET", "(unmatched)", "404"), 1.0);
        assert_eq!(
            requests(&m, "public", "GET", "/no/such/route", "404"),
            0.0,
            "never the raw path"
        );
        // A scrape is counted once it is answered: in the next one.
        assert_eq!(requests(&m, "admin", "GET", "/admin/metrics", "200"), 0.0);

        let latency = [("port", "public"), ("method", "GET"), ("route", whoami)];
        let count = value(&m, "sesame_http_request_duration_seconds_count", &latency);
        assert_eq!(count, Some(4.0), "one histogram for every status");
        let sum = value(&m, "sesame_http_request_duration_seconds_sum", &latency).unwrap();
        assert!(sum > 0.0 && sum < 10.0, "{sum}");
        let bucket = |le: &str| {
            let mut labels = latency.to_vec();
            labels.push(("le", le));
            value(&m, "sesame_http_request_duration_seconds_bucket", &labels).unwrap()
        };
        assert_eq!(bucket("+Inf"), 4.0);
        assert!(bucket("0.0005") <= bucket("0.01") && bucket("0.01") <= bucket("10"));
        assert_eq!(bucket("10"), 4.0, "no whoami takes ten seconds");

        // Every series names a known port and method, and no label carries the ids of the paths.
        for s in m.iter().filter(|s| s.name.starts_with("sesame_http_")) {
            assert!(
                ["public", "admin"].contains(&s.labels["port"].as_str()),
                "{s:?}"
            );
            for v in s.labels.values() {
                assert!(
                    !v.contains(&id) && !v.contains(&missing.to_string()),
                    "{s:?}"
                );
            }
        }

        let again = scrape(&app).await;
        assert_eq!(
            requests(&again, "admin", "GET", "/admin/metrics", "200"),
            1.0
        );
        assert_eq!(requests(&again, "public", "GET", whoami, "200"), 3.0);
    }
);

api_test!(
    the_metrics_are_served_on_the_admin_port_at_kratos_path_and_without_the_prefix,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        // A family shows once it has a series: a request first.
        let alive = app
            .public(Method::GET, "/health/alive")
            .send()
            .await
            .unwrap();
        assert_eq!(alive.status(), StatusCode::OK);
        for path in [
            "/admin/metrics",
            "/admin/metrics/prometheus",
            "/metrics",
            "/metrics/prometheus",
        ] {
            let res = app.admin(Method::GET, path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(
                res.headers()[header::CONTENT_TYPE],
                PROMETHEUS_TEXT,
                "{path}"
            );
            let text = res.text().await.unwrap();
            assert!(
                text.contains("# TYPE sesame_http_requests_total counter\n"),
                "{path}: {text}"
            );
        }
        // Counted under the routes they matched, the prefixed and unprefixed paths alike.
        let m = scrape(&app).await;
        assert_eq!(requests(&m, "admin", "GET", "/admin/metrics", "200"), 2.0);
        assert_eq!(
            requests(&m, "admin", "GET", "/admin/metrics/prometheus", "200"),
            2.0
        );

        // The public port serves no metrics: its own paths are unknown, and `/admin/…` is sent
        // to the admin port as every admin path is (Kratos's cross-port redirect).
        for path in ["/metrics", "/metrics/prometheus"] {
            let res = app.public(Method::GET, path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(res.text().await.unwrap(), "404 page not found\n");
        }
        let res = app
            .public(Method::GET, "/admin/metrics")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        let location = res.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with(&app.admin_url), "{location}");
        assert!(res.text().await.unwrap().is_empty());
    }
);

api_test!(
    prometheus_gets_openmetrics_when_it_asks_for_it,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let alive = app
            .public(Method::GET, "/health/alive")
            .send()
            .await
            .unwrap();
        assert_eq!(alive.status(), StatusCode::OK);
        let res = app
            .admin(Method::GET, "/admin/metrics/prometheus")
            .header(header::ACCEPT, PROMETHEUS_ACCEPT)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let text = res.text().await.unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.contains("# TYPE sesame_http_requests counter\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE sesame_build info\n"), "{text}");
    }
);

api_test!(
    a_path_or_method_a_client_invents_never_becomes_a_label,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let random: String = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            (0..10_240)
                .map(|_| char::from(rng.gen_range(b'a'..=b'z')))
                .collect()
        };
        let path = format!("/{random}");
        let res = app.public(Method::GET, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.admin(Method::GET, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let invented = Method::from_bytes(b"BREW").unwrap();
        let res = app
            .public(invented, "/sessions/whoami")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());

        let res = app
            .admin(Method::GET, "/admin/metrics")
            .send()
            .await
            .unwrap();
        let text = res.text().await.unwrap();
        assert!(!text.contains(&random[..64]), "the path became a label");
        assert!(!text.contains("BREW"), "the method became a label");
        assert!(text.len() < 64 * 1024, "{} bytes", text.len());
        let m = parse(&text);
        assert_eq!(requests(&m, "public", "GET", "(unmatched)", "404"), 1.0);
        assert_eq!(requests(&m, "admin", "GET", "(unmatched)", "404"), 1.0);
        let other: f64 = m
            .iter()
            .filter(|s| s.name == "sesame_http_requests_total")
            .filter(|s| s.labels["method"] == "other")
            .map(|s| s.value)
            .sum();
        assert_eq!(other, 1.0);
    }
);

/// `sesame_whoami_cache_*` as `(hits, misses, invalidations, entries)`.
fn cache_numbers(m: &[Sample]) -> (f64, f64, f64, f64) {
    let get = |name: &str| value(m, name, &[]).unwrap_or_else(|| panic!("{name} is missing"));
    (
        get("sesame_whoami_cache_hits_total"),
        get("sesame_whoami_cache_misses_total"),
        get("sesame_whoami_cache_invalidations_total"),
        get("sesame_whoami_cache_entries"),
    )
}

api_test!(
    whoami_cache_hits_misses_and_invalidations_move_with_the_cache_on,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SESSION_WHOAMI_CACHE_ENABLED", "true")
            .spawn()
            .await;
        let (token, id) = app.signed_up_user("cached@example.com").await;
        let m = scrape(&app).await;
        let (hits, misses, invalidations, _) = cache_numbers(&m);
        assert_eq!(value(&m, "sesame_whoami_cache_serving", &[]), Some(1.0));

        for _ in 0..4 {
            assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
        }
        let m = scrape(&app).await;
        assert_eq!(
            cache_numbers(&m),
            (hits + 3.0, misses + 1.0, invalidations, 1.0),
            "the first lookup fills, the next three hit"
        );

        let res = app
            .admin(Method::DELETE, &format!("/admin/identities/{id}/sessions"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.whoami(&token).await.status(), StatusCode::UNAUTHORIZED);
        let (h, mi, inv, entries) = cache_numbers(&scrape(&app).await);
        assert_eq!((h, mi, entries), (hits + 3.0, misses + 2.0, 0.0));
        assert!(inv > invalidations, "{inv} after {invalidations}");
    }
);

api_test!(
    without_the_cache_there_are_no_cache_series,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, _) = app.signed_up_user("uncached@example.com").await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);
        let m = scrape(&app).await;
        assert!(
            !m.iter().any(|s| s.name.starts_with("sesame_whoami_cache_")),
            "{:?}",
            m.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
    }
);

api_test!(
    connection_pools_the_hashing_queue_and_the_build_are_reported,
    |backend: Backend| async move {
        let app = TestApp::spawn(backend.clone()).await;
        let m = scrape(&app).await;
        let pool = |name: &str, pool: &str| value(&m, name, &[("pool", pool)]);
        let size = pool("sesame_database_pool_connections", "main").expect("the main pool");
        let idle = pool("sesame_database_pool_idle_connections", "main").unwrap();
        let max = pool("sesame_database_pool_max_connections", "main").unwrap();
        assert!(
            size >= 1.0 && idle <= size && size <= max,
            "{size} {idle} {max}"
        );
        let (backend_name, readers) = match backend {
            Backend::Sqlite => ("sqlite", true),
            Backend::Postgres(_) => ("postgres", false),
        };
        assert_eq!(
            pool("sesame_database_pool_connections", "whoami").is_some(),
            readers,
            "whoami's read-only connections exist on a SQLite file only"
        );
        if readers {
            let size = pool("sesame_database_pool_connections", "whoami").unwrap();
            assert!(size >= 1.0);
            assert_eq!(
                pool("sesame_database_pool_max_connections", "whoami"),
                Some(size)
            );
        }

        assert!(value(&m, "sesame_password_hash_threads", &[]).unwrap() >= 1.0);
        // The hash made at start-up has answered, but its thread may count it done a moment later.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let m = scrape(&app).await;
            let jobs = |state: &str| {
                value(&m, &format!("sesame_password_hash_jobs_{state}"), &[]).unwrap()
            };
            if (jobs("waiting"), jobs("running")) == (0.0, 0.0) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the hashing queue stays busy"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

        let build = [
            ("version", env!("CARGO_PKG_VERSION")),
            ("backend", backend_name),
        ];
        assert_eq!(value(&m, "sesame_build_info", &build), Some(1.0));
    }
);

/// Renames the flows table behind the server's back, so that creating a flow fails in the database.
async fn break_flow_storage(app: &TestApp) {
    use sqlx::Connection;
    const SQL: &str = "ALTER TABLE selfservice_flows RENAME TO selfservice_flows_gone";
    match &app.backend {
        Backend::Sqlite => {
            let path = app.sqlite_file().unwrap();
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap();
            sqlx::query(SQL).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres(_) => {
            let mut conn = sqlx::PgConnection::connect(&app.dsn()).await.unwrap();
            sqlx::query(SQL).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

api_test!(
    database_errors_are_counted_by_kind_each_from_zero,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let m = scrape(&app).await;
        for kind in ["backend", "open", "conflict", "not_found"] {
            let errors = value(&m, "sesame_database_errors_total", &[("kind", kind)]);
            assert_eq!(errors, Some(0.0), "{kind}");
        }

        break_flow_storage(&app).await;
        // With a request id too: the error envelope is rendered again to carry it, and the mark
        // the metrics read must survive that.
        for request_id in [None, Some("trace-me-7")] {
            let mut req = app.public(Method::GET, "/self-service/login/api");
            if let Some(id) = request_id {
                req = req.header("X-Request-ID", id);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["request"].as_str(), request_id);
        }

        let m = scrape(&app).await;
        let errors = |kind| value(&m, "sesame_database_errors_total", &[("kind", kind)]);
        assert_eq!(errors("backend"), Some(2.0));
        assert_eq!((errors("open"), errors("conflict")), (Some(0.0), Some(0.0)));
        assert_eq!(
            requests(&m, "public", "GET", "/self-service/login/api", "500"),
            2.0
        );
    }
);
