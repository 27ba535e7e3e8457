//! `hil node ...`

use std::io::Write;

use hil_client::NodeFilter;
use hil_types::{NodeInfo, NodeRegister, ObmInfo, Obmd};

use super::{print, print_list, report_queued, Ctx, Result};
use crate::cli::{
    NodeCmd, NodeConsoleCmd, NodeMetadataCmd, NodeNetworkCmd, NodeNicCmd, NodeObmCmd, NodePool,
    NodePowerCmd, ObmArgs,
};
use crate::error::CliError;
use crate::{output, secret};

pub async fn run(cmd: NodeCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        NodeCmd::List { pool } => {
            let (filter, title) = match pool {
                NodePool::Free => (NodeFilter::Free, "Free Nodes"),
                NodePool::All => (NodeFilter::All, "All Nodes"),
            };
            print_list(ctx, title, &hil.list_nodes(filter).await?);
        }
        NodeCmd::Show { node } => {
            let info = hil.show_node(&node).await?;
            print(ctx, &info, |info| output::fields(node_rows(info)));
        }
        NodeCmd::Register { node, obm } => {
            let body = NodeRegister {
                metadata: None,
                ..register_body(obm)?
            };
            hil.node_register(&node, &body).await?;
        }
        NodeCmd::Delete { node } => hil.node_delete(&node).await?,
        NodeCmd::Bootdev { node, bootdev } => hil.node_set_bootdev(&node, &bootdev).await?,
        NodeCmd::Nic(NodeNicCmd::Register {
            node,
            nic,
            macaddress,
        }) => hil.node_register_nic(&node, &nic, &macaddress).await?,
        NodeCmd::Nic(NodeNicCmd::Delete { node, nic }) => hil.node_delete_nic(&node, &nic).await?,
        NodeCmd::Network(cmd) => network(cmd, ctx).await?,
        NodeCmd::Obm(NodeObmCmd::Show { node }) => {
            let info = hil.show_obm(&node).await?;
            print(ctx, &info, |info| output::fields(obm_rows(info)));
        }
        NodeCmd::Obm(NodeObmCmd::Set { node, obm }) => {
            hil.node_set_obm(&node, &register_body(obm)?.obm_details())
                .await?
        }
        NodeCmd::Obm(NodeObmCmd::Enable { node }) => {
            hil.node_enable_disable_obm(&node, true).await?
        }
        NodeCmd::Obm(NodeObmCmd::Disable { node }) => {
            hil.node_enable_disable_obm(&node, false).await?
        }
        NodeCmd::Power(cmd) => power(cmd, ctx).await?,
        NodeCmd::Metadata(NodeMetadataCmd::Add {
            node,
            label,
            value,
            json_value,
        }) => {
            let value = if json_value {
                serde_json::from_str(&value)
                    .map_err(|e| CliError::Usage(format!("VALUE is not valid JSON: {e}")))?
            } else {
                serde_json::Value::String(value)
            };
            hil.node_set_metadata(&node, &label, value).await?;
        }
        NodeCmd::Metadata(NodeMetadataCmd::Delete { node, label }) => {
            hil.node_delete_metadata(&node, &label).await?
        }
        NodeCmd::Console(NodeConsoleCmd::Show { node }) => console(&node, ctx).await?,
    }
    Ok(())
}

async fn network(cmd: NodeNetworkCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        NodeNetworkCmd::Connect {
            node,
            nic,
            network,
            channel,
            wait,
        } => {
            // HIL's CLI sent an empty channel, which the server refuses; empty means "default".
            let channel = channel.as_deref().filter(|c| !c.is_empty());
            let queued = hil
                .node_connect_network(&node, &nic, &network, channel)
                .await?;
            report_queued(ctx, queued, wait).await
        }
        NodeNetworkCmd::Detach {
            node,
            nic,
            network,
            wait,
        } => {
            let queued = hil.node_detach_network(&node, &nic, &network).await?;
            report_queued(ctx, queued, wait).await
        }
    }
}

