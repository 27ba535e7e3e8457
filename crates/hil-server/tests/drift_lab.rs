//! The drift audit against real stand-ins: an Open vSwitch changed behind HIL's back (proven
//! with packets), the `fake-switches` N3000 and Nexus emulators changed over SSH (read back
//! with an independent client), and a worker killed between applying and recording.

mod common;
mod lab;
#[path = "common/process.rs"]
mod process;
use std::time::{Duration, Instant};

use common::*;
use hil_server::config::{Config, RepairMode};
use lab::fakeswitch::{FakeSwitch, USER};
use lab::ovs::OvsLab;
use process::{free_port, spawn_server};
use serde_json::{json, Value};

const URI: &str = "http://schema.massopencloud.org/haas/v0/switches/";

/// Polls `GET path` until `done` holds for the answer; fails after `within`.
async fn eventually(
    s: &TestServer,
    path: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let value = s.ok("GET", path, None).await;
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{path} after {within:?}: {value}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---- Open vSwitch ----

const AUDIT_INTERVAL: Duration = Duration::from_secs(1);

async fn ovs_server(lab: &OvsLab, repair: RepairMode, database: Option<String>) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    if let Some(url) = database {
        config.database.url = Some(url);
    }
    config.switches.enabled = vec!["ovs".into()];
    config.switches.ovsdb = lab.ovsdb();
    config.allocator.vlans = "100-110".into();
    config.audit.interval_secs = AUDIT_INTERVAL.as_secs_f64();
    config.audit.repair = repair;
    TestServer::start_with(dir, config, true).await
}

