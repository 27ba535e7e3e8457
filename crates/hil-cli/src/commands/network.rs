//! `hil network ...`

use hil_types::{NetworkCreate, NetworkInfo};

use super::{print, Ctx, Result};
use crate::cli::NetworkCmd;
use crate::output;

pub async fn run(cmd: NetworkCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        NetworkCmd::Create {
            network,
            owner,
            access,
            net_id,
        } => {
            let body = NetworkCreate {
                access: access.unwrap_or_else(|| owner.clone()),
                owner,
                net_id: net_id.unwrap_or_default(),
            };
            hil.network_create(&network, &body).await?;
        }
        NetworkCmd::Delete { network } => hil.network_delete(&network).await?,
        NetworkCmd::Show { network } => {
            let info = hil.show_network(&network).await?;
            print(ctx, &info, |info| output::fields(network_rows(info)));
        }
        NetworkCmd::List => {
            let networks = hil.list_networks().await?;
            print(ctx, &networks, |networks| {
                let rows = networks
                    .iter()
                    .map(|(name, entry)| {
                        let access = access_text(entry.projects.as_deref());
                        vec![name.clone(), entry.network_id.clone(), access]
                    })
                    .collect();
                output::columns(&["Name", "Network ID", "Projects"], rows);
            });
        }
        NetworkCmd::ListAttachments { network, project } => {
            let project = project.as_deref().filter(|p| *p != "all");
            let attachments = hil.list_network_attachments(&network, project).await?;
            print(ctx, &attachments, |attachments| {
                let rows = attachments
                    .iter()
                    .map(|(node, a)| {
                        let project = output::or_none(a.project.as_deref());
                        vec![node.clone(), a.nic.clone(), a.channel.clone(), project]
                    })
                    .collect();
                output::columns(&["Node", "NIC", "Channel", "Project"], rows);
            });
        }
        NetworkCmd::GrantAccess { network, project } => {
            hil.network_grant_project_access(&network, &project).await?
        }
        NetworkCmd::RevokeAccess { network, project } => {
            hil.network_revoke_project_access(&network, &project)
                .await?
        }
    }
    Ok(())
}

/// A network's access list; `null` means public (HIL's CLI crashed on it).
fn access_text(projects: Option<&[String]>) -> String {
    match projects {
        None => "public".into(),
        Some(p) => p.join(", "),
    }
}

fn network_rows(info: &NetworkInfo) -> Vec<(&str, String)> {
    let connected: Vec<String> = info
        .connected_nodes
        .iter()
        .map(|(node, nics)| format!("{node}: {}", nics.join(", ")))
        .collect();
    vec![
        ("Name", info.name.clone()),
        ("Owner", info.owner.clone()),
        ("Channels", info.channels.join("\n")),
        ("Access", access_text(info.access.as_deref())),
        ("Connected Nodes", output::lines(&connected)),
    ]
}
