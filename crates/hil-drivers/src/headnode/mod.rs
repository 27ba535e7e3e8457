//! Headnodes: small per-project VMs. The `Hypervisor` trait is what the server asks of a
//! virtualisation host; `mock` keeps VMs in memory for development and fast tests. Like the
//! other drivers, these know nothing about the database: the server hands them a VM's name,
//! base image and NICs.

use async_trait::async_trait;

pub mod libvirt;
pub mod mock;

/// One NIC of a headnode VM: untagged on `vlan` (HIL's hnics have no channels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmNic {
    /// The hnic's label, for messages and device names.
    pub label: String,
    /// The network's VLAN id.
    pub vlan: String,
}

/// A headnode VM as HIL creates it: a clone of `base_img` named `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSpec {
    /// The VM's name on the host: `headnode-<uuid>`.
    pub name: String,
    pub base_img: String,
    /// NICs of the hnics that have a network, in hnic order.
    pub nics: Vec<VmNic>,
}

/// Why a hypervisor call failed. `message` is meant for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HypervisorError {
    pub message: String,
}

impl HypervisorError {
    pub fn new(message: impl Into<String>) -> Self {
        HypervisorError {
            message: message.into(),
        }
    }
}

/// What HIL needs from a virtualisation host. Every call must leave no half-made VM behind:
/// a `create` that fails removes what it made.
#[async_trait]
pub trait Hypervisor: Send + Sync {
    /// Clones `base_img` into a new, stopped VM with `spec.nics`.
    async fn create(&self, spec: &VmSpec) -> Result<(), HypervisorError>;
    /// Starts the VM and marks it to start with the host.
    async fn start(&self, name: &str) -> Result<(), HypervisorError>;
    /// Powers the VM off hard and stops it starting with the host.
    async fn stop(&self, name: &str) -> Result<(), HypervisorError>;
    /// Powers the VM off and removes it with its disk and NICs. A VM that does not exist is
    /// not an error.
    async fn delete(&self, name: &str) -> Result<(), HypervisorError>;
    /// The VNC port of a running VM; `None` when it is not running.
    async fn vnc_port(&self, name: &str) -> Result<Option<u16>, HypervisorError>;
}
