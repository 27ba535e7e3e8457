//! `hil port ...`

use super::{report_queued, Ctx, Result};
use crate::cli::{PortCmd, PortNicCmd};
use crate::output;

pub async fn run(cmd: PortCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        PortCmd::Register { switch, port } => hil.switch_register_port(&switch, &port).await?,
        PortCmd::Delete { switch, port } => hil.switch_delete_port(&switch, &port).await?,
        PortCmd::Show { switch, port } => {
            let info = hil.show_port(&switch, &port).await?;
            match (ctx.json, info) {
                (true, Some(info)) => output::json(&info),
                (true, None) => output::json(&serde_json::json!({})),
                (false, Some(info)) => output::fields(vec![
                    ("Node", info.node.clone()),
                    ("NIC", info.nic.clone()),
                    ("Networks", output::networks(&info.networks)),
                ]),
                (false, None) => output::fields(vec![("NIC", "None".into())]),
            }
        }
        PortCmd::Revert { switch, port, wait } => {
            let queued = hil.port_revert(&switch, &port).await?;
            report_queued(ctx, queued, wait).await?;
        }
        PortCmd::Nic(PortNicCmd::Add {
            switch,
            port,
            node,
            nic,
        }) => hil.port_connect_nic(&switch, &port, &node, &nic).await?,
        PortCmd::Nic(PortNicCmd::Remove { switch, port }) => {
            hil.port_detach_nic(&switch, &port).await?
        }
    }
    Ok(())
}
