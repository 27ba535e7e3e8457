//! Load and faults on the write paths: clients that hang up mid-request, many clients writing
//! at once, the database going away under a running worker, and a switch that hangs. The bar
//! is the same every time: no 500s, no action left PENDING, and the switch agrees with the API.

mod common;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A server whose worker leases are short, as in every test, over `config` tweaks.
async fn server_with(tweak: impl FnOnce(&mut hil_server::config::Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    // Wide enough that the hang-up storm (whose network creates all complete) cannot drain it.
    config.allocator.vlans = "2-4094".into();
    tweak(&mut config);
    TestServer::start_with(dir, config, true).await
}

/// `count` nodes `<prefix>N` on mock switches `sw0..sw<switches>`, reserved by project `p`.
async fn tenant_fleet(s: &TestServer, prefix: &str, count: usize, switches: usize) -> Vec<String> {
    let mut nodes = Vec::new();
    for i in 0..count {
        let node = format!("{prefix}{i}");
        let switch = format!("sw{}", i % switches);
        s.cabled_node(&node, &switch, &format!("gi1/0/{}", i + 1))
            .await;
        s.ok(
            "POST",
            "/v0/project/p/connect_node",
            Some(json!({"node": node})),
        )
        .await;
        nodes.push(node);
    }
    nodes
}

async fn project_with_switches(s: &TestServer, switches: usize) {
    s.project("p").await;
    for i in 0..switches {
        s.switch(&format!("sw{i}")).await;
    }
}

/// Asserts that every mock switch port carries exactly the networks the API says its nic is
/// on, as VLANs, and that no networking action is left PENDING.
async fn assert_switches_match_api(s: &TestServer, nodes: &[String], switches: usize) {
    let mut vlan_of = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let shown = s.ok("GET", &format!("/v0/node/{node}"), None).await;
        let api_networks = shown["nics"][0]["networks"].as_object().unwrap().clone();
        let mut expected = BTreeMap::new();
        for (channel, network) in api_networks {
            let network = network.as_str().unwrap().to_string();
            if !vlan_of.contains_key(&network) {
                vlan_of.insert(network.clone(), s.vlan_of(&network).await);
            }
            expected.insert(channel, vlan_of[&network].to_string());
        }
        let state = s.mock_state(&format!("sw{}", i % switches));
        let port = &state[format!("gi1/0/{}", i + 1)];
        let on_switch: BTreeMap<String, String> = match port.as_object() {
            Some(p) => p
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            None => BTreeMap::new(),
        };
        assert_eq!(on_switch, expected, "{node}: switch vs API");
    }
}

/// Makes every change on mock switch `switch` take `secs` seconds (None: no delay).
fn slow_down(s: &TestServer, switch: &str, secs: Option<f64>) {
    let dir = s.config.mock_state_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{switch}.delay"));
    match secs {
        Some(secs) => std::fs::write(path, secs.to_string()).unwrap(),
        None => std::fs::remove_file(path).unwrap(),
    }
}

