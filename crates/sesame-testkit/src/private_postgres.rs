//! A PostgreSQL server of a test's own, which the test may stop and start (outages, start-up
//! order): a cluster made by `initdb` in a temporary directory, listening on a free port of
//! 127.0.0.1 with `trust` authentication, removed when dropped.
//!
//! The server programs are found on `PATH` or in `/usr/lib/postgresql/<version>/bin` (Debian and
//! Ubuntu's place, the newest version first). PostgreSQL refuses to run as root, so when the
//! tests do, its programs run as the `postgres` user through `runuser`, which owns the directory.
//! Only a test that [`needs_postgres!`](crate::needs_postgres) uses this: where PostgreSQL is
//! installed to test against, its server programs are too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A PostgreSQL cluster of one test.
pub struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl PrivatePostgres {
    /// Makes a cluster on a free port, not started yet.
    pub async fn init() -> PrivatePostgres {
        tokio::task::spawn_blocking(Self::init_blocking)
            .await
            .expect("initdb ran")
    }

    /// Makes a cluster and starts it.
    pub async fn start() -> PrivatePostgres {
        let pg = Self::init().await;
        pg.resume().await;
        pg
    }

    fn init_blocking() -> PrivatePostgres {
        let bin = server_programs();
        let dir = std::env::temp_dir().join(format!(
            "sesame-private-pg-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let as_postgres_user = is_root();
        if as_postgres_user {
            checked(
                Command::new("chown").arg("postgres:").arg(&dir).output(),
                "chown postgres: (PostgreSQL refuses to run as root; it runs as `postgres`)",
            );
        }
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = free.local_addr().expect("its address").port();
        drop(free);
        let pg = PrivatePostgres {
            dir,
            bin,
            port,
            as_postgres_user,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn resume(&self) {
        let (data, log, options) = (
            self.data(),
            self.dir.join("server.log").display().to_string(),
            format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.dir.display()
            ),
        );
        self.run_async(
            "pg_ctl",
            vec![
                "-D".into(),
                data,
                "-l".into(),
                log,
                "-o".into(),
                options,
                "-w".into(),
                "start".into(),
            ],
        )
        .await;
    }

    /// Stops the server (`fast`: connections are ended, as when an operator stops it) and waits
    /// until it is gone.
    pub async fn stop(&self) {
        let data = self.data();
        self.run_async(
            "pg_ctl",
            vec![
                "-D".into(),
                data,
                "-m".into(),
                "fast".into(),
                "-w".into(),
                "stop".into(),
            ],
        )
        .await;
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    async fn run_async(&self, program: &'static str, args: Vec<String>) {
        let command = self.command(
            program,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let what = format!("{program} {}", args.join(" "));
        tokio::task::spawn_blocking(move || {
            let mut command = command;
            checked(command.output(), &what);
        })
        .await
        .expect("the command ran");
    }

    fn run(&self, program: &str, args: &[&str]) {
        checked(
            self.command(program, args).output(),
            &format!("{program} {}", args.join(" ")),
        );
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        command.args(args).current_dir(&self.dir);
        command
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn checked(output: std::io::Result<Output>, what: &str) {
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("{what} could not run: {e}"),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The directory holding `initdb` and `pg_ctl`.
fn server_programs() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
    if let Some(dir) = on_path {
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "this test runs a PostgreSQL server of its own: put initdb and pg_ctl on PATH \
             (e.g. /usr/lib/postgresql/<version>/bin) — {} has none",
            Path::new("/usr/lib/postgresql").display()
        )
    })
}
