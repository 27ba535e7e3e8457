//! The `ovs` driver proven with packets: namespace nodes on a real Open vSwitch, networks
//! built through HIL's API, and ping, TCP and tagged-frame probes between the nodes.

mod common;
mod lab;
use common::*;
use lab::ovs::OvsLab;
use serde_json::{json, Value};

const OVS: &str = "http://schema.massopencloud.org/haas/v0/switches/ovs";

async fn server_for(lab: &OvsLab) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = vec!["mock".into(), "ovs".into()];
    config.switches.ovsdb = lab.ovsdb();
    config.allocator.vlans = "100-110".into();
    TestServer::start_with(dir, config, true).await
}

/// Registers the lab's bridge as switch `ovs0` and node `n<i>` cabled to the lab's port i.
async fn register_lab(s: &TestServer, lab: &OvsLab) {
    s.ok(
        "PUT",
        "/v0/switch/ovs0",
        Some(json!({"type": OVS, "ovs_bridge": lab.bridge})),
    )
    .await;
    for (i, node) in lab.nodes.iter().enumerate() {
        s.cabled_node(&format!("n{}", i + 1), "ovs0", &node.port)
            .await;
    }
}

async fn done(s: &TestServer, path: &str, body: Option<Value>) {
    let action = s.queued("POST", path, body).await;
    assert_eq!(action["status"], "DONE", "{action}");
}

async fn connect(s: &TestServer, node: &str, network: &str, channel: Option<&str>) {
    let mut body = json!({"network": network});
    if let Some(c) = channel {
        body["channel"] = json!(c);
    }
    let path = format!("/v0/node/{node}/nic/eth0/connect_network");
    done(s, &path, Some(body)).await;
}

async fn detach(s: &TestServer, node: &str, network: &str) {
    let path = format!("/v0/node/{node}/nic/eth0/detach_network");
    done(s, &path, Some(json!({"network": network}))).await;
}

async fn revert(s: &TestServer, port: &str) {
    done(s, &format!("/v0/switch/ovs0/port/{port}/revert"), None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn networks_built_through_the_api_isolate_real_nodes() {
    let Some(lab) = OvsLab::start(4).await else {
        return;
    };
    let s = server_for(&lab).await;
    register_lab(&s, &lab).await;
    for p in ["alpha", "beta"] {
        s.project(p).await;
    }
    for (node, project) in [
        ("n1", "alpha"),
        ("n2", "alpha"),
        ("n3", "beta"),
        ("n4", "beta"),
    ] {
        s.ok(
            "POST",
            &format!("/v0/project/{project}/connect_node"),
            Some(json!({"node": node})),
        )
        .await;
    }
    s.network("net-a", "alpha", "alpha", "").await;
    s.network("net-b", "beta", "beta", "").await;
    let (vlan_a, vlan_b) = (s.vlan_of("net-a").await, s.vlan_of("net-b").await);

    // A fresh OVS port trunks every VLAN, so the nodes start out able to talk. Reverting a
    // port through HIL must cut it off from everything.
    lab.assert_reach(&[(1, 2, true)]).await;
    for node in &lab.nodes {
        revert(&s, &node.port).await;
    }
    lab.assert_reach(&[(1, 2, false), (3, 4, false)]).await;
    let idle = lab.port_row(&lab.nodes[0].port);
    assert_eq!(idle["protected"], json!(true), "{idle:?}");

    connect(&s, "n1", "net-a", None).await;
    connect(&s, "n2", "net-a", None).await;
    connect(&s, "n3", "net-b", None).await;
    let row = lab.port_row(&lab.nodes[0].port);
    assert_eq!(row["tag"], json!(vlan_a), "{row:?}");
    assert_eq!(row["vlan_mode"], json!("access"), "{row:?}");
    lab.assert_reach(&[
        (1, 2, true),
        (2, 1, true),
        (1, 3, false),
        (3, 2, false),
        (4, 3, false), // n4 is on no network
        (4, 1, false),
    ])
    .await;
    assert!(lab.tcp(1, 2, 5001).await, "TCP n1 -> n2 on net-a");
    assert!(!lab.tcp(3, 1, 5002).await, "TCP n3 -> n1 across projects");

    // Reachability follows detach and reconnect.
    detach(&s, "n2", "net-a").await;
    lab.assert_reach(&[(1, 2, false)]).await;
    connect(&s, "n2", "net-a", None).await;
    lab.assert_reach(&[(1, 2, true)]).await;

    // Tagged channel: n4 carries net-b tagged and has no native network.
    connect(&s, "n4", "net-b", Some(&format!("vlan/{vlan_b}"))).await;
    assert_eq!(
        lab.tagged_probe(4, 3, vlan_b).await,
        0,
        "tagged net-b frame"
    );
    assert_eq!(
        lab.tagged_probe(4, 1, vlan_a).await,
        1,
        "tagged net-a frame"
    );
    lab.assert_reach(&[(4, 3, false)]).await; // untagged goes nowhere without a native
    let attachments = s.ok("GET", "/v0/node/n4", None).await;
    assert_eq!(
        attachments["nics"][0]["networks"],
        json!({format!("vlan/{vlan_b}"): "net-b"})
    );

    // Add a native network next to the tagged one: both work, each in its own way.
    s.network("net-b2", "beta", "beta", "").await;
    connect(&s, "n4", "net-b2", Some("vlan/native")).await;
    connect(
        &s,
        "n3",
        "net-b2",
        Some(&format!("vlan/{}", s.vlan_of("net-b2").await)),
    )
    .await;
    assert_eq!(
        lab.tagged_probe(4, 3, vlan_b).await,
        0,
        "tagged still works"
    );
    let row = lab.port_row(&lab.nodes[3].port);
    assert_eq!(row["vlan_mode"], json!("native-untagged"), "{row:?}");

    // Revert takes everything off.
    revert(&s, &lab.nodes[3].port).await;
    assert_eq!(lab.tagged_probe(4, 3, vlan_b).await, 1, "after revert");
    let node = s.ok("GET", "/v0/node/n4", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({}));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_bridge_or_port_fails_the_action_with_a_reason() {
    let Some(lab) = OvsLab::start(1).await else {
        return;
    };
    let s = server_for(&lab).await;
    s.ok(
        "PUT",
        "/v0/switch/ghost",
        Some(json!({"type": OVS, "ovs_bridge": "no-such-br"})),
    )
    .await;
    s.project("p").await;
    s.cabled_node("n1", "ghost", "p1").await;
    s.reserve("p", "n1").await;
    s.network("net", "p", "p", "").await;
    let r = s
        .admin(
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "net"})),
        )
        .await;
    let done = s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "ERROR");
    assert!(
        done["error"].as_str().unwrap().contains("no-such-br"),
        "{done}"
    );
    s.shutdown().await;
}
