//! `show_networking_action`.

use hil_types::{ActionStatus, NetworkingAction};

use super::{require_access, Ctx};
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
