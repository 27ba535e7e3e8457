//! Switches and ports: registration, cabling nics to ports, and reverting ports.

use hil_types::{ActionType, PortInfo, PortLabel, SwitchInfo};

use super::{clear_finished_action, new_status_id, nic, node, port, require_admin, switch, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, actions::NewAction};

/// Splits `switch_register`'s body into its `type` (a string member of HIL's schema, so checked
/// before authentication) and the driver's members.
pub fn split_switch_type(
    mut body: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<(String, serde_json::Map<String, serde_json::Value>)> {
    match body.remove("type") {
        Some(serde_json::Value::String(switch_type)) => Ok((switch_type, body)),
        _ => Err(ApiError::invalid_args()),
    }
}

pub async fn switch_register(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    switch_type: &str,
    body: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::switches::get(&mut tx, label).await?.is_some() {
                return Err(ApiError::exists("Switch", label));
            }
            let Some(driver) = ctx.switches.get(switch_type) else {
                return Err(ApiError::BadArgument(format!(
                    "'{switch_type}' is not a valid switch type."
                )));
            };
            if !driver.validate_config(body) {
                return Err(ApiError::BadArgument(
                    "The arguments are not valid for this switch type".into(),
                ));
            }
            let config = serde_json::Value::Object(body.clone()).to_string();
            store::switches::insert(&mut tx, label, switch_type, &config).await?;
            tx.commit().await
        })
        .await
}

pub async fn switch_delete(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let sw = switch(&mut tx, label).await?;
            if !store::switches::port_labels(&mut tx, sw.id)
                .await?
                .is_empty()
            {
                return Err(ApiError::Blocked(
                    "Switch has ports; delete them before deleting the switch.".into(),
                ));
            }
            store::switches::delete(&mut tx, sw.id).await?;
            tx.commit().await
        })
        .await
}

pub async fn list_switches(ctx: &Ctx, caller: &Caller) -> ApiResult<Vec<String>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    Ok(store::switches::list_labels(&mut tx).await?)
}

pub async fn show_switch(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<SwitchInfo> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let sw = switch(&mut tx, label).await?;
    let ports = store::switches::port_labels(&mut tx, sw.id).await?;
    let capabilities = ctx
        .switches
        .get(&sw.switch_type)
        .map(|d| d.capabilities().iter().map(|c| c.to_string()).collect())
        .unwrap_or_default();
    Ok(SwitchInfo {
        capabilities,
        name: sw.label,
        ports: ports.into_iter().map(|label| PortLabel { label }).collect(),
    })
}

pub async fn switch_register_port(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: &str,
    port_label: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let sw = switch(&mut tx, switch_label).await?;
            if store::switches::port(&mut tx, sw.id, port_label)
                .await?
                .is_some()
            {
                return Err(ApiError::child_exists(
                    "Port",
                    port_label,
                    "Switch",
                    switch_label,
                ));
            }
            let valid = ctx
                .switches
                .get(&sw.switch_type)
                .is_some_and(|d| d.validate_port_name(port_label));
            if !valid {
                return Err(ApiError::BadArgument(format!(
                    "{port_label:?} is not a valid port name for this switch."
                )));
            }
            store::switches::insert_port(&mut tx, sw.id, port_label).await?;
            tx.commit().await
        })
        .await
}

pub async fn switch_delete_port(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: &str,
    port_label: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let sw = switch(&mut tx, switch_label).await?;
            let p = port(&mut tx, &sw, port_label).await?;
            if store::nodes::nic_on_port(&mut tx, p.id).await?.is_some() {
                return Err(ApiError::Blocked(format!(
                    "Port {port_label} is attached to a nic; please detach it first."
                )));
            }
            store::switches::delete_port(&mut tx, p.id).await?;
            tx.commit().await
        })
        .await
}

/// `{}` when no nic is cabled to the port.
pub async fn show_port(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: &str,
    port_label: &str,
) -> ApiResult<Option<PortInfo>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let sw = switch(&mut tx, switch_label).await?;
    let p = port(&mut tx, &sw, port_label).await?;
    let Some(the_nic) = store::nodes::nic_on_port(&mut tx, p.id).await? else {
        return Ok(None);
    };
    let n = store::nodes::get_by_id(&mut tx, the_nic.owner_id).await?;
    let networks = store::nodes::attachments_of_nic(&mut tx, the_nic.id)
        .await?
        .into_iter()
        .map(|(channel, _, net)| (channel, net))
        .collect();
    Ok(Some(PortInfo {
        node: n.label,
        nic: the_nic.label,
        networks,
    }))
}

pub async fn port_connect_nic(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: &str,
    port_label: &str,
    node_label: &str,
    nic_label: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let sw = switch(&mut tx, switch_label).await?;
            let p = port(&mut tx, &sw, port_label).await?;
            let n = node(&mut tx, node_label).await?;
            let the_nic = nic(&mut tx, &n, nic_label).await?;
            if the_nic.port_id.is_some() {
                return Err(ApiError::Duplicate(nic_label.to_string()));
            }
            if store::nodes::nic_on_port(&mut tx, p.id).await?.is_some() {
                return Err(ApiError::Duplicate(port_label.to_string()));
            }
            store::nodes::set_nic_port(&mut tx, the_nic.id, Some(p.id)).await?;
            tx.commit().await
        })
        .await
}

/// The nic cabled to a port: 404 for a missing switch or port, then 404 "not attached".
async fn cabled_nic(
    c: &mut store::Conn,
    switch_label: &str,
    port_label: &str,
) -> ApiResult<store::nodes::Nic> {
    let sw = switch(c, switch_label).await?;
    let p = port(c, &sw, port_label).await?;
    store::nodes::nic_on_port(c, p.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{port_label} not attached")))
}

pub async fn port_detach_nic(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: &str,
    port_label: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let the_nic = cabled_nic(&mut tx, switch_label, port_label).await?;
            let n = store::nodes::get_by_id(&mut tx, the_nic.owner_id).await?;
            if n.project_id.is_some() {
                return Err(ApiError::Blocked(
                    "The port is attached to a node which is not free".into(),
                ));
            }
            // HIL let a pending action lose its port and spin forever (§16 #29); we refuse.
            if let Some((_, status)) = store::actions::status_of_nic(&mut tx, the_nic.id).await? {
                if status == hil_types::ActionStatus::Pending.as_str() {
                    return Err(ApiError::Blocked(
                        "A networking operation is still pending on the nic.".into(),
                    ));
                }
            }
            store::nodes::set_nic_port(&mut tx, the_nic.id, None).await?;
            tx.commit().await
        })
        .await
}

pub async fn port_revert(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: &str,
    port_label: &str,
) -> ApiResult<String> {
    require_admin(caller)?;
    let status_id = ctx
        .store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let the_nic = cabled_nic(&mut tx, switch_label, port_label).await?;
            clear_finished_action(&mut tx, the_nic.id).await?;
            let status_id = new_status_id();
            let action = NewAction {
                uuid: &status_id,
                action_type: ActionType::RevertPort,
                nic_id: the_nic.id,
                new_network_id: None,
                channel: "",
            };
            store::actions::enqueue(&mut tx, &action).await?;
            tx.commit().await?;
            Ok(status_id)
        })
        .await?;
    ctx.queue_signal.notify_one();
    Ok(status_id)
}
