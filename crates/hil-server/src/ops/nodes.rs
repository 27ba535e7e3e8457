//! Nodes, nics and metadata, and connecting nics to networks.

use hil_types::{ActionType, NicInfo, NodeInfo, NodeRegister};

use super::{
    clear_finished_action, network, new_status_id, nic, node, require_access, require_admin,
    require_network_access, Ctx,
};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, actions::NewAction, obm::ObmRegistration};

/// Part of HIL's `node_register` schema (so checked before authentication): exactly one of
/// `obm` and `obmd`, each valid.
pub fn validate_node_register(ctx: &Ctx, body: &NodeRegister) -> ApiResult<ObmRegistration> {
    super::obm::validate_details(ctx, &body.obm_details())
}

pub async fn node_register(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    body: &NodeRegister,
) -> ApiResult<()> {
    let obm = &validate_node_register(ctx, body)?;
    require_admin(caller)?;
    let metadata: Vec<(String, String)> = body
        .metadata
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    let metadata = &metadata;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::nodes::get(&mut tx, label).await?.is_some() {
                return Err(ApiError::exists("Node", label));
            }
            let id = store::nodes::insert(&mut tx, label, obm).await?;
            for (key, json) in metadata {
                store::nodes::set_metadata(&mut tx, id, key, json).await?;
            }
            tx.commit().await
        })
        .await
}

pub async fn node_delete(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    require_admin(caller)?;
    let node_id = ctx
        .store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, label).await?;
            if n.project_id.is_some() {
                return Err(ApiError::Blocked(
                    "Node is in a project; detach it first.".into(),
                ));
            }
            if store::nodes::has_nics(&mut tx, n.id).await? {
                return Err(ApiError::Blocked(
                    "Node has nics; delete them first.".into(),
                ));
            }
            store::nodes::delete(&mut tx, n.id).await?;
            tx.commit().await?;
            Ok(n.id)
        })
        .await?;
    // A free node may have its OBM enabled (by an admin); its console goes with it.
    ctx.obm.consoles.stop(node_id, label).await;
    Ok(())
}

pub async fn list_nodes(ctx: &Ctx, _caller: &Caller, is_free: &str) -> ApiResult<Vec<String>> {
    let mut c = ctx.store.single_read().await?;
    Ok(store::nodes::list_labels(&mut c, is_free == "free").await?)
}

pub async fn show_node(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<NodeInfo> {
    let mut c = ctx.store.single_read().await?;
    let n = store::nodes::show(&mut c, label)
        .await?
        .ok_or_else(|| ApiError::missing("Node", label))?;
    if n.project_id.is_some() {
        require_access(&mut c, caller, n.project_id).await?;
    }
    let attachments = n.attachments;
    let nics = n
        .nics
        .into_iter()
        .map(|v| NicInfo {
            networks: attachments
                .iter()
                .filter(|(nic_id, _, _)| *nic_id == v.id)
                .map(|(_, channel, net)| (channel.clone(), net.clone()))
                .collect(),
            label: v.label,
            macaddr: v.mac_addr,
            // Only admins learn the cabling.
            port: caller.is_admin.then_some(v.port),
            switch: caller.is_admin.then_some(v.switch),
        })
        .collect();
    Ok(NodeInfo {
        metadata: n.metadata.into_iter().collect(),
        name: n.label,
        nics,
        project: n.project,
    })
}

pub async fn node_register_nic(
    ctx: &Ctx,
    caller: &Caller,
    node_label: &str,
    nic_label: &str,
    macaddr: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, node_label).await?;
            if store::nodes::nic(&mut tx, n.id, nic_label).await?.is_some() {
                return Err(ApiError::child_exists("Nic", nic_label, "Node", node_label));
            }
            store::nodes::insert_nic(&mut tx, n.id, nic_label, macaddr).await?;
            tx.commit().await
        })
        .await
}

pub async fn node_delete_nic(
    ctx: &Ctx,
    caller: &Caller,
    node_label: &str,
    nic_label: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, node_label).await?;
            let the_nic = nic(&mut tx, &n, nic_label).await?;
            if n.project_id.is_some() {
                return Err(ApiError::Blocked(
                    "Nic is on a node that belongs to a project. Detach the node first.".into(),
                ));
            }
            // A released node has no attachments left; any that remain are stale switch state.
            store::networks::detach_all(&mut tx, the_nic.id).await?;
            store::nodes::delete_nic(&mut tx, the_nic.id).await?;
            tx.commit().await
        })
        .await
}

pub async fn node_set_metadata(
    ctx: &Ctx,
    caller: &Caller,
    node_label: &str,
    key: &str,
    value: &serde_json::Value,
) -> ApiResult<()> {
    require_admin(caller)?;
    let json = value.to_string();
    let json = &json;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, node_label).await?;
            store::nodes::set_metadata(&mut tx, n.id, key, json).await?;
            tx.commit().await
        })
        .await
}

