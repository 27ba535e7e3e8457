//! The SSH CLI drivers against the `fake-switches` emulators: PowerConnect against `dell`,
//! N3000 against `dell10g`, Nexus and IOS against `cisco`, EOS against `arista`, ICX against
//! `brocade`. Each test drives HIL's API and then reads the emulator's configuration with an
//! independent SSH client.

mod common;
mod lab;
use std::collections::BTreeSet;

use common::*;
use lab::fakeswitch::{FakeSwitch, USER};
use serde_json::{json, Value};

const URI: &str = "http://schema.massopencloud.org/haas/v0/switches/";

async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = [
        "powerconnect55xx",
        "delln3000",
        "nexus",
        "cisco_ios",
        "arista_eos",
        "brocade_icx",
    ]
    .map(String::from)
    .to_vec();
    config.allocator.vlans = "100-103".into();
    // The Cisco emulator drops the session on `copy running-config startup-config`.
    config.switches.save_by_type.insert("nexus".into(), false);
    config.switches.command_timeout_secs = 5.0;
    TestServer::start_with(dir, config, true).await
}

/// Registers `sw` and a node `n1` on `port` in project `p`, with networks `net-a` and
/// `net-b`. Returns their VLANs.
async fn tenant_on(s: &TestServer, kind: &str, fields: Value, port: &str) -> (u16, u16) {
    let mut body = json!({"type": format!("{URI}{kind}")});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    s.ok("PUT", "/v0/switch/sw", Some(body)).await;
    s.cabled_node("n1", "sw", port).await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.network("net-a", "p", "p", "").await;
    s.network("net-b", "p", "p", "").await;
    (s.vlan_of("net-a").await, s.vlan_of("net-b").await)
}

async fn done(s: &TestServer, method: &str, path: &str, body: Option<Value>) {
    let action = s.queued(method, path, body).await;
    assert_eq!(action["status"], "DONE", "{action}");
}

async fn connect(s: &TestServer, network: &str, channel: &str) {
    let body = json!({"network": network, "channel": channel});
    done(
        s,
        "POST",
        "/v0/node/n1/nic/eth0/connect_network",
        Some(body),
    )
    .await;
}

async fn detach(s: &TestServer, network: &str) {
    let body = json!({"network": network});
    done(s, "POST", "/v0/node/n1/nic/eth0/detach_network", Some(body)).await;
}

/// The VLANs a `switchport trunk allowed vlan [add] <list>` line names (None: no such line).
fn allowed(lines: &[String]) -> Option<BTreeSet<u16>> {
    let line = lines
        .iter()
        .find(|l| l.starts_with("switchport trunk allowed vlan"))?;
    let list = line
        .trim_start_matches("switchport trunk allowed vlan")
        .trim()
        .trim_start_matches("add ")
        .trim();
    if list == "none" {
        return Some(BTreeSet::new());
    }
    let mut vlans = BTreeSet::new();
    for piece in list.split(',') {
        let (first, last) = piece.split_once('-').unwrap_or((piece, piece));
        vlans.extend(first.parse::<u16>().unwrap()..=last.parse::<u16>().unwrap());
    }
    Some(vlans)
}

fn native(lines: &[String]) -> Option<u16> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("switchport trunk native vlan "))
        .and_then(|v| v.parse().ok())
}

