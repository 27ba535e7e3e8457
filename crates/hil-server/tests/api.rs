//! Every core v0 call: its success path (checked the way a user would check it) and its
//! documented errors, with the exact `type` and status, in HIL's check order.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn projects() {
    let s = TestServer::start().await;
    s.admin("PUT", "/v0/project/beta", None).await.empty_ok();
    s.project("alpha").await;
    assert_eq!(
        s.ok("GET", "/v0/projects", None).await,
        json!(["alpha", "beta"]),
        "sorted"
    );
    s.admin("PUT", "/v0/project/alpha", None)
        .await
        .err(409, "DuplicateError");
    s.admin("DELETE", "/v0/project/nope", None)
        .await
        .err(404, "NotFoundError");

    // Blockers, in HIL's order: nodes, owned networks, access lists.
    s.node("n1").await;
    s.reserve("alpha", "n1").await;
    s.network("owned", "alpha", "alpha", "").await;
    let r = s.admin("DELETE", "/v0/project/alpha", None).await;
    r.err(409, "BlockedError");
    assert_eq!(r.json["msg"], "Project has nodes still");
    s.ok(
        "POST",
        "/v0/project/alpha/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await;
    let r = s.admin("DELETE", "/v0/project/alpha", None).await;
    assert_eq!(r.json["msg"], "Project still has networks");
    s.ok("DELETE", "/v0/network/owned", None).await;
    s.network("shared", "admin", "alpha", "").await;
    let r = s.admin("DELETE", "/v0/project/alpha", None).await;
    assert_eq!(r.json["msg"], "Project can still access networks");
    s.ok("DELETE", "/v0/network/shared", None).await;

    // Memberships go with the project.
    s.user("u", "pw", false, &["alpha"]).await;
    s.admin("DELETE", "/v0/project/alpha", None)
        .await
        .empty_ok();
    assert_eq!(s.ok("GET", "/v0/projects", None).await, json!(["beta"]));
    assert_eq!(
        s.ok("GET", "/v0/auth/basic/users", None).await["u"]["projects"],
        json!([])
    );
    s.shutdown().await;
}

