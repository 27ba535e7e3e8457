//! A real headnode: a QEMU VM under libvirt (`lab::libvirt`), created and started through
//! HIL's API on a project network, wired by HIL onto the lab's Open vSwitch (`lab::ovs`) with
//! the network's VLAN. It boots (seen on its serial console), answers a namespace node on the
//! same network, is unreachable from another project's network, and leaves nothing behind
//! when deleted.

mod common;
mod lab;

use std::time::{Duration, Instant};

use common::*;
use hil_server::config::{HeadnodeBackend, HeadnodeNetwork};
use lab::libvirt::{LibvirtLab, GUEST_IP, VM_USER};
use lab::ovs::OvsLab;
use serde_json::{json, Value};

const OVS: &str = "http://schema.massopencloud.org/haas/v0/switches/ovs";
const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));

async fn server_for(ovs: &OvsLab, lv: &LibvirtLab) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = s_config(ovs, lv, dir.path()).await;
    TestServer::start_with(dir, config, true).await
}

/// The configuration that points HIL at the OVS lab and the libvirt lab.
async fn s_config(
    ovs: &OvsLab,
    lv: &LibvirtLab,
    dir: &std::path::Path,
) -> hil_server::config::Config {
    let mut config = test_config(dir).await;
    config.switches.enabled = vec!["ovs".into()];
    config.switches.ovsdb = ovs.ovsdb();
    config.allocator.vlans = "100-110".into();
    let hn = &mut config.headnode;
    hn.backend = HeadnodeBackend::Libvirt;
    hn.base_imgs = vec![lv.template.clone()];
    hn.libvirt_uri = "qemu:///session".into();
    hn.virsh = vec![lv.virsh_wrapper().display().to_string()];
    hn.disk_dir = Some(lv.disk_dir());
    hn.network = HeadnodeNetwork::Ovs;
    hn.ovs_bridge = ovs.bridge.clone();
    hn.vm_user = Some(VM_USER.into());
    config
}

