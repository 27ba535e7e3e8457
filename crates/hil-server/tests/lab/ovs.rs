//! A private Open vSwitch (userspace datapath) with network-namespace "nodes", to prove with
//! real packets what the `ovs` driver does. Needs root and `openvswitch-switch`.
//!
//! Each node is a namespace whose `eth0` is one end of a veth pair; the other end is a port of
//! the lab's bridge. All nodes share one IP subnet, so only VLANs decide who reaches whom.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

/// The userspace datapath adds `ovs-netdev` and a tap per bridge to the root namespace, so
/// two labs at once would collide: lab tests take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Node {
    /// Network namespace name.
    pub ns: String,
    /// The bridge port (host end of the veth pair).
    pub port: String,
    pub ip: String,
}

pub struct OvsLab {
    pub dir: tempfile::TempDir,
    pub bridge: String,
    pub nodes: Vec<Node>,
    pids: Vec<u32>,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn ovs_env(cmd: &mut std::process::Command, dir: &Path) {
    for var in ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"] {
        cmd.env(var, dir);
    }
}

impl OvsLab {
    /// Starts ovsdb-server, ovs-vswitchd, a bridge and `nodes` namespace nodes, or returns
    /// None (see `super::available`) when this machine cannot run them.
    pub async fn start(nodes: usize) -> Option<OvsLab> {
        let missing = if super::is_root() {
            super::missing_program(&["ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ip", "ping"])
        } else {
            Some("needs root for network namespaces".into())
        };
        if !super::available("Open vSwitch", missing) {
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        // Interface names are limited to 15 characters: keep the prefix short but unique.
        let tag = format!("h{}", std::process::id() % 100_000);
        let mut lab = OvsLab {
            bridge: format!("{tag}br"),
            nodes: Vec::new(),
            pids: Vec::new(),
            dir,
            _turn: turn,
        };
        lab.start_daemons();
        lab.vsctl(&[
            "add-br",
            &lab.bridge.clone(),
            "--",
            "set",
            "bridge",
            &lab.bridge.clone(),
            "datapath_type=netdev",
        ]);
        for i in 1..=nodes {
            lab.add_node(&tag, i);
        }
        Some(lab)
    }

    /// The `ovsdb` setting that points HIL at this lab.
    pub fn ovsdb(&self) -> String {
        format!("unix:{}", self.dir.path().join("db.sock").display())
    }

    fn start_daemons(&mut self) {
        let d = self.dir.path().to_path_buf();
        let db = d.join("conf.db");
        super::must(
            "ovsdb-tool",
            &[
                "create",
                db.to_str().unwrap(),
                "/usr/share/openvswitch/vswitch.ovsschema",
            ],
        );
        let sock = format!("punix:{}", d.join("db.sock").display());
        self.daemon(
            "ovsdb-server",
            &[db.to_str().unwrap(), &format!("--remote={sock}")],
        );
        self.vsctl(&["--no-wait", "init"]);
        let db_sock = format!("unix:{}", d.join("db.sock").display());
        self.daemon("ovs-vswitchd", &[&db_sock]);
    }

    /// Starts an OVS daemon detached, with its files in the lab dir, and records its pid.
    fn daemon(&mut self, program: &str, args: &[&str]) {
        let d = self.dir.path();
        let pidfile = d.join(format!("{program}.pid"));
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .arg(format!("--pidfile={}", pidfile.display()))
            .arg(format!(
                "--log-file={}",
                d.join(format!("{program}.log")).display()
            ))
            .args(["-vconsole:off", "--detach"]);
        ovs_env(&mut cmd, d);
        let out = cmd.output().expect("start OVS daemon");
        assert!(
            out.status.success(),
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = std::fs::read_to_string(&pidfile).expect("pidfile");
        self.pids.push(pid.trim().parse().expect("pid"));
    }

    fn add_node(&mut self, tag: &str, i: usize) {
        let node = Node {
            ns: format!("{tag}n{i}"),
            port: format!("{tag}v{i}"),
            ip: format!("10.77.0.{i}"),
        };
        let _ = super::run("ip", &["netns", "del", &node.ns]); // a leftover of a crashed run
        super::must("ip", &["netns", "add", &node.ns]);
        super::must(
            "ip",
            &[
                "link", "add", &node.port, "type", "veth", "peer", "name", "eth0", "netns",
                &node.ns,
            ],
        );
        let addr = format!("{}/24", node.ip);
        for args in [
            vec!["link", "set", "lo", "up"],
            vec!["addr", "add", &addr, "dev", "eth0"],
            vec!["link", "set", "eth0", "up"],
        ] {
            let mut full = vec!["-n", node.ns.as_str()];
            full.extend(args);
            super::must("ip", &full);
        }
        // With the userspace datapath on veth, TCP stalls unless TX checksum offload is off.
        let _ = super::run(
            "ip",
            &[
                "netns", "exec", &node.ns, "ethtool", "-K", "eth0", "tx", "off",
            ],
        );
        super::must("ip", &["link", "set", &node.port, "up"]);
        self.vsctl(&["add-port", &self.bridge.clone(), &node.port.clone()]);
        self.nodes.push(node);
    }

    /// An `ovs-vsctl` command against this lab's database.
    fn vsctl_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new("ovs-vsctl");
        cmd.arg(format!(
            "--db=unix:{}",
            self.dir.path().join("db.sock").display()
        ))
        .arg("--timeout=10")
        .args(args);
        ovs_env(&mut cmd, self.dir.path());
        cmd
    }

    /// Runs `ovs-vsctl` against this lab (for set-up and independent read-back).
    pub fn vsctl(&self, args: &[&str]) -> String {
        let out = self.vsctl_command(args).output().expect("ovs-vsctl");
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One port's VLAN columns as `ovs-vsctl` reports them: name → value.
    pub fn port_row(&self, port: &str) -> serde_json::Map<String, Value> {
        let text = self.vsctl(&[
            "--format=json",
            "--columns=tag,trunks,vlan_mode,protected",
            "list",
            "port",
            port,
        ]);
        let v: Value = serde_json::from_str(&text).expect("ovs-vsctl json");
        let headings = v["headings"].as_array().unwrap();
        let row = v["data"][0].as_array().unwrap();
        headings
            .iter()
            .zip(row)
            .map(|(h, c)| (h.as_str().unwrap().to_string(), c.clone()))
            .collect()
    }

    fn node(&self, i: usize) -> &Node {
        &self.nodes[i - 1]
    }

    /// Whether node `from` can ping node `to` (1-based). A negative answer costs ~1 s.
    pub async fn ping(&self, from: usize, to: usize) -> bool {
        let ip = self.node(to).ip.clone();
        self.ping_ip(from, &ip).await
    }

    /// Whether node `from` can ping address `ip`. A negative answer costs ~1 s.
    pub async fn ping_ip(&self, from: usize, ip: &str) -> bool {
        for _ in 0..2 {
            if netns_ok(&self.node(from).ns, &["ping", "-c1", "-W1", ip]).await {
                return true;
            }
        }
        false
    }

    /// Whether a TCP connection from `from` to `to` carries a line there and back.
    pub async fn tcp(&self, from: usize, to: usize, port: u16) -> bool {
        let script = super::scripts_dir().join("netcheck.py");
        let script = script.to_str().unwrap();
        let port = port.to_string();
        let server = Command::new("ip")
            .args(["netns", "exec", &self.node(to).ns, "python3", script])
            .args(["tcp-serve", &port, "3"])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("tcp server");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ok = netns_ok(
            &self.node(from).ns,
            &["python3", script, "tcp-echo", &self.node(to).ip, &port, "2"],
        )
        .await;
        drop(server);
        ok
    }

    /// Sends an ARP request tagged `vlan` from `from`'s eth0 for `to`'s address. Returns
    /// netcheck's verdict: 0 reply tagged `vlan`, 1 no reply, 2 reply tagged otherwise.
    pub async fn tagged_probe(&self, from: usize, to: usize, vlan: u16) -> i32 {
        let script = super::scripts_dir().join("netcheck.py");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.node(from).ns, "python3"])
            .arg(script)
            .args(["tagged", "eth0", &vlan.to_string()])
            .args([&self.node(from).ip, &self.node(to).ip, "1"])
            .output()
            .await
            .expect("netcheck");
        out.status.code().unwrap_or(-1)
    }

    /// Checks many (from, to, expected) untagged reachabilities at once, so the negative
    /// ones wait out their timeouts together, and reports every mismatch.
    pub async fn assert_reach(&self, cases: &[(usize, usize, bool)]) {
        let results =
            futures::future::join_all(cases.iter().map(|&(a, b, _)| self.ping(a, b))).await;
        let wrong: Vec<String> = cases
            .iter()
            .zip(results)
            .filter(|((_, _, want), got)| want != got)
            .map(|((a, b, want), _)| {
                format!(
                    "n{a} -> n{b}: expected {}",
                    if *want { "reachable" } else { "isolated" }
                )
            })
            .collect();
        assert!(wrong.is_empty(), "reachability: {}", wrong.join("; "));
    }
}

async fn netns_ok(ns: &str, argv: &[&str]) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

impl Drop for OvsLab {
    fn drop(&mut self) {
        for node in &self.nodes {
            let _ = super::run("ip", &["link", "del", &node.port]);
            let _ = super::run("ip", &["netns", "del", &node.ns]);
        }
        let _ = self
            .vsctl_command(&["--if-exists", "del-br", &self.bridge])
            .output();
        for pid in self.pids.iter().rev() {
            super::kill(*pid);
        }
    }
}