#[tokio::test(flavor = "multi_thread")]
async fn ovs_changed_behind_hils_back_is_reported_then_repaired_with_packets_as_proof() {
    let Some(lab) = OvsLab::start(4).await else {
        return;
    };
    // The lab's ports start isolated, as HIL leaves a port without networks (a fresh OVS
    // port trunks every VLAN, which the audit would rightly report).
    for node in &lab.nodes {
        lab.vsctl(&[
            "set",
            "port",
            &node.port,
            "vlan_mode=access",
            "tag=4095",
            "protected=true",
        ]);
    }
    // First HIL only records drift (repair = off).
    let s = ovs_server(&lab, RepairMode::Off, None).await;
    s.ok(
        "PUT",
        "/v0/switch/ovs0",
        Some(json!({"type": format!("{URI}ovs"), "ovs_bridge": lab.bridge})),
    )
    .await;
    for p in ["alpha", "beta"] {
        s.project(p).await;
    }
    s.network("net-a", "alpha", "alpha", "").await;
    s.network("net-b", "beta", "beta", "").await;
    let (a, b) = (s.vlan_of("net-a").await, s.vlan_of("net-b").await);
    for (i, (project, net)) in [
        ("alpha", "net-a"),
        ("alpha", "net-a"),
        ("beta", "net-b"),
        ("beta", "net-b"),
    ]
    .into_iter()
    .enumerate()
    {
        let node = format!("n{}", i + 1);
        s.cabled_node(&node, "ovs0", &lab.nodes[i].port).await;
        s.reserve(project, &node).await;
        let path = format!("/v0/node/{node}/nic/eth0/connect_network");
        let done = s.queued("POST", &path, Some(json!({"network": net}))).await;
        assert_eq!(done["status"], "DONE", "{done}");
    }
    lab.assert_reach(&[(1, 2, true), (3, 4, true), (4, 1, false), (1, 3, false)])
        .await;
    eventually(&s, "/v0/switch/ovs0/audit", AUDIT_INTERVAL * 5, |a| {
        a["last_result"] == "clean"
    })
    .await;

    // Behind HIL's back: n4 (beta) is moved onto alpha's VLAN, and n1 (alpha) gets beta's
    // VLAN as a tagged trunk next to its own.
    let (p1, p4) = (&lab.nodes[0].port, &lab.nodes[3].port);
    lab.vsctl(&["set", "port", p4, &format!("tag={a}")]);
    lab.vsctl(&[
        "set",
        "port",
        p1,
        "vlan_mode=native-untagged",
        &format!("trunks={a},{b}"),
    ]);
    lab.assert_reach(&[(4, 1, true), (4, 3, false)]).await;
    assert_eq!(lab.tagged_probe(1, 3, b).await, 0, "n1 reaches beta tagged");

    // Within an audit interval (plus the audit itself), HIL reports both ports.
    let seen = Instant::now();
    let drift = eventually(&s, "/v0/drift", AUDIT_INTERVAL * 10, |d| {
        d.as_array().unwrap().len() == 2
    })
    .await;
    eprintln!("drift reported {:?} after the change", seen.elapsed());
    let moved = drift_of(&drift, p4);
    assert_eq!(moved["node"], "n4");
    assert_eq!(moved["expected"], json!({"vlan/native": b.to_string()}));
    assert_eq!(moved["actual"], json!({"vlan/native": a.to_string()}));
    assert_eq!(moved["foreign_vlans"], json!([a.to_string()]));
    let trunked = drift_of(&drift, p1);
    assert_eq!(
        trunked["actual"],
        json!({"vlan/native": a.to_string(), format!("vlan/{b}"): b.to_string()})
    );
    assert_eq!(trunked["foreign_vlans"], json!([b.to_string()]));
    // Report-only: the breach is still open.
    lab.assert_reach(&[(4, 1, true)]).await;
    let database = s.config.database.url.clone();
    let _data = s.stop().await;

    // The same HIL, now with repair = auto: its next audit queues the repairs.
    let s = ovs_server(&lab, RepairMode::Auto, database).await;
    let started = Instant::now();
    eventually(&s, "/v0/drift", AUDIT_INTERVAL * 10, |d| d == &json!([])).await;
    eprintln!(
        "drift repaired {:?} after the worker started",
        started.elapsed()
    );
    lab.assert_reach(&[(4, 1, false), (4, 3, true), (1, 2, true), (3, 1, false)])
        .await;
    assert_eq!(
        lab.tagged_probe(1, 3, b).await,
        1,
        "n1 no longer reaches beta"
    );
    let row = lab.port_row(p4);
    assert_eq!(row["tag"], json!(b), "{row:?}");
    let all = s.ok("GET", "/v0/drift/all", None).await;
    assert_eq!(drift_of(&all, p1)["resolution"], "repaired");
    assert_eq!(drift_of(&all, p4)["resolution"], "repaired");
    let audit = s.ok("GET", "/v0/switch/ovs0/audit", None).await;
    assert_eq!(audit["counters"]["incidents"], 2, "{audit}");
    assert_eq!(audit["counters"]["drift_repaired"], 2, "{audit}");
    s.shutdown().await;
}

// ---- fake-switches over SSH ----

async fn ssh_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = ["delln3000", "nexus"].map(String::from).to_vec();
    config.allocator.vlans = "100-103".into();
    config.switches.save_by_type.insert("nexus".into(), false);
    config.switches.command_timeout_secs = 5.0;
    config.audit.repair = RepairMode::Auto;
    TestServer::start_with(dir, config, true).await
}

/// Node `n1` of project `p` on `port`, with `net-a` native (or tagged, when `native` is
/// false) and `net-b` tagged; project `q` owns `net-q`. Returns the three VLANs.
async fn tenant_on(
    s: &TestServer,
    kind: &str,
    fields: Value,
    port: &str,
    native: bool,
) -> (u16, u16, u16) {
    let mut body = json!({"type": format!("{URI}{kind}")});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    s.ok("PUT", "/v0/switch/sw", Some(body)).await;
    s.cabled_node("n1", "sw", port).await;
    for p in ["p", "q"] {
        s.project(p).await;
    }
    s.reserve("p", "n1").await;
    s.network("net-a", "p", "p", "").await;
    s.network("net-b", "p", "p", "").await;
    s.network("net-q", "q", "q", "").await;
    let (a, b) = (s.vlan_of("net-a").await, s.vlan_of("net-b").await);
    let path = "/v0/node/n1/nic/eth0/connect_network";
    let a_channel = if native {
        "vlan/native".to_string()
    } else {
        format!("vlan/{a}")
    };
    for body in [
        json!({"network": "net-a", "channel": a_channel}),
        json!({"network": "net-b", "channel": format!("vlan/{b}")}),
    ] {
        let done = s.queued("POST", path, Some(body)).await;
        assert_eq!(done["status"], "DONE", "{done}");
    }
    (a, b, s.vlan_of("net-q").await)
}

