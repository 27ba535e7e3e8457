//! `show_networking_action`, and the queue (`list_networking_actions`).

use hil_types::{ActionStatus, NetworkingAction, QueuedAction};

use super::{project_id, require_access, require_admin, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store;

pub async fn show_networking_action(
    ctx: &Ctx,
    caller: &Caller,
    status_id: &str,
) -> ApiResult<NetworkingAction> {
    let mut tx = ctx.store.read().await?;
    let Some(a) = store::actions::view(&mut tx, status_id).await? else {
        return Err(ApiError::NotFound("status_id not found".into()));
    };
    require_access(&mut tx, caller, a.node_project_id).await?;
    Ok(NetworkingAction {
        error: if a.status == ActionStatus::Error {
            a.error
        } else {
            None
        },
        status: a.status,
        node: a.node,
        nic: a.nic,
        action_type: a.action_type,
        channel: a.channel,
        new_network: a.new_network,
    })
}

/// The queue, newest first, at most 500 entries (an extension). Administrators may see it
/// all; with `project`, anyone with access to the project sees the actions on its nodes,
/// without the switch, port and worker (which tenants never see).
pub async fn list_networking_actions(
    ctx: &Ctx,
    caller: &Caller,
    project: Option<&str>,
) -> ApiResult<Vec<QueuedAction>> {
    let mut tx = ctx.store.read().await?;
    let pid = match project {
        Some(label) => {
            let pid = project_id(&mut tx, label).await?;
            require_access(&mut tx, caller, Some(pid)).await?;
            Some(pid)
        }
        None => {
            require_admin(caller)?;
            None
        }
    };
    let rows = store::actions::list(&mut tx, pid, 500).await?;
    let hide_switches = !caller.is_admin;
    Ok(rows
        .into_iter()
        .map(|r| QueuedAction {
            status_id: r.uuid,
            status: r.status,
            action_type: r.action_type,
            node: r.node,
            nic: r.nic,
            switch: r.switch.filter(|_| !hide_switches),
            port: r.port.filter(|_| !hide_switches),
            channel: r.channel,
            new_network: r.new_network,
            error: r.error,
            attempts: r.attempts,
            claimed_by: r.claimed_by.filter(|_| !hide_switches),
        })
        .collect())
}
