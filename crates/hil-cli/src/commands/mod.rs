//! One module per command group; each turns parsed arguments into client calls and output.

mod audit;
mod headnode;
mod network;
mod node;
mod port;
mod project;
mod switch;
mod user;

use hil_client::Client;
use hil_types::{NetworkingAction, QueuedAction, StatusId};
use serde::Serialize;

use crate::cli::{Command, ExtensionsCmd, NetworkingActionCmd, WaitArgs};
use crate::error::CliError;
use crate::{output, wait};

pub type Result<T = ()> = std::result::Result<T, CliError>;

/// What every command runs with.
pub struct Ctx {
    pub client: Client,
    /// Print the API's JSON instead of tables.
    pub json: bool,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result {
    match command {
        Command::Node(cmd) => node::run(cmd, ctx).await,
        Command::Project(cmd) => project::run(cmd, ctx).await,
        Command::Network(cmd) => network::run(cmd, ctx).await,
        Command::Switch(cmd) => switch::run(cmd, ctx).await,
        Command::Port(cmd) => port::run(cmd, ctx).await,
        Command::Audit(cmd) => audit::run(cmd, ctx).await,
        Command::User(cmd) => user::run(cmd, ctx).await,
        Command::Headnode(cmd) => headnode::run(cmd, ctx).await,
        Command::NetworkingAction(NetworkingActionCmd::Show { status_id, wait }) => {
            if wait.wait {
                return report_finished(ctx, &status_id, None, wait.timeout).await;
            }
            let action = ctx.client.show_networking_action(&status_id).await?;
            print_action(ctx, None, &action);
            Ok(())
        }
        Command::NetworkingAction(NetworkingActionCmd::List { project }) => {
            let queue = ctx
                .client
                .list_networking_actions(project.as_deref())
                .await?;
            print(ctx, &queue, |q| print_queue(q));
            Ok(())
        }
        Command::Whoami => {
            let me = ctx.client.whoami().await?;
            print(ctx, &me, |me| {
                output::fields(vec![
                    ("User", output::or_none(me.user.as_deref())),
                    (
                        "Administrator",
                        if me.is_admin { "yes" } else { "no" }.into(),
                    ),
                    ("Projects", output::lines(&me.projects)),
                ])
            });
            Ok(())
        }
        Command::Extensions(ExtensionsCmd::List) => {
            let extensions = ctx.client.list_active_extensions().await?;
            print_list(ctx, "Extensions", &extensions);
            Ok(())
        }
        Command::Completions { .. } => unreachable!("handled before connecting"),
    }
}

/// The API's JSON with `--json`, else the table `render` prints.
fn print<T: Serialize + ?Sized>(ctx: &Ctx, value: &T, render: impl FnOnce(&T)) {
    if ctx.json {
        output::json(value);
    } else {
        render(value);
    }
}

/// A list as JSON or as a titled single-column table.
fn print_list(ctx: &Ctx, title: &str, items: &[String]) {
    print(ctx, items, |items| output::list(title, items));
}

/// The answer of a call that queued a networking action: its status id, or with `--wait`
/// the finished action. An action that ended in ERROR fails the command.
async fn report_queued(ctx: &Ctx, queued: StatusId, wait: WaitArgs) -> Result {
    if !wait.wait {
        print(ctx, &queued, |q| {
            output::fields(vec![("Status ID", q.status_id.clone())])
        });
        return Ok(());
    }
    let id = queued.status_id.as_str();
    report_finished(ctx, id, Some(id), wait.timeout).await
}

/// Waits for the action, prints it (with its status id as the first row when `shown_id` is
/// given), and fails the command when it ended in ERROR.
async fn report_finished(
    ctx: &Ctx,
    status_id: &str,
    shown_id: Option<&str>,
    timeout: u64,
) -> Result {
    let action = wait::finished(&ctx.client, status_id, timeout).await?;
    print_action(ctx, shown_id, &action);
    match wait::failure(status_id, &action) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The queue as a table; tenants' rows have no switch side.
fn print_queue(queue: &[QueuedAction]) {
    let pair = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (None, None) => "-".to_string(),
        (a, b) => format!(
            "{} / {}",
            a.as_deref().unwrap_or("-"),
            b.as_deref().unwrap_or("-")
        ),
    };
    let rows = queue
        .iter()
        .map(|a| {
            vec![
                a.status_id.clone(),
                a.status.clone(),
                a.action_type.clone(),
                pair(&a.node, &a.nic),
                pair(&a.switch, &a.port),
                a.channel.clone(),
                output::or_none(a.new_network.as_deref()),
                a.attempts.to_string(),
                a.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "Status ID",
        "Status",
        "Type",
        "Node / NIC",
        "Switch / Port",
        "Channel",
        "New Network",
        "Failed Tries",
        "Error",
    ];
    output::columns(&header, rows);
}

fn print_action(ctx: &Ctx, status_id: Option<&str>, action: &NetworkingAction) {
    if ctx.json {
        return output::json(action);
    }
    let mut rows = Vec::new();
    if let Some(id) = status_id {
        rows.push(("Status ID", id.to_string()));
    }
    rows.extend([
        ("Node", action.node.clone()),
        ("NIC", action.nic.clone()),
        (
            "New Network",
            output::or_none(action.new_network.as_deref()),
        ),
        ("Type", action.action_type.as_str().to_string()),
        ("Channel", action.channel.clone()),
        ("Status", action.status.as_str().to_string()),
    ]);
    if let Some(error) = &action.error {
        rows.push(("Error", error.clone()));
    }
    output::fields(rows);
}