/// The native VLAN and allowed VLANs an independent SSH client reads from the emulator.
fn read_back(fs: &FakeSwitch, interface: &str) -> (Option<u16>, Vec<u16>) {
    let lines = fs.switchport_lines(interface);
    let native = lines
        .iter()
        .find_map(|l| l.strip_prefix("switchport trunk native vlan "))
        .and_then(|v| v.trim().parse().ok());
    let allowed = lines
        .iter()
        .find_map(|l| l.strip_prefix("switchport trunk allowed vlan "))
        .map(|list| vlan_list(list.trim_start_matches("add ")))
        .unwrap_or_default();
    (native, allowed)
}

/// `100,102-104` as VLAN numbers.
fn vlan_list(text: &str) -> Vec<u16> {
    let mut vlans = Vec::new();
    for piece in text.split(',').map(str::trim).filter(|p| *p != "none") {
        let (first, last) = piece.split_once('-').unwrap_or((piece, piece));
        vlans.extend(first.parse::<u16>().unwrap()..=last.parse::<u16>().unwrap());
    }
    vlans
}

/// Changes the port over SSH behind HIL's back (adds project q's VLAN), then checks that the
/// audit reports the switch's real VLANs and that the repair restores them.
async fn tampered_port_is_reported_and_repaired(
    s: &TestServer,
    fs: &FakeSwitch,
    configure: &str,
    interface: &str,
    vlans: (u16, u16, u16),
    native: bool,
) {
    let (a, b, q) = vlans;
    let a_channel = if native {
        "vlan/native".to_string()
    } else {
        format!("vlan/{a}")
    };
    let audit = s.audited("sw").await;
    let drift = s.ok("GET", "/v0/drift", None).await;
    assert_eq!(audit["last_result"], "clean", "{audit} {drift}");
    fs.cli(&[
        configure,
        &format!("interface {interface}"),
        &format!("switchport trunk allowed vlan add {q}"),
        "exit",
        "exit",
    ]);
    let (_, allowed) = read_back(fs, interface);
    assert!(allowed.contains(&q), "{allowed:?}");
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "drift", "{audit}");
    assert_eq!(audit["counters"]["incidents"], 1, "{audit}");
    let drift = s.ok("GET", "/v0/drift/all", None).await;
    let record = &drift[0];
    assert_eq!(
        record["actual"],
        json!({a_channel: a.to_string(), format!("vlan/{b}"): b.to_string(),
               format!("vlan/{q}"): q.to_string()}),
        "{record}"
    );
    assert_eq!(record["foreign_vlans"], json!([q.to_string()]));
    s.queue_drained().await;
    let native_vlan = native;
    let (native, mut allowed) = read_back(fs, interface);
    allowed.sort_unstable();
    assert_eq!(native, native_vlan.then_some(a));
    assert_eq!(allowed, vec![a, b], "only p's VLANs again");
    let drift = s.ok("GET", "/v0/drift/all", None).await;
    assert_eq!(drift[0]["resolution"], "repaired", "{drift}");
    assert_eq!(s.audited("sw").await["last_result"], "clean");
}

