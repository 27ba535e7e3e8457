//! Headnodes on libvirt, through `virsh`, `qemu-img` and, for Open vSwitch networking,
//! `ip` and `ovs-vsctl`.
//!
//! A base image is a powered-off libvirt domain (HIL's model). Creating a headnode reads the
//! template's definition, gives each of its disks a copy-on-write qcow2 overlay, and defines a
//! new domain named after the headnode with those overlays, one NIC per connected hnic, a
//! serial console logged to a file, and VNC on the configured address. Every step is undone
//! if a later one fails, so a failed create leaves nothing behind.
//!
//! Why `virsh` rather than the `virt` crate: it needs no libvirt development files at build
//! time (the server must build on a bare machine), it speaks to any libvirt version, and an
//! operator can replay every command by hand. A call costs ~20 ms more than a library call;
//! headnode operations are rare and clone disks, so that does not matter.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::process::Command;

use super::{Hypervisor, HypervisorError, VmNic, VmSpec};
use crate::xml;

/// How a headnode's NICs reach the project networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostNetwork {
    /// A tap per NIC, made by HIL, on an Open vSwitch bridge as an access port of the
    /// network's VLAN. The bridge reaches the switches through its uplink (a trunk).
    Ovs {
        bridge: String,
        /// `ovs-vsctl --db=` value: `unix:/run/openvswitch/db.sock` or `tcp:host:port`.
        ovsdb: String,
    },
    /// HIL's original layout: a Linux bridge `br-vlan<N>` per VLAN, made by the operator;
    /// libvirt adds the VM's tap to it.
    LinuxBridge,
}

#[derive(Debug, Clone)]
pub struct LibvirtOptions {
    /// The `virsh` command, possibly with a prefix (e.g. `runuser -u qemu -- virsh`).
    pub virsh: Vec<String>,
    /// e.g. `qemu:///system`.
    pub uri: String,
    /// Where overlay disks, definitions and console logs go.
    pub disk_dir: PathBuf,
    /// Address VNC listens on.
    pub vnc_listen: String,
    pub network: HostNetwork,
    /// The user QEMU runs as, when HIL must hand it taps and disk files (`qemu:///session`);
    /// `None` with `qemu:///system`, where libvirt does that itself.
    pub vm_user: Option<String>,
    /// The machine of headnodes whose base image is a disk image rather than a domain.
    pub image_machine: ImageMachine,
}

/// The VM built around a disk-image base (an absolute path in `base_imgs`): it boots that
/// disk's copy-on-write overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageMachine {
    /// libvirt domain type: `kvm`, or `qemu` where there is no KVM.
    pub domain_type: String,
    pub memory_mib: u64,
    pub vcpus: u32,
}

pub struct LibvirtHypervisor {
    options: LibvirtOptions,
}

/// What a new headnode takes from its template domain.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    domain_type: String,
    memory_kib: u64,
    vcpus: String,
    /// Copied verbatim: `<os>`, and `<features>`/`<cpu>` when present.
    verbatim: Vec<String>,
    emulator: Option<String>,
    disks: Vec<TemplateDisk>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TemplateDisk {
    source: String,
    format: String,
    target: String,
    bus: String,
}

/// Something a failed create must take back.
enum Undo {
    File(PathBuf),
    Tap(String),
    Domain(String),
}

fn error(message: impl Into<String>) -> HypervisorError {
    HypervisorError::new(message)
}