#[tokio::test]
async fn reserving_and_releasing_nodes() {
    let s = TestServer::start().await;
    s.project("p").await;
    s.project("q").await;
    for n in ["n3", "n1", "n2"] {
        s.node(n).await;
    }
    s.admin(
        "POST",
        "/v0/project/nope/connect_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "POST",
        "/v0/project/p/connect_node",
        Some(json!({"node": "nope"})),
    )
    .await
    .err(404, "NotFoundError");
    for n in ["n3", "n1"] {
        s.admin(
            "POST",
            "/v0/project/p/connect_node",
            Some(json!({"node": n})),
        )
        .await
        .empty_ok();
    }
    s.admin(
        "POST",
        "/v0/project/p/connect_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(409, "BlockedError");
    s.admin(
        "POST",
        "/v0/project/q/connect_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(409, "BlockedError");
    assert_eq!(
        s.ok("GET", "/v0/project/p/nodes", None).await,
        json!(["n3", "n1"]),
        "creation order"
    );
    assert_eq!(s.ok("GET", "/v0/nodes/free", None).await, json!(["n2"]));
    assert_eq!(
        s.ok("GET", "/v0/nodes/all", None).await,
        json!(["n1", "n2", "n3"])
    );
    assert_eq!(
        s.ok("GET", "/v0/nodes/anything", None).await,
        json!(["n1", "n2", "n3"])
    );

    s.admin(
        "POST",
        "/v0/project/q/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .empty_ok();
    assert_eq!(
        s.ok("GET", "/v0/nodes/free", None).await,
        json!(["n1", "n2"])
    );
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["project"],
        json!(null)
    );
    s.shutdown().await;
}

#[tokio::test]
async fn nodes_nics_and_metadata() {
    let s = TestServer::start().await;
    let body = json!({"obmd": {"uri": "https://obmd.example/node/n1", "admin_token": "tok"},
                      "metadata": {"EK": "pk", "num": 3, "obj": {"a": [1, true, null]}}});
    s.admin("PUT", "/v0/node/n1", Some(body.clone()))
        .await
        .empty_ok();
    s.admin("PUT", "/v0/node/n1", Some(body))
        .await
        .err(409, "DuplicateError");
    s.admin(
        "PUT",
        "/v0/node/n1/nic/eth0",
        Some(json!({"macaddr": "aa:bb"})),
    )
    .await
    .empty_ok();
    s.admin(
        "PUT",
        "/v0/node/n1/nic/eth0",
        Some(json!({"macaddr": "cc"})),
    )
    .await
    .err(409, "DuplicateError");
    s.admin(
        "PUT",
        "/v0/node/nope/nic/eth0",
        Some(json!({"macaddr": "cc"})),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "PUT",
        "/v0/node/n1/nic/eth1",
        Some(json!({"macaddr": "aa:bb"})),
    )
    .await
    .empty_ok();

    s.admin("PUT", "/v0/node/n1/metadata/num", Some(json!({"value": 4})))
        .await
        .empty_ok();
    s.admin(
        "PUT",
        "/v0/node/n1/metadata/new",
        Some(json!({"value": null})),
    )
    .await
    .empty_ok();
    s.admin("PUT", "/v0/node/nope/metadata/x", Some(json!({"value": 1})))
        .await
        .err(404, "NotFoundError");
    let shown = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(shown["name"], "n1");
    assert_eq!(shown["project"], json!(null));
    // Metadata values come back as their JSON text (HIL's quirk, kept for compatibility).
    let meta = &shown["metadata"];
    assert_eq!(meta["EK"], "\"pk\"");
    assert_eq!(meta["num"], "4");
    assert_eq!(meta["new"], "null");
    let obj: serde_json::Value = serde_json::from_str(meta["obj"].as_str().unwrap()).unwrap();
    assert_eq!(obj, json!({"a": [1, true, null]}));
    assert_eq!(
        shown["nics"],
        json!([
            {"label": "eth0", "macaddr": "aa:bb", "networks": {}, "port": null, "switch": null},
            {"label": "eth1", "macaddr": "aa:bb", "networks": {}, "port": null, "switch": null}
        ])
    );

    s.admin("DELETE", "/v0/node/n1/metadata/num", None)
        .await
        .empty_ok();
    s.admin("DELETE", "/v0/node/n1/metadata/num", None)
        .await
        .err(404, "NotFoundError");
    assert!(s.ok("GET", "/v0/node/n1", None).await["metadata"]
        .get("num")
        .is_none());

    // Deletion: blocked by a project, then by nics; metadata goes with the node.
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.admin("DELETE", "/v0/node/n1", None)
        .await
        .err(409, "BlockedError");
    s.admin("DELETE", "/v0/node/n1/nic/eth0", None)
        .await
        .err(409, "BlockedError");
    s.ok(
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await;
    s.admin("DELETE", "/v0/node/n1", None)
        .await
        .err(409, "BlockedError");
    s.admin("DELETE", "/v0/node/n1/nic/nope", None)
        .await
        .err(404, "NotFoundError");
    s.admin("DELETE", "/v0/node/n1/nic/eth0", None)
        .await
        .empty_ok();
    s.admin("DELETE", "/v0/node/n1/nic/eth1", None)
        .await
        .empty_ok();
    s.admin("DELETE", "/v0/node/n1", None).await.empty_ok();
    s.admin("GET", "/v0/node/n1", None)
        .await
        .err(404, "NotFoundError");
    s.admin("DELETE", "/v0/node/n1", None)
        .await
        .err(404, "NotFoundError");
    s.shutdown().await;
}

#[tokio::test]
async fn show_node_hides_cabling_from_tenants() {
    let s = TestServer::start().await;
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.project("p").await;
    s.user("t", "tpw", false, &["p"]).await;
    s.reserve("p", "n1").await;
    let admin_view = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(admin_view["nics"][0]["port"], "gi1/0/1");
    assert_eq!(admin_view["nics"][0]["switch"], "sw");
    let tenant_view = s.call(Some(("t", "tpw")), "GET", "/v0/node/n1", None).await;
    assert_eq!(tenant_view.status, 200);
    let nic = tenant_view.json["nics"][0].as_object().unwrap();
    assert!(
        !nic.contains_key("port") && !nic.contains_key("switch"),
        "{nic:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn networks_create_show_list_delete() {
    let s = TestServer::start().await;
    s.project("p").await;
    s.project("q").await;
    s.user("t", "tpw", false, &["p"]).await;
    let t = Some(("t", "tpw"));

    // Pool allocation in insertion order: 1001, 1002, ...
    s.call(
        t,
        "PUT",
        "/v0/network/pnet",
        Some(json!({"owner": "p", "access": "p", "net_id": ""})),
    )
    .await
    .empty_ok();
    s.network("pub", "admin", "", "").await;
    s.network("ext", "admin", "", "3000").await;
    s.network("prov", "admin", "q", "1040").await;
    let list = s.ok("GET", "/v0/networks", None).await;
    assert_eq!(
        list,
        json!({
            "ext": {"network_id": "3000", "projects": null},
            "pnet": {"network_id": "1001", "projects": ["p"]},
            "prov": {"network_id": "1040", "projects": ["q"]},
            "pub": {"network_id": "1002", "projects": null}
        })
    );
    // Non-admins see only public networks.
    let tl = s.call(t, "GET", "/v0/networks", None).await.json;
    assert_eq!(
        tl.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["ext", "pub"]
    );

    let shown = s.call(t, "GET", "/v0/network/pnet", None).await;
    assert_eq!(
        shown.json,
        json!({"access": ["p"], "channels": ["vlan/native", "vlan/1001"], "connected-nodes": {},
               "name": "pnet", "owner": "p"})
    );
    assert_eq!(
        s.ok("GET", "/v0/network/pub", None).await["access"],
        json!(null)
    );
    assert_eq!(s.ok("GET", "/v0/network/pub", None).await["owner"], "admin");
    s.call(t, "GET", "/v0/network/prov", None)
        .await
        .err(401, "AuthorizationError");
    assert_eq!(
        s.ok("GET", "/v0/project/p/networks", None).await,
        json!(["pnet"])
    );

    // Errors in HIL's order.
    let dup = json!({"owner": "p", "access": "p", "net_id": ""});
    s.call(t, "PUT", "/v0/network/pub", Some(dup))
        .await
        .err(409, "DuplicateError");
    s.admin(
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "nope", "access": "nope", "net_id": ""})),
    )
    .await
    .err(404, "NotFoundError");
    s.call(
        t,
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "q", "access": "q", "net_id": ""})),
    )
    .await
    .err(401, "AuthorizationError");
    s.call(
        t,
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "p", "access": "", "net_id": ""})),
    )
    .await
    .err(400, "BadArgumentError");
    s.call(
        t,
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "p", "access": "p", "net_id": "5"})),
    )
    .await
    .err(400, "BadArgumentError");
    s.call(
        t,
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "admin", "access": "", "net_id": ""})),
    )
    .await
    .err(401, "AuthorizationError");
    s.admin(
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "admin", "access": "nope", "net_id": ""})),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "admin", "access": "", "net_id": "abc"})),
    )
    .await
    .err(400, "BadArgumentError");
    s.admin(
        "PUT",
        "/v0/network/x",
        Some(json!({"owner": "admin", "access": "", "net_id": "1040"})),
    )
    .await
    .err(409, "BlockedError");
    s.admin("GET", "/v0/network/x", None)
        .await
        .err(404, "NotFoundError");

    // Deleting returns pool ids: 1001 is handed out again.
    s.call(t, "DELETE", "/v0/network/pnet", None)
        .await
        .empty_ok();
    s.network("again", "admin", "", "").await;
    assert_eq!(
        s.ok("GET", "/v0/networks", None).await["again"]["network_id"],
        "1001"
    );
    // An explicit pool id is returned too; an out-of-pool one is not tracked.
    s.ok("DELETE", "/v0/network/prov", None).await;
    s.network("prov2", "admin", "", "1040").await;
    s.network("ext2", "admin", "", "3000").await;
    s.admin("DELETE", "/v0/network/nope", None)
        .await
        .err(404, "NotFoundError");
    s.shutdown().await;
}

