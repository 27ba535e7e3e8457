//! Wire types of HIL's REST API "v0".
//!
//! Both the server and the client compile against these definitions, so the two sides cannot
//! disagree about a body's shape. Request bodies are closed (`deny_unknown_fields`), as HIL's
//! schemas are; optional members may be omitted but not sent as JSON `null` (HIL rejects that).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

pub mod channel;
pub mod error;

pub use channel::Channel;
pub use error::{ErrorBody, ErrorType};

/// Deserializes an optional member that, when present, must not be `null`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Status of a queued networking action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum ActionStatus {
    Pending,
    Done,
    Error,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Pending => "PENDING",
            ActionStatus::Done => "DONE",
            ActionStatus::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(ActionStatus::Pending),
            "DONE" => Some(ActionStatus::Done),
            "ERROR" => Some(ActionStatus::Error),
            _ => None,
        }
    }
}

/// Kind of a queued networking action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    /// Attach `(nic, channel)` to a network, or detach it when the new network is null.
    ModifyPort,
    /// Remove every network from the nic's port.
    RevertPort,
    /// Bring a port back to what `network_attachment` says it carries (a drift repair; an
    /// extension: HIL had no such action, and tenants never see one).
    SyncPort,
}

impl ActionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::ModifyPort => "modify_port",
            ActionType::RevertPort => "revert_port",
            ActionType::SyncPort => "sync_port",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "modify_port" => Some(ActionType::ModifyPort),
            "revert_port" => Some(ActionType::RevertPort),
            "sync_port" => Some(ActionType::SyncPort),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

/// `POST /project/<p>/connect_node` and `/detach_node`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeRef {
    pub node: String,
}

/// The `obmd` member of `node_register` (HIL v0.4).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Obmd {
    pub uri: String,
    pub admin_token: String,
}

/// How HIL reaches a node's BMC: exactly one of `obm` (HIL v0.2's driver form, with `type`,
/// e.g. `http://schema.massopencloud.org/haas/v0/obm/ipmi`, and the driver's members) or
/// `obmd` (HIL v0.4's external daemon). `PUT /node/<node>/obm_details` takes the same body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ObmDetails {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false, value_type = Object))]
    pub obm: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub obmd: Option<Obmd>,
}

/// `PUT /node/<node>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeRegister {
    /// See `ObmDetails`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false, value_type = Object))]
    pub obm: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub obmd: Option<Obmd>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false, value_type = Object))]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

impl NodeRegister {
    pub fn obm_details(&self) -> ObmDetails {
        ObmDetails {
            obm: self.obm.clone(),
            obmd: self.obmd.clone(),
        }
    }
}

/// `PUT /node/<node>/nic/<nic>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NicRegister {
    pub macaddr: String,
}

/// `PUT /node/<node>/metadata/<label>`: any JSON value, `null` included.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetadataSet {
    pub value: serde_json::Value,
}

/// `POST /node/<node>/nic/<nic>/connect_network`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConnectNetwork {
    pub network: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub channel: Option<String>,
}

/// `POST /node/<node>/nic/<nic>/detach_network` and
/// `POST /headnode/<h>/hnic/<hnic>/connect_network`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NetworkRef {
    pub network: String,
}

/// `PUT /node/<node>/obm`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ObmEnable {
    pub enabled: bool,
}

/// `POST /node/<node>/power_cycle`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PowerCycle {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub force: Option<bool>,
}

/// `PUT /node/<node>/boot_device`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BootDevice {
    pub bootdev: String,
}

/// `GET /node/<node>/power_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PowerStatus {
    /// `"on"` or `"off"`.
    pub power_status: String,
}

/// `GET /node/<node>/obm_details` (admin): the registration without its secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObmInfo {
    /// The OBM type URI, or `"obmd"` for nodes registered with HIL v0.4's obmd form.
    #[serde(rename = "type")]
    pub obm_type: String,
    pub enabled: bool,
    /// The registration's other members (`host`, `user`, `uri`, ...), passwords and tokens
    /// left out.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub members: serde_json::Map<String, serde_json::Value>,
}

/// `PUT /headnode/<headnode>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeadnodeCreate {
    pub project: String,
    pub base_img: String,
}

