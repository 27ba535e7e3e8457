//! The drift audit through the HTTP API, on the mock switch (whose state file a test can
//! change behind HIL's back). The same audit against real switches is in `drift_lab.rs`.

mod common;
use common::*;
use serde_json::{json, Value};

/// Two tenants, each with a node on `sw0` connected to its own network, and a free node.
/// Returns the VLANs of `net-a` and `net-b`.
async fn two_tenants(s: &TestServer) -> (u16, u16) {
    s.switch("sw0").await;
    for p in ["alpha", "beta"] {
        s.project(p).await;
    }
    s.cabled_node("n1", "sw0", "gi1/0/1").await;
    s.cabled_node("n2", "sw0", "gi1/0/2").await;
    s.cabled_node("n3", "sw0", "gi1/0/3").await;
    s.reserve("alpha", "n1").await;
    s.reserve("beta", "n2").await;
    s.network("net-a", "alpha", "alpha", "").await;
    s.network("net-b", "beta", "beta", "").await;
    for (node, net) in [("n1", "net-a"), ("n2", "net-b")] {
        let path = format!("/v0/node/{node}/nic/eth0/connect_network");
        let done = s.queued("POST", &path, Some(json!({"network": net}))).await;
        assert_eq!(done["status"], "DONE", "{done}");
    }
    (s.vlan_of("net-a").await, s.vlan_of("net-b").await)
}