/// The `dell10g` emulator ignores `switchport trunk native vlan` (only its `general pvid`
/// sets a native VLAN), so this proof uses tagged channels; the native path is proven on the
/// Nexus emulator.
#[tokio::test(flavor = "multi_thread")]
async fn n3000_port_changed_over_ssh_is_reported_and_repaired() {
    let ports = ["tengigabitethernet 1/0/1"];
    let Some(fs) = FakeSwitch::start("dell10g_generic", "n3000a", &ports) else {
        return;
    };
    fs.cli(&[
        "configure",
        "vlan 100",
        "exit",
        "vlan 101",
        "exit",
        "vlan 102",
        "exit",
        "interface te1/0/1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = ssh_server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password,
                        "dummy_vlan": 2222});
    let vlans = tenant_on(&s, "delln3000", fields, "te1/0/1", false).await;
    tampered_port_is_reported_and_repaired(&s, &fs, "configure", "te1/0/1", vlans, false).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nexus_port_changed_over_ssh_is_reported_and_repaired() {
    let Some(fs) = FakeSwitch::start("cisco_generic", "nexusa", &["Ethernet1/1"]) else {
        return;
    };
    fs.cli(&[
        "configure terminal",
        "interface Ethernet1/1",
        "switchport mode trunk",
        "switchport trunk allowed vlan none",
        "exit",
        "exit",
    ]);
    let s = ssh_server().await;
    let fields = json!({"hostname": fs.hostname(), "username": USER, "password": fs.password,
                        "dummy_vlan": "2222"});
    let vlans = tenant_on(&s, "nexus", fields, "Ethernet1/1", true).await;
    let configure = "configure terminal";
    tampered_port_is_reported_and_repaired(&s, &fs, configure, "Ethernet1/1", vlans, true).await;
    let (a, b, q) = vlans;
    let (a_, q_) = (a.to_string(), q.to_string());

    // Behind HIL's back: the port becomes an access port on project q's VLAN.
    let access_vlan = format!("switchport access vlan {q}");
    let access = ["switchport mode access", access_vlan.as_str()];
    // Then: its allowed list is dropped, which on a Cisco trunk means every VLAN.
    let open = ["no switchport trunk allowed vlan"];
    for (tamper, actual) in [
        (&access[..], json!({"vlan/native": q_})),
        (&open[..], json!({"vlan/native": a_, "vlan/*": "*"})),
    ] {
        let mut lines = vec![configure, "interface Ethernet1/1"];
        lines.extend(tamper);
        lines.extend(["exit", "exit"]);
        fs.cli(&lines);
        let audit = s.audited("sw").await;
        assert_eq!(audit["last_result"], "drift", "{audit}");
        let drift = s.ok("GET", "/v0/drift/all", None).await;
        assert_eq!(drift[0]["actual"], actual, "{drift}");
        assert_eq!(drift[0]["foreign_vlans"], json!([q_]), "{drift}");
        s.queue_drained().await;
        let lines = fs.switchport_lines("Ethernet1/1");
        assert!(
            lines.contains(&"switchport mode trunk".to_string()),
            "{lines:?}"
        );
        let (native, mut allowed) = read_back(&fs, "Ethernet1/1");
        allowed.sort_unstable();
        allowed.dedup();
        assert_eq!((native, allowed), (Some(a), vec![a, b]), "{lines:?}");
        assert_eq!(s.audited("sw").await["last_result"], "clean");
    }

    // A registered port the switch does not have: the audit finishes without it and says so.
    s.ok("PUT", "/v0/switch/sw/port/Ethernet1/9", None).await;
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "incomplete", "{audit}");
    assert_eq!(audit["ports_checked"], 1, "{audit}");
    let error = audit["last_error"].as_str().unwrap();
    assert!(error.contains("Ethernet1/9"), "{error}");
    assert!(!error.contains(&fs.password), "{error}");
    s.shutdown().await;
}

// ---- a worker killed between applying and recording ----

/// Blocks writes to the queue from a second connection until the returned sender is used
/// (SQLite: the database write lock; PostgreSQL: a lock on the queue table).
async fn block_queue_writes(url: &str) -> tokio::sync::oneshot::Sender<()> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let statements: &[&str] = if url.starts_with("sqlite") {
        &["BEGIN EXCLUSIVE"]
    } else {
        &["BEGIN", "LOCK TABLE networking_action IN EXCLUSIVE MODE"]
    };
    for sql in statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = released.await;
        let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
    });
    release
}