/// `PUT /network/<network>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NetworkCreate {
    /// A project label, or the literal `admin`.
    pub owner: String,
    /// A project label, or `""` for a public network.
    pub access: String,
    /// `""` to allocate from the pool, else an explicit network id.
    pub net_id: String,
}

/// `POST /switch/<s>/port/<p>/connect_nic`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PortConnectNic {
    pub node: String,
    pub nic: String,
}

/// `PUT /auth/basic/user/<user>`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub password: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub is_admin: Option<bool>,
}

impl std::fmt::Debug for UserCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCreate")
            .field("password", &"<redacted>")
            .field("is_admin", &self.is_admin)
            .finish()
    }
}

/// `PATCH /auth/basic/user/<user>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserSetAdmin {
    pub is_admin: bool,
}

/// `POST /auth/basic/user/<user>/add_project` and `/remove_project`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectRef {
    pub project: String,
}

// ---------------------------------------------------------------------------------------------
// Response bodies
// ---------------------------------------------------------------------------------------------

/// A nic as shown by `GET /node/<node>`. `port` and `switch` exist only for admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NicInfo {
    pub label: String,
    pub macaddr: Option<String>,
    /// Current attachments: channel → network label.
    pub networks: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<Option<String>>,
}

/// `GET /node/<node>` (keys sorted, as HIL sends them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeInfo {
    /// Metadata values as their stored JSON text (HIL's quirk, §16 #8).
    pub metadata: BTreeMap<String, String>,
    pub name: String,
    pub nics: Vec<NicInfo>,
    pub project: Option<String>,
}

/// `{"status_id": ...}`, answered by connect, detach and revert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusId {
    pub status_id: String,
}

/// `GET /networking_action/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkingAction {
    pub status: ActionStatus,
    pub node: String,
    pub nic: String,
    #[serde(rename = "type")]
    pub action_type: ActionType,
    pub channel: String,
    pub new_network: Option<String>,
    /// Why the action failed; present only on `ERROR` (an addition to HIL's shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /network/<network>` (keys sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkInfo {
    pub access: Option<Vec<String>>,
    pub channels: Vec<String>,
    #[serde(rename = "connected-nodes")]
    pub connected_nodes: BTreeMap<String, Vec<String>>,
    pub name: String,
    pub owner: String,
}

/// One entry of `GET /networks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkListEntry {
    pub network_id: String,
    /// `null` for a public network.
    pub projects: Option<Vec<String>>,
}

/// One entry of `GET /network/<network>/attachments`, keyed by node label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentInfo {
    pub nic: String,
    pub channel: String,
    pub project: Option<String>,
}

/// A port in `GET /switch/<switch>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortLabel {
    pub label: String,
}

/// `GET /switch/<switch>` (keys sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwitchInfo {
    pub capabilities: Vec<String>,
    pub name: String,
    pub ports: Vec<PortLabel>,
}

/// `GET /switch/<s>/port/<p>` when a nic is connected; `{}` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortInfo {
    pub node: String,
    pub nic: String,
    pub networks: BTreeMap<String, String>,
}

/// `GET /headnode/<headnode>` (keys sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeadnodeInfo {
    pub base_img: String,
    pub hnics: Vec<String>,
    pub name: String,
    pub project: String,
    pub uuid: String,
    /// The VM's VNC port as libvirt reports it (a string); `null` before the first start.
    pub vncport: Option<String>,
}

/// One entry of `GET /auth/basic/users`, keyed by user label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub is_admin: bool,
    pub projects: Vec<String>,
}

/// What a port carries: channel → VLAN (`vlan/native`, `vlan/<id>`; `vlan/*` means every
/// VLAN, an OVS port that trunks everything).
pub type PortVlans = BTreeMap<String, String>;

/// One state-changing call, as `GET /audit_log` lists it (an extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLogEntry {
    /// RFC 3339 time the answer was given.
    pub time: String,
    /// Who made the call; `null` when it was not authenticated.
    pub user: Option<String>,
    /// The client's address.
    pub client: Option<String>,
    pub method: String,
    pub path: String,
    /// The route it matched, e.g. `/v0/node/{node}/nic/{nic}/connect_network`.
    pub call: String,
    /// The JSON body, every password, token or key replaced by `********`.
    pub args: serde_json::Value,
    pub status: u16,
    /// `ok`, or the error type of the answer.
    pub outcome: String,
}

