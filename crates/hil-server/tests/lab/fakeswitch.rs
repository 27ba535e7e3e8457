//! `fake-switches` emulators (Dell PowerConnect, Dell N-series, Cisco, Juniper) over SSH on
//! loopback, one process per switch, for the SSH CLI drivers and the NETCONF driver.
//!
//! The emulator runs from a Python venv that `scripts/test.sh` creates
//! (`$HIL_FAKESWITCH_PYTHON`, default `~/.cache/hil-lab/venv-fs/bin/python`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const USER: &str = "admin";

pub fn python() -> PathBuf {
    std::env::var_os("HIL_FAKESWITCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/hil-lab/venv-fs/bin/python")
        })
}

pub struct FakeSwitch {
    pub port: u16,
    /// The HTTP API's port, when started with one.
    pub http_port: Option<u16>,
    pub password: String,
    child: Child,
}

impl FakeSwitch {
    /// Starts one emulator of `model` with the given port names, or None (see
    /// `super::available`) when the venv is missing.
    pub fn start(model: &str, hostname: &str, ports: &[&str]) -> Option<FakeSwitch> {
        Self::launch(model, hostname, ports, false)
    }

    /// Like `start`, and also serves the model's HTTP API (Arista's eAPI) on `http_port`.
    pub fn start_with_http(model: &str, hostname: &str, ports: &[&str]) -> Option<FakeSwitch> {
        Self::launch(model, hostname, ports, true)
    }

    fn launch(model: &str, hostname: &str, ports: &[&str], http: bool) -> Option<FakeSwitch> {
        let py = python();
        let ready = Command::new(&py)
            .args(["-c", "import fake_switches, paramiko"])
            .output()
            .is_ok_and(|o| o.status.success());
        let missing = (!ready).then(|| format!("no fake-switches venv at {}", py.display()));
        if !super::available("fake-switches", missing) {
            return None;
        }
        let port = super::free_tcp_port();
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        let http_port = http.then(super::free_tcp_port);
        let mut child = Command::new(&py)
            .arg(super::scripts_dir().join("fakeswitch.py"))
            .args([model, hostname, &port.to_string(), USER, &password])
            .arg(ports.join(","))
            .args(http_port.map(|p| p.to_string()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fake-switches");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("emulator output");
        assert_eq!(line.trim(), "ready", "emulator did not start");
        Some(FakeSwitch {
            port,
            http_port,
            password,
            child,
        })
    }

    /// HIL's `hostname` for this switch.
    pub fn hostname(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Types `lines` into the switch (after `enable`) with an independent SSH client and
    /// returns the transcript.
    pub fn cli(&self, lines: &[&str]) -> String {
        let mut child = Command::new(python())
            .arg(super::scripts_dir().join("switch_cli.py"))
            .args(["127.0.0.1", &self.port.to_string(), USER, &self.password])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("switch_cli.py");
        let mut script = String::from("enable\n");
        for l in lines {
            script.push_str(l);
            script.push('\n');
        }
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().expect("switch_cli.py output");
        assert!(
            out.status.success(),
            "switch_cli.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `lab/junos_netconf.py` (an independent NETCONF client) against a Juniper model
    /// and returns what it printed; panics with its error when it fails.
    pub fn junos(&self, args: &[&str]) -> String {
        let out = Command::new(python())
            .arg(super::scripts_dir().join("junos_netconf.py"))
            .args(["127.0.0.1", &self.port.to_string(), USER, &self.password])
            .args(args)
            .output()
            .expect("junos_netconf.py");
        assert!(
            out.status.success(),
            "junos_netconf.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Locks a Juniper model's candidate configuration from another NETCONF session and
    /// keeps it locked for `seconds`, as an admin at work would. Returns once it is locked;
    /// wait for the child to see it unlocked.
    pub fn hold_junos_lock(&self, seconds: f64) -> Child {
        let mut child = Command::new(python())
            .arg(super::scripts_dir().join("junos_netconf.py"))
            .args(["127.0.0.1", &self.port.to_string(), USER, &self.password])
            .args(["hold-lock", &seconds.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("junos_netconf.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("junos_netconf.py output");
        assert_eq!(line.trim(), "locked", "the lock was not taken");
        child
    }

    /// The `switchport` lines of one interface's running configuration, trimmed and sorted.
    pub fn switchport_lines(&self, interface: &str) -> Vec<String> {
        let text = self.cli(&[&format!("show running-config interface {interface}")]);
        let mut lines: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("switchport"))
            .map(String::from)
            .collect();
        lines.sort();
        lines
    }
}

impl Drop for FakeSwitch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
