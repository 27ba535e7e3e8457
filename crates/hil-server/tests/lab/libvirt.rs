//! A real libvirtd with QEMU for headnode tests: `qemu:///session` run as `nobody` (system
//! mode needs a `libvirt-qemu` user this image lacks), QEMU and a tiny busybox guest built from
//! Debian packages by `lab/build_guest.sh`, and one powered-off template domain that boots the
//! guest's kernel directly. The guest brings `eth0` up as `GUEST_IP` and reports on its serial
//! console (`HIL-HEADNODE-NET-UP`, then `HIL-HEADNODE-BOOTED`). Needs root (taps, runuser) and
//! libvirt's client and daemon packages.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const GUEST_IP: &str = "10.77.0.10";
pub const VM_USER: &str = "nobody";

pub struct LibvirtLab {
    pub dir: tempfile::TempDir,
    /// The base image (template domain) headnodes are cloned from.
    pub template: String,
}

/// Where `lab/build_guest.sh` keeps QEMU and the guest: readable by `nobody`.
pub fn guest_dir() -> PathBuf {
    std::env::var_os("HIL_HEADNODE_LAB")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/hil-lab/headnode"))
}

impl LibvirtLab {
    /// Builds the guest if needed and defines the template, or returns None (see
    /// `super::available`) when this machine cannot run VMs.
    pub fn start() -> Option<LibvirtLab> {
        let missing = if super::is_root() {
            super::missing_program(&["virsh", "libvirtd", "qemu-img", "runuser", "busybox"])
        } else {
            Some("needs root for taps and runuser".into())
        };
        if !super::available("libvirt", missing) {
            return None;
        }
        let guest = guest_dir();
        let built = Command::new(super::scripts_dir().join("build_guest.sh"))
            .arg(&guest)
            .output()
            .expect("run build_guest.sh");
        assert!(
            built.status.success(),
            "build_guest.sh failed: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        // QEMU opens the taps HIL makes for it; this image ships /dev/net/tun root-only.
        super::must("chmod", &["666", "/dev/net/tun"]);
        let dir = tempfile::Builder::new()
            .prefix("hil-lv-")
            .tempdir_in("/tmp")
            .unwrap();
        for sub in ["lv", "disks"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let lab = LibvirtLab {
            template: format!("hil-base-{}", std::process::id()),
            dir,
        };
        lab.write_virsh_wrapper();
        let disk = lab.dir.path().join("base.raw");
        super::must(
            "qemu-img",
            &["create", "-q", "-f", "raw", disk.to_str().unwrap(), "16M"],
        );
        super::must("chown", &["-R", VM_USER, lab.dir.path().to_str().unwrap()]);
        let xml = lab.dir.path().join("template.xml");
        std::fs::write(&xml, template_xml(&lab.template, &guest, &disk)).unwrap();
        lab.virsh(&["define", xml.to_str().unwrap()]);
        Some(lab)
    }

    /// The `virsh` wrapper HIL is configured with: session mode as `nobody`, with the XDG
    /// directories inside the lab.
    pub fn virsh_wrapper(&self) -> PathBuf {
        self.dir.path().join("virsh")
    }

    pub fn disk_dir(&self) -> PathBuf {
        self.dir.path().join("disks")
    }

    fn write_virsh_wrapper(&self) {
        let lv = self.dir.path().join("lv");
        let lv = lv.display();
        let script = format!(
            "#!/bin/sh\nexec runuser -u {VM_USER} -- env HOME={lv} XDG_RUNTIME_DIR={lv}/run \
             XDG_CONFIG_HOME={lv}/.config XDG_CACHE_HOME={lv}/.cache \
             XDG_DATA_HOME={lv}/.local/share virsh \"$@\"\n"
        );
        let path = self.virsh_wrapper();
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs virsh in the lab's session (independently of HIL) and returns its output.
    pub fn virsh(&self, args: &[&str]) -> String {
        let mut full = vec!["-c", "qemu:///session"];
        full.extend_from_slice(args);
        super::must(self.virsh_wrapper().to_str().unwrap(), &full)
    }

    /// Every domain the session knows, by name.
    pub fn domains(&self) -> Vec<String> {
        self.virsh(&["list", "--all", "--name"])
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    /// The files in the disk directory that belong to VM `name` (overlays, definition, log).
    pub fn files_of(&self, name: &str) -> Vec<String> {
        std::fs::read_dir(self.disk_dir())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.starts_with(name))
            .collect()
    }

    /// The serial console output of VM `name` so far.
    pub fn console(&self, name: &str) -> String {
        std::fs::read_to_string(self.disk_dir().join(format!("{name}.console.log")))
            .unwrap_or_default()
    }

    /// Waits until VM `name`'s guest says on its console that its eth0 carries its address
    /// (`HIL-HEADNODE-NET-UP`, see `lab/build_guest.sh`) and returns the console so far.
    /// Panics with the whole console when the guest reports a failure or `limit` passes.
    pub async fn wait_for_network(&self, name: &str, limit: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let console = self.console(name);
            if console.contains("HIL-HEADNODE-NET-UP") {
                return console;
            }
            let failed = console.contains("HIL-HEADNODE-NET-FAILED")
                || console.contains("HIL-HEADNODE-MODULE-FAILED");
            if failed && console.contains("HIL-HEADNODE-BOOTED") {
                panic!("the guest's network did not come up; console:\n{console}");
            }
            if std::time::Instant::now() > deadline {
                panic!("no network after {limit:?}; console:\n{console}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// The session daemons run as `nobody` and write their pids under the lab.
    fn daemon_pids(&self) -> Vec<u32> {
        ["libvirtd.pid", "virtlogd.pid"]
            .iter()
            .filter_map(|f| {
                std::fs::read_to_string(self.dir.path().join("lv/run/libvirt").join(f)).ok()
            })
            .filter_map(|p| p.trim().parse().ok())
            .collect()
    }
}

impl Drop for LibvirtLab {
    fn drop(&mut self) {
        for name in self.domains() {
            let _ = super::run(
                self.virsh_wrapper().to_str().unwrap(),
                &["-c", "qemu:///session", "destroy", &name],
            );
            let _ = super::run(
                self.virsh_wrapper().to_str().unwrap(),
                &["-c", "qemu:///session", "undefine", &name],
            );
        }
        for pid in self.daemon_pids() {
            super::kill(pid);
        }
    }
}

/// A powered-off domain that boots the guest's kernel directly, with one raw disk (which
/// headnodes get a copy-on-write overlay of).
fn template_xml(name: &str, guest: &Path, disk: &Path) -> String {
    let g = guest.display();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>192</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{g}/guest/vmlinuz</kernel>\
         <initrd>{g}/guest/initrd.gz</initrd>\
         <cmdline>console=ttyS0 hil_ip={GUEST_IP}/24</cmdline></os>\
         <devices><emulator>{g}/qemu/qemu-wrap.sh</emulator>\
         <disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
         <memballoon model='none'/></devices></domain>",
        disk.display()
    )
}
