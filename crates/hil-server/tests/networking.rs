//! Connecting nics to networks: the API's checks, the durable queue, and what the worker does
//! to the (mock) switch, read back from the switch's own state.

mod common;
use common::*;
use serde_json::json;

/// A tenant project `p` (user t/tpw) owning node n1 (eth0 on sw gi1/0/1) and network pnet.
async fn tenant_setup(s: &TestServer) {
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.project("p").await;
    s.user("t", "tpw", false, &["p"]).await;
    s.reserve("p", "n1").await;
    s.network("pnet", "p", "p", "").await; // VLAN 1001
}

const T: Option<(&str, &str)> = Some(("t", "tpw"));

#[tokio::test]
async fn connect_detach_and_revert_reach_the_switch() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;
    s.network("trunk", "admin", "", "").await; // VLAN 1002, public

    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.json["status_id"].as_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let done = s.wait_action(&id).await;
    assert_eq!(
        done,
        json!({"status": "DONE", "node": "n1", "nic": "eth0", "type": "modify_port",
               "channel": "vlan/native", "new_network": "pnet"})
    );
    assert_eq!(
        s.mock_state("sw"),
        json!({"gi1/0/1": {"vlan/native": "1001"}})
    );

    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "trunk", "channel": "vlan/1002"})),
        )
        .await;
    assert_eq!(r.status, 202);
    s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(
        s.mock_state("sw"),
        json!({"gi1/0/1": {"vlan/native": "1001", "vlan/1002": "1002"}})
    );
    assert_eq!(
        s.call(T, "GET", "/v0/node/n1", None).await.json["nics"][0]["networks"],
        json!({"vlan/native": "pnet", "vlan/1002": "trunk"})
    );
    assert_eq!(
        s.ok("GET", "/v0/network/pnet", None).await["connected-nodes"],
        json!({"n1": ["eth0"]})
    );
    assert_eq!(
        s.ok("GET", "/v0/network/trunk/attachments", None).await,
        json!({"n1": {"nic": "eth0", "channel": "vlan/1002", "project": "p"}})
    );
    assert_eq!(
        s.ok("GET", "/v0/switch/sw/port/gi1/0/1", None).await["networks"]["vlan/native"],
        "pnet"
    );

    // Attached networks block their deletion and the node's release.
    s.call(T, "DELETE", "/v0/network/pnet", None)
        .await
        .err(409, "BlockedError");
    s.call(
        T,
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(409, "BlockedError");

    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/detach_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(r.status, 202);
    let detached = s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(detached["new_network"], json!(null));
    assert_eq!(detached["channel"], "vlan/native");
    assert_eq!(
        s.mock_state("sw"),
        json!({"gi1/0/1": {"vlan/1002": "1002"}})
    );

    // Revert (admin): everything off the port; answers 200, not 202.
    let r = s
        .admin("POST", "/v0/switch/sw/port/gi1/0/1/revert", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let reverted = s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(reverted["type"], "revert_port");
    assert_eq!(reverted["channel"], "");
    assert_eq!(s.mock_state("sw"), json!({}));
    assert_eq!(
        s.call(T, "GET", "/v0/node/n1", None).await.json["nics"][0]["networks"],
        json!({})
    );

    // The finished action is replaced by the next one on the same nic: its id is gone.
    let old = r.json["status_id"].as_str().unwrap().to_string();
    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    s.admin("GET", &format!("/v0/networking_action/{old}"), None)
        .await
        .err(404, "NotFoundError");
    s.shutdown().await;
}

#[tokio::test]
async fn connect_checks_in_hil_order() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;
    s.project("q").await;
    s.network("qnet", "q", "q", "").await; // 1002
    s.node("free").await;
    s.ok(
        "PUT",
        "/v0/node/free/nic/eth0",
        Some(json!({"macaddr": "m"})),
    )
    .await;
    s.ok(
        "PUT",
        "/v0/node/n1/nic/unplugged",
        Some(json!({"macaddr": "m"})),
    )
    .await;
    let connect = |node: &str, nic: &str, body: serde_json::Value| {
        (format!("/v0/node/{node}/nic/{nic}/connect_network"), body)
    };
    let cases = [
        (
            connect("nope", "eth0", json!({"network": "pnet"})),
            404,
            "NotFoundError",
        ),
        (
            connect("n1", "nope", json!({"network": "pnet"})),
            404,
            "NotFoundError",
        ),
        (
            connect("n1", "eth0", json!({"network": "nope"})),
            404,
            "NotFoundError",
        ),
        (
            connect("free", "eth0", json!({"network": "pnet"})),
            409,
            "ProjectMismatchError",
        ),
        (
            connect("n1", "unplugged", json!({"network": "pnet"})),
            404,
            "NotFoundError",
        ),
        (
            connect("n1", "eth0", json!({"network": "qnet"})),
            409,
            "ProjectMismatchError",
        ),
        (
            connect(
                "n1",
                "eth0",
                json!({"network": "pnet", "channel": "vlan/1002"}),
            ),
            400,
            "BadArgumentError",
        ),
        (
            connect("n1", "eth0", json!({"network": "pnet", "channel": "null"})),
            400,
            "BadArgumentError",
        ),
        (
            connect("n1", "eth0", json!({"network": "pnet", "channel": ""})),
            400,
            "BadArgumentError",
        ),
    ];
    for ((path, body), status, ty) in cases {
        let r = s.admin("POST", &path, Some(body.clone())).await;
        assert_eq!(
            (r.status, r.json["type"].as_str().unwrap_or_default()),
            (status, ty),
            "{path} {body}: {}",
            r.text
        );
    }
    // A tenant of another project: 401 after the lookups.
    s.user("tq", "pw", false, &["q"]).await;
    s.call(
        Some(("tq", "pw")),
        "POST",
        "/v0/node/n1/nic/eth0/connect_network",
        Some(json!({"network": "pnet"})),
    )
    .await
    .err(401, "AuthorizationError");

    // A PENDING action blocks; with the worker stopped the action stays pending.
    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(r.status, 202);
    let id = r.json["status_id"].as_str().unwrap().to_string();
    s.wait_action(&id).await;
    s.call(
        T,
        "POST",
        "/v0/node/n1/nic/eth0/connect_network",
        Some(json!({"network": "pnet", "channel": "vlan/1001"})),
    )
    .await
    .err(409, "BlockedError"); // network already on the nic
    s.network("pnet2", "p", "p", "").await; // 1003
    s.call(
        T,
        "POST",
        "/v0/node/n1/nic/eth0/connect_network",
        Some(json!({"network": "pnet2"})),
    )
    .await
    .err(409, "BlockedError"); // native channel taken
    s.call(
        T,
        "POST",
        "/v0/node/n1/nic/eth0/detach_network",
        Some(json!({"network": "pnet2"})),
    )
    .await
    .err(400, "BadArgumentError"); // not attached

    // Nothing was queued by the failures: the last action is still the DONE one.
    assert_eq!(s.wait_action(&id).await["status"], "DONE");
    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/detach_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(
        s.wait_action(r.json["status_id"].as_str().unwrap()).await["status"],
        "DONE"
    );
    assert_eq!(s.mock_state("sw"), json!({}));
    // Detached, and no action names it any more: the network can go.
    s.call(T, "DELETE", "/v0/network/pnet", None)
        .await
        .empty_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn pending_actions_block_and_survive_until_a_worker_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path()).await;
    let s = TestServer::start_with(dir, config, false).await; // no worker
    tenant_setup(&s).await;
    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    let id = r.json["status_id"].as_str().unwrap().to_string();
    assert_eq!(
        s.admin("GET", &format!("/v0/networking_action/{id}"), None)
            .await
            .json["status"],
        "PENDING"
    );
    s.call(
        T,
        "POST",
        "/v0/node/n1/nic/eth0/detach_network",
        Some(json!({"network": "pnet"})),
    )
    .await
    .err(409, "BlockedError");
    s.admin("POST", "/v0/switch/sw/port/gi1/0/1/revert", None)
        .await
        .err(409, "BlockedError");
    s.call(
        T,
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(409, "BlockedError");
    s.call(T, "DELETE", "/v0/network/pnet", None)
        .await
        .err(409, "BlockedError");
    assert_eq!(
        s.mock_state("sw"),
        json!({}),
        "nothing reaches the switch without a worker"
    );
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["nics"][0]["networks"],
        json!({}),
        "attachments are written only after the switch confirmed"
    );

    // A separate worker (as `hil-admin serve-networks` runs it) applies it.
    let worker = hil_server::spawn_worker(&s.ctx);
    worker.drain().await.unwrap();
    assert_eq!(s.wait_action(&id).await["status"], "DONE");
    assert_eq!(
        s.mock_state("sw"),
        json!({"gi1/0/1": {"vlan/native": "1001"}})
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_failing_switch_marks_errors_and_the_worker_carries_on() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;
    s.switch("good").await;
    s.cabled_node("n2", "good", "gi1/0/1").await;
    s.reserve("p", "n2").await;
    s.mock_fail("sw", Some("% VLAN 1001 does not exist"));

    let bad = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    s.network("pnet2", "p", "p", "").await;
    let good = s
        .call(
            T,
            "POST",
            "/v0/node/n2/nic/eth0/connect_network",
            Some(json!({"network": "pnet2"})),
        )
        .await;
    let bad = s.wait_action(bad.json["status_id"].as_str().unwrap()).await;
    assert_eq!(bad["status"], "ERROR");
    assert_eq!(bad["error"], "% VLAN 1001 does not exist");
    // A finished action still names its network, which blocks deleting it (HIL's rule).
    s.call(T, "DELETE", "/v0/network/pnet", None)
        .await
        .err(409, "BlockedError");
    assert_eq!(
        s.wait_action(good.json["status_id"].as_str().unwrap())
            .await["status"],
        "DONE"
    );
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["nics"][0]["networks"],
        json!({}),
        "no attachment on ERROR"
    );
    assert_eq!(
        s.mock_state("good"),
        json!({"gi1/0/1": {"vlan/native": "1002"}})
    );

    // The switch recovers; a new action on the same nic replaces the ERROR one and succeeds.
    s.mock_fail("sw", None);
    let again = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.text);
    assert_eq!(
        s.wait_action(again.json["status_id"].as_str().unwrap())
            .await["status"],
        "DONE"
    );
    assert_eq!(
        s.mock_state("sw"),
        json!({"gi1/0/1": {"vlan/native": "1001"}})
    );
    s.shutdown().await;
}

