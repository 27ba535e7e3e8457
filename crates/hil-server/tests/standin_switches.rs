//! The CLI dialects that no emulator covers (Dell OS10, SONiC, AOS-CX), each against the
//! scripted SSH stand-in playing that vendor: through HIL's API connect native, add tagged,
//! detach, audit, revert, and a port the switch lacks. What the port carries is read from the
//! stand-in's own state, not through HIL's engine.

mod common;
mod lab;

use common::*;
use lab::ssh_standin::{PortVlans, StandIn, Vendor};
use lab::standin_vendors::{ARUBA_AOSCX, DELL_OS10, SONIC};
use serde_json::json;

const URI: &str = "http://schema.massopencloud.org/haas/v0/switches/";

/// Runs the whole story on `vendor`, whose ports are `ports[0]` (used), `ports[1]` (never
/// touched) and `missing` (registered in HIL, absent on the switch).
async fn plays(vendor: &'static Vendor, ports: [&str; 2], missing: &str) {
    lab::capture_logs();
    let sw = StandIn::start_as(vendor, "stand-in-secret", &ports).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = vec![vendor.short_name.to_string()];
    config.allocator.vlans = "100-103".into();
    config.switches.command_timeout_secs = 5.0;
    let s = TestServer::start_with(dir, config, true).await;
    let extensions = s.ok("GET", "/v0/active_extensions", None).await;
    let extension = format!("hil.ext.switches.{}", vendor.short_name);
    assert!(
        extensions.as_array().unwrap().contains(&json!(extension)),
        "{extensions}"
    );
    let body = json!({"type": format!("{URI}{}", vendor.short_name), "hostname": sw.hostname(),
                      "username": "admin", "password": sw.password});
    s.ok("PUT", "/v0/switch/sw", Some(body)).await;
    let port = ports[0];
    s.cabled_node("n1", "sw", port).await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.network("net-a", "p", "p", "").await;
    s.network("net-b", "p", "p", "").await;
    let (a, b) = (s.vlan_of("net-a").await, s.vlan_of("net-b").await);
    let connect = |network: &'static str, channel: String| {
        let s = &s;
        async move {
            let body = json!({"network": network, "channel": channel});
            let action = s
                .queued("POST", "/v0/node/n1/nic/eth0/connect_network", Some(body))
                .await;
            assert_eq!(action["status"], "DONE", "{action}");
        }
    };
    let detach = |network: &'static str| {
        let s = &s;
        async move {
            let body = json!({"network": network});
            let action = s
                .queued("POST", "/v0/node/n1/nic/eth0/detach_network", Some(body))
                .await;
            assert_eq!(action["status"], "DONE", "{action}");
        }
    };

    connect("net-a", "vlan/native".into()).await;
    assert_eq!(sw.port(port).vlans(), PortVlans::of(Some(a), &[]));
    connect("net-b", format!("vlan/{b}")).await;
    assert_eq!(sw.port(port).vlans(), PortVlans::of(Some(a), &[b]));
    detach("net-a").await;
    assert_eq!(sw.port(port).vlans(), PortVlans::of(None, &[b]));
    connect("net-a", "vlan/native".into()).await;
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");

    let revert = s
        .queued("POST", &format!("/v0/switch/sw/port/{port}/revert"), None)
        .await;
    assert_eq!(revert["status"], "DONE", "{revert}");
    assert_eq!(sw.port(port).vlans(), PortVlans::of(None, &[]));
    assert_eq!(sw.port(ports[1]), PortVlans::default(), "never touched");
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));
    // every batch was saved with the vendor's command
    let saves = sw.lines().iter().filter(|l| *l == vendor.save.0).count();
    assert!(saves >= 5, "{saves} saves for 5 batches");

    let error = s.refused_connect("n2", missing, "net-b").await;
    let words = (vendor.no_such_port)(missing);
    assert!(error.contains(&words), "{error} lacks {words:?}");
    assert!(!error.contains(&sw.password), "{error}");
    // the session went back to a sane mode: the next change on a real port works
    connect("net-b", format!("vlan/{b}")).await;
    assert_eq!(sw.port(port).vlans(), PortVlans::of(None, &[b]));
    assert!(!lab::log_text().contains(&sw.password));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dell_os10_on_the_stand_in() {
    plays(
        &DELL_OS10,
        ["ethernet1/1/1", "ethernet1/1/2"],
        "ethernet1/1/9",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sonic_on_the_stand_in() {
    plays(&SONIC, ["Ethernet0", "Ethernet4"], "Ethernet96").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aruba_aoscx_on_the_stand_in() {
    plays(&ARUBA_AOSCX, ["1/1/1", "1/1/2"], "1/1/9").await;
}
