//! Out-of-band management: the `ObmDriver` trait, what a BMC can do (`Bmc`), serial consoles,
//! and the drivers (`ipmi`, `redfish`, `mock`). Like switch drivers, these know BMCs and
//! nothing about the database: the server hands them a node's registration (`ObmSpec`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub mod ipmi;
pub mod mock;
pub mod obmd;
pub mod redfish;

pub use crate::registration::{
    check_members, is_secret_member, public_members, redact_secrets, OptionalMember,
};

/// Settings every OBM driver honours, from the server's `[obm]` config.
#[derive(Debug, Clone)]
pub struct ObmOptions {
    /// Limit for one BMC call (an `ipmitool` run, an HTTP request), connecting included.
    pub command_timeout: Duration,
    /// The `ipmitool` program.
    pub ipmitool: String,
    /// IPMI 2.0 cipher suite (`ipmitool -C`) for nodes that do not name one. 3 is
    /// RAKP-HMAC-SHA1 with AES-CBC-128, which every IPMI 2.0 BMC supports; naming it also
    /// skips the cipher-suite query that some BMCs do not implement.
    pub ipmi_cipher_suite: u8,
}

impl Default for ObmOptions {
    fn default() -> Self {
        ObmOptions {
            command_timeout: Duration::from_secs(20),
            ipmitool: "ipmitool".into(),
            ipmi_cipher_suite: 3,
        }
    }
}

/// A node's OBM registration as a driver sees it: the node's label and the members given in
/// `{"obm": {...}}` other than `type` (secrets included; drivers must never log them).
#[derive(Clone)]
pub struct ObmSpec {
    pub node: String,
    pub config: Map<String, Value>,
}

impl ObmSpec {
    /// A string member, e.g. `host`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.config.get(key).and_then(Value::as_str)
    }

    /// `text` with this node's BMC secrets replaced by `********`.
    pub fn redact(&self, text: &str) -> String {
        redact_secrets(&self.config, text)
    }
}

impl fmt::Debug for ObmSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config holds the BMC password; only the node is safe to print.
        f.debug_struct("ObmSpec")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// Where a node boots from next (HIL's `bootdev` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootDevice {
    Pxe,
    Disk,
    /// No override: the BMC's own boot order.
    None,
}

impl BootDevice {
    pub fn parse(text: &str) -> Option<BootDevice> {
        match text {
            "pxe" => Some(BootDevice::Pxe),
            "disk" => Some(BootDevice::Disk),
            "none" => Some(BootDevice::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BootDevice::Pxe => "pxe",
            BootDevice::Disk => "disk",
            BootDevice::None => "none",
        }
    }
}

/// A node's power as HIL reports it (`"on"` / `"off"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    On,
    Off,
}

impl PowerState {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::On => "on",
            PowerState::Off => "off",
        }
    }
}

/// Why a BMC call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObmErrorKind {
    /// The BMC answered and refused (bad value, unsupported reset, error status).
    Rejected,
    /// The BMC could not be reached, or refused the session.
    Unreachable,
    /// The BMC did not answer in time.
    Timeout,
    /// The credentials were refused.
    Auth,
    /// This BMC type cannot do that (e.g. a serial console over Redfish).
    Unsupported,
}

/// A BMC error. `message` is meant for the caller and must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ObmError {
    pub kind: ObmErrorKind,
    pub message: String,
}

impl ObmError {
    pub fn new(kind: ObmErrorKind, message: impl Into<String>) -> Self {
        ObmError {
            kind,
            message: message.into(),
        }
    }

    pub fn timeout(what: &str, limit: Duration) -> Self {
        ObmError::new(
            ObmErrorKind::Timeout,
            format!("{what} did not answer within {} s", limit.as_secs_f32()),
        )
    }
}

/// An OBM type: validates registrations and builds BMC handles.
pub trait ObmDriver: Send + Sync {
    /// The `type` of `{"obm": {...}}`, e.g. `http://schema.massopencloud.org/haas/v0/obm/ipmi`.
    fn type_uri(&self) -> &'static str;
    /// The short name used in config and the CLI, e.g. `ipmi`.
    fn name(&self) -> &'static str;
    /// Checks the members of a registration other than `type` (a closed schema). The error
    /// says which member is wrong, without echoing values.
    fn validate(&self, config: &Map<String, Value>) -> Result<(), String>;
    /// A handle on one node's BMC. Does no I/O.
    fn bmc(&self, spec: &ObmSpec, options: &ObmOptions) -> Result<Arc<dyn Bmc>, ObmError>;
}

/// What HIL asks of a node's BMC. Every call is bounded by `ObmOptions::command_timeout`.
#[async_trait]
pub trait Bmc: Send + Sync {
    async fn power_on(&self) -> Result<(), ObmError>;
    /// Hard power off.
    async fn power_off(&self) -> Result<(), ObmError>;
    /// Restarts the node: a hard reset when `force`, else the BMC's power cycle or graceful
    /// restart. A node that is off is powered on.
    async fn power_cycle(&self, force: bool) -> Result<(), ObmError>;
    async fn power_status(&self) -> Result<PowerState, ObmError>;
    /// Sets the boot device, persistently where the BMC supports it.
    async fn set_bootdev(&self, device: BootDevice) -> Result<(), ObmError>;
    /// Whether `open_console` can work at all for this BMC type.
    fn has_console(&self) -> bool {
        false
    }
    /// Starts a serial-over-LAN session, taking over a stale one if the BMC has it.
    async fn open_console(&self) -> Result<Box<dyn ConsoleSession>, ObmError> {
        Err(ObmError::new(
            ObmErrorKind::Unsupported,
            "this node's BMC type has no serial console",
        ))
    }
}

/// A live serial console.
#[async_trait]
pub trait ConsoleSession: Send {
    /// The next piece of output, or `None` once the session has ended.
    async fn next_output(&mut self) -> Result<Option<Vec<u8>>, ObmError>;
    /// Ends the session and frees the BMC's serial payload for the next one.
    async fn close(self: Box<Self>);
}

/// Every OBM driver this build has.
pub fn all_drivers() -> Vec<Arc<dyn ObmDriver>> {
    vec![
        Arc::new(mock::MockObm),
        Arc::new(ipmi::IpmiObm),
        Arc::new(redfish::RedfishObm),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn specs_do_not_print_their_secrets() {
        let spec = ObmSpec {
            node: "n1".into(),
            config: map(json!({"host": "bmc", "password": "calvin"})),
        };
        assert!(!format!("{spec:?}").contains("calvin"));
        assert_eq!(spec.redact("pw calvin"), "pw ********");
    }

    #[test]
    fn boot_devices_are_hils_three() {
        for name in ["pxe", "disk", "none"] {
            assert_eq!(BootDevice::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(BootDevice::parse("cdrom"), None);
    }
}