fn parse_template(name: &str, xml: &str) -> Result<Template, HypervisorError> {
    let bad = |why: &str| error(format!("base image {name}: {why}"));
    let doc = roxmltree::Document::parse(xml).map_err(|e| bad(&format!("bad XML: {e}")))?;
    let domain = doc.root_element();
    let child = |tag: &str| domain.children().find(|n| n.has_tag_name(tag));
    let memory = child("memory").ok_or_else(|| bad("no <memory>"))?;
    let amount: u64 = memory
        .text()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| bad("unreadable <memory>"))?;
    let memory_kib = match memory.attribute("unit").unwrap_or("KiB") {
        "KiB" | "k" | "K" => amount,
        "MiB" | "M" => amount * 1024,
        "GiB" | "G" => amount * 1024 * 1024,
        other => return Err(bad(&format!("memory unit {other} is not supported"))),
    };
    let verbatim = ["os", "features", "cpu"]
        .iter()
        .filter_map(|tag| child(tag))
        .map(|n| xml[n.range()].to_string())
        .collect();
    let devices = child("devices");
    let emulator = devices
        .and_then(|d| d.children().find(|n| n.has_tag_name("emulator")))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string());
    let mut disks = Vec::new();
    for disk in devices
        .into_iter()
        .flat_map(|d| d.children())
        .filter(|n| n.has_tag_name("disk") && n.attribute("device").unwrap_or("disk") == "disk")
    {
        let find = |tag: &str| disk.children().find(|n| n.has_tag_name(tag));
        let source = find("source")
            .and_then(|s| s.attribute("file"))
            .ok_or_else(|| bad("only file-backed disks can be cloned"))?;
        let target = find("target").ok_or_else(|| bad("a disk has no <target>"))?;
        disks.push(TemplateDisk {
            source: source.to_string(),
            format: find("driver")
                .and_then(|d| d.attribute("type"))
                .unwrap_or("raw")
                .to_string(),
            target: target.attribute("dev").unwrap_or("vda").to_string(),
            bus: target.attribute("bus").unwrap_or("virtio").to_string(),
        });
    }
    Ok(Template {
        domain_type: domain.attribute("type").unwrap_or("kvm").to_string(),
        memory_kib,
        vcpus: child("vcpu")
            .and_then(|n| n.text())
            .unwrap_or("1")
            .trim()
            .to_string(),
        verbatim,
        emulator,
        disks,
    })
}

/// The template of a headnode cloned from a disk image of `format`: the machine from the
/// config, booting the image from its first disk.
fn image_template(path: &str, format: &str, machine: &ImageMachine) -> Template {
    Template {
        domain_type: machine.domain_type.clone(),
        memory_kib: machine.memory_mib * 1024,
        vcpus: machine.vcpus.to_string(),
        verbatim: vec![
            "<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>".into(),
            "<features><acpi/><apic/></features>".into(),
        ],
        emulator: None,
        disks: vec![TemplateDisk {
            source: path.to_string(),
            format: format.to_string(),
            target: "vda".into(),
            bus: "virtio".into(),
        }],
    }
}

/// The tap of a headnode's `index`th NIC: `hn` + 11 hex digits of its uuid + the index, within
/// Linux's 15-character limit and recognisable when the VM is deleted.
pub fn tap_name(vm: &str, index: usize) -> String {
    format!("{}{index}", tap_prefix(vm))
}

fn tap_prefix(vm: &str) -> String {
    let hex = uuid_hex(vm);
    format!("hn{}", &hex[..hex.len().min(11)])
}

/// The hex digits of the uuid in a headnode VM's name (`headnode-<uuid>`).
fn uuid_hex(vm: &str) -> String {
    vm.trim_start_matches("headnode-")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect()
}

/// A stable MAC for a headnode NIC, in QEMU's locally administered range.
fn mac_address(vm: &str, index: usize) -> String {
    let hex = format!("{:0<6}", uuid_hex(vm));
    format!(
        "52:54:{}:{}:{}:{:02x}",
        &hex[0..2],
        &hex[2..4],
        &hex[4..6],
        index
    )
}

impl LibvirtHypervisor {
    pub fn new(options: LibvirtOptions) -> LibvirtHypervisor {
        LibvirtHypervisor { options }
    }

    fn overlay_path(&self, vm: &str, disk: &TemplateDisk) -> PathBuf {
        self.options
            .disk_dir
            .join(format!("{vm}-{}.qcow2", disk.target))
    }

    fn console_log(&self, vm: &str) -> PathBuf {
        self.options.disk_dir.join(format!("{vm}.console.log"))
    }

    fn definition_file(&self, vm: &str) -> PathBuf {
        self.options.disk_dir.join(format!("{vm}.xml"))
    }

