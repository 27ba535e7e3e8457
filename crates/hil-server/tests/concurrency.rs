//! Races and crashes: concurrent clients cannot both win, and a killed server loses no action.

mod common;
#[path = "common/process.rs"]
mod process;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use process::{free_port, spawn_server, wait_ready};
use serde_json::json;

#[tokio::test]
async fn twenty_clients_race_to_reserve_one_node_and_connect_one_nic() {
    let s = TestServer::start().await;
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    for i in 0..20 {
        s.project(&format!("p{i}")).await;
    }
    let reserve = (0..20).map(|i| {
        let s = &s;
        async move {
            s.admin(
                "POST",
                &format!("/v0/project/p{i}/connect_node"),
                Some(json!({"node": "n1"})),
            )
            .await
        }
    });
    let results = futures::future::join_all(reserve).await;
    let winners: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 200)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one reservation wins: {results:?}"
    );
    for r in results.iter().filter(|r| r.status != 200) {
        r.err(409, "BlockedError");
    }
    let owner = format!("p{}", winners[0].0);
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["project"],
        owner.as_str()
    );
    assert_eq!(
        s.ok("GET", &format!("/v0/project/{owner}/nodes"), None)
            .await,
        json!(["n1"])
    );

    // 20 clients connect the same nic, each to its own network: one action is queued.
    for i in 0..20 {
        s.network(&format!("net{i}"), &owner, &owner, "").await;
    }
    let connect = (0..20).map(|i| {
        let s = &s;
        async move {
            s.admin(
                "POST",
                "/v0/node/n1/nic/eth0/connect_network",
                Some(json!({"network": format!("net{i}")})),
            )
            .await
        }
    });
    let results = futures::future::join_all(connect).await;
    let accepted: Vec<_> = results.iter().filter(|r| r.status == 202).collect();
    assert_eq!(
        accepted.len(),
        1,
        "exactly one connect is queued: {results:?}"
    );
    for r in results.iter().filter(|r| r.status != 202) {
        r.err(409, "BlockedError");
    }
    let done = s
        .wait_action(accepted[0].json["status_id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "DONE");
    let networks = s.ok("GET", "/v0/node/n1", None).await["nics"][0]["networks"].clone();
    assert_eq!(networks.as_object().unwrap().len(), 1, "{networks}");
    assert_eq!(s.mock_state("sw")["gi1/0/1"].as_object().unwrap().len(), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn killing_the_server_mid_burst_loses_no_accepted_action() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database_url(dir.path()).await;
    let port = free_port();
    let http = reqwest::Client::new();
    let mut server = spawn_server(dir.path(), &db_url, port, &[]);
    wait_ready(&http, &server.url).await;
    let url = server.url.clone();
    let put = |path: String, body: serde_json::Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let r = http
                .put(format!("{url}{path}"))
                .basic_auth(ADMIN.0, Some(ADMIN.1))
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "{path}: {}",
                r.text().await.unwrap()
            );
        }
    };
    let post = |path: String, body: serde_json::Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.post(format!("{url}{path}"))
                .basic_auth(ADMIN.0, Some(ADMIN.1))
                .body(body.to_string())
                .send()
                .await
        }
    };
    const NODES: usize = 30;
    put("/v0/project/p".into(), json!({})).await;
    put(
        "/v0/switch/sw".into(),
        json!({"type": MOCK, "hostname": "h", "username": "u", "password": "pw"}),
    )
    .await;
    put(
        "/v0/network/net".into(),
        json!({"owner": "p", "access": "p", "net_id": ""}),
    )
    .await;
    for i in 0..NODES {
        put(
            format!("/v0/node/n{i}"),
            json!({"obmd": {"uri": "http://obmd/x", "admin_token": "t"}}),
        )
        .await;
        put(format!("/v0/node/n{i}/nic/eth0"), json!({"macaddr": "m"})).await;
        put(format!("/v0/switch/sw/port/gi1/0/{i}"), json!({})).await;
        post(
            format!("/v0/switch/sw/port/gi1/0/{i}/connect_nic"),
            json!({"node": format!("n{i}"), "nic": "eth0"}),
        )
        .await
        .unwrap();
        post(
            "/v0/project/p/connect_node".into(),
            json!({"node": format!("n{i}")}),
        )
        .await
        .unwrap();
    }

    // The burst: every connect in flight at once; the server is killed while they land.
    let burst = (0..NODES).map(|i| {
        post(
            format!("/v0/node/n{i}/nic/eth0/connect_network"),
            json!({"network": "net"}),
        )
    });
    let burst = tokio::spawn(futures::future::join_all(burst));
    tokio::time::sleep(Duration::from_millis(15)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut accepted = Vec::new();
    for r in burst.await.unwrap().into_iter().flatten() {
        if r.status().as_u16() == 202 {
            let body: serde_json::Value = r.json().await.unwrap();
            accepted.push(body["status_id"].as_str().unwrap().to_string());
        }
    }

    // Restart on the same database: every accepted action must end DONE or ERROR.
    let mut server = spawn_server(dir.path(), &db_url, port, &[]);
    wait_ready(&http, &server.url).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &accepted {
        loop {
            let r = http
                .get(format!("{}/v0/networking_action/{id}", server.url))
                .basic_auth(ADMIN.0, Some(ADMIN.1))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body: serde_json::Value = r.json().await.unwrap();
            if body["status"] != "PENDING" {
                assert_eq!(body["status"], "DONE", "{body}");
                break;
            }
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            if Instant::now() >= deadline && std::env::var("HIL_TEST_KEEP").is_ok() {
                let kept = std::env::temp_dir().join(format!("hil-kept-{}", uuid::Uuid::new_v4()));
                let _ = Command::new("cp")
                    .arg("-r")
                    .arg(dir.path())
                    .arg(&kept)
                    .status();
                eprintln!("KEPT {}", kept.display());
            }
            assert!(
                Instant::now() < deadline,
                "action {id} stayed PENDING after restart; server log:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Attachments match the switch, port by port.
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("mock-switches/sw.json")).unwrap_or(b"{}".to_vec()),
    )
    .unwrap();
    for i in 0..NODES {
        let node: serde_json::Value = http
            .get(format!("{}/v0/node/n{i}", server.url))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let attached = node["nics"][0]["networks"].get("vlan/native").is_some();
        let on_switch = state.get(format!("gi1/0/{i}")).is_some();
        assert_eq!(
            attached, on_switch,
            "n{i}: attachment {attached} vs switch {on_switch}"
        );
    }
    eprintln!("accepted {} of {NODES} before the kill", accepted.len());
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
