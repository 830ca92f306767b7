//! Running `sesame` against a test server's database, off the async runtime the server runs on.

use super::sesame;
use std::io::Write;
use std::process::{Output, Stdio};

/// A `sesame` invocation: arguments, environment and standard input.
#[derive(Default, Clone)]
pub struct Run {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

/// `sesame ARGS…`.
pub fn run<I: IntoIterator<Item = S>, S: Into<String>>(args: I) -> Run {
    Run {
        args: args.into_iter().map(Into::into).collect(),
        ..Run::default()
    }
}

impl Run {
    /// Adds an environment variable.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// Points the command at a database.
    pub fn dsn(self, dsn: impl Into<String>) -> Self {
        self.env("DSN", dsn)
    }

    /// Feeds standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs the command to its end on a blocking thread.
    pub async fn output(self) -> Finished {
        tokio::task::spawn_blocking(move || self.output_blocking())
            .await
            .unwrap()
    }

    /// Runs the command to its end.
    pub fn output_blocking(self) -> Finished {
        let mut command = sesame();
        command
            .args(&self.args)
            .env("LOG_LEVEL", "warn")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        if let Some(bytes) = self.stdin {
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        Finished(child.wait_with_output().unwrap())
    }
}

/// A finished command.
pub struct Finished(pub Output);

impl Finished {
    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8(self.0.stdout.clone()).unwrap()
    }

    /// Standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8(self.0.stderr.clone()).unwrap()
    }

    /// The exit code.
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    /// Asserts a zero exit and returns itself.
    pub fn success(self) -> Self {
        assert_eq!(
            self.code(),
            Some(0),
            "stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A bcrypt hash of `password` at the cheapest cost, as an import file would carry.
pub fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// An admin create body for `email` with an imported password hash.
pub fn create_body(email: &str, hash: &str) -> serde_json::Value {
    serde_json::json!({
        "schema_id": "default",
        "traits": {"email": email},
        "credentials": {"password": {"config": {"hashed_password": hash}}},
        "metadata_public": {"plan": "imported"},
    })
}

/// JSON lines of `bodies`.
pub fn json_lines(bodies: &[serde_json::Value]) -> String {
    bodies.iter().map(|b| format!("{b}\n")).collect()
}
