//! The juniper_junos driver (NETCONF over SSH) against fake-switches' ELS Junos model,
//! `juniper_qfx_copper_generic`. Each step goes through HIL's API; the switch's running
//! configuration is then read with an independent NETCONF client (`lab/junos_netconf.py`).

mod common;
mod lab;

use common::*;
use lab::fakeswitch::{FakeSwitch, USER};
use serde_json::{json, Value};

const TYPE: &str = "http://schema.massopencloud.org/haas/v0/switches/juniper_junos";
/// The ELS model (`interface-mode`, interface-level `native-vlan-id`); `juniper_generic` is
/// the pre-ELS syntax, which the driver does not write.
const MODEL: &str = "juniper_qfx_copper_generic";

async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = vec!["juniper_junos".into()];
    config.allocator.vlans = "100-103".into();
    config.switches.command_timeout_secs = 5.0;
    TestServer::start_with(dir, config, true).await
}

async fn done(s: &TestServer, method: &str, path: &str, body: Option<Value>) {
    let action = s.queued(method, path, body).await;
    assert_eq!(action["status"], "DONE", "{action}");
}

async fn connect(s: &TestServer, node: &str, network: &str, channel: &str) -> Value {
    let body = json!({"network": network, "channel": channel});
    let path = format!("/v0/node/{node}/nic/eth0/connect_network");
    s.queued("POST", &path, Some(body)).await
}

async fn connected(s: &TestServer, network: &str, channel: &str) {
    let action = connect(s, "n1", network, channel).await;
    assert_eq!(action["status"], "DONE", "{action}");
}

async fn detach(s: &TestServer, network: &str) {
    let body = json!({"network": network});
    done(s, "POST", "/v0/node/n1/nic/eth0/detach_network", Some(body)).await;
}

/// A port as the switch's running configuration has it: mode, sorted members, native VLAN.
#[derive(Debug, PartialEq, Eq)]
struct Port {
    mode: Option<String>,
    members: Vec<u16>,
    native: Option<u16>,
}

fn read(fs: &FakeSwitch, port: &str) -> Port {
    let out = fs.junos(&["interface", port]);
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    let mut members: Vec<u16> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().parse().unwrap())
        .collect();
    members.sort();
    Port {
        mode: v["mode"].as_str().map(String::from),
        members,
        native: v["native"].as_u64().map(|n| n as u16),
    }
}

fn trunk(members: &[u16], native: Option<u16>) -> Port {
    Port {
        mode: Some("trunk".into()),
        members: members.to_vec(),
        native,
    }
}

fn bare() -> Port {
    Port {
        mode: None,
        members: vec![],
        native: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn juniper_junos_against_the_els_emulator() {
    let Some(fs) = FakeSwitch::start(MODEL, "qfx1", &["ge-0/0/1", "ge-0/0/2", "xe-0/0/3"]) else {
        return;
    };
    lab::capture_logs();
    let s = server().await;
    let body = json!({"type": TYPE, "hostname": fs.hostname(), "username": USER,
                      "password": fs.password});
    s.ok("PUT", "/v0/switch/sw", Some(body)).await;
    let sw = s.ok("GET", "/v0/switch/sw", None).await;
    assert_eq!(sw["capabilities"], json!(["nativeless-trunk-mode"]));
    s.cabled_node("n1", "sw", "ge-0/0/1").await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    for net in ["net-a", "net-b", "net-c"] {
        s.network(net, "p", "p", "").await;
    }
    let a = s.vlan_of("net-a").await;
    let b = s.vlan_of("net-b").await;
    let c = s.vlan_of("net-c").await;
    // The admin creates the pool's VLANs on the switch; net-c's is left out on purpose.
    fs.junos(&["create-vlans", &a.to_string(), &b.to_string()]);

    // A native network: a trunk whose native VLAN is also its only member.
    connected(&s, "net-a", "vlan/native").await;
    assert_eq!(read(&fs, "ge-0/0/1"), trunk(&[a], Some(a)));

    connected(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(read(&fs, "ge-0/0/1"), trunk(&[a, b], Some(a)));

    detach(&s, "net-b").await;
    assert_eq!(read(&fs, "ge-0/0/1"), trunk(&[a], Some(a)));

    // Without its native network the port stays a trunk for the tagged one.
    connected(&s, "net-b", &format!("vlan/{b}")).await;
    detach(&s, "net-a").await;
    assert_eq!(read(&fs, "ge-0/0/1"), trunk(&[b], None));

    // The audit reads the same back from the running configuration.
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");

    // A VLAN the switch lacks: Junos refuses the commit in its own words, and the refused
    // change is discarded rather than left in the candidate.
    let action = connect(&s, "n1", "net-c", &format!("vlan/{c}")).await;
    assert_eq!(action["status"], "ERROR", "{action}");
    let error = action["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("No vlan matches vlan tag {c}")),
        "{error}"
    );
    assert!(!error.contains(&fs.password), "{error}");
    assert_eq!(read(&fs, "ge-0/0/1"), trunk(&[b], None));

    // A port the switch lacks fails with the switch's words too.
    let error = s.refused_connect("n2", "ge-0/0/200", "net-a").await;
    assert!(error.contains("port value outside range"), "{error}");
    assert!(!error.contains(&fs.password), "{error}");

    // Both refusals left the candidate clean and unlocked: the emulator, like Junos, locks
    // only a candidate without uncommitted changes, and the admin's client can lock it now.
    fs.junos(&["create-vlans", &c.to_string()]);

    // While another session holds the lock, the driver waits for it (within the command
    // timeout) instead of failing.
    let mut admin = fs.hold_junos_lock(1.5);
    connected(&s, "net-c", &format!("vlan/{c}")).await;
    assert!(admin.wait().unwrap().success(), "the admin's unlock failed");
    assert_eq!(read(&fs, "ge-0/0/1"), trunk(&[b, c], None));

    done(&s, "POST", "/v0/switch/sw/port/ge-0/0/1/revert", None).await;
    assert_eq!(read(&fs, "ge-0/0/1"), bare());
    // the other ports were never touched
    assert_eq!(read(&fs, "ge-0/0/2"), bare());
    assert_eq!(read(&fs, "xe-0/0/3"), bare());
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");

    let log = lab::log_text();
    assert!(
        log.contains("the commit of ge-0/0/1"),
        "each change is committed"
    );
    assert!(!log.contains(&fs.password));
    s.shutdown().await;
}
