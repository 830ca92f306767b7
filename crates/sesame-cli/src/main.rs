//! The `sesame` command: a thin shell over sesame-server. It parses arguments, loads the
//! configuration (one path for every command that opens the database), and runs the server, the
//! migrations, a cleanup, an identity import or export, or an unlock; every error is one clear
//! line on stderr.

mod cleanup;
mod identities;
mod progress;
mod records;
mod whoami;

use clap::{Args, Parser, Subcommand};
use sesame_core::duration::GoDuration;
use sesame_core::store::Store;
use sesame_server::state::{AppState, SystemClock};
use sesame_server::telemetry::{self, LogGuard};
use sesame_server::{Application, LoadedConfig, shutdown_signal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Sesame: an identity and session server that speaks Ory Kratos's HTTP API.
///
/// With no configuration file, `sesame serve --dev` stores everything in ./sesame.sqlite, uses the
/// shipped email + password identity schema, and listens on 127.0.0.1:4433 (public) and
/// 127.0.0.1:4434 (admin).
#[derive(Parser)]
#[command(name = "sesame", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the public (4433) and admin (4434) APIs; applies pending migrations first.
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Delete expired and inactive sessions, expired flows, old one-time code records and
    /// forgotten failed-attempt counts.
    ///
    /// Deletes in small batches, each its own short transaction: safe to run while the server
    /// serves the same database.
    Cleanup {
        #[command(flatten)]
        config: ConfigArgs,
        /// Keep what ended less than this long ago (Go syntax: 0, 30m, 24h, 1h30m).
        #[arg(long, value_name = "DURATION", default_value = "0", value_parser = GoDuration::parse)]
        keep_last: GoDuration,
        /// Rows deleted per statement; each batch is its own short transaction.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        batch_size: u32,
    },
    /// Import, export or unlock identities, straight to and from the database.
    #[command(subcommand)]
    Identities(IdentitiesCommand),
    /// Ask a Sesame (or Kratos) server who a session token or cookie belongs to, as apps do with
    /// `toSession`: prints the session as JSON, or exits 1 with the error id.
    Whoami {
        /// The session token (`ory_st_…`), sent as `X-Session-Token`.
        #[arg(long, env = "SESAME_SESSION_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// A whole `Cookie` header, as a browser would send it.
        #[arg(long)]
        cookie: Option<String>,
        /// The server's public URL.
        #[arg(long, default_value = "http://127.0.0.1:4433", value_name = "URL")]
        endpoint: String,
    },
}

#[derive(Subcommand)]
enum IdentitiesCommand {
    /// Import identities from a JSON array or JSON lines of admin create bodies.
    ///
    /// Each record is a `POST /admin/identities` body, with a hashed (bcrypt, argon2) or plaintext
    /// password. A bad record is reported with its line and skipped; the exit code is 1 if any was.
    Import {
        #[command(flatten)]
        config: ConfigArgs,
        /// The file to read, or `-` for standard input.
        #[arg(value_name = "FILE|-")]
        input: String,
        /// Records checked and stored per transaction.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        batch_size: u32,
    },
    /// Write every identity to standard output as JSON lines.
    ///
    /// Each line is the admin view of an identity, without credential secrets unless
    /// `--include-credentials`.
    Export {
        #[command(flatten)]
        config: ConfigArgs,
        /// Write admin create bodies with the password hashes instead, which
        /// `sesame identities import` reads back.
        #[arg(long)]
        include_credentials: bool,
    },
    /// Lift the lock of an identity after too many failed sign-in attempts, and forget its
    /// failed attempts (as `DELETE /admin/identities/{id}/lock` does).
    Unlock {
        #[command(flatten)]
        config: ConfigArgs,
        /// The identity's id.
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Args)]
struct ConfigArgs {
    /// Configuration file in Kratos's format (kratos.yml). Environment variables with Kratos's
    /// names (DSN, SERVE_PUBLIC_PORT, SESSION_LIFESPAN, …) override it.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Development mode: plain-HTTP base URLs, non-Secure cookies, and the public port on
    /// 127.0.0.1 unless serve.public.host says otherwise. Never in production. Give it to the other
    /// commands too when the server runs with it, so that they see the same URLs.
    #[arg(long)]
    dev: bool,
}

fn load(args: &ConfigArgs) -> Result<LoadedConfig, String> {
    sesame_server::load(args.file.as_deref(), args.dev, &|name| {
        std::env::var(name).ok()
    })
    .map_err(|e| e.to_string())
}

/// What every command that works on the database does first: load the configuration as `serve`
/// does (file, then environment), start logging, open the database and apply migrations. The
/// guard keeps the log's writer until the command ends.
async fn open(
    args: &ConfigArgs,
) -> Result<(LoadedConfig, Arc<dyn Store>, Option<LogGuard>), String> {
    let loaded = load(args)?;
    let log = telemetry::init(&loaded.config.log);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let store = sesame_server::open_store(&loaded)
        .await
        .map_err(|e| e.to_string())?;
    Ok((loaded, store, log))
}

/// The services of a server that does not listen, over the configured database.
async fn offline(args: &ConfigArgs) -> Result<(AppState, Option<LogGuard>), String> {
    let (loaded, store, log) = open(args).await?;
    let state = Application::offline_state(loaded, store, Arc::new(SystemClock))
        .map_err(|e| e.to_string())?;
    Ok((state, log))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve { config } => {
            let loaded = load(&config)?;
            let _log = telemetry::init(&loaded.config.log);
            tracing::info!(dsn = %loaded.dsn.redacted(), dev = loaded.config.dev, "starting sesame");
            // One signal stops both the wait for the database and the server.
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let signal = shutdown_signal();
            tokio::spawn(async move {
                signal.await;
                let _ = stop.send(true);
            });
            let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let app = tokio::select! {
                app = Application::build(loaded, Arc::new(SystemClock)) => {
                    app.map_err(|e| e.to_string())?
                }
                () = until_stopped(stopped.clone()) => return Ok(()),
            };
            app.run_until_stopped(until_stopped(stopped))
                .await
                .map_err(|e| format!("server error: {e}"))
        }
        Command::Whoami {
            token,
            cookie,
            endpoint,
        } => whoami::run(&endpoint, token, cookie).await,
        Command::Migrate { config } => {
            let (loaded, _, _log) = open(&config).await?;
            eprintln!("migrations applied to {}", loaded.dsn.redacted());
            Ok(())
        }
        Command::Cleanup {
            config,
            keep_last,
            batch_size,
        } => {
            let (_, store, _log) = open(&config).await?;
            cleanup::run(store, &SystemClock, keep_last.chrono(), batch_size).await
        }
        Command::Identities(IdentitiesCommand::Import {
            config,
            input,
            batch_size,
        }) => {
            let (state, _log) = offline(&config).await?;
            identities::import(&state, &input, batch_size as usize).await
        }
        Command::Identities(IdentitiesCommand::Export {
            config,
            include_credentials,
        }) => {
            let (state, _log) = offline(&config).await?;
            identities::export(&state, include_credentials).await
        }
        Command::Identities(IdentitiesCommand::Unlock { config, id }) => {
            let (state, _log) = offline(&config).await?;
            identities::unlock(&state, &id).await
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sesame: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sesame: {e}");
            ExitCode::FAILURE
        }
    }
}