#[tokio::test]
async fn exhausted_pool_is_a_json_allocation_error() {
    let s = TestServer::start().await;
    for i in 0..40 {
        s.network(&format!("n{i}"), "admin", "", "").await;
    }
    let r = s
        .admin(
            "PUT",
            "/v0/network/one-too-many",
            Some(json!({"owner": "admin", "access": "", "net_id": ""})),
        )
        .await;
    r.err(500, "AllocationError");
    s.admin("GET", "/v0/network/one-too-many", None)
        .await
        .err(404, "NotFoundError");
    s.shutdown().await;
}

#[tokio::test]
async fn network_access_grant_and_revoke() {
    let s = TestServer::start().await;
    for p in ["p", "q", "r"] {
        s.project(p).await;
    }
    s.user("tq", "pw", false, &["q"]).await;
    s.network("pnet", "p", "p", "").await;
    s.network("pub", "admin", "", "").await;
    s.admin("PUT", "/v0/network/pnet/access/q", None)
        .await
        .empty_ok();
    s.admin("PUT", "/v0/network/pnet/access/q", None)
        .await
        .err(409, "DuplicateError");
    s.admin("PUT", "/v0/network/nope/access/q", None)
        .await
        .err(404, "NotFoundError");
    s.admin("PUT", "/v0/network/pnet/access/nope", None)
        .await
        .err(404, "NotFoundError");
    assert_eq!(
        s.ok("GET", "/v0/network/pnet", None).await["access"],
        json!(["p", "q"]),
        "grant order"
    );
    // A member of q may see the network now, and remove q itself.
    assert_eq!(
        s.call(Some(("tq", "pw")), "GET", "/v0/network/pnet", None)
            .await
            .status,
        200
    );
    s.admin("DELETE", "/v0/network/pnet/access/p", None)
        .await
        .err(409, "BlockedError");
    s.admin("DELETE", "/v0/network/pnet/access/r", None)
        .await
        .err(404, "NotFoundError");
    s.call(
        Some(("tq", "pw")),
        "DELETE",
        "/v0/network/pnet/access/q",
        None,
    )
    .await
    .empty_ok();
    assert_eq!(
        s.ok("GET", "/v0/network/pnet", None).await["access"],
        json!(["p"])
    );

    // Granting to a public network restricts it; revoking the last project makes it public.
    s.admin("PUT", "/v0/network/pub/access/r", None)
        .await
        .empty_ok();
    assert_eq!(
        s.ok("GET", "/v0/networks", None).await["pub"]["projects"],
        json!(["r"])
    );
    s.admin("DELETE", "/v0/network/pub/access/r", None)
        .await
        .empty_ok();
    assert_eq!(
        s.ok("GET", "/v0/networks", None).await["pub"]["projects"],
        json!(null)
    );
    s.shutdown().await;
}