    /// Runs `virsh -c <uri> <args>`; the error carries virsh's own complaint.
    async fn virsh(&self, args: &[&str]) -> Result<String, HypervisorError> {
        let (program, prefix) = self
            .options
            .virsh
            .split_first()
            .ok_or_else(|| error("headnode.virsh is empty"))?;
        let mut cmd = Command::new(program);
        cmd.args(prefix).args(["-c", &self.options.uri]).args(args);
        run(cmd, &format!("virsh {}", args.join(" "))).await
    }

    fn domain_xml(&self, spec: &VmSpec, template: &Template) -> String {
        let mut devices = String::new();
        if let Some(emulator) = &template.emulator {
            devices += &format!("    <emulator>{}</emulator>\n", xml::escape(emulator));
        }
        for disk in &template.disks {
            devices += &format!(
                "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
                 <source file='{}'/><target dev='{}' bus='{}'/></disk>\n",
                xml::escape(&self.overlay_path(&spec.name, disk).to_string_lossy()),
                xml::escape(&disk.target),
                xml::escape(&disk.bus)
            );
        }
        for (index, nic) in spec.nics.iter().enumerate() {
            devices += &self.interface_xml(&spec.name, index, nic);
        }
        devices += &format!(
            "    <serial type='pty'><log file='{}' append='on'/><target port='0'/></serial>\n\
             \x20   <console type='pty'/>\n\
             \x20   <graphics type='vnc' autoport='yes' listen='{}'/>\n",
            xml::escape(&self.console_log(&spec.name).to_string_lossy()),
            xml::escape(&self.options.vnc_listen)
        );
        format!(
            "<domain type='{}'>\n  <name>{}</name>\n  <memory unit='KiB'>{}</memory>\n  \
             <vcpu>{}</vcpu>\n  {}\n  <devices>\n{devices}  </devices>\n</domain>\n",
            xml::escape(&template.domain_type),
            xml::escape(&spec.name),
            template.memory_kib,
            xml::escape(&template.vcpus),
            template.verbatim.join("\n  ")
        )
    }

    fn interface_xml(&self, vm: &str, index: usize, nic: &VmNic) -> String {
        let mac = mac_address(vm, index);
        match &self.options.network {
            HostNetwork::Ovs { .. } => format!(
                "    <interface type='ethernet'><mac address='{mac}'/>\
                 <target dev='{}' managed='no'/><model type='virtio'/></interface>\n",
                tap_name(vm, index)
            ),
            HostNetwork::LinuxBridge => format!(
                "    <interface type='bridge'><mac address='{mac}'/>\
                 <source bridge='br-vlan{}'/><model type='virtio'/></interface>\n",
                xml::escape(&nic.vlan)
            ),
        }
    }

    async fn make_tap(&self, tap: &str, nic: &VmNic) -> Result<(), HypervisorError> {
        let HostNetwork::Ovs { bridge, ovsdb } = &self.options.network else {
            return Ok(());
        };
        let mut add = vec!["tuntap", "add", "dev", tap, "mode", "tap"];
        if let Some(user) = &self.options.vm_user {
            add.extend(["user", user]);
        }
        run_program("ip", &add).await?;
        run_program("ip", &["link", "set", tap, "up"]).await?;
        let tag = format!("tag={}", nic.vlan);
        run_program(
            "ovs-vsctl",
            &[
                &format!("--db={ovsdb}"),
                "--timeout=10",
                "--may-exist",
                "add-port",
                bridge,
                tap,
                &tag,
            ],
        )
        .await
        .map(drop)
    }

    async fn remove_tap(&self, tap: &str) {
        if let HostNetwork::Ovs { bridge, ovsdb } = &self.options.network {
            let db = format!("--db={ovsdb}");
            let _ = run_program(
                "ovs-vsctl",
                &[&db, "--timeout=10", "--if-exists", "del-port", bridge, tap],
            )
            .await;
        }
        if Path::new("/sys/class/net").join(tap).exists() {
            let _ = run_program("ip", &["link", "del", tap]).await;
        }
    }

