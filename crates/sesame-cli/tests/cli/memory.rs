//! What password hashing leaves resident: `sesame serve` measured from outside, as an operator's
//! monitoring sees it, after sign-ups and a storm of parallel sign-ins with the default argon2
//! parameters (19 MiB of work area per hash).

use super::serve::Served;
use serde_json::{Value, json};
use sesame_testkit::reqwest;

/// The resident set size of a process, in MiB (Linux: `/proc/<pid>/status`).
fn resident_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or_else(|| panic!("no VmRSS in {status}"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib / 1024
}

async fn submit(client: &reqwest::Client, base: &str, flow: &str, body: Value) -> u16 {
    let init: Value = client
        .get(format!("{base}self-service/{flow}/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = init["id"].as_str().unwrap();
    client
        .post(format!("{base}self-service/{flow}?flow={id}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn password(i: usize) -> String {
    format!("correct-horse-battery-staple-{i}")
}

/// The most a server may hold after 25 sign-ups and after 50 parallel sign-ins.
const LIMIT_MIB: u64 = 120;

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashing_passwords_leaves_the_server_small_after_sign_ups_and_a_storm_of_sign_ins() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let served = Served::start(dir.path(), &["--dev"], &[("DSN", &db)]);
    let (base, pid) = (served.public_url.clone(), served.pid());
    let client = reqwest::Client::new();
    let users = 25;
    for i in 0..users {
        let body = json!({
            "method": "password",
            "password": password(i),
            "traits": {"email": format!("user{i}@example.com")},
        });
        assert_eq!(submit(&client, &base, "registration", body).await, 200);
    }
    let after_sign_ups = resident_mib(pid);

    let mut storm = tokio::task::JoinSet::new();
    for n in 0..50 {
        let (client, base) = (client.clone(), base.clone());
        let i = n % users;
        storm.spawn(async move {
            let body = json!({
                "method": "password",
                "identifier": format!("user{i}@example.com"),
                "password": password(i),
            });
            submit(&client, &base, "login", body).await
        });
    }
    for signed_in in storm.join_all().await {
        assert_eq!(signed_in, 200);
    }
    let after_sign_ins = resident_mib(pid);
    assert!(
        after_sign_ups <= LIMIT_MIB && after_sign_ins <= LIMIT_MIB,
        "resident: {after_sign_ups} MiB after {users} sign-ups, {after_sign_ins} MiB after the sign-ins"
    );
}