fn set(vlans: &[u16]) -> Option<BTreeSet<u16>> {
    Some(vlans.iter().copied().collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn powerconnect_against_the_dell_emulator() {
    let Some(fs) = FakeSwitch::start("dell_generic", "dell1", &["gi1/0/1", "gi1/0/2"]) else {
        return;
    };
    // The admin guide asks for every pool VLAN to exist on the switch beforehand.
    fs.cli(&[
        "configure",
        "vlan database",
        "vlan 100",
        "vlan 101",
        "exit",
        "exit",
    ]);
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password});
    let (a, b) = tenant_on(&s, "powerconnect55xx", fields, "gi1/0/1").await;
    let sw = s.ok("GET", "/v0/switch/sw", None).await;
    assert_eq!(sw["capabilities"], json!(["nativeless-trunk-mode"]));

    connect(&s, "net-a", "vlan/native").await;
    let lines = fs.switchport_lines("gi1/0/1");
    assert!(
        lines.contains(&"switchport mode trunk".to_string()),
        "{lines:?}"
    );
    assert_eq!(allowed(&lines), set(&[a]), "{lines:?}");

    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(allowed(&fs.switchport_lines("gi1/0/1")), set(&[a, b]));

    detach(&s, "net-b").await;
    assert_eq!(allowed(&fs.switchport_lines("gi1/0/1")), set(&[a]));

    done(&s, "POST", "/v0/switch/sw/port/gi1/0/1/revert", None).await;
    let lines = fs.switchport_lines("gi1/0/1");
    assert!(allowed(&lines).unwrap_or_default().is_empty(), "{lines:?}");
    // the other port was never touched
    assert!(fs.switchport_lines("gi1/0/2").is_empty());
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn n3000_against_the_dell10g_emulator() {
    let ports = ["tengigabitethernet 1/0/1", "tengigabitethernet 1/0/2"];
    let Some(fs) = FakeSwitch::start("dell10g_generic", "n3000", &ports) else {
        return;
    };
    // Registered ports start as trunks with nothing allowed (admin guide).
    fs.cli(&[
        "configure",
        "vlan 100",
        "exit",
        "vlan 101",
        "exit",
        "interface te1/0/1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password,
                        "dummy_vlan": 2222});
    let (a, b) = tenant_on(&s, "delln3000", fields, "te1/0/1").await;

    connect(&s, "net-a", "vlan/native").await;
    assert_eq!(allowed(&fs.switchport_lines("te1/0/1")), set(&[a]));
    // the driver made sure the dummy VLAN exists
    assert!(fs.cli(&["show vlan"]).contains("2222"));

    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(allowed(&fs.switchport_lines("te1/0/1")), set(&[a, b]));

    // Removing the native VLAN goes through the dummy VLAN and leaves only the tagged one.
    detach(&s, "net-a").await;
    assert_eq!(allowed(&fs.switchport_lines("te1/0/1")), set(&[b]));

    done(&s, "POST", "/v0/switch/sw/port/te1/0/1/revert", None).await;
    let lines = fs.switchport_lines("te1/0/1");
    assert!(allowed(&lines).unwrap_or_default().is_empty(), "{lines:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nexus_against_the_cisco_emulator() {
    let Some(fs) = FakeSwitch::start("cisco_generic", "nexus1", &["Ethernet1/1", "Ethernet1/2"])
    else {
        return;
    };
    fs.cli(&[
        "configure terminal",
        "interface Ethernet1/1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password,
                        "dummy_vlan": "2222"});
    let (a, b) = tenant_on(&s, "nexus", fields, "Ethernet1/1").await;

    connect(&s, "net-a", "vlan/native").await;
    let lines = fs.switchport_lines("Ethernet1/1");
    assert_eq!(native(&lines), Some(a), "{lines:?}");
    assert_eq!(allowed(&lines), set(&[a]), "{lines:?}");

    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1/1")), set(&[a, b]));

    detach(&s, "net-a").await;
    let lines = fs.switchport_lines("Ethernet1/1");
    assert_eq!(native(&lines), Some(2222), "unset native means the dummy");
    assert_eq!(allowed(&lines), set(&[b]), "{lines:?}");

    done(&s, "POST", "/v0/switch/sw/port/Ethernet1/1/revert", None).await;
    let lines = fs.switchport_lines("Ethernet1/1");
    assert_eq!(allowed(&lines), set(&[]), "{lines:?}");
    assert_eq!(native(&lines), Some(2222));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_the_switch_does_not_have_fails_with_the_switch_words() {
    let Some(fs) = FakeSwitch::start("cisco_generic", "nexus2", &["Ethernet1/1"]) else {
        return;
    };
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password,
                        "dummy_vlan": 2222});
    tenant_on(&s, "nexus", fields, "Ethernet1/9").await;
    let action = s
        .queued(
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "net-a"})),
        )
        .await;
    assert_eq!(action["status"], "ERROR");
    let error = action["error"].as_str().unwrap();
    assert!(error.contains("Invalid input"), "{error}");
    assert!(!error.contains(&fs.password), "{error}");
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cisco_ios_against_the_cisco_emulator() {
    ios_story("cisco_generic").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cisco_ios_against_the_catalyst_2960_emulator() {
    ios_story("cisco_2960_24TT_L").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cisco_ios_against_the_catalyst_6500_emulator() {
    ios_story("cisco_6500").await;
}

/// The `cisco_ios` story on one of the emulator's IOS models.
async fn ios_story(model: &str) {
    let ports = ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2"];
    let Some(fs) = FakeSwitch::start(model, "ios1", &ports) else {
        return;
    };
    lab::capture_logs();
    fs.cli(&[
        "configure terminal",
        "interface GigabitEthernet1/0/1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password});
    let (a, b) = tenant_on(&s, "cisco_ios", fields, "GigabitEthernet1/0/1").await;
    let sw = s.ok("GET", "/v0/switch/sw", None).await;
    assert_eq!(sw["capabilities"], json!(["nativeless-trunk-mode"]));

    // Each batch saves with `write memory` (the emulator answers "Building configuration...").
    connect(&s, "net-a", "vlan/native").await;
    let lines = fs.switchport_lines("GigabitEthernet1/0/1");
    assert_eq!(native(&lines), Some(a), "{lines:?}");
    assert_eq!(allowed(&lines), set(&[a]), "{lines:?}");

    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(
        allowed(&fs.switchport_lines("GigabitEthernet1/0/1")),
        set(&[a, b])
    );

    // No dummy VLAN: the native VLAN is simply unset.
    detach(&s, "net-a").await;
    let lines = fs.switchport_lines("GigabitEthernet1/0/1");
    assert_eq!(native(&lines), None, "{lines:?}");
    assert_eq!(allowed(&lines), set(&[b]), "{lines:?}");

    // The audit reads the same back.
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");

    done(
        &s,
        "POST",
        "/v0/switch/sw/port/GigabitEthernet1/0/1/revert",
        None,
    )
    .await;
    let lines = fs.switchport_lines("GigabitEthernet1/0/1");
    assert_eq!(allowed(&lines), set(&[]), "{lines:?}");
    assert_eq!(native(&lines), None, "{lines:?}");
    // the other port was never touched
    assert!(fs
        .switchport_lines("GigabitEthernet1/0/2")
        .iter()
        .all(|l| !l.starts_with("switchport trunk")));
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));

    // A port the switch does not have fails with the switch's words.
    let error = s
        .refused_connect("n2", "GigabitEthernet1/0/9", "net-a")
        .await;
    assert!(error.contains("Invalid input"), "{error}");
    assert!(!error.contains(&fs.password), "{error}");
    saved_with_write_memory(&fs);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn arista_eos_against_the_arista_emulator() {
    let Some(fs) = FakeSwitch::start("arista_generic", "eos1", &["Ethernet1", "Ethernet2"]) else {
        return;
    };
    lab::capture_logs();
    fs.cli(&[
        "configure terminal",
        "interface Ethernet1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password});
    let (a, b) = tenant_on(&s, "arista_eos", fields, "Ethernet1").await;
    let extensions = s.ok("GET", "/v0/active_extensions", None).await;
    for name in ["arista_eos", "brocade_icx", "cisco_ios"] {
        let name = json!(format!("hil.ext.switches.{name}"));
        assert!(
            extensions.as_array().unwrap().contains(&name),
            "{extensions}"
        );
    }

    // The emulator has no `switchport trunk native vlan` (real EOS has): the action fails with
    // the switch's own words and HIL records nothing.
    let action = s
        .queued(
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "net-a", "channel": "vlan/native"})),
        )
        .await;
    assert_eq!(action["status"], "ERROR", "{action}");
    let error = action["error"].as_str().unwrap();
    assert!(error.contains("Incomplete command"), "{error}");
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));

    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1")), set(&[b]));
    connect(&s, "net-a", &format!("vlan/{a}")).await;
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1")), set(&[a, b]));

    detach(&s, "net-b").await;
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1")), set(&[a]));
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");

    done(&s, "POST", "/v0/switch/sw/port/Ethernet1/revert", None).await;
    let lines = fs.switchport_lines("Ethernet1");
    assert_eq!(allowed(&lines), set(&[]), "{lines:?}");
    assert!(fs.switchport_lines("Ethernet2").is_empty(), "never touched");
    saved_with_write_memory(&fs);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn arista_eos_over_eapi() {
    let ports = ["Ethernet1", "Ethernet2"];
    let Some(fs) = FakeSwitch::start_with_http("arista_generic", "eos2", &ports) else {
        return;
    };
    lab::capture_logs();
    fs.cli(&[
        "configure terminal",
        "interface Ethernet1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = server().await;
    let url = format!("http://127.0.0.1:{}", fs.http_port.unwrap());
    let fields = json!({"hostname": url, "username": USER, "password": fs.password,
                        "transport": "eapi"});
    let (a, b) = tenant_on(&s, "arista_eos", fields, "Ethernet1").await;

    // Over eAPI the emulator's missing native VLAN command is refused in the same words.
    let action = s
        .queued(
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "net-a", "channel": "vlan/native"})),
        )
        .await;
    assert_eq!(action["status"], "ERROR", "{action}");
    let error = action["error"].as_str().unwrap();
    assert!(error.contains("Incomplete command"), "{error}");

    connect(&s, "net-b", &format!("vlan/{b}")).await;
    connect(&s, "net-a", &format!("vlan/{a}")).await;
    // read back over SSH, independently of the eAPI path HIL used
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1")), set(&[a, b]));
    detach(&s, "net-b").await;
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1")), set(&[a]));
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");
    done(&s, "POST", "/v0/switch/sw/port/Ethernet1/revert", None).await;
    assert_eq!(allowed(&fs.switchport_lines("Ethernet1")), set(&[]));
    assert!(fs.switchport_lines("Ethernet2").is_empty(), "never touched");
    let log = lab::log_text();
    assert!(
        !log.contains("saving the switch configuration failed"),
        "{log}"
    );
    assert!(!log.contains(&fs.password));
    s.shutdown().await;
}