/// Waits until every action in `ids` has left PENDING; returns them.
async fn wait_all(s: &TestServer, ids: &[String], limit: Duration) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    let mut done = Vec::new();
    for id in ids {
        loop {
            let r = s
                .admin("GET", &format!("/v0/networking_action/{id}"), None)
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            if r.json["status"] != "PENDING" {
                done.push(r.json);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "action {id} still PENDING after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_hang_up_mid_request_leave_the_server_healthy() {
    let s = server_with(|_| {}).await;
    project_with_switches(&s, 2).await;
    let nodes = tenant_fleet(&s, "n", 12, 2).await;
    for i in 0..150 {
        s.node(&format!("spare{i}")).await;
    }

    // 48 clients that give up after a few milliseconds, on lists, shows and writes.
    let stop = Arc::new(AtomicBool::new(false));
    let mut storm = tokio::task::JoinSet::new();
    for client in 0..48u64 {
        let url = s.url.clone();
        let stop = stop.clone();
        storm.spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_millis(1 + client % 7))
                .build()
                .unwrap();
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                let (method, path, body) = match (client + k) % 4 {
                    0 => (reqwest::Method::GET, "/v0/nodes/all".to_string(), None),
                    1 => (reqwest::Method::GET, "/v0/project/p/nodes".into(), None),
                    2 => (
                        reqwest::Method::PUT,
                        format!("/v0/network/storm-{client}-{k}"),
                        Some(json!({"owner": "p", "access": "p", "net_id": ""})),
                    ),
                    _ => (
                        reqwest::Method::PUT,
                        format!("/v0/node/storm-{client}-{k}"),
                        Some(json!({"obmd": {"uri": "http://obmd/x", "admin_token": "t"}})),
                    ),
                };
                let mut req = http
                    .request(method, format!("{url}{path}"))
                    .basic_auth(ADMIN.0, Some(ADMIN.1));
                if let Some(b) = body {
                    req = req.body(b.to_string());
                }
                let _ = req.send().await; // mostly timeouts: the point is hanging up
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    while storm.join_next().await.is_some() {}

    // Afterwards, ordinary calls all succeed: reads, writes, and networking.
    let mut failures = Vec::new();
    for i in 0..40 {
        for (method, path, body) in [
            ("GET", "/v0/nodes/all".to_string(), None),
            ("GET", "/v0/project/p/nodes".into(), None),
            (
                "PUT",
                format!("/v0/network/after-{i}"),
                Some(json!({"owner": "p", "access": "p", "net_id": ""})),
            ),
            ("GET", format!("/v0/network/after-{i}"), None),
        ] {
            let r = s.admin(method, &path, body).await;
            if r.status != 200 {
                failures.push(format!("{method} {path}: {} {}", r.status, r.text));
            }
        }
    }
    assert!(failures.is_empty(), "after the storm: {failures:#?}");
    let mut ids = Vec::new();
    for node in &nodes {
        ids.push(s.queue_connect(node, "after-0").await);
    }
    for action in wait_all(&s, &ids, Duration::from_secs(20)).await {
        assert_eq!(action["status"], "DONE", "{action}");
    }
    assert_switches_match_api(&s, &nodes, 2).await;

    // Every network the storm managed to create holds a VLAN of its own.
    let networks = s.ok("GET", "/v0/networks", None).await;
    let ids: Vec<&str> = networks
        .as_object()
        .unwrap()
        .values()
        .map(|n| n["network_id"].as_str().unwrap())
        .collect();
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a VLAN was handed out twice");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_connecting_detaching_and_creating_networks_get_no_server_errors() {
    const CLIENTS: usize = 24;
    let s = server_with(|_| {}).await;
    project_with_switches(&s, 4).await;
    let nodes = tenant_fleet(&s, "n", CLIENTS, 4).await;
    s.network("shared", "p", "p", "").await;

    // Each client owns one node: it creates a network of its own, connects its nic to the
    // shared network and to its own in turn, and detaches, several rounds, all at once.
    let rounds = 4;
    let outcomes = futures::future::join_all(nodes.iter().enumerate().map(|(i, node)| {
        let s = &s;
        async move {
            let mut statuses = Vec::new();
            for round in 0..rounds {
                let own = format!("net-{i}-{round}");
                let r = s
                    .admin(
                        "PUT",
                        &format!("/v0/network/{own}"),
                        Some(json!({"owner": "p", "access": "p", "net_id": ""})),
                    )
                    .await;
                statuses.push((format!("create {own}"), r.status, r.text));
                for (verb, network) in [
                    ("connect_network", "shared"),
                    ("detach_network", "shared"),
                    ("connect_network", own.as_str()),
                ] {
                    let path = format!("/v0/node/{node}/nic/eth0/{verb}");
                    let r = s
                        .admin("POST", &path, Some(json!({"network": network})))
                        .await;
                    if r.status == 202 {
                        let id = r.json["status_id"].as_str().unwrap().to_string();
                        let action = s.wait_action(&id).await;
                        assert_eq!(action["status"], "DONE", "{action}");
                    }
                    statuses.push((format!("{verb} {node} {network}"), r.status, r.text));
                }
                let path = format!("/v0/node/{node}/nic/eth0/detach_network");
                let r = s.admin("POST", &path, Some(json!({"network": own}))).await;
                if r.status == 202 {
                    s.wait_action(r.json["status_id"].as_str().unwrap()).await;
                }
                statuses.push((format!("detach {node} {own}"), r.status, r.text));
            }
            statuses
        }
    }))
    .await;
    let unexpected: Vec<_> = outcomes
        .iter()
        .flatten()
        .filter(|(_, status, _)| !matches!(status, 200 | 202))
        .collect();
    // Every client works on its own node, so nothing may even be refused.
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    let networks = s.ok("GET", "/v0/networks", None).await;
    assert_eq!(networks.as_object().unwrap().len(), 1 + CLIENTS * rounds);
    assert_switches_match_api(&s, &nodes, 4).await;
    s.shutdown().await;
}

/// Cuts the worker off from its database for `outage`, in the way each backend fails: a
/// PostgreSQL server that drops every connection and refuses new ones, or an SQLite file that
/// another process holds locked for longer than the server's busy timeout.
async fn database_outage(s: &TestServer, proxy: Option<&lab_db::Proxy>, outage: Duration) {
    match proxy {
        Some(proxy) => {
            proxy.cut();
            tokio::time::sleep(outage).await;
            proxy.restore();
        }
        None => lab_db::hold_sqlite_lock(&s.dir.path().join("hil.db"), outage).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_under_a_running_worker_ends_every_action_done() {
    let proxy = if use_postgres() {
        Some(lab_db::Proxy::start_for_fresh_database().await)
    } else {
        None
    };
    let database_url = proxy.as_ref().map(|p| p.url.clone());
    let s = server_with(|c| {
        if let Some(url) = database_url {
            c.database.url = Some(url);
        }
    })
    .await;
    project_with_switches(&s, 1).await;
    let nodes = tenant_fleet(&s, "n", 6, 1).await;
    s.network("net", "p", "p", "").await;
    // A slow switch, so that the worker holds claims when the database goes away.
    slow_down(&s, "sw0", Some(0.4));
    let mut ids = Vec::new();
    for node in &nodes {
        ids.push(s.queue_connect(node, "net").await);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;

    // Longer than the claim lease (2 s) on PostgreSQL, longer than SQLite's busy timeout.
    let outage = if use_postgres() {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(11)
    };
    database_outage(&s, proxy.as_ref(), outage).await;
    let restored = Instant::now();

    let lease = Duration::from_secs(s.config.worker.claim_lease_secs);
    let actions = wait_all(&s, &ids, lease + Duration::from_secs(8)).await;
    for action in &actions {
        assert_eq!(action["status"], "DONE", "{action}");
    }
    eprintln!(
        "all {} actions DONE {:?} after the database came back",
        actions.len(),
        restored.elapsed()
    );
    assert_switches_match_api(&s, &nodes, 1).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hung_switch_times_out_its_own_actions_only() {
    let s = server_with(|c| c.worker.action_timeout_secs = 2.0).await;
    project_with_switches(&s, 2).await;
    let nodes = tenant_fleet(&s, "n", 4, 2).await; // n0, n2 on sw0; n1, n3 on sw1
    s.network("net", "p", "p", "").await;
    slow_down(&s, "sw0", Some(100_000.0));

    let started = Instant::now();
    let mut ids = Vec::new();
    for node in &nodes {
        ids.push(s.queue_connect(node, "net").await);
    }
    // The healthy switch is not held up.
    for i in [1, 3] {
        let action = s.wait_action(&ids[i]).await;
        assert_eq!(action["status"], "DONE", "{action}");
    }
    assert!(started.elapsed() < Duration::from_millis(1500));
    // Each action on the hung switch ends ERROR once its own deadline passes.
    for i in [0, 2] {
        let action = s.wait_action(&ids[i]).await;
        assert_eq!(action["status"], "ERROR", "{action}");
        let reason = action["error"].as_str().unwrap();
        assert!(reason.contains("timed out"), "{reason}");
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "two 2 s deadlines took {took:?}"
    );
    // Nothing was attached where the switch hung; the healthy ones were.
    for (i, node) in nodes.iter().enumerate() {
        let shown = s.ok("GET", &format!("/v0/node/{node}"), None).await;
        let expected = if i % 2 == 0 {
            json!({})
        } else {
            json!({"vlan/native": "net"})
        };
        assert_eq!(shown["nics"][0]["networks"], expected, "{node}");
    }
    // Once the switch answers again, the same nics connect.
    slow_down(&s, "sw0", None);
    let retried = s
        .queued(
            "POST",
            "/v0/node/n0/nic/eth0/connect_network",
            Some(json!({"network": "net"})),
        )
        .await;
    assert_eq!(retried["status"], "DONE", "{retried}");
    s.shutdown().await;
}

/// Database stand-ins for outages.
mod lab_db {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;

    /// A TCP proxy in front of the test PostgreSQL that can be cut (every connection dropped,
    /// new ones refused) and restored, like a database server that stops and starts again.
    pub struct Proxy {
        pub url: String,
        up: Arc<watch::Sender<bool>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Proxy {
        /// A fresh test database, reached through a new proxy.
        pub async fn start_for_fresh_database() -> Proxy {
            let dir = tempfile::tempdir().unwrap();
            let direct = super::fresh_database_url(dir.path()).await;
            let mut url = url::Url::parse(&direct).unwrap();
            let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            url.set_host(Some("127.0.0.1")).unwrap();
            url.set_port(Some(listener.local_addr().unwrap().port()))
                .unwrap();
            let up = Arc::new(watch::channel(true).0);
            let task = tokio::spawn(accept_loop(listener, upstream, up.clone()));
            Proxy {
                url: url.to_string(),
                up,
                task,
            }
        }

        pub fn cut(&self) {
            self.up.send_replace(false);
        }

        pub fn restore(&self) {
            self.up.send_replace(true);
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn accept_loop(listener: TcpListener, upstream: String, up: Arc<watch::Sender<bool>>) {
        while let Ok((client, _)) = listener.accept().await {
            if !*up.borrow() {
                continue; // refused: dropped at once
            }
            let upstream = upstream.clone();
            let mut state = up.subscribe();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let mut client = client;
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = state.wait_for(|up| !*up) => {} // cut: both ends dropped
                }
            });
        }
    }

    /// Holds SQLite's write lock from a second connection for `period`.
    pub async fn hold_sqlite_lock(db: &Path, period: Duration) {
        use sqlx::Connection;
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut conn)
            .await
            .unwrap();
        tokio::time::sleep(period).await;
        sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    }
}
