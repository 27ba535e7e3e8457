//! `hil`: the command-line client for HIL.

mod cli;
mod commands;
#[cfg(test)]
mod docs;
mod error;
mod openstack;
mod output;
mod secret;
mod settings;
mod wait;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};
use error::CliError;

fn main() -> ExitCode {
    // Usage errors exit 2 and --help/--version exit 0, both inside clap.
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "hil", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded runtime always builds");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", err.one_line());
            err.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = settings::resolve(&cli.global)?;
    let mut client = hil_client::Client::new(&settings.endpoint)?;
    if let Some((user, password)) = &settings.credentials {
        client = client.with_basic_auth(user, password);
    } else if let Some(keystone) = &settings.keystone {
        client = client.with_token(&keystone.issue_token().await?);
    }
    let ctx = commands::Ctx {
        client,
        json: cli.global.json,
    };
    commands::run(cli.command, &ctx).await
}