#[tokio::test]
async fn null_allocator_uses_the_null_channel() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.allocator.backend = hil_server::config::AllocatorBackend::Null;
    let s = TestServer::start_with(dir, config, true).await;
    tenant_setup(&s).await;
    let net = s.ok("GET", "/v0/network/pnet", None).await;
    assert_eq!(net["channels"], json!(["null"]));
    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    let a = s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(a["channel"], "null");
    assert_eq!(a["status"], "DONE");
    assert!(s
        .ok("GET", "/v0/active_extensions", None)
        .await
        .to_string()
        .contains("hil.ext.network_allocators.null"));
    s.shutdown().await;
}

#[tokio::test]
async fn maintenance_pool_receives_released_nodes() {
    // A one-shot HTTP listener stands in for the maintenance service.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/clean", listener.local_addr().unwrap());
    let received = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if n == 0 || text.contains("\"node\"") {
                break;
            }
        }
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8_lossy(&got).to_string()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.maintenance.project = Some("maintenance".into());
    config.maintenance.url = Some(url);
    let s = TestServer::start_with(dir, config, true).await;
    s.project("maintenance").await;
    s.project("p").await;
    s.node("n1").await;
    s.reserve("p", "n1").await;
    s.admin(
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .empty_ok();
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["project"],
        "maintenance"
    );
    let request = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(request.starts_with("POST /clean"), "{request}");
    assert!(request.contains(r#"{"node":"n1"}"#), "{request}");
    // The maintenance service frees the node by detaching it from the maintenance project.
    s.admin(
        "POST",
        "/v0/project/maintenance/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .empty_ok();
    assert_eq!(s.ok("GET", "/v0/nodes/free", None).await, json!(["n1"]));
    s.shutdown().await;
}

#[tokio::test]
async fn maintenance_half_configured_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.maintenance.project = Some("maintenance".into());
    let s = TestServer::start_with(dir, config, true).await;
    s.project("p").await;
    s.node("n1").await;
    s.reserve("p", "n1").await;
    s.admin(
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n1"})),
    )
    .await
    .err(404, "NotFoundError");
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["project"],
        "p",
        "rolled back"
    );
    s.shutdown().await;
}