/// One episode of drift on a port, as `GET /drift` lists it (an extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftRecord {
    pub switch: String,
    pub port: String,
    /// The node and nic cabled to the port, if any.
    pub node: Option<String>,
    pub nic: Option<String>,
    /// What `network_attachment` says the port carries.
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub expected: PortVlans,
    /// What the switch said it carries, at `last_seen`.
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub actual: PortVlans,
    /// VLANs on the port that belong to networks its node's project may not use: a breach
    /// of isolation.
    pub foreign_vlans: Vec<String>,
    /// RFC 3339 times.
    pub first_seen: String,
    pub last_seen: String,
    /// When the port was found right again; `null` while the drift lasts.
    pub repaired_at: Option<String>,
    /// How it ended: `repaired` (by HIL's repair action) or `found correct` (changed back by
    /// someone else).
    pub resolution: Option<String>,
    /// The repair action queued for it, if any (`GET /networking_action/<id>` does not show
    /// repairs; the audit status does).
    pub repair_status: Option<ActionStatus>,
}

/// `GET /switch/<switch>/audit`: the state of a switch's audits (an extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwitchAuditInfo {
    pub switch: String,
    /// `PENDING` (requested, not started), `RUNNING`, or `IDLE`.
    pub state: String,
    pub requested_at: Option<String>,
    pub last_started: Option<String>,
    pub last_finished: Option<String>,
    /// `clean`, `drift`, `incomplete` (some ports could not be read; `last_error` names
    /// them) or `error` (the switch could not be audited); `null` before the first audit.
    pub last_result: Option<String>,
    pub last_error: Option<String>,
    /// Of the last audit: ports read, ports skipped (a change was queued), ports that differ.
    pub ports_checked: i64,
    pub ports_skipped: i64,
    pub ports_drifted: i64,
    /// Since the switch was registered.
    pub counters: AuditCounters,
}

/// Running totals of a switch's audits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditCounters {
    pub audits: i64,
    pub audits_failed: i64,
    pub drift_found: i64,
    pub drift_repaired: i64,
    pub incidents: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_members_may_be_omitted_but_not_null() {
        let ok: ConnectNetwork = serde_json::from_str(r#"{"network":"n"}"#).unwrap();
        assert_eq!(ok.channel, None);
        let with: ConnectNetwork =
            serde_json::from_str(r#"{"network":"n","channel":"vlan/native"}"#).unwrap();
        assert_eq!(with.channel.as_deref(), Some("vlan/native"));
        assert!(
            serde_json::from_str::<ConnectNetwork>(r#"{"network":"n","channel":null}"#).is_err()
        );
    }

    #[test]
    fn bodies_are_closed_and_typed() {
        assert!(serde_json::from_str::<NodeRef>(r#"{"node":"a","x":1}"#).is_err());
        assert!(serde_json::from_str::<NodeRef>(r#"{"node":1}"#).is_err());
        assert!(serde_json::from_str::<UserSetAdmin>(r#"{"is_admin":1}"#).is_err());
    }

    #[test]
    fn user_create_debug_hides_password() {
        let u = UserCreate {
            password: "hunter2".into(),
            is_admin: None,
        };
        assert!(!format!("{u:?}").contains("hunter2"));
    }
}

/// `GET /v0/whoami` (an extension of this implementation): who the credentials belong to and
/// the projects they may act for (every project, for an administrator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhoAmI {
    /// The user name (`keystone:<user>` for a Keystone token); `null` when the auth backend
    /// names nobody (the null backend).
    pub user: Option<String>,
    pub is_admin: bool,
    pub projects: Vec<String>,
}

/// One entry of `GET /v0/networking_actions` (an extension, admin-only): the queue, newest
/// first. A tenant's action names its node and nic; a drift repair only its switch and port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedAction {
    pub status_id: String,
    /// `PENDING`, `DONE` or `ERROR`.
    pub status: String,
    #[serde(rename = "type")]
    pub action_type: String,
    pub node: Option<String>,
    pub nic: Option<String>,
    pub switch: Option<String>,
    pub port: Option<String>,
    pub channel: String,
    pub new_network: Option<String>,
    pub error: Option<String>,
    /// Failed tries so far (a failed try is retried after a backoff).
    pub attempts: i64,
    /// The worker holding it, while one does.
    pub claimed_by: Option<String>,
}