async fn power(cmd: NodePowerCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        NodePowerCmd::On { node } => hil.node_power_on(&node).await?,
        NodePowerCmd::Off { node } => hil.node_power_off(&node).await?,
        NodePowerCmd::Cycle { node, force } => hil.node_power_cycle(&node, force).await?,
        NodePowerCmd::Status { node } => {
            let status = hil.node_power_status(&node).await?;
            match status.as_object() {
                Some(members) if !ctx.json => output::fields(
                    members
                        .iter()
                        .map(|(k, v)| (k.as_str(), plain(v)))
                        .collect(),
                ),
                _ => output::json(&status),
            }
        }
    }
    Ok(())
}

/// Copies the console to stdout until the stream ends or the user presses Ctrl-C.
async fn console(node: &str, ctx: &Ctx) -> Result {
    let mut console = ctx.client.show_console(node).await?;
    let copy = async {
        while let Some(chunk) = console.chunk().await? {
            let mut out = std::io::stdout().lock();
            if out.write_all(&chunk).and_then(|()| out.flush()).is_err() {
                break;
            }
        }
        Ok::<(), CliError>(())
    };
    tokio::select! {
        result = copy => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

const OBM_TYPE_PREFIX: &str = "http://schema.massopencloud.org/haas/v0/obm/";

/// The OBM part of `node register` and `node obm set`; secrets come from stdin or a prompt.
fn register_body(args: ObmArgs) -> Result<NodeRegister> {
    let mut body = NodeRegister {
        obm: None,
        obmd: None,
        metadata: None,
    };
    if let Some(obm_type) = args.obm_type {
        let type_uri = if obm_type.contains("://") {
            obm_type
        } else {
            format!("{OBM_TYPE_PREFIX}{obm_type}")
        };
        let mut obm = serde_json::Map::new();
        obm.insert("type".into(), type_uri.into());
        for (key, value) in [("host", args.host), ("user", args.user)] {
            if let Some(value) = value {
                obm.insert(key.into(), value.into());
            }
        }
        for pair in &args.extra {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("--set {pair:?}: expected KEY=VALUE")))?;
            let value = serde_json::from_str(value)
                .unwrap_or_else(|_| serde_json::Value::String(value.into()));
            obm.insert(key.into(), value);
        }
        obm.insert(
            "password".into(),
            secret::read_secret("BMC password")?.into(),
        );
        body.obm = Some(obm);
    } else if let Some(uri) = args.obmd_uri {
        let admin_token = match args.obmd_admin_token {
            Some(t) if t != "-" => t,
            _ => secret::read_secret("OBM admin token")?,
        };
        body.obmd = Some(Obmd { uri, admin_token });
    }
    Ok(body)
}

/// `node obm show`: type (short name for ours), enabled, then the members.
fn obm_rows(info: &ObmInfo) -> Vec<(&str, String)> {
    let short = info
        .obm_type
        .strip_prefix(OBM_TYPE_PREFIX)
        .unwrap_or(&info.obm_type);
    let mut rows = vec![
        ("Type", short.to_string()),
        ("Enabled", info.enabled.to_string()),
    ];
    rows.extend(info.members.iter().map(|(k, v)| (k.as_str(), plain(v))));
    rows
}

/// The rows HIL's CLI shows for a node: project and name, each NIC, then metadata.
fn node_rows(info: &NodeInfo) -> Vec<(&str, String)> {
    let mut rows = vec![
        ("Project", output::or_none(info.project.as_deref())),
        ("Name", info.name.clone()),
    ];
    for nic in &info.nics {
        rows.push(("", String::new()));
        rows.push(("Label", nic.label.clone()));
        rows.push(("Macaddr", output::or_none(nic.macaddr.as_deref())));
        // Only administrators see the cabling; HIL omits the keys for everyone else.
        if let Some(switch) = &nic.switch {
            rows.push(("Switch", output::or_none(switch.as_deref())));
        }
        if let Some(port) = &nic.port {
            rows.push(("Port", output::or_none(port.as_deref())));
        }
        rows.push(("Networks", output::networks(&nic.networks)));
    }
    if !info.metadata.is_empty() {
        rows.push(("", String::new()));
    }
    for (label, json_text) in &info.metadata {
        rows.push((label.as_str(), metadata_text(json_text)));
    }
    rows
}

/// Metadata is stored as JSON text; a string reads better without its quotes.
fn metadata_text(json_text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json_text) {
        Ok(v) => plain(&v),
        Err(_) => json_text.to_string(),
    }
}

/// A JSON value for a table cell: strings bare, everything else as JSON.
fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