async fn claimed_by(s: &TestServer, status_id: &str) -> Option<String> {
    let mut c = s.ctx.store.single_read().await.unwrap();
    sqlx::query_scalar("SELECT claimed_by FROM networking_action WHERE uuid = $1")
        .bind(status_id)
        .fetch_one(&mut *c)
        .await
        .unwrap()
}

async fn wait_until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A killed worker may hold an audit's lease; the next worker may take it over after this.
const WORKER_ENV: &[(&str, &str)] = &[("HIL_AUDIT__LEASE_SECS", "2")];

/// A worker process is killed after its change reached the switch and while it waits to
/// record it (`applied`), or before the change reached the switch. A new worker settles the
/// action: without touching the switch when the port is already right, by applying the
/// change when it is not. Either way the audit then finds the port clean.
async fn killed_worker_is_reconciled(applied: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = test_config(dir.path()).await;
    config.worker.claim_lease_secs = 1;
    let s = TestServer::start_with(dir, config, false).await;
    s.switch("sw0").await;
    s.project("p").await;
    s.cabled_node("n1", "sw0", "gi1/0/1").await;
    s.reserve("p", "n1").await;
    s.network("net", "p", "p", "").await;
    let vlan = s.vlan_of("net").await.to_string();
    let state_dir = s.config.mock_state_dir();
    std::fs::create_dir_all(&state_dir).unwrap();
    // The switch takes a second per change: time to act while the worker is inside it.
    std::fs::write(state_dir.join("sw0.delay"), "1").unwrap();
    let db = s.config.database.url.clone().unwrap();
    let mut worker = spawn_server(s.dir.path(), &db, free_port(), WORKER_ENV);
    let status_id = s.queue_connect("n1", "net").await;
    wait_until("the worker's claim", Duration::from_secs(20), async || {
        claimed_by(&s, &status_id).await.is_some()
    })
    .await;
    let release = if applied {
        let release = block_queue_writes(&db).await;
        wait_until(
            "the change at the switch",
            Duration::from_secs(10),
            async || s.mock_state("sw0")["gi1/0/1"] == json!({"vlan/native": vlan}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await; // now blocked recording it
        Some(release)
    } else {
        None
    };
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    if let Some(release) = release {
        let _ = release.send(());
    }
    let action = s
        .ok("GET", &format!("/v0/networking_action/{status_id}"), None)
        .await;
    assert_eq!(
        action["status"], "PENDING",
        "the outcome was never recorded"
    );
    assert_eq!(
        s.mock_state("sw0").get("gi1/0/1").is_some(),
        applied,
        "{}",
        s.mock_state("sw0")
    );
    std::fs::remove_file(state_dir.join("sw0.delay")).unwrap();
    if applied {
        // Any change to the switch now fails: settling must not need one.
        s.mock_fail("sw0", Some("the switch must not be changed again"));
    }

    let mut worker = spawn_server(s.dir.path(), &db, free_port(), WORKER_ENV);
    let done = s.wait_action(&status_id).await;
    assert_eq!(done["status"], "DONE", "{done}");
    assert_eq!(s.mock_state("sw0")["gi1/0/1"], json!({"vlan/native": vlan}));
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(node["nics"][0]["networks"], json!({"vlan/native": "net"}));
    // The new worker audited the switch the old one had claimed work on, first.
    let audit = eventually(&s, "/v0/switch/sw0/audit", Duration::from_secs(20), |a| {
        a["counters"]["audits"].as_i64() > Some(0) && a["state"] == "IDLE"
    })
    .await;
    assert_ne!(audit["last_result"], "error", "{audit}");
    assert_eq!(s.audited("sw0").await["last_result"], "clean");
    let log = std::fs::read_to_string(s.dir.path().join("server.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_after_applying_is_settled_without_touching_the_switch() {
    killed_worker_is_reconciled(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_before_applying_has_its_change_applied() {
    killed_worker_is_reconciled(false).await;
}
