//! `hil project ...`

use hil_types::{ErrorType, NicInfo};

use super::{print_list, Ctx, Result};
use crate::cli::{ProjectCmd, ProjectNodeCmd};
use crate::error::CliError;
use crate::wait;

pub async fn run(cmd: ProjectCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        ProjectCmd::Create { project } => hil.project_create(&project).await?,
        ProjectCmd::Delete { project } => hil.project_delete(&project).await?,
        ProjectCmd::List => print_list(ctx, "Projects", &hil.list_projects().await?),
        ProjectCmd::ListNetworks { project } => {
            print_list(ctx, "Networks", &hil.list_project_networks(&project).await?)
        }
        ProjectCmd::Node(ProjectNodeCmd::List { project }) => {
            print_list(ctx, "Nodes", &hil.list_project_nodes(&project).await?)
        }
        ProjectCmd::Node(ProjectNodeCmd::Add { project, node }) => {
            hil.project_connect_node(&project, &node).await?
        }
        ProjectCmd::Node(ProjectNodeCmd::Remove {
            project,
            node,
            force,
            timeout,
        }) => {
            if force {
                clear_node(ctx, &node, timeout).await?;
            }
            hil.project_detach_node(&project, &node).await?
        }
    }
    Ok(())
}

/// `--force`: what `project_detach_node` requires, done first. OBM off, then every NIC
/// detached from every network, waiting for the switch each time.
async fn clear_node(ctx: &Ctx, node: &str, timeout: u64) -> Result {
    let hil = &ctx.client;
    match hil.node_enable_disable_obm(node, false).await {
        // A server without OBM support has nothing to disable.
        Err(e) if e.is(ErrorType::NotImplemented) => {}
        other => other?,
    }
    let info = hil.show_node(node).await?;
    for nic in info.nics.iter().filter(|n| !n.networks.is_empty()) {
        clear_nic(ctx, node, nic, timeout).await?;
    }
    Ok(())
}

/// Administrators see the NIC's port and revert it in one action; project members, who do
/// not, detach the networks one by one (a NIC has at most one action in flight).
async fn clear_nic(ctx: &Ctx, node: &str, nic: &NicInfo, timeout: u64) -> Result {
    let hil = &ctx.client;
    if let (Some(Some(switch)), Some(Some(port))) = (&nic.switch, &nic.port) {
        let queued = hil.port_revert(switch, port).await?;
        wait::until_done(hil, &queued.status_id, timeout).await?;
        return Ok(());
    }
    for network in nic.networks.values() {
        let queued = hil
            .node_detach_network(node, &nic.label, network)
            .await
            .map_err(|e| {
                CliError::Failed(format!("cannot detach {} from {network}: {e}", nic.label))
            })?;
        wait::until_done(hil, &queued.status_id, timeout).await?;
    }
    Ok(())
}
