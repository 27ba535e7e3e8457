//! An emulated BMC: OpenIPMI's `ipmi_sim` on loopback, one process per test, speaking real
//! IPMI 2.0 (lanplus) to `ipmitool`. Power and boot requests reach `lab/ipmi_chassis.sh`,
//! which runs `lab/fake_node.py` while the node is "on"; the node's serial console is a TCP
//! port that ipmi_sim's serial-over-LAN connects to.
//!
//! The tests observe the "machine" directly (is the node process running, which boot device
//! did the BMC pass on) rather than through ipmitool, so they check what really happened.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "bmc-Pw-93";

pub struct IpmiSim {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

impl IpmiSim {
    /// Starts a BMC, or returns None (see `super::available`) when OpenIPMI is missing.
    pub fn start() -> Option<IpmiSim> {
        let missing = super::missing_program(&["ipmi_sim", "ipmitool", "python3"]);
        if !super::available("ipmi_sim", missing) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let port = super::free_udp_port();
        let console_port = super::free_tcp_port();
        write_files(dir.path(), port, console_port);
        let child = Command::new("ipmi_sim")
            .arg("-c")
            .arg(dir.path().join("lan.conf"))
            .arg("-f")
            .arg(dir.path().join("bmc.emu"))
            .arg("-s")
            .arg(dir.path().join("state"))
            .arg("-n")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ipmi_sim");
        let sim = IpmiSim { dir, port, child };
        sim.wait_ready();
        Some(sim)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ipmitool(&["mc", "info"]).status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("ipmi_sim did not answer on udp port {}", self.port);
    }

    /// HIL's `host` member for this BMC.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs ipmitool against this BMC directly (not through HIL).
    pub fn ipmitool(&self, args: &[&str]) -> std::process::Output {
        Command::new("ipmitool")
            .args(["-I", "lanplus", "-C", "3", "-H", "127.0.0.1"])
            .args(["-p", &self.port.to_string(), "-U", USER, "-P", PASSWORD])
            .args(args)
            .output()
            .expect("run ipmitool")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The running node process, if the machine is powered on.
    pub fn node_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.file("node.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        super::alive(pid).then_some(pid)
    }

    pub fn powered(&self) -> bool {
        self.node_pid().is_some()
    }

    /// The boot device the BMC last passed to the machine (`pxe`, `default` for disk, ...).
    pub fn bootdev(&self) -> String {
        std::fs::read_to_string(self.file("bootdev"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "default".into())
    }

    /// Every request the machine got from the BMC, one per line (`set power 1`, ...).
    pub fn chassis_log(&self) -> String {
        std::fs::read_to_string(self.file("chassis.log")).unwrap_or_default()
    }

    /// Waits until the machine's power is `on`; BMCs cycle asynchronously.
    pub fn wait_power(&self, on: bool, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.powered() == on {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.powered() == on
    }

    /// Powers the machine off behind HIL's back (test set-up).
    pub fn force_off(&self) {
        let out = self.ipmitool(&["chassis", "power", "off"]);
        assert!(out.status.success(), "power off: {out:?}");
    }
}

impl Drop for IpmiSim {
    fn drop(&mut self) {
        if let Some(pid) = self.node_pid() {
            super::kill(pid);
        }
        super::kill(self.child.id());
        let _ = self.child.wait();
    }
}

fn write_files(dir: &Path, port: u16, console_port: u16) {
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::write(dir.join("console.port"), console_port.to_string()).unwrap();
    let hook = super::scripts_dir().join("ipmi_chassis.sh");
    let wrapper = dir.join("chassis");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} {} \"$@\"\n",
            hook.display(),
            dir.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    // One BMC on 127.0.0.1:<port>/udp; user 2 is the administrator HIL logs in as. The
    // serial console is a TCP port ipmi_sim connects to.
    let lan_conf = format!(
        r#"name "hilbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "{wrapper}"
  sol "tcp:127.0.0.1:{console_port}" 115200
  user 1 true  ""      "unused"   user  10 none md2 md5 straight
  user 2 true  "{USER}" "{PASSWORD}" admin 10 none md2 md5 straight
"#,
        wrapper = wrapper.display()
    );
    std::fs::write(dir.join("lan.conf"), lan_conf).unwrap();
    std::fs::write(
        dir.join("bmc.emu"),
        "mc_setbmc 0x20\n\
         mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n\
         sel_enable 0x20 1000 0x0a\n\
         mc_enable 0x20\n",
    )
    .unwrap();
}