    /// Hands a file to the VM's user (session mode), so QEMU can write it.
    async fn give_to_vm_user(&self, path: &Path) -> Result<(), HypervisorError> {
        match &self.options.vm_user {
            Some(user) => run_program("chown", &[user, &path.to_string_lossy()])
                .await
                .map(drop),
            None => Ok(()),
        }
    }

    async fn build(&self, spec: &VmSpec, undo: &mut Vec<Undo>) -> Result<(), HypervisorError> {
        let template = self.template(&spec.base_img).await?;
        let dir = &self.options.disk_dir;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| error(format!("cannot create {}: {e}", dir.display())))?;
        self.give_to_vm_user(dir).await?;
        for disk in &template.disks {
            let overlay = self.overlay_path(&spec.name, disk);
            let overlay_text = overlay.to_string_lossy().into_owned();
            run_program(
                "qemu-img",
                &[
                    "create",
                    "-q",
                    "-f",
                    "qcow2",
                    "-F",
                    &disk.format,
                    "-b",
                    &disk.source,
                    &overlay_text,
                ],
            )
            .await?;
            undo.push(Undo::File(overlay.clone()));
            self.give_to_vm_user(&overlay).await?;
        }
        for (index, nic) in spec.nics.iter().enumerate() {
            let tap = tap_name(&spec.name, index);
            undo.push(Undo::Tap(tap.clone()));
            self.make_tap(&tap, nic).await?;
        }
        let definition = self.definition_file(&spec.name);
        tokio::fs::write(&definition, self.domain_xml(spec, &template))
            .await
            .map_err(|e| error(format!("cannot write {}: {e}", definition.display())))?;
        undo.push(Undo::File(definition.clone()));
        self.give_to_vm_user(&definition).await?;
        self.virsh(&["define", &definition.to_string_lossy()])
            .await?;
        undo.push(Undo::Domain(spec.name.clone()));
        Ok(())
    }

    /// What a headnode of `base_img` is built from: a template domain, or (for an absolute
    /// path) a disk image.
    async fn template(&self, base_img: &str) -> Result<Template, HypervisorError> {
        if Path::new(base_img).is_absolute() {
            let info = run_program("qemu-img", &["info", "--output=json", base_img]).await?;
            let format = serde_json::from_str::<serde_json::Value>(&info)
                .ok()
                .and_then(|v| v["format"].as_str().map(String::from))
                .ok_or_else(|| error(format!("qemu-img cannot tell the format of {base_img}")))?;
            return Ok(image_template(
                base_img,
                &format,
                &self.options.image_machine,
            ));
        }
        let xml = self.virsh(&["dumpxml", base_img]).await.map_err(|e| {
            error(format!(
                "base image {base_img} is not a libvirt domain: {e}"
            ))
        })?;
        parse_template(base_img, &xml)
    }

    async fn take_back(&self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            match step {
                Undo::File(path) => {
                    let _ = tokio::fs::remove_file(path).await;
                }
                Undo::Tap(tap) => self.remove_tap(&tap).await,
                Undo::Domain(name) => {
                    let _ = self.virsh(&["undefine", &name]).await;
                }
            }
        }
    }

    /// The taps of `vm` that exist on this host.
    fn taps_of(&self, vm: &str) -> Vec<String> {
        let prefix = tap_prefix(vm);
        std::fs::read_dir("/sys/class/net")
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The files HIL made for `vm`: overlays, definition, console log.
    fn files_of(&self, vm: &str) -> Vec<PathBuf> {
        std::fs::read_dir(&self.options.disk_dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(vm))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[async_trait]
impl Hypervisor for LibvirtHypervisor {
    async fn create(&self, spec: &VmSpec) -> Result<(), HypervisorError> {
        let mut undo = Vec::new();
        let result = self.build(spec, &mut undo).await;
        if result.is_err() {
            self.take_back(undo).await;
        }
        result
    }

    async fn start(&self, name: &str) -> Result<(), HypervisorError> {
        match self.virsh(&["start", name]).await {
            Err(e) if e.message.contains("already active") => {}
            other => other.map(drop)?,
        }
        self.virsh(&["autostart", name]).await.map(drop)
    }

    async fn stop(&self, name: &str) -> Result<(), HypervisorError> {
        match self.virsh(&["destroy", name]).await {
            Err(e) if e.message.contains("not running") => {}
            other => other.map(drop)?,
        }
        self.virsh(&["autostart", "--disable", name])
            .await
            .map(drop)
    }

    async fn delete(&self, name: &str) -> Result<(), HypervisorError> {
        let _ = self.virsh(&["destroy", name]).await;
        match self.virsh(&["undefine", name]).await {
            Err(e) if !e.message.contains("failed to get domain") => return Err(e),
            _ => {}
        }
        for tap in self.taps_of(name) {
            self.remove_tap(&tap).await;
        }
        for file in self.files_of(name) {
            let _ = tokio::fs::remove_file(file).await;
        }
        Ok(())
    }

    async fn vnc_port(&self, name: &str) -> Result<Option<u16>, HypervisorError> {
        let state = self.virsh(&["domstate", name]).await?;
        if state.trim() != "running" {
            return Ok(None);
        }
        let xml = self.virsh(&["dumpxml", name]).await?;
        Ok(vnc_port_of(&xml))
    }
}

/// The `port` of the first VNC `<graphics>` of a live definition; libvirt's `-1` (not yet
/// assigned) is no port.
fn vnc_port_of(xml: &str) -> Option<u16> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name("graphics") && n.attribute("type") == Some("vnc"))?
        .attribute("port")?
        .parse()
        .ok()
}

