//! The `sesame` command: a thin shell over sesame-server. It parses arguments, loads the
//! configuration, and runs the server or the migrations; every error is one clear line on stderr.

mod whoami;

use clap::{Args, Parser, Subcommand};
use sesame_server::state::SystemClock;
use sesame_server::{Application, LoadedConfig, shutdown_signal, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Sesame: an identity and session server that speaks Ory Kratos's HTTP API.
///
/// With no configuration file, `sesame serve --dev` stores everything in ./sesame.sqlite, uses the
/// shipped email + password identity schema, and listens on 4433 (public) and 127.0.0.1:4434 (admin).
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
        /// Development mode: plain-HTTP base URLs and non-Secure cookies. Never in production.
        #[arg(long)]
        dev: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: ConfigArgs,
    },
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

#[derive(Args)]
struct ConfigArgs {
    /// Configuration file in Kratos's format (kratos.yml). Environment variables with Kratos's
    /// names (DSN, SERVE_PUBLIC_PORT, SESSION_LIFESPAN, …) override it.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    file: Option<PathBuf>,
}

fn load(args: &ConfigArgs, dev: bool) -> Result<LoadedConfig, String> {
    sesame_server::load(args.file.as_deref(), dev, &|name| std::env::var(name).ok())
        .map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve { config, dev } => {
            let loaded = load(&config, dev)?;
            telemetry::init(&loaded.config.log);
            tracing::info!(dsn = %loaded.dsn.redacted(), dev = loaded.config.dev, "starting sesame");
            let app = Application::build(loaded, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            app.run_until_stopped(shutdown_signal())
                .await
                .map_err(|e| format!("server error: {e}"))
        }
        Command::Whoami {
            token,
            cookie,
            endpoint,
        } => whoami::run(&endpoint, token, cookie).await,
        Command::Migrate { config } => {
            let loaded = load(&config, false)?;
            telemetry::init(&loaded.config.log);
            sesame_server::open_store(&loaded)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("migrations applied to {}", loaded.dsn.redacted());
            Ok(())
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