async fn start(tweak: impl FnOnce(&mut hil_server::config::Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    tweak(&mut config);
    TestServer::start_with(dir, config, true).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_switch_audits_clean() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let audit = s.audited("sw0").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");
    assert_eq!(audit["ports_checked"], 3, "{audit}");
    assert_eq!(audit["ports_drifted"], 0, "{audit}");
    assert_eq!(s.ok("GET", "/v0/drift", None).await, json!([]));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_mode_records_drift_and_quarantines_a_foreign_vlan() {
    let s = TestServer::start().await;
    let (a, b) = two_tenants(&s).await;
    let (a, b) = (a.to_string(), b.to_string());
    // Behind HIL's back: n1's port also carries beta's VLAN (an isolation breach), n2's
    // native VLAN is one HIL never handed out, and the free node's port carries alpha's.
    s.set_mock_state(
        "sw0",
        json!({
            "gi1/0/1": {"vlan/native": a, format!("vlan/{b}"): b},
            "gi1/0/2": {"vlan/native": "999"},
            "gi1/0/3": {"vlan/native": a},
        }),
    );
    let audit = s.audited("sw0").await;
    assert_eq!(audit["last_result"], "drift", "{audit}");
    assert_eq!(audit["ports_drifted"], 3, "{audit}");
    assert_eq!(audit["counters"]["drift_found"], 3, "{audit}");
    assert_eq!(audit["counters"]["incidents"], 2, "{audit}");

    let drift = s.ok("GET", "/v0/switch/sw0/drift/all", None).await;
    let breach = drift_of(&drift, "gi1/0/1");
    assert_eq!(breach["node"], "n1");
    assert_eq!(breach["expected"], json!({"vlan/native": a}));
    assert_eq!(
        breach["actual"],
        json!({"vlan/native": a, format!("vlan/{b}"): b})
    );
    assert_eq!(breach["foreign_vlans"], json!([b]));
    assert_eq!(drift_of(&drift, "gi1/0/3")["foreign_vlans"], json!([a]));
    let unknown = drift_of(&drift, "gi1/0/2");
    assert_eq!(unknown["foreign_vlans"], json!([]));
    assert_eq!(
        unknown["repair_status"],
        Value::Null,
        "report mode: no repair"
    );

    // The quarantined ports are repaired through the queue; the other stays as it is.
    s.queue_drained().await;
    let state = s.mock_state("sw0");
    assert_eq!(state["gi1/0/1"], json!({"vlan/native": a}), "{state}");
    assert_eq!(state.get("gi1/0/3"), None, "{state}");
    assert_eq!(state["gi1/0/2"], json!({"vlan/native": "999"}), "{state}");
    let open = s.ok("GET", "/v0/drift", None).await;
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["port"], "gi1/0/2");
    let all = s.ok("GET", "/v0/drift/all", None).await;
    let repaired = drift_of(&all, "gi1/0/1");
    assert_eq!(repaired["resolution"], "repaired", "{repaired}");
    assert_eq!(repaired["repair_status"], "DONE", "{repaired}");
    assert!(repaired["repaired_at"].is_string(), "{repaired}");
    let audit = s.ok("GET", "/v0/switch/sw0/audit", None).await;
    assert_eq!(audit["counters"]["drift_repaired"], 2, "{audit}");

    // Someone puts n2's port right: the next audit closes the record.
    s.set_mock_state(
        "sw0",
        json!({"gi1/0/1": {"vlan/native": a}, "gi1/0/2": {"vlan/native": b}}),
    );
    let audit = s.audited("sw0").await;
    assert_eq!(audit["last_result"], "clean", "{audit}");
    assert_eq!(s.ok("GET", "/v0/drift", None).await, json!([]));
    let all = s.ok("GET", "/v0/drift/all", None).await;
    assert_eq!(drift_of(&all, "gi1/0/2")["resolution"], "found correct");
    // The tenants' view of their nodes never changed.
    let n1 = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(n1["nics"][0]["networks"], json!({"vlan/native": "net-a"}));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_repairs_every_drifted_port_and_keeps_tagged_channels() {
    let s = start(|c| c.audit.repair = hil_server::config::RepairMode::Auto).await;
    let (a, b) = two_tenants(&s).await;
    let (a, b) = (a.to_string(), b.to_string());
    // n1 also gets its own tagged network; then the switch loses all of n1's and gets a
    // stray VLAN on n2.
    s.network("net-a2", "alpha", "alpha", "").await;
    let a2 = s.vlan_of("net-a2").await.to_string();
    let path = "/v0/node/n1/nic/eth0/connect_network";
    let body = json!({"network": "net-a2", "channel": format!("vlan/{a2}")});
    assert_eq!(s.queued("POST", path, Some(body)).await["status"], "DONE");
    s.set_mock_state(
        "sw0",
        json!({"gi1/0/2": {"vlan/native": b, "vlan/999": "999"}}),
    );
    let audit = s.audited("sw0").await;
    assert_eq!(audit["ports_drifted"], 2, "{audit}");
    assert_eq!(audit["counters"]["incidents"], 0, "{audit}");
    s.queue_drained().await;
    let state = s.mock_state("sw0");
    assert_eq!(
        state,
        json!({"gi1/0/1": {"vlan/native": a, format!("vlan/{a2}"): a2},
               "gi1/0/2": {"vlan/native": b}})
    );
    assert_eq!(s.ok("GET", "/v0/drift", None).await, json!([]));
    assert_eq!(s.audited("sw0").await["last_result"], "clean");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn off_mode_only_records_even_a_breach() {
    let s = start(|c| c.audit.repair = hil_server::config::RepairMode::Off).await;
    let (a, b) = two_tenants(&s).await;
    let (a, b) = (a.to_string(), b.to_string());
    let tampered = json!({"gi1/0/1": {"vlan/native": b}, "gi1/0/2": {"vlan/native": b}});
    s.set_mock_state("sw0", tampered.clone());
    let audit = s.audited("sw0").await;
    assert_eq!(audit["counters"]["incidents"], 1, "{audit}");
    s.queue_drained().await;
    assert_eq!(s.mock_state("sw0"), tampered);
    let drift = s.ok("GET", "/v0/drift", None).await;
    assert_eq!(
        drift_of(&drift, "gi1/0/1")["expected"],
        json!({"vlan/native": a})
    );
    // A second audit updates the record instead of opening another.
    s.audited("sw0").await;
    let again = s.ok("GET", "/v0/drift/all", None).await;
    assert_eq!(again.as_array().unwrap().len(), 1, "{again}");
    let audit = s.ok("GET", "/v0/switch/sw0/audit", None).await;
    assert_eq!(audit["counters"]["drift_found"], 1, "{audit}");
    assert_eq!(audit["counters"]["audits"], 2, "{audit}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ports_with_a_pending_action_are_not_judged() {
    let s = TestServer::start().await;
    let (_, b) = two_tenants(&s).await;
    s.mock_fail("sw0", None);
    s.network("net-b2", "beta", "beta", "").await;
    // A slow switch keeps n2's next change pending while the audit runs.
    std::fs::write(s.config.mock_state_dir().join("sw0.delay"), "3").unwrap();
    let channel = format!("vlan/{}", s.vlan_of("net-b2").await);
    let body = json!({"network": "net-b2", "channel": channel});
    let r = s
        .admin("POST", "/v0/node/n2/nic/eth0/connect_network", Some(body))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    s.set_mock_state("sw0", json!({"gi1/0/2": {"vlan/native": "999"}}));
    let audit = s.audited("sw0").await;
    assert!(audit["ports_skipped"].as_i64().unwrap() >= 1, "{audit}");
    let drift = s.ok("GET", "/v0/drift", None).await;
    assert!(
        drift
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["port"] != "gi1/0/2"),
        "{drift} (b = {b})"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn audits_are_for_admins_only_and_name_real_switches() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    s.user("alice", "alice-pass", false, &["alpha"]).await;
    let alice = Some(("alice", "alice-pass"));
    for (method, path) in [
        ("GET", "/v0/drift"),
        ("GET", "/v0/drift/all"),
        ("GET", "/v0/audits"),
        ("GET", "/v0/switch/sw0/drift"),
        ("GET", "/v0/switch/sw0/audit"),
        ("POST", "/v0/switch/sw0/audit"),
    ] {
        s.call(alice, method, path, None)
            .await
            .err(401, "AuthorizationError");
        s.call(None, method, path, None)
            .await
            .err(401, "AuthorizationError");
    }
    s.admin("POST", "/v0/switch/nope/audit", None)
        .await
        .err(404, "NotFoundError");
    s.admin("GET", "/v0/switch/nope/drift", None)
        .await
        .err(404, "NotFoundError");
    s.admin("POST", "/v0/switch/sw0/audit", Some(json!({"x": 1})))
        .await
        .err(400, "ValidationError");
    let audits = s.ok("GET", "/v0/audits", None).await;
    assert_eq!(audits[0]["switch"], "sw0", "{audits}");
    assert_eq!(audits[0]["last_result"], Value::Null, "{audits}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_racing_for_audits_audit_each_switch_once() {
    // No worker in the server: the test's own workers race for the requested audits.
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path()).await;
    let s = TestServer::start_with(dir, config, false).await;
    const SWITCHES: usize = 6;
    let state_dir = s.config.mock_state_dir();
    std::fs::create_dir_all(&state_dir).unwrap();
    for i in 0..SWITCHES {
        let sw = format!("sw{i}");
        s.switch(&sw).await;
        for p in 1..=3 {
            s.ok("PUT", &format!("/v0/switch/{sw}/port/gi1/0/{p}"), None)
                .await;
        }
        // Each port takes 50 ms to read, so audits overlap in time.
        std::fs::write(state_dir.join(format!("{sw}.read-delay")), "0.05").unwrap();
        let r = s
            .admin("POST", &format!("/v0/switch/{sw}/audit"), None)
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
    }
    let workers: Vec<_> = (0..4).map(|_| hil_server::spawn_worker(&s.ctx)).collect();
    let mut racers = tokio::task::JoinSet::new();
    for w in workers {
        racers.spawn(async move {
            let mut audited = 0;
            while w.audit_next().await.expect("audit pass") {
                audited += 1;
            }
            audited
        });
    }
    let total: usize = racers.join_all().await.into_iter().sum();
    assert_eq!(total, SWITCHES, "each requested audit ran exactly once");
    let audits = s.ok("GET", "/v0/audits", None).await;
    for a in audits.as_array().unwrap() {
        assert_eq!(a["counters"]["audits"], 1, "{a}");
        assert_eq!(a["ports_checked"], 3, "{a}");
        assert_eq!(a["state"], "IDLE", "{a}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_without_a_nic_carrying_a_tenant_vlan_is_quarantined_and_can_be_deleted() {
    let s = TestServer::start().await;
    let (a, _) = two_tenants(&s).await;
    let a = a.to_string();
    // A port HIL knows but nothing is cabled to: whatever is plugged in there now sits on
    // alpha's network.
    s.ok("PUT", "/v0/switch/sw0/port/gi1/0/9", None).await;
    let mut state = s.mock_state("sw0");
    state["gi1/0/9"] = json!({"vlan/native": a});
    s.set_mock_state("sw0", state);
    let audit = s.audited("sw0").await;
    assert_eq!(audit["counters"]["incidents"], 1, "{audit}");
    let drift = s.ok("GET", "/v0/drift/all", None).await;
    let record = drift_of(&drift, "gi1/0/9");
    assert_eq!(record["node"], Value::Null);
    assert_eq!(record["expected"], json!({}));
    assert_eq!(record["foreign_vlans"], json!([a]));
    s.queue_drained().await;
    assert_eq!(s.mock_state("sw0").get("gi1/0/9"), None);
    let drift = s.ok("GET", "/v0/drift/all", None).await;
    assert_eq!(drift_of(&drift, "gi1/0/9")["resolution"], "repaired");

    // Drift again, with a slow repair (the switch takes 2 s per change), and the port is
    // deleted meanwhile: its records and its queued repair go with it.
    let mut state = s.mock_state("sw0");
    state["gi1/0/9"] = json!({"vlan/native": a});
    s.set_mock_state("sw0", state);
    std::fs::write(s.config.mock_state_dir().join("sw0.delay"), "2").unwrap();
    s.audited("sw0").await;
    s.ok("DELETE", "/v0/switch/sw0/port/gi1/0/9", None).await;
    let drift = s.ok("GET", "/v0/drift/all", None).await;
    assert!(
        drift
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["port"] != "gi1/0/9"),
        "{drift}"
    );
    s.queue_drained().await;
    s.shutdown().await;
}
