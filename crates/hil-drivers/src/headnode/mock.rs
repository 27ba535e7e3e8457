//! The mock hypervisor: VMs in memory. Running VMs get VNC ports from 5900 up. A base image
//! named `broken` fails to clone, which lets tests see that a failed create leaves nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Hypervisor, HypervisorError, VmSpec};

#[derive(Debug, Clone)]
pub struct MockVm {
    pub spec: VmSpec,
    pub running: bool,
    pub autostart: bool,
    pub vnc_port: Option<u16>,
}

#[derive(Default)]
pub struct MockHypervisor {
    vms: Mutex<BTreeMap<String, MockVm>>,
}

impl MockHypervisor {
    /// A copy of every VM, by name (for tests and the development server's logs).
    pub fn vms(&self) -> BTreeMap<String, MockVm> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, MockVm>> {
        self.vms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_vm<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut MockVm, &BTreeMap<String, MockVm>) -> T,
    ) -> Result<T, HypervisorError> {
        let mut vms = self.lock();
        let others = vms.clone();
        let vm = vms
            .get_mut(name)
            .ok_or_else(|| HypervisorError::new(format!("no VM named {name}")))?;
        Ok(f(vm, &others))
    }
}

#[async_trait]
impl Hypervisor for MockHypervisor {
    async fn create(&self, spec: &VmSpec) -> Result<(), HypervisorError> {
        if spec.base_img == "broken" {
            return Err(HypervisorError::new("cannot clone base image broken"));
        }
        let mut vms = self.lock();
        if vms.contains_key(&spec.name) {
            return Err(HypervisorError::new(format!(
                "a VM named {} exists",
                spec.name
            )));
        }
        vms.insert(
            spec.name.clone(),
            MockVm {
                spec: spec.clone(),
                running: false,
                autostart: false,
                vnc_port: None,
            },
        );
        Ok(())
    }

    async fn start(&self, name: &str) -> Result<(), HypervisorError> {
        self.with_vm(name, |vm, others| {
            if !vm.running {
                let used: Vec<u16> = others.values().filter_map(|v| v.vnc_port).collect();
                vm.vnc_port = (5900..).find(|p| !used.contains(p));
                vm.running = true;
            }
            vm.autostart = true;
        })
    }

    async fn stop(&self, name: &str) -> Result<(), HypervisorError> {
        self.with_vm(name, |vm, _| {
            vm.running = false;
            vm.autostart = false;
            vm.vnc_port = None;
        })
    }

    async fn delete(&self, name: &str) -> Result<(), HypervisorError> {
        self.lock().remove(name);
        Ok(())
    }

    async fn vnc_port(&self, name: &str) -> Result<Option<u16>, HypervisorError> {
        Ok(self.lock().get(name).and_then(|vm| vm.vnc_port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, base: &str) -> VmSpec {
        VmSpec {
            name: name.into(),
            base_img: base.into(),
            nics: vec![],
        }
    }

    #[tokio::test]
    async fn vms_start_with_distinct_vnc_ports_and_stop_without() {
        let h = MockHypervisor::default();
        h.create(&spec("a", "img")).await.unwrap();
        h.create(&spec("b", "img")).await.unwrap();
        assert_eq!(h.vnc_port("a").await.unwrap(), None);
        h.start("a").await.unwrap();
        h.start("b").await.unwrap();
        assert_eq!(h.vnc_port("a").await.unwrap(), Some(5900));
        assert_eq!(h.vnc_port("b").await.unwrap(), Some(5901));
        h.stop("a").await.unwrap();
        assert_eq!(h.vnc_port("a").await.unwrap(), None);
        h.delete("a").await.unwrap();
        h.delete("a").await.unwrap();
        assert_eq!(h.vms().len(), 1);
        assert!(h.create(&spec("c", "broken")).await.is_err());
        assert!(!h.vms().contains_key("c"));
    }
}
