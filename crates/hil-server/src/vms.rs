//! The VM service: runs the hypervisor calls headnode operations hand it.
//!
//! HIL's headnode calls answer once the VM has been cloned, started or removed, so, as for
//! BMC requests, an operation submits a call and awaits it. Each call runs in its own task
//! (it completes even if the client goes away), one at a time per VM, bounded by
//! `headnode.command_timeout_secs`; API threads are never blocked.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hil_drivers::headnode::libvirt::{
    HostNetwork, ImageMachine, LibvirtHypervisor, LibvirtOptions,
};
use hil_drivers::headnode::mock::MockHypervisor;
use hil_drivers::headnode::{Hypervisor, HypervisorError, VmSpec};

use crate::config::{Config, HeadnodeBackend, HeadnodeNetwork};
use crate::error::{ApiError, ApiResult};
use crate::keyed_lock::KeyedLocks;

pub struct VmService {
    hypervisor: Arc<dyn Hypervisor>,
    /// The mock backend, when configured, for tests and development.
    pub mock: Option<Arc<MockHypervisor>>,
    timeout: Duration,
    vm_locks: KeyedLocks<String>,
}

impl VmService {
    pub fn new(config: &Config) -> VmService {
        let hn = &config.headnode;
        let (hypervisor, mock): (Arc<dyn Hypervisor>, _) = match hn.backend {
            HeadnodeBackend::Mock => {
                let mock = Arc::new(MockHypervisor::default());
                (mock.clone(), Some(mock))
            }
            HeadnodeBackend::Libvirt => {
                let network = match hn.network {
                    HeadnodeNetwork::Ovs => HostNetwork::Ovs {
                        bridge: hn.ovs_bridge.clone(),
                        ovsdb: config.switches.ovsdb.clone(),
                    },
                    HeadnodeNetwork::LinuxBridge => HostNetwork::LinuxBridge,
                };
                let libvirt = LibvirtHypervisor::new(LibvirtOptions {
                    virsh: hn.virsh.clone(),
                    uri: hn.libvirt_uri.clone(),
                    disk_dir: config.headnode_disk_dir(),
                    vnc_listen: hn.vnc_listen.clone(),
                    network,
                    vm_user: hn.vm_user.clone(),
                    image_machine: ImageMachine {
                        domain_type: hn.image_domain_type.clone(),
                        memory_mib: hn.image_memory_mib,
                        vcpus: hn.image_vcpus,
                    },
                });
                (Arc::new(libvirt), None)
            }
        };
        VmService {
            hypervisor,
            mock,
            timeout: hn.command_timeout(),
            vm_locks: KeyedLocks::default(),
        }
    }

    /// Runs `call` on the hypervisor for VM `vm` in its own task and waits for it.
    async fn run<T, F, Fut>(&self, vm: &str, what: &str, call: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn Hypervisor>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, HypervisorError>> + Send,
    {
        let hypervisor = self.hypervisor.clone();
        let lock = self.vm_locks.of(&vm.to_string());
        let limit = self.timeout;
        let task = tokio::spawn(async move {
            let _turn = lock.lock_owned().await;
            match tokio::time::timeout(limit, call(hypervisor)).await {
                Ok(result) => result,
                Err(_) => Err(HypervisorError::new(format!(
                    "the hypervisor did not answer within {} s",
                    limit.as_secs_f32()
                ))),
            }
        });
        let outcome = task
            .await
            .map_err(|e| ApiError::Internal(format!("VM task failed: {e}")))?;
        outcome.map_err(|e| {
            tracing::warn!(%vm, "{what} failed: {e}");
            ApiError::Hypervisor(format!("{what} of {vm} failed: {e}"))
        })
    }

    /// Clones and starts a VM; a VM that was cloned but failed to start is removed again.
    pub async fn create_and_start(&self, spec: VmSpec) -> ApiResult<()> {
        let name = spec.name.clone();
        self.run(&name, "headnode start", move |h| async move {
            h.create(&spec).await?;
            if let Err(e) = h.start(&spec.name).await {
                let _ = h.delete(&spec.name).await;
                return Err(e);
            }
            Ok(())
        })
        .await
    }

    pub async fn start(&self, vm: &str) -> ApiResult<()> {
        let name = vm.to_string();
        self.run(vm, "headnode start", move |h| async move {
            h.start(&name).await
        })
        .await
    }

    pub async fn stop(&self, vm: &str) -> ApiResult<()> {
        let name = vm.to_string();
        self.run(
            vm,
            "headnode stop",
            move |h| async move { h.stop(&name).await },
        )
        .await
    }

    pub async fn delete(&self, vm: &str) -> ApiResult<()> {
        let name = vm.to_string();
        self.run(vm, "headnode delete", move |h| async move {
            h.delete(&name).await
        })
        .await
    }

    pub async fn vnc_port(&self, vm: &str) -> ApiResult<Option<u16>> {
        let name = vm.to_string();
        self.run(
            vm,
            "VNC lookup",
            move |h| async move { h.vnc_port(&name).await },
        )
        .await
    }
}
