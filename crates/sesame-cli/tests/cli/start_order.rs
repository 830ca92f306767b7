//! `sesame serve` started before its database, as an orchestrator may start them: it waits,
//! saying so once per attempt with pauses that grow, and serves as soon as the database is up.
//! A database that waiting cannot fix (here: one that does not exist) stops it at once.

use super::serve::Served;
use sesame_testkit::PrivatePostgres;
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

sesame_testkit::needs_postgres! {
    #[test]
    fn serve_waits_for_a_database_that_is_not_up_yet_and_then_serves() {
        let rt = runtime();
        let pg = rt.block_on(PrivatePostgres::init());
        let dir = tempfile::tempdir().unwrap();
        let mut served = Served::spawn(dir.path(), &["--dev"], &[("DSN", &pg.url())]);
        let waiting = |pause: u64| {
            move |m: &str| m.ends_with(&format!("; retrying in {pause} s"))
        };
        let first = served.wait_for_line(Duration::from_secs(20), waiting(1));
        assert_eq!(first["level"], "WARN");
        let message = first["fields"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!(
                "cannot connect to PostgreSQL at 127.0.0.1:{} (database \"postgres\", user \
                 \"postgres\"): ",
                pg.port()
            )) && message.contains("refused"),
            "{message}"
        );
        // The pauses grow.
        served.wait_for_line(Duration::from_secs(20), waiting(2));
        assert!(served.running(), "it waits instead of exiting");

        rt.block_on(pg.resume());
        let up = Instant::now();
        served.wait_until_listening(Duration::from_secs(60));
        eprintln!("listening {:?} after the database came up", up.elapsed());
        let ready = rt.block_on(async {
            sesame_testkit::reqwest::get(format!("{}health/ready", served.public_url))
                .await
                .unwrap()
                .status()
        });
        assert_eq!(ready, sesame_testkit::reqwest::StatusCode::OK);
    }

    #[test]
    fn serve_stops_at_once_when_the_database_does_not_exist() {
        let rt = runtime();
        let pg = rt.block_on(PrivatePostgres::start());
        let dir = tempfile::tempdir().unwrap();
        let dsn = pg.url().replace("/postgres", "/no_such_database");
        let mut served = Served::spawn(dir.path(), &[], &[("DSN", &dsn)]);
        assert_eq!(served.wait_for_exit(Duration::from_secs(20)), Some(1));
        let lines = served.lines();
        let last = lines.last().and_then(|l| l.as_str()).unwrap_or_default();
        assert!(
            last.starts_with("sesame: cannot connect to PostgreSQL at 127.0.0.1:")
                && last.contains("\"no_such_database\" does not exist"),
            "{lines:#?}"
        );
        assert!(
            !lines.iter().any(|l| l.to_string().contains("retrying")),
            "{lines:#?}"
        );
    }
}

#[test]
fn serve_waiting_for_its_database_stops_cleanly_on_sigterm() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("postgres://app:s3cret-pw@127.0.0.1:{port}/accounts");
    let mut served = Served::spawn(dir.path(), &[], &[("DSN", &dsn)]);
    let line = served.wait_for_line(Duration::from_secs(20), |m| m.contains("retrying in"));
    eprintln!("{line}");
    assert!(!line.to_string().contains("s3cret-pw"), "{line}");
    let stopped = Instant::now();
    assert_eq!(served.terminate_and_wait(), Some(0));
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "it stops without waiting"
    );
}
