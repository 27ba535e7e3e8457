//! Switches that fail: a wrong password, a switch that is not there, and one that hangs in
//! the middle of a command. Each fails only its own actions, with a reason an operator can act
//! on, while a healthy switch carries on; and sessions are reused while work keeps coming.

mod common;
mod lab;
use std::time::{Duration, Instant};

use common::*;
use lab::ssh_standin::StandIn;
use serde_json::{json, Value};

const NEXUS: &str = "http://schema.massopencloud.org/haas/v0/switches/nexus";

async fn server(idle_secs: f64) -> TestServer {
    server_with(idle_secs, 1, true, false).await
}

async fn server_with(
    idle_secs: f64,
    sessions_per_switch: u32,
    worker: bool,
    save: bool,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.worker.sessions_per_switch = sessions_per_switch;
    config.switches.enabled = vec!["mock".into(), "nexus".into()];
    config.switches.save = save;
    config.switches.connect_timeout_secs = 1.0;
    config.switches.command_timeout_secs = 1.5;
    config.worker.max_attempts = 2;
    config.worker.session_idle_secs = idle_secs;
    TestServer::start_with(dir, config, worker).await
}

async fn nexus(s: &TestServer, label: &str, hostname: &str, password: &str) {
    let body = json!({"type": NEXUS, "hostname": hostname, "username": "hil",
                      "password": password, "dummy_vlan": 2222});
    s.ok("PUT", &format!("/v0/switch/{label}"), Some(body))
        .await;
}

/// Node `node` on `switch`/`port`, in project `p`.
async fn tenant_node(s: &TestServer, node: &str, switch: &str, port: &str) {
    s.cabled_node(node, switch, port).await;
    s.ok(
        "POST",
        "/v0/project/p/connect_node",
        Some(json!({"node": node})),
    )
    .await;
}

async fn status(s: &TestServer, id: &str) -> Value {
    s.ok("GET", &format!("/v0/networking_action/{id}"), None)
        .await
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port() // closed when `l` drops
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_switch_fails_only_its_own_actions() {
    let liar = StandIn::start("the-real-password").await;
    let stuck = StandIn::start("stuck-password").await;
    stuck.hang_on("interface");
    let s = server(5.0).await;
    s.project("p").await;
    s.network("net", "p", "p", "").await;
    s.switch("good").await; // mock
    nexus(&s, "liar", &liar.hostname(), "a-wrong-password").await;
    nexus(
        &s,
        "gone",
        &format!("127.0.0.1:{}", closed_port()),
        "gone-password",
    )
    .await;
    nexus(&s, "stuck", &stuck.hostname(), "stuck-password").await;
    tenant_node(&s, "n-good", "good", "gi1/0/1").await;
    tenant_node(&s, "n-liar", "liar", "Ethernet1/1").await;
    tenant_node(&s, "n-gone", "gone", "Ethernet1/1").await;
    tenant_node(&s, "n-stuck", "stuck", "Ethernet1/1").await;

    let started = Instant::now();
    let stuck_id = s.queue_connect("n-stuck", "net").await;
    let liar_id = s.queue_connect("n-liar", "net").await;
    let gone_id = s.queue_connect("n-gone", "net").await;
    let good_id = s.queue_connect("n-good", "net").await;

    // The healthy switch is not held up by the one that hangs.
    let good = s.wait_action(&good_id).await;
    assert_eq!(good["status"], "DONE", "{good}");
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status(&s, &stuck_id).await["status"], "PENDING");

    let liar_result = s.wait_action(&liar_id).await;
    assert_eq!(liar_result["status"], "ERROR");
    let reason = liar_result["error"].as_str().unwrap();
    assert!(reason.contains("refused the login"), "{reason}");
    assert!(!reason.contains("a-wrong-password"), "{reason}");

    let gone_result = s.wait_action(&gone_id).await;
    assert_eq!(gone_result["status"], "ERROR");
    let reason = gone_result["error"].as_str().unwrap();
    assert!(reason.contains("Connection refused"), "{reason}");

    let stuck_result = s.wait_action(&stuck_id).await;
    assert_eq!(stuck_result["status"], "ERROR");
    let reason = stuck_result["error"].as_str().unwrap();
    assert!(reason.contains("did not answer in time"), "{reason}");
    assert!(stuck.lines().iter().any(|l| l == "interface Ethernet1/1"));

    // Nothing was attached where the switch failed, and the worker still works.
    for node in ["n-liar", "n-gone", "n-stuck"] {
        let n = s.ok("GET", &format!("/v0/node/{node}"), None).await;
        assert_eq!(n["nics"][0]["networks"], json!({}), "{node}");
    }
    let r = s
        .admin(
            "POST",
            "/v0/node/n-good/nic/eth0/detach_network",
            Some(json!({"network": "net"})),
        )
        .await;
    let detached = s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(detached["status"], "DONE");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_reused_while_work_keeps_arriving_and_closed_when_idle() {
    let sw = StandIn::start("pw").await;
    let s = server(1.0).await;
    s.project("p").await;
    s.network("net", "p", "p", "").await;
    nexus(&s, "sw", &sw.hostname(), "pw").await;
    for i in 1..=5 {
        tenant_node(&s, &format!("n{i}"), "sw", &format!("Ethernet1/{i}")).await;
    }
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(s.queue_connect(&format!("n{i}"), "net").await);
    }
    for id in &ids {
        assert_eq!(s.wait_action(id).await["status"], "DONE");
    }
    assert_eq!(sw.logins(), 1, "five changes, one login");
    let interfaces = sw
        .lines()
        .iter()
        .filter(|l| l.starts_with("interface "))
        .count();
    assert_eq!(interfaces, 5);

    // More work soon after: the parked session is reused.
    let r = s
        .admin(
            "POST",
            "/v0/node/n1/nic/eth0/detach_network",
            Some(json!({"network": "net"})),
        )
        .await;
    assert_eq!(
        s.wait_action(r.json["status_id"].as_str().unwrap()).await["status"],
        "DONE"
    );
    assert_eq!(sw.logins(), 1);

    // After the idle time the session is closed; the next change logs in again.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let id = s.queue_connect("n1", "net").await;
    assert_eq!(s.wait_action(&id).await["status"], "DONE");
    assert_eq!(sw.logins(), 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_may_use_several_sessions_to_one_switch() {
    let sw = StandIn::start("pw").await;
    let s = server_with(5.0, 2, false, true).await; // no worker: the batch is queued whole
    s.project("p").await;
    s.network("net", "p", "p", "").await;
    nexus(&s, "sw", &sw.hostname(), "pw").await;
    let mut ids = Vec::new();
    for i in 1..=4 {
        tenant_node(&s, &format!("n{i}"), "sw", &format!("Ethernet1/{i}")).await;
        ids.push(s.queue_connect(&format!("n{i}"), "net").await);
    }
    hil_server::spawn_worker(&s.ctx).drain().await.unwrap();
    for id in &ids {
        assert_eq!(status(&s, id).await["status"], "DONE");
    }
    assert_eq!(sw.logins(), 2, "four changes over two sessions");
    let saves = sw
        .lines()
        .iter()
        .filter(|l| *l == "copy running-config startup-config")
        .count();
    assert_eq!(saves, 2, "one save per session's batch, not one per change");
    s.shutdown().await;
}