async fn alice(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Resp {
    s.call(ALICE, method, path, body).await
}

/// Node `n<i>` on the lab's port i, in `project`, connected untagged to `network`.
async fn node_on(s: &TestServer, ovs: &OvsLab, i: usize, project: &str, network: &str) {
    let node = format!("n{i}");
    s.cabled_node(&node, "ovs0", &ovs.nodes[i - 1].port).await;
    s.ok(
        "POST",
        &format!("/v0/project/{project}/connect_node"),
        Some(json!({ "node": node })),
    )
    .await;
    let action = s
        .queued(
            "POST",
            &format!("/v0/node/{node}/nic/eth0/connect_network"),
            Some(json!({ "network": network })),
        )
        .await;
    assert_eq!(action["status"], "DONE", "{action}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headnode_boots_on_its_project_network_and_leaves_nothing_behind() {
    let Some(ovs) = OvsLab::start(2).await else {
        return;
    };
    let Some(lv) = LibvirtLab::start() else {
        return;
    };
    let s = server_for(&ovs, &lv).await;
    s.ok(
        "PUT",
        "/v0/switch/ovs0",
        Some(json!({"type": OVS, "ovs_bridge": ovs.bridge})),
    )
    .await;
    for (project, network) in [("alpha", "alpha-net"), ("beta", "beta-net")] {
        s.project(project).await;
        s.ok(
            "PUT",
            &format!("/v0/network/{network}"),
            Some(json!({"owner": project, "access": project, "net_id": ""})),
        )
        .await;
    }
    s.user("alice", "alice-pw", false, &["alpha"]).await;
    node_on(&s, &ovs, 1, "alpha", "alpha-net").await;
    node_on(&s, &ovs, 2, "beta", "beta-net").await;

    // The tenant builds and starts a headnode on the project's network.
    let create = json!({"project": "alpha", "base_img": lv.template});
    alice(&s, "PUT", "/v0/headnode/hn", Some(create))
        .await
        .empty_ok();
    alice(&s, "PUT", "/v0/headnode/hn/hnic/eth0", None)
        .await
        .empty_ok();
    alice(
        &s,
        "POST",
        "/v0/headnode/hn/hnic/eth0/connect_network",
        Some(json!({"network": "alpha-net"})),
    )
    .await
    .empty_ok();
    let started = Instant::now();
    alice(&s, "POST", "/v0/headnode/hn/start", None)
        .await
        .empty_ok();
    eprintln!(
        "start (clone, define, boot) answered after {:?}",
        started.elapsed()
    );
    let shown = alice(&s, "GET", "/v0/headnode/hn", None).await.json;
    let vm = format!("headnode-{}", shown["uuid"].as_str().unwrap());
    assert!(lv.domains().contains(&vm), "{:?}", lv.domains());

    // It boots, and its network comes up: its serial console says so.
    lv.wait_for_network(&vm, Duration::from_secs(120)).await;
    eprintln!(
        "headnode network up {:?} after start was called",
        started.elapsed()
    );

    // Its disk is a copy-on-write overlay of the template's disk.
    let overlay = lv.disk_dir().join(format!("{vm}-vda.qcow2"));
    let info = lab::must(
        "qemu-img",
        &["info", "-U", "--output=json", overlay.to_str().unwrap()],
    );
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["format"], "qcow2");
    let base = lv.dir.path().join("base.raw");
    assert_eq!(info["backing-filename"], base.display().to_string());

    // VNC: the reported port is where the VM's display listens, on loopback.
    let port: u16 = shown["vncport"]
        .as_str()
        .expect("a VNC port")
        .parse()
        .unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());

    // HIL put its tap on the bridge as an access port of alpha-net's VLAN.
    let tap = hil_drivers::headnode::libvirt::tap_name(&vm, 0);
    let vlan = s.vlan_of("alpha-net").await;
    assert_eq!(ovs.port_row(&tap)["tag"], json!(vlan));

    // Same network: the node reaches the headnode. Another project's network: nothing.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut reached = false;
    while !reached && Instant::now() < deadline {
        reached = ovs.ping_ip(1, GUEST_IP).await;
    }
    assert!(
        reached,
        "n1 (alpha-net) cannot reach the headnode\ntap {tap}: {:?}\nconsole:\n{}",
        ovs.port_row(&tap),
        lv.console(&vm)
    );
    assert!(
        !ovs.ping_ip(2, GUEST_IP).await,
        "n2 (beta-net) reached alpha's headnode"
    );

    // Stop: the VM is off and has no VNC port; start brings the same VM back.
    alice(&s, "POST", "/v0/headnode/hn/stop", None)
        .await
        .empty_ok();
    assert_eq!(
        alice(&s, "GET", "/v0/headnode/hn", None).await.json["vncport"],
        Value::Null
    );
    alice(&s, "POST", "/v0/headnode/hn/start", None)
        .await
        .empty_ok();

    // Delete: domain, disk overlay and tap are gone.
    let deleting = Instant::now();
    alice(&s, "DELETE", "/v0/headnode/hn", None)
        .await
        .empty_ok();
    eprintln!("delete answered after {:?}", deleting.elapsed());
    assert!(!lv.domains().contains(&vm), "{:?}", lv.domains());
    let leftovers = lv.files_of(&vm);
    assert!(leftovers.is_empty(), "files left: {leftovers:?}");
    assert!(!std::path::Path::new("/sys/class/net").join(&tap).exists());
    assert!(!ovs.vsctl(&["list-ports", &ovs.bridge]).contains(&tap));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_leaves_no_domain_disk_or_tap() {
    let Some(ovs) = OvsLab::start(0).await else {
        return;
    };
    let Some(lv) = LibvirtLab::start() else {
        return;
    };
    // The tap is made, then adding it to a bridge that does not exist fails: every step
    // before (overlay, tap) must be taken back.
    let dir = tempfile::tempdir().unwrap();
    let mut config = s_config(&ovs, &lv, dir.path()).await;
    config.headnode.ovs_bridge = "nosuchbr".into();
    let s = TestServer::start_with(dir, config, true).await;
    s.project("alpha").await;
    s.ok(
        "PUT",
        "/v0/network/alpha-net",
        Some(json!({"owner": "alpha", "access": "alpha", "net_id": ""})),
    )
    .await;
    let create = json!({"project": "alpha", "base_img": lv.template});
    s.ok("PUT", "/v0/headnode/hn", Some(create)).await;
    s.ok("PUT", "/v0/headnode/hn/hnic/eth0", None).await;
    s.ok(
        "POST",
        "/v0/headnode/hn/hnic/eth0/connect_network",
        Some(json!({"network": "alpha-net"})),
    )
    .await;
    let r = s.admin("POST", "/v0/headnode/hn/start", None).await;
    r.err(500, "ServerError");
    assert!(r.text.contains("nosuchbr"), "{}", r.text);
    let shown = s.ok("GET", "/v0/headnode/hn", None).await;
    let vm = format!("headnode-{}", shown["uuid"].as_str().unwrap());
    assert_eq!(shown["vncport"], Value::Null);
    assert_eq!(lv.domains(), vec![lv.template.clone()]);
    let leftovers = lv.files_of(&vm);
    assert!(leftovers.is_empty(), "files left: {leftovers:?}");
    let tap = hil_drivers::headnode::libvirt::tap_name(&vm, 0);
    assert!(!std::path::Path::new("/sys/class/net").join(&tap).exists());
    // Still unstarted, so still changeable.
    s.ok("PUT", "/v0/headnode/hn/hnic/eth1", None).await;
    s.shutdown().await;
}
