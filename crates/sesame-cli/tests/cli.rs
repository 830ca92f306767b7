//! The `sesame` binary as a user runs it: help, version, one-line configuration and database
//! errors, migrate, `whoami`, and a clean exit on SIGTERM; what `serve` logs and where it listens,
//! cleanup, identity import, export and unlock, the order of starting it and its database, and
//! the configuration of every command that opens the database in the modules below.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cli/cleanup.rs"]
mod cleanup;
#[path = "cli/config.rs"]
mod config;
#[path = "cli/identities.rs"]
mod identities;
#[path = "cli/memory.rs"]
mod memory;
#[path = "cli/serve.rs"]
mod serve;
#[path = "cli/start_order.rs"]
mod start_order;
#[path = "cli/support.rs"]
mod support;
#[path = "cli/unlock.rs"]
mod unlock;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sesame() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sesame"));
    for var in [
        "DSN",
        "DEV",
        "SERVE_PUBLIC_HOST",
        "SERVE_PUBLIC_PORT",
        "SERVE_ADMIN_PORT",
        "SECRETS_COOKIE",
        "SECRETS_DEFAULT",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "RUST_LOG",
        "SESAME_SESSION_TOKEN",
    ] {
        c.env_remove(var);
    }
    c
}

#[test]
fn version_and_help_explain_themselves() {
    let out = sesame().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("sesame {}", env!("CARGO_PKG_VERSION"))
    );
    let out = sesame().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "migrate", "cleanup", "identities", "Kratos"] {
        assert!(help.contains(word), "help lacks {word}: {help}");
    }
    let out = sesame().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("--config") && help.contains("--dev"),
        "{help}"
    );
}

