//! The `Switch` driver trait and the registry of switch types.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

pub mod mock;

/// A registered switch as the worker hands it to a driver: its label and the driver-specific
/// members given at `switch_register` (secrets included; drivers must never log them).
#[derive(Clone)]
pub struct SwitchSpec {
    pub label: String,
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for SwitchSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config holds passwords; only the label is safe to print.
        f.debug_struct("SwitchSpec")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// One change to one port, as the worker asks a session to apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortChange {
    /// Put `network_id` on `channel` of `port`, or take whatever is there off when `None`.
    Modify {
        port: String,
        channel: String,
        network_id: Option<String>,
    },
    /// Remove every network from `port`.
    Revert { port: String },
}

/// What a port carries: channel → network id.
pub type PortState = BTreeMap<String, String>;

/// Why a switch refused or failed a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchErrorKind {
    /// The switch answered and said no (bad VLAN, bad port, error output). Retrying won't help.
    Rejected,
    /// The switch could not be reached.
    Unreachable,
    /// The switch did not answer in time.
    Timeout,
    /// Login or enable failed.
    Auth,
}

/// A driver error. `message` is meant for operators and must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SwitchError {
    pub kind: SwitchErrorKind,
    pub message: String,
}

impl SwitchError {
    pub fn new(kind: SwitchErrorKind, message: impl Into<String>) -> Self {
        SwitchError {
            kind,
            message: message.into(),
        }
    }

    /// Transient errors are worth a retry; the switch may come back.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            SwitchErrorKind::Unreachable | SwitchErrorKind::Timeout
        )
    }
}

/// A switch type: validates registrations and opens sessions.
#[async_trait]
pub trait SwitchDriver: Send + Sync {
    /// HIL's type URI, e.g. `http://schema.massopencloud.org/haas/v0/switches/mock`.
    fn type_uri(&self) -> &'static str;
    /// HIL's extension module name, e.g. `hil.ext.switches.mock`.
    fn extension_name(&self) -> &'static str;
    /// Capabilities reported by `show_switch`, e.g. `nativeless-trunk-mode`.
    fn capabilities(&self) -> &'static [&'static str];
    /// Checks the driver-specific members of `switch_register` (a closed schema).
    fn validate_config(&self, config: &serde_json::Map<String, serde_json::Value>) -> bool;
    /// Checks a port name at `switch_register_port`.
    fn validate_port_name(&self, name: &str) -> bool;
    /// Opens a session on one switch.
    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError>;
}

/// A live connection to one switch. The worker applies a batch of changes through it.
#[async_trait]
pub trait SwitchSession: Send {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError>;
    /// Reads back what the switch really has on `port`.
    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError>;
    async fn close(self: Box<Self>) -> Result<(), SwitchError>;
}

/// Checks that `config` has exactly the string members `keys` (HIL's closed driver schemas).
pub fn has_exactly_string_members(
    config: &serde_json::Map<String, serde_json::Value>,
    keys: &[&str],
) -> bool {
    config.len() == keys.len()
        && keys
            .iter()
            .all(|k| config.get(*k).is_some_and(|v| v.is_string()))
}