async fn run_program(program: &str, args: &[&str]) -> Result<String, HypervisorError> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run(cmd, &format!("{program} {}", args.join(" "))).await
}

/// Runs a command to completion; its stdout, or an error with its stderr.
async fn run(mut cmd: Command, what: &str) -> Result<String, HypervisorError> {
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = cmd
        .output()
        .await
        .map_err(|e| error(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        tracing::debug!(command = %what, "ok");
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Err(error(format!("`{what}` failed: {said}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "<domain type='qemu'><name>base</name><uuid>x</uuid>\
        <memory unit='MiB'>192</memory><vcpu placement='static'>2</vcpu>\
        <os><type arch='x86_64' machine='pc'>hvm</type><kernel>/k</kernel>\
        <cmdline>console=ttyS0 a=&amp;b</cmdline></os>\
        <devices><emulator>/usr/bin/qemu</emulator>\
        <disk type='file' device='disk'><driver name='qemu' type='raw'/>\
        <source file='/img/base.raw'/><target dev='vda' bus='virtio'/></disk>\
        <disk type='file' device='cdrom'><source file='/iso'/><target dev='hdc'/></disk>\
        <interface type='network'><source network='default'/></interface>\
        </devices></domain>";

    fn hypervisor(network: HostNetwork) -> LibvirtHypervisor {
        LibvirtHypervisor::new(LibvirtOptions {
            virsh: vec!["virsh".into()],
            uri: "qemu:///system".into(),
            disk_dir: "/var/lib/hil/headnodes".into(),
            vnc_listen: "127.0.0.1".into(),
            network,
            vm_user: None,
            image_machine: ImageMachine {
                domain_type: "kvm".into(),
                memory_mib: 1024,
                vcpus: 2,
            },
        })
    }

    #[test]
    fn templates_keep_boot_settings_and_file_disks() {
        let t = parse_template("base", TEMPLATE).unwrap();
        assert_eq!(t.domain_type, "qemu");
        assert_eq!(t.memory_kib, 192 * 1024);
        assert_eq!(t.vcpus, "2");
        assert_eq!(t.emulator.as_deref(), Some("/usr/bin/qemu"));
        assert_eq!(
            t.disks,
            vec![TemplateDisk {
                source: "/img/base.raw".into(),
                format: "raw".into(),
                target: "vda".into(),
                bus: "virtio".into(),
            }]
        );
        assert!(t.verbatim[0].starts_with("<os>") && t.verbatim[0].contains("a=&amp;b"));
        assert!(parse_template("b", "<domain><vcpu>1</vcpu></domain>").is_err());
    }

    #[test]
    fn the_new_domain_has_overlays_taps_console_and_vnc() {
        let spec = VmSpec {
            name: "headnode-0123456789abcdef".into(),
            base_img: "base".into(),
            nics: vec![VmNic {
                label: "eth0".into(),
                vlan: "1001".into(),
            }],
        };
        let ovs = hypervisor(HostNetwork::Ovs {
            bridge: "br-hil".into(),
            ovsdb: "unix:/db".into(),
        });
        let xml = ovs.domain_xml(&spec, &parse_template("base", TEMPLATE).unwrap());
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let find = |tag: &str| doc.descendants().find(|n| n.has_tag_name(tag)).unwrap();
        assert_eq!(find("name").text(), Some("headnode-0123456789abcdef"));
        assert_eq!(
            find("source").attribute("file"),
            Some("/var/lib/hil/headnodes/headnode-0123456789abcdef-vda.qcow2")
        );
        assert_eq!(find("target").attribute("dev"), Some("vda"));
        let iface = find("interface");
        assert_eq!(iface.attribute("type"), Some("ethernet"));
        let tap = iface.children().find(|n| n.has_tag_name("target")).unwrap();
        assert_eq!(tap.attribute("dev"), Some("hn0123456789a0"));
        assert_eq!(tap.attribute("managed"), Some("no"));
        assert_eq!(find("graphics").attribute("listen"), Some("127.0.0.1"));
        assert!(find("cmdline").text().unwrap().contains("a=&b"));
        // No template NIC, no CD-ROM.
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("interface"))
                .count(),
            1
        );
        assert_eq!(
            doc.descendants().filter(|n| n.has_tag_name("disk")).count(),
            1
        );

        let bridged = hypervisor(HostNetwork::LinuxBridge);
        let xml = bridged.domain_xml(&spec, &parse_template("base", TEMPLATE).unwrap());
        assert!(xml.contains("<source bridge='br-vlan1001'/>"), "{xml}");
    }

    #[test]
    fn disk_images_boot_their_overlay_on_the_configured_machine() {
        let h = hypervisor(HostNetwork::LinuxBridge);
        let template = image_template("/images/debian.qcow2", "qcow2", &h.options.image_machine);
        let spec = VmSpec {
            name: "headnode-ab".into(),
            base_img: "/images/debian.qcow2".into(),
            nics: vec![],
        };
        let xml = h.domain_xml(&spec, &template);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let find = |tag: &str| doc.descendants().find(|n| n.has_tag_name(tag)).unwrap();
        assert_eq!(find("domain").attribute("type"), Some("kvm"));
        assert_eq!(find("memory").text(), Some("1048576"));
        assert_eq!(find("vcpu").text(), Some("2"));
        assert_eq!(find("boot").attribute("dev"), Some("hd"));
        assert_eq!(
            find("source").attribute("file"),
            Some("/var/lib/hil/headnodes/headnode-ab-vda.qcow2")
        );
        assert_eq!(template.disks[0].format, "qcow2");
    }

    #[test]
    fn names_fit_linux_limits() {
        let vm = "headnode-5a2c1f0e-8d3b-11ef-9c4a-0242ac120002";
        assert_eq!(tap_name(vm, 0), "hn5a2c1f0e8d30");
        assert!(tap_name(vm, 99).len() <= 15);
        assert_eq!(mac_address(vm, 1), "52:54:5a:2c:1f:01");
    }

    #[test]
    fn vnc_ports_come_from_the_live_definition() {
        let live =
            "<domain><devices><graphics type='vnc' port='5903' autoport='yes'/></devices></domain>";
        assert_eq!(vnc_port_of(live), Some(5903));
        let inactive = "<domain><devices><graphics type='vnc' port='-1'/></devices></domain>";
        assert_eq!(vnc_port_of(inactive), None);
        assert_eq!(vnc_port_of("<domain/>"), None);
    }
}