pub async fn node_delete_metadata(
    ctx: &Ctx,
    caller: &Caller,
    node_label: &str,
    key: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, node_label).await?;
            if !store::nodes::delete_metadata(&mut tx, n.id, key).await? {
                return Err(ApiError::missing_child("Metadata", key, "Node", node_label));
            }
            tx.commit().await
        })
        .await
}

/// Whether the nic's switch lacks `nativeless-trunk-mode` (native-first rule, §8).
async fn needs_native_first(ctx: &Ctx, c: &mut store::Conn, port_id: i64) -> ApiResult<bool> {
    let port = store::switches::port_by_id(c, port_id).await?;
    let sw = store::switches::get_by_id(c, port.owner_id).await?;
    Ok(ctx
        .switches
        .get(&sw.switch_type)
        .is_some_and(|d| !d.capabilities().contains(&"nativeless-trunk-mode")))
}

pub async fn node_connect_network(
    ctx: &Ctx,
    caller: &Caller,
    node_label: &str,
    nic_label: &str,
    network_label: &str,
    channel: Option<&str>,
) -> ApiResult<String> {
    let status_id = ctx
        .store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, node_label).await?;
            let the_nic = nic(&mut tx, &n, nic_label).await?;
            let net = network(&mut tx, network_label).await?;
            let Some(project_id) = n.project_id else {
                return Err(ApiError::ProjectMismatch("Node not in project".into()));
            };
            require_access(&mut tx, caller, Some(project_id)).await?;
            let Some(port_id) = the_nic.port_id else {
                return Err(ApiError::NotFound(
                    "No port is connected to given nic.".into(),
                ));
            };
            clear_finished_action(&mut tx, the_nic.id).await?;
            require_network_access(&mut tx, net.id, project_id).await?;
            let attached = store::nodes::attachments_of_nic(&mut tx, the_nic.id).await?;
            if attached.iter().any(|(_, id, _)| *id == net.id) {
                return Err(ApiError::Blocked(
                    "The network is already attached to the nic.".into(),
                ));
            }
            let channel = channel.unwrap_or(ctx.allocator.default_channel());
            if attached.iter().any(|(ch, _, _)| ch == channel) {
                return Err(ApiError::Blocked(
                    "The channel is already in use on the nic.".into(),
                ));
            }
            if !ctx.allocator.is_legal_channel(channel, &net.network_id) {
                return Err(ApiError::BadArgument(format!(
                    "Channel {channel} is not legal for network {network_label}."
                )));
            }
            let has_native = attached
                .iter()
                .any(|(ch, _, _)| ch == hil_types::channel::NATIVE);
            if channel != hil_types::channel::NATIVE
                && !has_native
                && needs_native_first(ctx, &mut tx, port_id).await?
            {
                return Err(ApiError::Blocked(
                    "Please attach a native network first".into(),
                ));
            }
            let status_id = new_status_id();
            let action = NewAction {
                uuid: &status_id,
                action_type: ActionType::ModifyPort,
                nic_id: the_nic.id,
                new_network_id: Some(net.id),
                channel,
            };
            store::actions::enqueue(&mut tx, &action).await?;
            tx.commit().await?;
            Ok(status_id)
        })
        .await?;
    ctx.queue_signal.notify_one();
    Ok(status_id)
}

pub async fn node_detach_network(
    ctx: &Ctx,
    caller: &Caller,
    node_label: &str,
    nic_label: &str,
    network_label: &str,
) -> ApiResult<String> {
    let status_id = ctx
        .store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, node_label).await?;
            let net = network(&mut tx, network_label).await?;
            let the_nic = nic(&mut tx, &n, nic_label).await?;
            let Some(project_id) = n.project_id else {
                return Err(ApiError::ProjectMismatch("Node not in project".into()));
            };
            require_access(&mut tx, caller, Some(project_id)).await?;
            clear_finished_action(&mut tx, the_nic.id).await?;
            let attached = store::nodes::attachments_of_nic(&mut tx, the_nic.id).await?;
            let Some((channel, _, _)) = attached.iter().find(|(_, id, _)| *id == net.id) else {
                return Err(ApiError::BadArgument(
                    "The network is not attached to the nic.".into(),
                ));
            };
            if channel == hil_types::channel::NATIVE && attached.len() > 1 {
                if let Some(port_id) = the_nic.port_id {
                    if needs_native_first(ctx, &mut tx, port_id).await? {
                        return Err(ApiError::Blocked(
                            "Please remove all trunked Vlans before removing the native vlan"
                                .into(),
                        ));
                    }
                }
            }
            let status_id = new_status_id();
            let action = NewAction {
                uuid: &status_id,
                action_type: ActionType::ModifyPort,
                nic_id: the_nic.id,
                new_network_id: None,
                channel,
            };
            store::actions::enqueue(&mut tx, &action).await?;
            tx.commit().await?;
            Ok(status_id)
        })
        .await?;
    ctx.queue_signal.notify_one();
    Ok(status_id)
}
