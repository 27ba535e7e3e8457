//! `hil headnode ...`

use super::{print, print_list, Ctx, Result};
use crate::cli::{HeadnodeCmd, HeadnodeNetworkCmd, HeadnodeNicCmd};
use crate::output;

pub async fn run(cmd: HeadnodeCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        HeadnodeCmd::Create {
            headnode,
            project,
            base_img,
        } => hil.headnode_create(&headnode, &project, &base_img).await?,
        HeadnodeCmd::Delete { headnode } => hil.headnode_delete(&headnode).await?,
        HeadnodeCmd::Start { headnode } => hil.headnode_start(&headnode).await?,
        HeadnodeCmd::Stop { headnode } => hil.headnode_stop(&headnode).await?,
        HeadnodeCmd::List { project } => print_list(
            ctx,
            "Headnodes",
            &hil.list_project_headnodes(&project).await?,
        ),
        HeadnodeCmd::Show { headnode } => {
            let info = hil.show_headnode(&headnode).await?;
            print(ctx, &info, |info| {
                output::fields(vec![
                    ("Name", info.name.clone()),
                    ("Project", info.project.clone()),
                    ("Base image", info.base_img.clone()),
                    ("UUID", info.uuid.clone()),
                    ("VNC port", output::or_none(info.vncport.as_deref())),
                    ("NICs", output::lines(&info.hnics)),
                ])
            });
        }
        HeadnodeCmd::ListImages => print_list(ctx, "Images", &hil.list_headnode_images().await?),
        HeadnodeCmd::Nic(HeadnodeNicCmd::Create { headnode, nic }) => {
            hil.headnode_create_hnic(&headnode, &nic).await?
        }
        HeadnodeCmd::Nic(HeadnodeNicCmd::Delete { headnode, nic }) => {
            hil.headnode_delete_hnic(&headnode, &nic).await?
        }
        HeadnodeCmd::Network(HeadnodeNetworkCmd::Connect {
            headnode,
            nic,
            network,
        }) => {
            hil.headnode_connect_network(&headnode, &nic, &network)
                .await?
        }
        HeadnodeCmd::Network(HeadnodeNetworkCmd::Detach { headnode, nic }) => {
            hil.headnode_detach_network(&headnode, &nic).await?
        }
    }
    Ok(())
}
