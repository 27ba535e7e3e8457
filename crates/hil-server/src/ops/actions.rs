//! `show_networking_action`, and the queue for administrators (`list_networking_actions`).

use hil_types::{ActionStatus, NetworkingAction, QueuedAction};

use super::{require_access, require_admin, Ctx};
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

/// The queue, newest first, at most 500 entries (an extension, admin-only).
pub async fn list_networking_actions(ctx: &Ctx, caller: &Caller) -> ApiResult<Vec<QueuedAction>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let rows = store::actions::list(&mut tx, 500).await?;
    Ok(rows
        .into_iter()
        .map(|r| QueuedAction {
            status_id: r.uuid,
            status: r.status,
            action_type: r.action_type,
            node: r.node,
            nic: r.nic,
            switch: r.switch,
            port: r.port,
            channel: r.channel,
            new_network: r.new_network,
            error: r.error,
            attempts: r.attempts,
            claimed_by: r.claimed_by,
        })
        .collect())
}
