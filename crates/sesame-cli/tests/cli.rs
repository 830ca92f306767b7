//! The `sesame` binary as a user runs it: help, version, one-line configuration errors, migrate,
//! and a clean exit on SIGTERM; cleanup, identity import and export, and the configuration of
//! every command that opens the database in the modules below.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cli/cleanup.rs"]
mod cleanup;
#[path = "cli/config.rs"]
mod config;
#[path = "cli/identities.rs"]
mod identities;
#[path = "cli/support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sesame() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sesame"));
    for var in [
        "DSN",
        "SERVE_PUBLIC_PORT",
        "SERVE_ADMIN_PORT",
        "LOG_LEVEL",
        "LOG_FORMAT",
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

        let out = whoami(vec!["--endpoint".into(), app.public_url.clone()]).await;
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
