//! Domain operations: one public function per API call. Each validates its arguments,
//! authorizes the caller, checks state in HIL's documented order and writes, all in one
//! transaction. Operations never talk to hardware: network changes go into the action queue.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::allocator::Allocator;
use crate::auth::{Authenticator, Caller};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::obm::ObmService;
use crate::store::{self, Conn, Store};
use crate::switches::SwitchRegistry;
use crate::vms::VmService;

pub mod actions;
pub mod audit;
pub mod audit_log;
pub mod extensions;
pub mod headnodes;
pub mod networks;
pub mod nodes;
pub mod obm;
pub mod projects;
pub mod switches;
pub mod users;
pub mod whoami;

/// Everything an operation needs.
pub struct Ctx {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Authenticator,
    pub allocator: Allocator,
    pub switches: SwitchRegistry,
    /// Runs BMC requests and keeps serial consoles.
    pub obm: ObmService,
    /// Runs hypervisor calls for headnodes.
    pub vms: VmService,
    /// Wakes the in-process worker when an action is queued.
    pub queue_signal: Arc<Notify>,
    pub http: reqwest::Client,
    /// What `/metrics` reports; the HTTP layer, auth, OBM and the worker record into it.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Writes the audit log's entries.
    pub audit_log: audit_log::AuditLogWriter,
}

fn require_admin(caller: &Caller) -> ApiResult<()> {
    if caller.is_admin {
        Ok(())
    } else {
        Err(ApiError::admin_only())
    }
}

async fn require_access(c: &mut Conn, caller: &Caller, project_id: Option<i64>) -> ApiResult<()> {
    if caller.can_access(c, project_id).await? {
        Ok(())
    } else {
        Err(ApiError::no_project_access())
    }
}

async fn project_id(c: &mut Conn, label: &str) -> ApiResult<i64> {
    store::projects::id_by_label(c, label)
        .await?
        .ok_or_else(|| ApiError::missing("Project", label))
}

async fn node(c: &mut Conn, label: &str) -> ApiResult<store::nodes::Node> {
    store::nodes::get(c, label)
        .await?
        .ok_or_else(|| ApiError::missing("Node", label))
}

async fn nic(c: &mut Conn, node: &store::nodes::Node, label: &str) -> ApiResult<store::nodes::Nic> {
    store::nodes::nic(c, node.id, label)
        .await?
        .ok_or_else(|| ApiError::missing_child("Nic", label, "Node", &node.label))
}

async fn network(c: &mut Conn, label: &str) -> ApiResult<store::networks::Network> {
    store::networks::get(c, label)
        .await?
        .ok_or_else(|| ApiError::missing("Network", label))
}

async fn switch(c: &mut Conn, label: &str) -> ApiResult<store::switches::Switch> {
    store::switches::get(c, label)
        .await?
        .ok_or_else(|| ApiError::missing("Switch", label))
}

/// HIL names the port's parent by the driver's class; we name it "Switch".
async fn port(
    c: &mut Conn,
    switch: &store::switches::Switch,
    label: &str,
) -> ApiResult<store::switches::Port> {
    store::switches::port(c, switch.id, label)
        .await?
        .ok_or_else(|| ApiError::missing_child("Port", label, "Switch", &switch.label))
}

/// A network with an access list may be used only by the projects on it; a public one (no
/// list) by anyone.
async fn require_network_access(c: &mut Conn, network_id: i64, project_id: i64) -> ApiResult<()> {
    let access = store::networks::access(c, network_id).await?;
    if access.is_empty() || access.iter().any(|(id, _)| *id == project_id) {
        Ok(())
    } else {
        Err(ApiError::ProjectMismatch(
            "Project does not have access to given network.".into(),
        ))
    }
}

/// HIL's "one action per nic" rule: a PENDING action blocks, a finished one is replaced.
async fn clear_finished_action(c: &mut Conn, nic_id: i64) -> ApiResult<()> {
    if let Some((id, status)) = store::actions::status_of_nic(c, nic_id).await? {
        if status == hil_types::ActionStatus::Pending.as_str() {
            return Err(ApiError::Blocked(
                "A networking operation is already active on the nic.".into(),
            ));
        }
        store::actions::delete(c, id).await?;
    }
    Ok(())
}

/// A new status id: a lowercase hyphenated UUIDv4, as HIL makes them.
fn new_status_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
