//! `hil-admin`: run the HIL server and administer its database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hil_server::config::Config;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "hil-admin",
    version,
    about = "Run and administer the HIL server"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./hil.toml if present, else built-in defaults.
    #[arg(long, short, global = true, env = "HIL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API (and, unless --no-worker, the networking worker).
    ///
    /// With no configuration at all this starts a development instance: SQLite in
    /// ./hil-data, database auth with a bootstrap administrator, and a VLAN pool.
    ///
    /// Example: HIL_ADMIN_PASSWORD=secret hil-admin serve --listen 127.0.0.1:5000
    Serve {
        /// Address to listen on (overrides `listen` in the config).
        #[arg(long)]
        listen: Option<String>,
        /// Do not run the networking worker, nor keep serial consoles, in this process.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run only the networking worker (HIL's network daemon).
    ///
    /// Several workers may share one PostgreSQL database; none applies an action twice.
    ServeNetworks,
    /// Manage the database schema.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Create an administrator (database auth).
    ///
    /// Without PASSWORD (or with `-`) the password is the first line of standard input, which
    /// keeps it out of `ps` and shell history. Example: `hil-admin create-admin-user alice < pw.txt`
    CreateAdminUser {
        name: String,
        /// Accepted as in HIL, but visible to other local users; prefer standard input
        password: Option<String>,
    },
    /// Print a commented sample configuration.
    DefaultConfig,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Create the schema and fill the VLAN pool. Safe to run again (e.g. after adding VLANs).
    Create,
    /// Apply pending schema migrations. Safe to run again.
    Upgrade {
        /// Accepted for compatibility with HIL's `db upgrade heads`.
        #[arg(hide = true)]
        target: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::DefaultConfig = cli.command {
        print!("{}", hil_server::config::SAMPLE);
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log, config.log_format);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str, format: hil_server::config::LogFormat) {
    let configured = std::env::var("HIL_LOG").unwrap_or_else(|_| filter.to_string());
    let mut filter = tracing_subscriber::EnvFilter::try_new(&configured)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    // When a SERIALIZABLE commit fails (and is retried), sqlx still sends ROLLBACK, which
    // PostgreSQL answers with the notice "there is no transaction in progress": noise that
    // would be logged as a warning for every retried write. Asked for by name, it is shown.
    if !configured.contains("sqlx::postgres::notice") {
        filter = filter.add_directive("sqlx::postgres::notice=error".parse().expect("static"));
    }
    let logger = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        hil_server::config::LogFormat::Json => logger.json().flatten_event(true).init(),
        hil_server::config::LogFormat::Text => {
            // Colour codes only on a terminal: log files and journald get plain text to grep.
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            logger.with_ansi(terminal).init()
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    let auto_migrate = config.database.auto_migrate.unwrap_or(true);
    let ctx = hil_server::context(config).await?;
    match command {
        Command::Serve { listen, no_worker } => {
            if auto_migrate {
                hil_server::create_database(&ctx).await?;
            } else {
                hil_server::require_current_schema(&ctx).await?;
            }
            hil_server::bootstrap_admin(&ctx).await?;
            let addr = listen.unwrap_or_else(|| ctx.config.listen.clone());
            let listener = TcpListener::bind(&addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let options = hil_server::ServeOptions {
                worker: !no_worker && ctx.config.worker.enabled,
            };
            hil_server::serve(ctx, listener, options, shutdown_signal()).await
        }
        Command::ServeNetworks => {
            hil_server::require_current_schema(&ctx).await?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            // This process's metrics (the worker's) are served only here.
            let metrics = hil_server::bind_metrics(&ctx).await?.map(|listener| {
                let mut stop = stop_tx.subscribe();
                let stopped = async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                };
                tokio::spawn(hil_server::serve_metrics(ctx.clone(), listener, stopped))
            });
            let worker = tokio::spawn(hil_server::spawn_worker(&ctx).run(stop_rx));
            shutdown_signal().await;
            let _ = stop_tx.send(true);
            let _ = worker.await;
            if let Some(metrics) = metrics {
                let _ = metrics.await;
            }
            Ok(())
        }
        Command::Db {
            command: DbCommand::Create,
        } => {
            hil_server::create_database(&ctx).await?;
            println!("Database ready.");
            Ok(())
        }
        Command::Db {
            command: DbCommand::Upgrade { .. },
        } => {
            ctx.store
                .migrate()
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            println!("Database schema is current.");
            Ok(())
        }
        Command::CreateAdminUser { name, password } => {
            if !ctx.auth.is_database() {
                return Err("create-admin-user needs the database auth backend".into());
            }
            hil_server::require_current_schema(&ctx).await?;
            let password = match password {
                Some(p) if p != "-" => p,
                _ => read_password_line()?,
            };
            if hil_server::ops::users::ensure_admin_user(&ctx, &name, &password)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("Created administrator {name}.");
                Ok(())
            } else {
                Err(format!("user {name} already exists"))
            }
        }
        Command::DefaultConfig => unreachable!("handled before loading the config"),
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// The first line of standard input, for secrets that must not go through argv.
fn read_password_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err("expected the password on standard input (one line)".into());
    }
    Ok(password.to_string())
}
