//! The audit log through the API: every state-changing call is recorded with who, from where,
//! the arguments without secrets and the outcome; reads are not; administrators query it by
//! user, object, time and count; old entries are pruned.

mod common;

use common::*;
use serde_json::{json, Value};

const ALICE: (&str, &str) = ("alice", "alice-pw");

/// The log as the administrator queries it with `query` (a query string, may be empty).
async fn log(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.admin("GET", &format!("/v0/audit_log{query}"), None).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.json.as_array().unwrap().clone()
}

fn calls(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn who_connected_node_x_to_network_y() {
    let s = TestServer::start().await;
    s.switch("sw").await;
    s.project("physics").await;
    s.user("alice", "alice-pw", false, &["physics"]).await;
    let obm = json!({"obm": {"type": MOCK_OBM, "host": "10.0.0.1", "user": "root",
                             "password": "bmc-secret"}});
    s.ok("PUT", "/v0/node/n1", Some(obm)).await;
    s.ok(
        "PUT",
        "/v0/node/n10",
        Some(json!({"obmd": {"uri": "http://o/n10",
                                                          "admin_token": "obmd-token"}})),
    )
    .await;
    for (node, port) in [("n1", "gi1/0/1"), ("n10", "gi1/0/2")] {
        let nic = json!({"macaddr": "de:ad:be:ef:00:01"});
        s.ok("PUT", &format!("/v0/node/{node}/nic/eth0"), Some(nic))
            .await;
        s.ok("PUT", &format!("/v0/switch/sw/port/{port}"), None)
            .await;
        let cable = json!({"node": node, "nic": "eth0"});
        s.ok(
            "POST",
            &format!("/v0/switch/sw/port/{port}/connect_nic"),
            Some(cable),
        )
        .await;
    }
    let r = s
        .call(
            Some(ALICE),
            "POST",
            "/v0/project/physics/connect_node",
            Some(json!({"node": "n1"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .call(
            Some(ALICE),
            "PUT",
            "/v0/network/pnet",
            Some(json!({"owner": "physics",
            "access": "physics", "net_id": ""})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .call(
            Some(ALICE),
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    // refused: a wrong password, and a node in no project
    let r = s
        .call(Some(("alice", "wrong")), "DELETE", "/v0/network/pnet", None)
        .await;
    assert_eq!(r.status, 401);
    let r = s
        .call(
            Some(ALICE),
            "POST",
            "/v0/node/n10/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(r.status, 409, "n10 is in no project: {}", r.text);
    // reads are not logged
    s.call(Some(ALICE), "GET", "/v0/node/n1", None).await;

    // Who connected n1 to pnet? By object, newest first.
    let about_n1 = log(&s, "?object=node/n1").await;
    assert_eq!(
        calls(&about_n1),
        [
            "POST /v0/node/n1/nic/eth0/connect_network",
            "POST /v0/project/physics/connect_node",
            "POST /v0/switch/sw/port/gi1/0/1/connect_nic",
            "PUT /v0/node/n1/nic/eth0",
            "PUT /v0/node/n1",
        ],
        "{about_n1:#?}"
    );
    let connect = &about_n1[0];
    assert_eq!(connect["user"], "alice");
    assert_eq!(connect["client"], "127.0.0.1");
    assert_eq!(connect["call"], "/v0/node/{node}/nic/{nic}/connect_network");
    assert_eq!(connect["args"], json!({"network": "pnet"}));
    assert_eq!(
        (connect["status"].as_u64(), connect["outcome"].as_str()),
        (Some(202), Some("ok"))
    );
    assert!(connect["time"].as_str().unwrap().ends_with('Z'));
    // the network's side: its creation, the connect (by argument) and both refusals
    let about_pnet = log(&s, "?object=network/pnet").await;
    assert_eq!(about_pnet.len(), 4, "{about_pnet:#?}");
    let refused: Vec<(&Value, &Value)> = about_pnet
        .iter()
        .filter(|e| e["outcome"] != "ok")
        .map(|e| (&e["user"], &e["outcome"]))
        .collect();
    assert_eq!(
        refused,
        [
            (&json!("alice"), &json!("ProjectMismatchError")),
            (&Value::Null, &json!("AuthorizationError"))
        ]
    );

    // Secrets never reach the log.
    let everything = log(&s, "?limit=1000").await;
    let text = serde_json::to_string(&everything).unwrap();
    for secret in ["bmc-secret", "obmd-token", "alice-pw", ADMIN.1] {
        assert!(!text.contains(secret), "{secret} in the log");
    }
    let register = &log(&s, "?object=node/n1").await[4];
    assert_eq!(register["args"]["obm"]["password"], "********");
    assert_eq!(register["args"]["obm"]["user"], "root");
    assert_eq!(register["user"], "admin");
    assert!(!calls(&everything).iter().any(|c| c.starts_with("GET")));

    // By user, time and count.
    let by_alice = log(&s, "?user=alice").await;
    assert_eq!(by_alice.len(), 4, "{by_alice:#?}");
    assert!(by_alice.iter().all(|e| e["user"] == "alice"));
    assert_eq!(
        log(&s, "?since=2099-01-01T00:00:00Z").await,
        Vec::<Value>::new()
    );
    assert_eq!(
        log(&s, "?until=2000-01-01T00:00:00Z").await,
        Vec::<Value>::new()
    );
    assert_eq!(log(&s, "?since=1h").await.len(), everything.len());
    let newest = log(&s, "?limit=1").await;
    assert_eq!(calls(&newest), calls(&everything[..1]));

    // Only administrators read it; bad queries are refused in HIL's format.
    let r = s.call(Some(ALICE), "GET", "/v0/audit_log", None).await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (401, Some("AuthorizationError"))
    );
    for bad in [
        "?object=n1",
        "?limit=0",
        "?limit=x",
        "?since=yesterday",
        "?colour=red",
    ] {
        let r = s.admin("GET", &format!("/v0/audit_log{bad}"), None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn old_entries_are_pruned() {
    let s = TestServer::start_tweaked(|c| c.audit_log.retention_days = 30).await;
    s.project("p").await;
    let mut tx = s.ctx.store.begin().await.unwrap();
    let old = hil_server::store::audit_log::Entry {
        id: 0,
        at_ms: hil_server::store::now_ms() - 31 * 86_400_000,
        principal: Some("admin".into()),
        client: None,
        method: "PUT".into(),
        path: "/v0/project/ancient".into(),
        route: "/v0/project/{project}".into(),
        args: "{}".into(),
        status: 200,
        outcome: "ok".into(),
    };
    hil_server::store::audit_log::insert(&mut tx, &old)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(log(&s, "").await.len(), 2);
    let gone = hil_server::ops::audit_log::prune(&s.ctx).await.unwrap();
    assert_eq!(gone, 1);
    assert_eq!(calls(&log(&s, "").await), ["PUT /v0/project/p"]);
    s.shutdown().await;
}

/// Concurrent calls are written in groups (one transaction for the entries that wait
/// together), and each is still logged exactly once with its own outcome, by the time it is
/// answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_are_each_logged_once() {
    let s = TestServer::start().await;
    s.project("taken").await;
    let calls = (0..64).map(|i| {
        let s = &s;
        async move {
            // Every fourth call fails: the project exists.
            let name = if i % 4 == 0 {
                "taken".to_string()
            } else {
                format!("p{i}")
            };
            let r = s.admin("PUT", &format!("/v0/project/{name}"), None).await;
            // Answered means logged: the entry is there already.
            let found = log(s, &format!("?object=project/{name}&limit=1000")).await;
            assert!(
                found.iter().any(|e| e["status"] == r.status),
                "{name}: {} not in {found:?}",
                r.status
            );
            (name, r.status)
        }
    });
    let answers = futures::future::join_all(calls).await;
    let entries = log(&s, "?limit=1000").await;
    for (name, status) in answers {
        let path = format!("/v0/project/{name}");
        let mine: Vec<&Value> = entries.iter().filter(|e| e["path"] == path).collect();
        if name == "taken" {
            // The set-up's success and 16 duplicates.
            assert_eq!(mine.len(), 17, "{mine:?}");
            assert_eq!(
                mine.iter()
                    .filter(|e| e["outcome"] == "DuplicateError")
                    .count(),
                16
            );
        } else {
            assert_eq!(mine.len(), 1, "{path}: {mine:?}");
            assert_eq!(mine[0]["status"], status);
            assert_eq!(mine[0]["outcome"], "ok");
            assert_eq!(mine[0]["user"], "admin");
        }
    }
    s.shutdown().await;
}

/// When an entry cannot be written the call is still answered (its change is committed), and
/// the loss is counted in `hil_audit_log_entries_total{outcome="lost"}` for an alert.
#[tokio::test(flavor = "multi_thread")]
async fn an_entry_that_cannot_be_written_is_counted_as_lost() {
    let s = TestServer::start().await;
    let mut tx = s.ctx.store.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_log RENAME TO audit_log_away")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    s.ok("PUT", "/v0/project/physics", None).await;
    assert_eq!(s.ok("GET", "/v0/projects", None).await, json!(["physics"]));
    let metrics = s.admin("GET", "/metrics", None).await;
    assert!(
        metrics
            .text
            .contains("hil_audit_log_entries_total{outcome=\"lost\"} 1\n"),
        "{}",
        metrics.text
    );
    assert!(!metrics.text.contains("outcome=\"written\""));
    s.shutdown().await;
}