#[tokio::test]
async fn switches_and_ports() {
    let s = TestServer::start().await;
    s.switch("sw2").await;
    s.switch("sw1").await;
    let mock = json!({"type": MOCK, "hostname": "h", "username": "u", "password": "p"});
    s.admin("PUT", "/v0/switch/sw1", Some(mock.clone()))
        .await
        .err(409, "DuplicateError");
    s.admin(
        "PUT",
        "/v0/switch/x",
        Some(json!({"type": "http://example/nope", "a": "b"})),
    )
    .await
    .err(400, "BadArgumentError");
    s.admin(
        "PUT",
        "/v0/switch/x",
        Some(json!({"type": MOCK, "hostname": "h"})),
    )
    .await
    .err(400, "BadArgumentError");
    s.admin(
        "PUT",
        "/v0/switch/x",
        Some(
            json!({"type": MOCK, "hostname": "h", "username": "u", "password": "p", "extra": "e"}),
        ),
    )
    .await
    .err(400, "BadArgumentError");
    assert_eq!(
        s.ok("GET", "/v0/switches", None).await,
        json!(["sw1", "sw2"])
    );

    s.admin("PUT", "/v0/switch/sw1/port/gi1/0/2", None)
        .await
        .empty_ok();
    s.admin("PUT", "/v0/switch/sw1/port/gi1/0/1", None)
        .await
        .empty_ok();
    s.admin("PUT", "/v0/switch/sw1/port/gi1/0/1", None)
        .await
        .err(409, "DuplicateError");
    s.admin("PUT", "/v0/switch/sw1/port/eth0", None)
        .await
        .err(400, "BadArgumentError");
    s.admin("PUT", "/v0/switch/nope/port/gi1/0/1", None)
        .await
        .err(404, "NotFoundError");
    let shown = s.ok("GET", "/v0/switch/sw1", None).await;
    assert_eq!(
        shown,
        json!({"capabilities": ["nativeless-trunk-mode"], "name": "sw1",
               "ports": [{"label": "gi1/0/2"}, {"label": "gi1/0/1"}]})
    );
    assert!(
        !shown.to_string().contains("switch-secret"),
        "switch passwords are never returned"
    );
    s.admin("GET", "/v0/switch/nope", None)
        .await
        .err(404, "NotFoundError");
    assert_eq!(
        s.ok("GET", "/v0/switch/sw1/port/gi1/0/1", None).await,
        json!({})
    );
    s.admin("GET", "/v0/switch/sw1/port/gi1/0/9", None)
        .await
        .err(404, "NotFoundError");

    // Cabling.
    s.node("n1").await;
    s.ok("PUT", "/v0/node/n1/nic/eth0", Some(json!({"macaddr": "m"})))
        .await;
    s.ok("PUT", "/v0/node/n1/nic/eth1", Some(json!({"macaddr": "m"})))
        .await;
    let nic = |n: &str| Some(json!({"node": "n1", "nic": n}));
    s.admin(
        "POST",
        "/v0/switch/sw1/port/gi1/0/1/connect_nic",
        nic("nope"),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "POST",
        "/v0/switch/sw1/port/gi1/0/1/connect_nic",
        nic("eth0"),
    )
    .await
    .empty_ok();
    s.admin(
        "POST",
        "/v0/switch/sw1/port/gi1/0/2/connect_nic",
        nic("eth0"),
    )
    .await
    .err(409, "DuplicateError");
    s.admin(
        "POST",
        "/v0/switch/sw1/port/gi1/0/1/connect_nic",
        nic("eth1"),
    )
    .await
    .err(409, "DuplicateError");
    assert_eq!(
        s.ok("GET", "/v0/switch/sw1/port/gi1/0/1", None).await,
        json!({"node": "n1", "nic": "eth0", "networks": {}})
    );
    s.admin("DELETE", "/v0/switch/sw1/port/gi1/0/1", None)
        .await
        .err(409, "BlockedError");
    s.admin("DELETE", "/v0/switch/sw1", None)
        .await
        .err(409, "BlockedError");

    s.project("p").await;
    s.reserve("p", "n1").await;
    s.admin("POST", "/v0/switch/sw1/port/gi1/0/1/detach_nic", None)
        .await
        .err(409, "BlockedError");
    s.ok(
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await;
    s.admin("POST", "/v0/switch/sw1/port/gi1/0/1/detach_nic", None)
        .await
        .empty_ok();
    s.admin("POST", "/v0/switch/sw1/port/gi1/0/1/detach_nic", None)
        .await
        .err(404, "NotFoundError");
    s.admin("POST", "/v0/switch/sw1/port/gi1/0/1/revert", None)
        .await
        .err(404, "NotFoundError");
    for p in ["gi1/0/1", "gi1/0/2"] {
        s.admin("DELETE", &format!("/v0/switch/sw1/port/{p}"), None)
            .await
            .empty_ok();
    }
    s.admin("DELETE", "/v0/switch/sw1/port/gi1/0/1", None)
        .await
        .err(404, "NotFoundError");
    s.admin("DELETE", "/v0/switch/sw1", None).await.empty_ok();
    assert_eq!(s.ok("GET", "/v0/switches", None).await, json!(["sw2"]));
    s.shutdown().await;
}

#[tokio::test]
async fn users_and_extensions() {
    let s = TestServer::start().await;
    s.project("p").await;
    s.admin(
        "PUT",
        "/v0/auth/basic/user/bob",
        Some(json!({"password": "bpw"})),
    )
    .await
    .empty_ok();
    s.admin(
        "PUT",
        "/v0/auth/basic/user/bob",
        Some(json!({"password": "x"})),
    )
    .await
    .err(409, "DuplicateError");
    s.admin(
        "POST",
        "/v0/auth/basic/user/bob/add_project",
        Some(json!({"project": "p"})),
    )
    .await
    .empty_ok();
    s.admin(
        "POST",
        "/v0/auth/basic/user/bob/add_project",
        Some(json!({"project": "p"})),
    )
    .await
    .err(409, "DuplicateError");
    s.admin(
        "POST",
        "/v0/auth/basic/user/bob/add_project",
        Some(json!({"project": "nope"})),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "POST",
        "/v0/auth/basic/user/nope/add_project",
        Some(json!({"project": "p"})),
    )
    .await
    .err(404, "NotFoundError");
    assert_eq!(
        s.ok("GET", "/v0/auth/basic/users", None).await,
        json!({"admin": {"is_admin": true, "projects": []}, "bob": {"is_admin": false, "projects": ["p"]}})
    );
    // bob can act for p but not administer.
    let bob = Some(("bob", "bpw"));
    assert_eq!(
        s.call(bob, "GET", "/v0/project/p/nodes", None).await.status,
        200
    );
    s.call(bob, "GET", "/v0/projects", None)
        .await
        .err(401, "AuthorizationError");
    s.admin(
        "PATCH",
        "/v0/auth/basic/user/bob",
        Some(json!({"is_admin": true})),
    )
    .await
    .empty_ok();
    assert_eq!(s.call(bob, "GET", "/v0/projects", None).await.status, 200);
    s.call(
        bob,
        "PATCH",
        "/v0/auth/basic/user/bob",
        Some(json!({"is_admin": false})),
    )
    .await
    .err(409, "IllegalStateError");
    s.admin(
        "PATCH",
        "/v0/auth/basic/user/admin",
        Some(json!({"is_admin": false})),
    )
    .await
    .err(409, "IllegalStateError");
    s.admin(
        "PATCH",
        "/v0/auth/basic/user/nope",
        Some(json!({"is_admin": false})),
    )
    .await
    .err(404, "NotFoundError");
    s.admin(
        "POST",
        "/v0/auth/basic/user/bob/remove_project",
        Some(json!({"project": "p"})),
    )
    .await
    .empty_ok();
    s.admin(
        "POST",
        "/v0/auth/basic/user/bob/remove_project",
        Some(json!({"project": "p"})),
    )
    .await
    .err(404, "NotFoundError");

    // Deleting a user ends its cached credentials at once.
    assert_eq!(s.call(bob, "GET", "/v0/projects", None).await.status, 200);
    s.admin("DELETE", "/v0/auth/basic/user/bob", None)
        .await
        .empty_ok();
    s.call(bob, "GET", "/v0/projects", None)
        .await
        .err(401, "AuthorizationError");
    s.admin("DELETE", "/v0/auth/basic/user/bob", None)
        .await
        .err(404, "NotFoundError");
    // Recreated with another password: the old password must not work from the cache.
    s.user("bob", "new-pw", true, &[]).await;
    s.call(bob, "GET", "/v0/projects", None)
        .await
        .err(401, "AuthorizationError");
    assert_eq!(
        s.call(Some(("bob", "new-pw")), "GET", "/v0/projects", None)
            .await
            .status,
        200
    );

    assert_eq!(
        s.ok("GET", "/v0/active_extensions", None).await,
        json!([
            "hil.ext.auth.database",
            "hil.ext.network_allocators.vlan_pool",
            "hil.ext.switches.mock"
        ])
    );
    s.shutdown().await;
}

#[tokio::test]
async fn http_layer_answers_json_everywhere() {
    let s = TestServer::start().await;
    s.admin("GET", "/projects", None)
        .await
        .err(404, "NotFoundError");
    s.admin("GET", "/v0/no/such/route", None)
        .await
        .err(404, "NotFoundError");
    s.admin("POST", "/v0/projects", None)
        .await
        .err(405, "MethodNotAllowedError");
    s.admin("DELETE", "/v0/networks", None)
        .await
        .err(405, "MethodNotAllowedError");
    s.node("n1").await;
    let r = s.call(None, "GET", "/v0/projects", None).await;
    r.err(401, "AuthorizationError");
    s.shutdown().await;
}
