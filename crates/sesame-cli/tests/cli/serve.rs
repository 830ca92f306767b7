//! `sesame serve` as an operator starts it: what it says at start-up, where it listens, the base
//! URLs it hands to browsers, and one log line per request that never carries a credential.

use super::sesame;
use serde_json::{Value, json};
use sesame_testkit::reqwest::{self, StatusCode, header};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `sesame serve` process logging JSON lines, stopped with SIGTERM when dropped.
pub struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
    /// The public base URL it announced.
    pub public_url: String,
    /// The address its public port is bound to.
    pub public_addr: String,
}

impl Served {
    /// Starts `sesame serve ARGS` in `dir` on free ports, on an in-memory database, and waits
    /// until it listens.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut served = Served::spawn(dir, args, env);
        served.wait_until_listening(Duration::from_secs(30));
        served
    }

    /// Starts `sesame serve ARGS` as [`Served::start`] does, without waiting.
    pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut command: Command = sesame();
        command
            .current_dir(dir)
            .arg("serve")
            .args(args)
            .env("DSN", "memory")
            .env("SERVE_PUBLIC_PORT", "0")
            .env("SERVE_ADMIN_PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "info")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                sink.lock().unwrap().push(value);
            }
        });
        Served {
            child,
            lines,
            public_url: String::new(),
            public_addr: String::new(),
        }
    }

    /// Waits for the first line whose message `matches`, failing when the server exits first or
    /// `patience` runs out.
    pub fn wait_for_line(&mut self, patience: Duration, matches: impl Fn(&str) -> bool) -> Value {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(line) = self
                .lines()
                .into_iter()
                .find(|l| l["fields"]["message"].as_str().is_some_and(&matches))
            {
                return line;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("sesame serve exited with {status}: {:#?}", self.lines());
            }
            assert!(
                Instant::now() < deadline,
                "not logged in time: {:#?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server says it listens, and notes its addresses.
    pub fn wait_until_listening(&mut self, patience: Duration) {
        let listening = self.wait_for_line(patience, |m| m == "sesame is listening");
        let field = |name: &str| listening["fields"][name].as_str().unwrap().to_owned();
        self.public_url = field("public");
        self.public_addr = field("public_addr");
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit on its own and returns its exit code.
    pub fn wait_for_exit(&mut self, patience: Duration) -> Option<i32> {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader thread drains what is left of the pipe.
                std::thread::sleep(Duration::from_millis(100));
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "still running: {:#?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line logged so far.
    pub fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    /// The messages of the lines logged at `level` so far.
    pub fn messages(&self, level: &str) -> Vec<String> {
        self.lines()
            .iter()
            .filter(|l| l["level"] == level)
            .map(|l| {
                l["fields"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    /// Sends SIGTERM and returns the exit code.
    pub fn terminate_and_wait(&mut self) -> Option<i32> {
        self.terminate();
        self.child
            .try_wait()
            .unwrap()
            .and_then(|status| status.code())
    }

    /// Stops the server and returns every line it logged, the last request's included.
    pub fn stop(mut self) -> Vec<Value> {
        self.terminate();
        self.lines()
    }

    fn terminate(&mut self) {
        if self.child.try_wait().unwrap().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader thread drains what is left of the pipe once the process has exited.
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// An HTTP client that shows redirects instead of following them.
fn without_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

const NO_SECRET: &str = "no secrets.cookie or secrets.default is set";

#[test]
fn serving_without_a_cookie_secret_warns_that_restarts_sign_browsers_out() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), &[], &[]);
    let warnings = served.messages("WARN");
    let warning = warnings
        .iter()
        .find(|w| w.starts_with(NO_SECRET))
        .unwrap_or_else(|| panic!("no warning among {warnings:#?}"));
    assert!(
        warning.contains("restart signs every browser out") && warning.contains("every node"),
        "{warning}"
    );
    drop(served);

    for (args, env) in [
        (
            &[][..],
            &[("SECRETS_COOKIE", "a-cookie-secret-of-some-length")][..],
        ),
        (
            &[][..],
            &[("SECRETS_DEFAULT", "a-default-secret-of-some-length")][..],
        ),
        (&["--dev"][..], &[][..]),
    ] {
        let served = Served::start(dir.path(), args, env);
        let warnings = served.messages("WARN");
        assert!(
            !warnings.iter().any(|w| w.starts_with(NO_SECRET)),
            "{args:?} {env:?}: {warnings:#?}"
        );
    }
}

#[test]
fn dev_listens_on_loopback_unless_a_public_host_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Served::start(dir.path(), &["--dev"], &[]);
    assert!(
        dev.public_addr.starts_with("127.0.0.1:"),
        "{}",
        dev.public_addr
    );
    drop(dev);
    let chosen = Served::start(dir.path(), &["--dev"], &[("SERVE_PUBLIC_HOST", "0.0.0.0")]);
    assert!(
        chosen.public_addr.starts_with("0.0.0.0:"),
        "{}",
        chosen.public_addr
    );
    drop(chosen);
    let production = Served::start(dir.path(), &[], &[]);
    assert!(
        production.public_addr.starts_with("0.0.0.0:"),
        "{}",
        production.public_addr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_config_derives_base_urls_from_the_port_it_listens_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sesame.yml");
    let config = config.to_str().unwrap();
    let served = Served::start(dir.path(), &["--dev", "-c", config], &[]);
    let port = served.public_addr.rsplit(':').next().unwrap().to_owned();
    assert_eq!(served.public_url, format!("http://127.0.0.1:{port}/"));

    // A browser is sent to this server's own pages, not to 4433.
    let client = without_redirects();
    let res = client
        .get(format!("{}self-service/login/browser", served.public_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(&format!("http://127.0.0.1:{port}/ui/login?flow=")),
        "{location}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_logged_once_at_info_without_its_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), &["--dev"], &[]);
    let base = served.public_url.clone();
    let client = without_redirects();
    let password = "correct-horse-battery-staple-9";
    let email = "logged@example.com";

    // Sign up (a password in the body), then use the token every way a client can.
    let flow: Value = client
        .get(format!("{base}self-service/registration/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let flow_id = flow["id"].as_str().unwrap();
    let done: Value = client
        .post(format!("{base}self-service/registration?flow={flow_id}"))
        .json(&json!({"method": "password", "traits": {"email": email}, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = done["session_token"].as_str().unwrap().to_owned();
    let requests = [
        client
            .get(format!("{base}sessions/whoami"))
            .header("X-Session-Token", &token)
            .header("X-Request-ID", "trace-me-42"),
        client
            .get(format!("{base}sessions/whoami"))
            .header("Authorization", format!("Bearer {token}")),
        client
            .get(format!("{base}sessions/whoami"))
            .header("Cookie", "ory_kratos_session=some-cookie-value-77"),
        client.get(format!(
            "{base}self-service/logout?token=ory_lo_in-the-query-55"
        )),
        client.get(format!("{base}no/such/route")),
    ];
    let mut statuses = vec![200, 200];
    for request in requests {
        statuses.push(request.send().await.unwrap().status().as_u16());
    }
    let lines = served.stop();

    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "sesame::access")
        .collect();
    assert_eq!(access.len(), 7, "one line per request: {access:#?}");
    for line in &access {
        assert_eq!(line["level"], "INFO");
        let f = &line["fields"];
        assert_eq!(f["message"], "request");
        assert!(f["method"].is_string() && f["route"].is_string(), "{line}");
        assert!(
            f["status"].is_u64() && f["latency_ms"].is_number(),
            "{line}"
        );
        assert!(!f["request_id"].as_str().unwrap().is_empty(), "{line}");
    }
    let seen: Vec<(String, String, u64)> = access
        .iter()
        .map(|l| {
            let f = &l["fields"];
            (
                f["method"].as_str().unwrap().to_owned(),
                f["route"].as_str().unwrap().to_owned(),
                f["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, u64)> = [
        ("GET", "/self-service/registration/api"),
        ("POST", "/self-service/registration"),
        ("GET", "/sessions/whoami"),
        ("GET", "/sessions/whoami"),
        ("GET", "/sessions/whoami"),
        ("GET", "/self-service/logout"),
        ("GET", "(unmatched)"),
    ]
    .iter()
    .zip(&statuses)
    .map(|((m, r), s)| ((*m).to_owned(), (*r).to_owned(), u64::from(*s)))
    .collect();
    assert_eq!(seen, want);
    assert_eq!(seen[2].2, 200, "the token works");
    assert_eq!(access[2]["fields"]["request_id"], "trace-me-42");
    let ids: std::collections::BTreeSet<&str> = access
        .iter()
        .map(|l| l["fields"]["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7, "each request has its own id");

    let log = lines
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [
        password,
        token.as_str(),
        "some-cookie-value-77",
        "ory_lo_in-the-query-55",
        email,
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}
