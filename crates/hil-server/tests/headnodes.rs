//! The headnode calls (hil-api.md §4.7) through the HTTP API, on the mock hypervisor: every
//! call, HIL's check order, the frozen-after-first-start rule, authorization, and what the
//! hypervisor was asked to build. The libvirt backend is proven in its own lab tests.

mod common;

use common::*;
use serde_json::{json, Value};

const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));
const BOB: Option<(&str, &str)> = Some(("bob", "bob-pw"));

/// Projects p (alice) and q (bob), images `img-a` and `img-b`, network `pnet` (allocated by
/// p) and `adminnet` (admin-created with an explicit VLAN, access p).
async fn world() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.headnode.base_imgs = vec!["img-b".into(), "img-a".into()];
    let s = TestServer::start_with(dir, config, true).await;
    s.project("p").await;
    s.project("q").await;
    s.user("alice", "alice-pw", false, &["p"]).await;
    s.user("bob", "bob-pw", false, &["q"]).await;
    s.call(
        ALICE,
        "PUT",
        "/v0/network/pnet",
        Some(json!({"owner": "p", "access": "p", "net_id": ""})),
    )
    .await
    .empty_ok();
    s.network("adminnet", "admin", "p", "3000").await;
    s
}

async fn alice(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Resp {
    s.call(ALICE, method, path, body).await
}

fn create_body(project: &str, img: &str) -> Option<Value> {
    Some(json!({"project": project, "base_img": img}))
}

fn vms(s: &TestServer) -> std::collections::BTreeMap<String, hil_drivers::headnode::mock::MockVm> {
    s.ctx.vms.mock.as_ref().expect("mock hypervisor").vms()
}

#[tokio::test]
async fn a_headnode_lives_dirty_then_frozen_then_gone() {
    let s = world().await;
    let images = alice(&s, "GET", "/v0/headnode_images/", None).await;
    assert_eq!(images.json, json!(["img-a", "img-b"]));

    alice(&s, "PUT", "/v0/headnode/hn", create_body("p", "img-a"))
        .await
        .empty_ok();
    for nic in ["eth0", "eth1", "eth2"] {
        alice(&s, "PUT", &format!("/v0/headnode/hn/hnic/{nic}"), None)
            .await
            .empty_ok();
    }
    alice(&s, "DELETE", "/v0/headnode/hn/hnic/eth2", None)
        .await
        .empty_ok();
    let connect = |net: &str| Some(json!({ "network": net }));
    alice(
        &s,
        "POST",
        "/v0/headnode/hn/hnic/eth0/connect_network",
        connect("pnet"),
    )
    .await
    .empty_ok();
    // Connecting again replaces; detaching an hnic without a network is fine.
    alice(
        &s,
        "POST",
        "/v0/headnode/hn/hnic/eth0/connect_network",
        connect("pnet"),
    )
    .await
    .empty_ok();
    alice(&s, "POST", "/v0/headnode/hn/hnic/eth1/detach_network", None)
        .await
        .empty_ok();

    let shown = alice(&s, "GET", "/v0/headnode/hn", None).await.json;
    let uuid = shown["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        shown,
        json!({"base_img": "img-a", "hnics": ["eth0", "eth1"], "name": "hn", "project": "p",
               "uuid": uuid, "vncport": null})
    );
    assert!(vms(&s).is_empty(), "no VM before the first start");

    alice(&s, "POST", "/v0/headnode/hn/start", None)
        .await
        .empty_ok();
    let vm_name = format!("headnode-{uuid}");
    let vm = vms(&s).remove(&vm_name).expect("the VM exists");
    assert!(vm.running && vm.autostart);
    assert_eq!(vm.spec.base_img, "img-a");
    // Only hnics with a network get a NIC, untagged on the network's VLAN.
    let vlan = s.vlan_of("pnet").await.to_string();
    assert_eq!(vm.spec.nics.len(), 1);
    assert_eq!(
        (
            vm.spec.nics[0].label.as_str(),
            vm.spec.nics[0].vlan.as_str()
        ),
        ("eth0", vlan.as_str())
    );
    let shown = alice(&s, "GET", "/v0/headnode/hn", None).await.json;
    assert_eq!(shown["vncport"], "5900");

    // Frozen: no hnic or network changes after the first start.
    for (method, path, body) in [
        ("PUT", "/v0/headnode/hn/hnic/eth9", None),
        ("DELETE", "/v0/headnode/hn/hnic/eth1", None),
        (
            "POST",
            "/v0/headnode/hn/hnic/eth1/connect_network",
            connect("pnet"),
        ),
        ("POST", "/v0/headnode/hn/hnic/eth0/detach_network", None),
    ] {
        alice(&s, method, path, body)
            .await
            .err(409, "IllegalStateError");
    }
    // Duplicate before frozen, as in HIL.
    alice(&s, "PUT", "/v0/headnode/hn/hnic/eth0", None)
        .await
        .err(409, "DuplicateError");

    alice(&s, "POST", "/v0/headnode/hn/stop", None)
        .await
        .empty_ok();
    assert!(!vms(&s)[&vm_name].running && !vms(&s)[&vm_name].autostart);
    assert_eq!(
        alice(&s, "GET", "/v0/headnode/hn", None).await.json["vncport"],
        Value::Null
    );
    // Started again, it keeps its VM (not cloned twice).
    alice(&s, "POST", "/v0/headnode/hn/start", None)
        .await
        .empty_ok();
    assert_eq!(vms(&s).len(), 1);

    // The network and the project are held by the headnode.
    alice(&s, "DELETE", "/v0/network/pnet", None)
        .await
        .err(409, "BlockedError");
    s.admin("DELETE", "/v0/project/p", None)
        .await
        .err(409, "BlockedError");
    let listed = alice(&s, "GET", "/v0/project/p/headnodes", None).await;
    assert_eq!(listed.json, json!(["hn"]));

    alice(&s, "DELETE", "/v0/headnode/hn", None)
        .await
        .empty_ok();
    assert!(vms(&s).is_empty(), "the VM outlived its headnode");
    alice(&s, "GET", "/v0/headnode/hn", None)
        .await
        .err(404, "NotFoundError");
    alice(&s, "DELETE", "/v0/network/pnet", None)
        .await
        .empty_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn checks_run_in_hils_order() {
    let s = world().await;
    // Image first (before authorization), then duplicate, project, access.
    s.call(BOB, "PUT", "/v0/headnode/x", create_body("p", "nope"))
        .await
        .err(400, "BadArgumentError");
    alice(&s, "PUT", "/v0/headnode/hn", create_body("p", "img-a"))
        .await
        .empty_ok();
    s.call(BOB, "PUT", "/v0/headnode/hn", create_body("q", "img-a"))
        .await
        .err(409, "DuplicateError");
    alice(&s, "PUT", "/v0/headnode/h2", create_body("nosuch", "img-a"))
        .await
        .err(404, "NotFoundError");
    s.call(BOB, "PUT", "/v0/headnode/h2", create_body("p", "img-a"))
        .await
        .err(401, "AuthorizationError");
    for bad in [
        json!({"project": "p"}),
        json!({"project": "p", "base_img": 1}),
        json!({"project": "p", "base_img": "img-a", "x": 1}),
    ] {
        alice(&s, "PUT", "/v0/headnode/h3", Some(bad))
            .await
            .err(400, "ValidationError");
    }

    alice(&s, "PUT", "/v0/headnode/hn/hnic/eth0", None)
        .await
        .empty_ok();
    let connect = |net: &str| Some(json!({ "network": net }));
    let path = "/v0/headnode/hn/hnic/eth0/connect_network";
    alice(
        &s,
        "POST",
        "/v0/headnode/hn/hnic/nope/connect_network",
        connect("pnet"),
    )
    .await
    .err(404, "NotFoundError");
    alice(&s, "POST", path, connect("nonet"))
        .await
        .err(404, "NotFoundError");
    // Only networks allocated from the pool, as in HIL.
    alice(&s, "POST", path, connect("adminnet"))
        .await
        .err(400, "BadArgumentError");
    // A network of another project.
    s.call(
        BOB,
        "PUT",
        "/v0/network/qnet",
        Some(json!({"owner": "q", "access": "q", "net_id": ""})),
    )
    .await
    .empty_ok();
    alice(&s, "POST", path, connect("qnet"))
        .await
        .err(409, "ProjectMismatchError");
    alice(&s, "DELETE", "/v0/headnode/hn/hnic/nope", None)
        .await
        .err(404, "NotFoundError");
    alice(&s, "GET", "/v0/headnode/nope", None)
        .await
        .err(404, "NotFoundError");
    s.shutdown().await;
}

#[tokio::test]
async fn admins_may_allow_unallocated_networks() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.headnode.base_imgs = vec!["img-a".into()];
    config.headnode.allow_unallocated_networks = true;
    let s = TestServer::start_with(dir, config, true).await;
    s.project("p").await;
    s.network("adminnet", "admin", "p", "3000").await;
    s.ok("PUT", "/v0/headnode/hn", create_body("p", "img-a"))
        .await;
    s.ok("PUT", "/v0/headnode/hn/hnic/eth0", None).await;
    s.ok(
        "POST",
        "/v0/headnode/hn/hnic/eth0/connect_network",
        Some(json!({"network": "adminnet"})),
    )
    .await;
    s.ok("POST", "/v0/headnode/hn/start", None).await;
    let vm = vms(&s).into_values().next().unwrap();
    assert_eq!(vm.spec.nics[0].vlan, "3000");
    s.shutdown().await;
}

#[tokio::test]
async fn other_projects_and_strangers_get_401_on_every_call() {
    let s = world().await;
    alice(&s, "PUT", "/v0/headnode/hn", create_body("p", "img-a"))
        .await
        .empty_ok();
    alice(&s, "PUT", "/v0/headnode/hn/hnic/eth0", None)
        .await
        .empty_ok();
    let calls: Vec<(&str, &str, Option<Value>)> = vec![
        ("GET", "/v0/headnode/hn", None),
        ("POST", "/v0/headnode/hn/start", None),
        ("POST", "/v0/headnode/hn/stop", None),
        ("PUT", "/v0/headnode/hn/hnic/eth1", None),
        ("DELETE", "/v0/headnode/hn/hnic/eth0", None),
        (
            "POST",
            "/v0/headnode/hn/hnic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        ),
        ("POST", "/v0/headnode/hn/hnic/eth0/detach_network", None),
        ("GET", "/v0/project/p/headnodes", None),
        ("DELETE", "/v0/headnode/hn", None),
    ];
    for (method, path, body) in &calls {
        for who in [None, BOB, Some(("alice", "wrong"))] {
            let r = s.call(who, method, path, body.clone()).await;
            r.err(401, "AuthorizationError");
        }
    }
    assert!(vms(&s).is_empty());
    let shown = alice(&s, "GET", "/v0/headnode/hn", None).await;
    assert_eq!(
        shown.json["hnics"],
        json!(["eth0"]),
        "a refused call changed the headnode"
    );
    // The administrator may do everything.
    s.ok("POST", "/v0/headnode/hn/start", None).await;
    s.ok("DELETE", "/v0/headnode/hn", None).await;
    s.shutdown().await;
}

#[tokio::test]
async fn hils_cli_paths_without_v0_work() {
    let s = world().await;
    // HIL's `hil headnode` commands built URLs without /v0 (hil-api.md §13.4).
    alice(&s, "PUT", "/headnode/hn", create_body("p", "img-a"))
        .await
        .empty_ok();
    alice(&s, "PUT", "/headnode/hn/hnic/eth0", Some(json!({})))
        .await
        .empty_ok();
    alice(
        &s,
        "POST",
        "/headnode/hn/hnic/eth0/connect_network",
        Some(json!({"network": "pnet"})),
    )
    .await
    .empty_ok();
    alice(&s, "POST", "/headnode/hn/start", Some(json!({})))
        .await
        .empty_ok();
    let shown = alice(&s, "GET", "/headnode/hn", None).await;
    assert_eq!(shown.json["vncport"], "5900");
    let images = alice(&s, "GET", "/headnode_images", None).await;
    assert_eq!(images.json, json!(["img-a", "img-b"]));
    let listed = alice(&s, "GET", "/project/p/headnodes", None).await;
    assert_eq!(listed.json, json!(["hn"]));
    alice(&s, "DELETE", "/headnode/hn", None).await.empty_ok();
    // Other routes stay under /v0 only.
    s.admin("GET", "/projects", None)
        .await
        .err(404, "NotFoundError");
    s.shutdown().await;
}

#[tokio::test]
async fn a_failed_clone_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.headnode.base_imgs = vec!["broken".into()];
    let s = TestServer::start_with(dir, config, true).await;
    s.project("p").await;
    s.ok("PUT", "/v0/headnode/hn", create_body("p", "broken"))
        .await;
    let r = s.admin("POST", "/v0/headnode/hn/start", None).await;
    r.err(500, "ServerError");
    assert!(vms(&s).is_empty());
    // Still unstarted: hnics may change, and the headnode can be deleted.
    s.ok("PUT", "/v0/headnode/hn/hnic/eth0", None).await;
    assert_eq!(
        s.ok("GET", "/v0/headnode/hn", None).await["vncport"],
        Value::Null
    );
    s.ok("DELETE", "/v0/headnode/hn", None).await;
    s.shutdown().await;
}