/// Every batch was saved with `write memory`, no save failed, and the switch's password never
/// reached the log.
fn saved_with_write_memory(fs: &FakeSwitch) {
    let log = lab::log_text();
    assert!(log.contains("write memory"), "the batches were saved");
    assert!(
        !log.contains("saving the switch configuration failed"),
        "{log}"
    );
    assert!(!log.contains(&fs.password));
}

/// What `show vlan ethernet PORT` on the FastIron emulator says: the untagged VLAN (None for
/// the default VLAN 1) and the tagged ones.
fn icx_vlans(fs: &FakeSwitch, port: &str) -> (Option<u16>, BTreeSet<u16>) {
    let text = fs.cli(&[&format!("show vlan ethernet {port}")]);
    let (mut untagged, mut tagged) = (None, BTreeSet::new());
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["VLAN:", vlan, mode] = words[..] {
            let vlan: u16 = vlan.parse().unwrap();
            match mode {
                "Untagged" if vlan != 1 => untagged = Some(vlan),
                "Tagged" => drop(tagged.insert(vlan)),
                _ => {}
            }
        }
    }
    (untagged, tagged)
}

#[tokio::test(flavor = "multi_thread")]
async fn brocade_icx_against_the_fastiron_emulator() {
    let ports = ["ethernet 1/1/1", "ethernet 1/1/2"];
    let Some(fs) = FakeSwitch::start("brocade_generic", "icx1", &ports) else {
        return;
    };
    lab::capture_logs();
    let s = server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password});
    let (a, b) = tenant_on(&s, "brocade_icx", fields, "1/1/1").await;
    let none = BTreeSet::new();

    connect(&s, "net-a", "vlan/native").await;
    assert_eq!(icx_vlans(&fs, "1/1/1"), (Some(a), none.clone()));
    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(icx_vlans(&fs, "1/1/1"), (Some(a), [b].into()));

    detach(&s, "net-a").await;
    assert_eq!(icx_vlans(&fs, "1/1/1"), (None, [b].into()));
    connect(&s, "net-a", "vlan/native").await;
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");

    // ICX has no revert sequence: the driver reads the port and leaves each VLAN it is in.
    done(&s, "POST", "/v0/switch/sw/port/1/1/1/revert", None).await;
    assert_eq!(icx_vlans(&fs, "1/1/1"), (None, none.clone()));
    assert_eq!(icx_vlans(&fs, "1/1/2"), (None, none), "never touched");
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));

    // A port the switch does not have fails with the switch's words, and the session is left
    // in global configuration mode for the next change.
    let error = s.refused_connect("n2", "1/1/9", "net-b").await;
    assert!(error.contains("Invalid input -> 1/1/9"), "{error}");
    assert!(!error.contains(&fs.password), "{error}");
    connect(&s, "net-b", &format!("vlan/{b}")).await;
    assert_eq!(icx_vlans(&fs, "1/1/1"), (None, [b].into()));

    saved_with_write_memory(&fs);
    s.shutdown().await;
}
