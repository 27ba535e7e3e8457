//! The `Switch` driver trait and the registry of switch types.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub mod cli;
pub mod mock;
pub mod netconf;
pub mod ovs;
pub mod rest;

/// Settings every real driver honours, from the server's `[switches]` config.
#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// Limit for opening a connection (TCP plus SSH or TLS handshake).
    pub connect_timeout: Duration,
    /// Limit for one command, login step or HTTP request.
    pub command_timeout: Duration,
    /// Whether `save()` copies the running configuration to the startup configuration.
    pub save: bool,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            save: true,
        }
    }
}

/// A registered switch as the worker hands it to a driver: its label and the driver-specific
/// members given at `switch_register` (secrets included; drivers must never log them).
#[derive(Clone)]
pub struct SwitchSpec {
    pub label: String,
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl SwitchSpec {
    /// A string member of the registration, e.g. `hostname`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.config.get(key).and_then(|v| v.as_str())
    }

    /// `text` with every secret of this switch replaced by `********`.
    pub fn redact(&self, text: &str) -> String {
        crate::registration::redact_secrets(&self.config, text)
    }
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
        /// The network id HIL believes is on `channel` now (from `network_attachment`), which
        /// CLI switches need to take an old native VLAN off.
        previous: Option<String>,
    },
    /// Remove every network from `port`.
    Revert { port: String },
}

impl PortChange {
    pub fn port(&self) -> &str {
        match self {
            PortChange::Modify { port, .. } | PortChange::Revert { port } => port,
        }
    }

    /// What this change means on an 802.1q switch. Fails (Rejected) for channels that are not
    /// `vlan/native` or `vlan/<id>`, or for network ids that are not VLAN numbers.
    pub fn vlan_op(&self) -> Result<VlanOp, SwitchError> {
        let PortChange::Modify {
            channel,
            network_id,
            previous,
            ..
        } = self
        else {
            return Ok(VlanOp::Revert);
        };
        let previous = previous.as_deref().map(parse_vlan).transpose()?;
        if channel == "vlan/native" {
            return Ok(match network_id {
                Some(id) => VlanOp::SetNative {
                    vlan: parse_vlan(id)?,
                    previous,
                },
                None => VlanOp::RemoveNative { vlan: previous },
            });
        }
        let tagged = channel
            .strip_prefix("vlan/")
            .ok_or_else(|| rejected(format!("channel {channel:?} is not a VLAN channel")))
            .and_then(parse_vlan)?;
        match network_id {
            Some(id) if parse_vlan(id)? != tagged => Err(rejected(format!(
                "network {id} cannot be carried on channel {channel}"
            ))),
            Some(_) => Ok(VlanOp::AddTagged { vlan: tagged }),
            None => Ok(VlanOp::RemoveTagged { vlan: tagged }),
        }
    }
}

/// A port change in 802.1q terms, which is what real switches are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VlanOp {
    /// Make `vlan` the untagged (native) VLAN; `previous` is the native VLAN it replaces.
    SetNative {
        vlan: u16,
        previous: Option<u16>,
    },
    /// Drop the native VLAN (`vlan` when known).
    RemoveNative {
        vlan: Option<u16>,
    },
    AddTagged {
        vlan: u16,
    },
    RemoveTagged {
        vlan: u16,
    },
    /// Take every VLAN off the port.
    Revert,
}

/// The highest VLAN id any driver accepts; switches narrow this further.
pub const MAX_VLAN: u16 = 4094;

/// Parses a VLAN id as HIL's vlan_pool hands it over (a decimal string, 1..=4094).
pub fn parse_vlan(text: &str) -> Result<u16, SwitchError> {
    text.parse::<u16>()
        .ok()
        .filter(|v| (1..=MAX_VLAN).contains(v))
        .ok_or_else(|| rejected(format!("{text:?} is not a VLAN id")))
}

fn rejected(message: String) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Rejected, message)
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
    /// Makes the changes so far survive a reboot (`copy running-config startup-config`).
    /// The worker calls it once per batch when saving is enabled; switches without a separate
    /// startup configuration have nothing to do.
    async fn save(&mut self) -> Result<(), SwitchError> {
        Ok(())
    }
    async fn close(self: Box<Self>) -> Result<(), SwitchError>;
}

pub use crate::registration::has_exactly_string_members;

#[cfg(test)]
mod tests {
    use super::*;

    fn modify(channel: &str, id: Option<&str>, previous: Option<&str>) -> PortChange {
        PortChange::Modify {
            port: "p".into(),
            channel: channel.into(),
            network_id: id.map(String::from),
            previous: previous.map(String::from),
        }
    }

    #[test]
    fn changes_become_vlan_operations() {
        let op = |c: PortChange| c.vlan_op().unwrap();
        assert_eq!(
            op(modify("vlan/native", Some("100"), Some("90"))),
            VlanOp::SetNative {
                vlan: 100,
                previous: Some(90)
            }
        );
        assert_eq!(
            op(modify("vlan/native", None, Some("100"))),
            VlanOp::RemoveNative { vlan: Some(100) }
        );
        assert_eq!(
            op(modify("vlan/200", Some("200"), None)),
            VlanOp::AddTagged { vlan: 200 }
        );
        assert_eq!(
            op(modify("vlan/200", None, Some("200"))),
            VlanOp::RemoveTagged { vlan: 200 }
        );
        assert_eq!(op(PortChange::Revert { port: "p".into() }), VlanOp::Revert);
    }

    #[test]
    fn changes_a_vlan_switch_cannot_carry_are_refused() {
        for bad in [
            modify("null", Some("x"), None),
            modify("vlan/200", Some("300"), None),
            modify("vlan/native", Some("0"), None),
            modify("vlan/native", Some("4095"), None),
            modify("vlan/abc", None, None),
        ] {
            let err = bad.vlan_op().unwrap_err();
            assert_eq!(err.kind, SwitchErrorKind::Rejected, "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_redacted() {
        let spec = SwitchSpec {
            label: "sw".into(),
            config: serde_json::json!({"hostname": "h", "password": "s3cret", "username": "u"})
                .as_object()
                .unwrap()
                .clone(),
        };
        assert_eq!(
            spec.redact("login as u with s3cret failed"),
            "login as u with ******** failed"
        );
        assert!(!format!("{spec:?}").contains("s3cret"));
    }
}