#[test]
fn a_bad_config_value_stops_start_up_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = sesame()
        .current_dir(dir.path())
        .args(["serve", "--dev"])
        .env("DSN", "mysql://x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("`dsn`") && err.contains("mysql"), "{err}");
    let file = dir.path().join("kratos.yml");
    std::fs::write(&file, "session:\n  lifespan: 1 day\n").unwrap();
    let out = sesame()
        .args(["migrate", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("`session.lifespan`")
    );
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite");
    let out = sesame()
        .arg("migrate")
        .env("DSN", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
    let again = sesame()
        .arg("migrate")
        .env("DSN", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(again.status.success(), "migrations are idempotent");
}

#[test]
fn serve_runs_with_no_config_file_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = sesame()
        .current_dir(dir.path())
        .args(["serve", "--dev"])
        .env("SERVE_PUBLIC_PORT", "0")
        .env("SERVE_ADMIN_PORT", "0")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("sesame is listening"))
        .expect("the server logs where it listens");
    let line: serde_json::Value = serde_json::from_str(&listening).unwrap();
    assert_eq!(line["fields"]["backend"], "sqlite");
    assert!(
        dir.path().join("sesame.sqlite").exists(),
        "the embedded default is ./sesame.sqlite"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "sesame did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `sesame whoami` off the async runtime (the server under test runs on it).
async fn whoami(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || sesame().arg("whoami").args(args).output().unwrap())
        .await
        .unwrap()
}

sesame_testkit::api_test!(
    whoami_prints_the_session_or_the_error_id,
    |backend| async move {
        let app = sesame_testkit::TestApp::spawn(backend).await;
        let (token, identity_id) = app.signed_up_user("cli@example.com").await;

        let out = whoami(vec![
            "--endpoint".into(),
            app.public_url.clone(),
            "--token".into(),
            token.clone(),
        ])
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let session: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(session["identity"]["id"], identity_id.as_str());
        assert_eq!(session["identity"]["traits"]["email"], "cli@example.com");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(&token),
            "the token is never printed"
        );

        let out = whoami(vec![
            "--endpoint".into(),
            app.public_url.clone(),
            "--token".into(),
            "ory_st_unknown".into(),
        ])
        .await;
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim(), "sesame: session_inactive (401 Unauthorized)");

        let out = whoami(vec![
            "--endpoint".into(),
            app.public_url.clone(),
            "--cookie".into(),
            "ory_kratos_session=forged".into(),
        ])
        .await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "an unreadable cookie is no session"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_says_what_to_do_when_it_cannot_ask() {
    let app = sesame_testkit::TestApp::spawn(sesame_testkit::Backend::Sqlite).await;
    let stderr = |out: std::process::Output| {
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap().trim().to_owned()
    };
    let token = || vec!["--token".to_owned(), "ory_st_x".to_owned()];
    let at = |endpoint: &str| {
        let mut args = vec!["--endpoint".to_owned(), endpoint.to_owned()];
        args.extend(token());
        args
    };

    let err = stderr(whoami(vec!["--endpoint".into(), app.public_url.clone()]).await);
    assert_eq!(
        err,
        "sesame: no session to ask about: pass --token TOKEN (or set SESAME_SESSION_TOKEN) or \
         --cookie 'COOKIE HEADER'"
    );

    let admin = app.admin_url.trim_end_matches('/');
    let public = app.public_url.trim_end_matches('/');
    let err = stderr(whoami(at(admin)).await);
    assert_eq!(
        err,
        format!(
            "sesame: {admin} is not a public API: it redirects whoami to \
             {public}/sessions/whoami, as Sesame's admin port does; use --endpoint {public}"
        )
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = stderr(whoami(at(&nobody)).await);
    assert!(
        err.starts_with(&format!("sesame: cannot reach {nobody}: "))
            && err.contains("refused")
            && err.ends_with("is `sesame serve` running, and is this its public URL (--endpoint)?"),
        "{err}"
    );

    let err = stderr(whoami(at("127.0.0.1:4433")).await);
    assert_eq!(
        err,
        "sesame: --endpoint \"127.0.0.1:4433\" is not a URL: give the public API's, e.g. \
         http://127.0.0.1:4433"
    );
}

#[test]
fn a_database_that_cannot_be_opened_is_named_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir/sesame.sqlite");
    let out = sesame()
        .arg("migrate")
        .env("DSN", format!("sqlite://{}", missing.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim(),
        format!(
            "sesame: cannot open the SQLite database {}: unable to open database file: does its \
             directory exist, and may this user write there?",
            missing.display()
        )
    );

    let out = sesame()
        .current_dir(dir.path())
        .arg("migrate")
        .env("DSN", "sqlite://no-such-dir/sesame.sqlite")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    let absolute = dir
        .path()
        .canonicalize()
        .unwrap()
        .join("no-such-dir/sesame.sqlite");
    assert!(
        err.starts_with(&format!(
            "sesame: cannot open the SQLite database no-such-dir/sesame.sqlite ({}): ",
            absolute.display()
        )),
        "a relative path is shown resolved: {err}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let started = Instant::now();
    let out = sesame()
        .arg("migrate")
        .env(
            "DSN",
            format!("postgres://app:s3cret-pw@127.0.0.1:{port}/accounts"),
        )
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "sesame: cannot connect to PostgreSQL at 127.0.0.1:{port} (database \"accounts\", user \"app\"): "
        )) && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a refused connection fails at once, not after the pool's timeout"
    );
}

sesame_testkit::needs_postgres! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_errors_name_the_schema_problem_and_notices_stay_out_of_the_log() {
        let app = sesame_testkit::TestApp::spawn(sesame_testkit::Backend::postgres()).await;
        // The schema exists and is migrated: migrating again logs nothing but its one line.
        let out = support::run(["migrate"])
            .dsn(app.dsn())
            .env("LOG_LEVEL", "info")
            .output()
            .await
            .success();
        let err = out.stderr();
        assert!(!err.contains("already exists"), "{err}");
        assert!(err.contains("migrations applied to "), "{err}");

        let url = sesame_testkit::testenv::postgres_url();
        let sep = if url.contains('?') { '&' } else { '?' };
        let out = support::run(["migrate"])
            .dsn(format!("{url}{sep}options=-c%20search_path%3Dno_such_schema_here"))
            .output()
            .await;
        assert_eq!(out.code(), Some(1));
        assert!(
            out.stderr().contains(
                "no schema of the search_path (no_such_schema_here) exists: create it first"
            ),
            "{}",
            out.stderr()
        );
    }
}
