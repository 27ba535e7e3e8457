//! IPMI through HIL's API against a real IPMI stack: OpenIPMI's `ipmi_sim` BMC driven by
//! `ipmitool` (`lab::ipmi`). Power and boot requests are checked on the emulated machine
//! itself; the serial console carries the machine's real output over SOL.

mod common;
mod lab;

use std::time::{Duration, Instant};

use common::*;
use lab::ipmi::{IpmiSim, PASSWORD, USER};
use lab::{capture_logs, log_text};
use serde_json::{json, Value};

const IPMI: &str = "http://schema.massopencloud.org/haas/v0/obm/ipmi";
const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));

async fn server(command_timeout_secs: f64) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.obm.command_timeout_secs = command_timeout_secs;
    TestServer::start_with(dir, config, true).await
}

/// Registers `node` with an IPMI OBM at `host`, puts it in project `p` for alice, and enables
/// its OBM as alice.
async fn ipmi_node(s: &TestServer, node: &str, host: &str, password: &str) {
    let obm = json!({"type": IPMI, "host": host, "user": USER, "password": password});
    s.ok(
        "PUT",
        &format!("/v0/node/{node}"),
        Some(json!({"obm": obm})),
    )
    .await;
    if s.admin("GET", "/v0/project/p/nodes", None).await.status == 404 {
        s.project("p").await;
        s.user("alice", "alice-pw", false, &["p"]).await;
    }
    s.ok(
        "POST",
        "/v0/project/p/connect_node",
        Some(json!({"node": node})),
    )
    .await;
    let r = s
        .call(
            ALICE,
            "PUT",
            &format!("/v0/node/{node}/obm"),
            Some(json!({"enabled": true})),
        )
        .await;
    r.empty_ok();
}

async fn alice(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Resp {
    s.call(ALICE, method, path, body).await
}

async fn power_status(s: &TestServer, node: &str) -> String {
    let r = alice(s, "GET", &format!("/v0/node/{node}/power_status"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["power_status"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_and_boot_device_reach_the_machine() {
    capture_logs();
    let Some(bmc) = IpmiSim::start() else { return };
    let s = server(10.0).await;
    ipmi_node(&s, "n1", &bmc.host(), PASSWORD).await;

    alice(&s, "POST", "/v0/node/n1/power_on", None)
        .await
        .empty_ok();
    assert!(bmc.powered(), "power_on did not start the machine");
    assert_eq!(power_status(&s, "n1").await, "on");

    alice(&s, "POST", "/v0/node/n1/power_off", None)
        .await
        .empty_ok();
    assert!(!bmc.powered(), "power_off left the machine running");
    assert_eq!(power_status(&s, "n1").await, "off");

    let bootdev = |dev: &str| json!({ "bootdev": dev });
    alice(&s, "PUT", "/v0/node/n1/boot_device", Some(bootdev("pxe")))
        .await
        .empty_ok();
    assert_eq!(bmc.bootdev(), "pxe");
    // ipmi_sim passes `disk` on as the BIOS default (the hard drive).
    alice(&s, "PUT", "/v0/node/n1/boot_device", Some(bootdev("disk")))
        .await
        .empty_ok();
    assert_eq!(bmc.bootdev(), "default");
    let r = alice(
        &s,
        "PUT",
        "/v0/node/n1/boot_device",
        Some(bootdev("floppy")),
    )
    .await;
    r.err(400, "BadArgumentError");
    assert_eq!(
        bmc.bootdev(),
        "default",
        "a refused boot device reached the BMC"
    );

    // A cycle of a node that is off powers it on (HIL's fallback).
    alice(&s, "POST", "/v0/node/n1/power_cycle", Some(json!({})))
        .await
        .empty_ok();
    assert!(
        bmc.wait_power(true, Duration::from_secs(5)),
        "cycle from off"
    );
    let first = bmc.node_pid().unwrap();

    // force: a hard reset restarts the machine at once.
    alice(
        &s,
        "POST",
        "/v0/node/n1/power_cycle",
        Some(json!({"force": true})),
    )
    .await
    .empty_ok();
    assert!(bmc.wait_power(true, Duration::from_secs(5)));
    let second = bmc.node_pid().unwrap();
    assert_ne!(first, second, "force cycle did not restart the machine");
    assert!(bmc.chassis_log().contains("set reset 1"));

    // Without force: the BMC's power cycle (off, then on a second later).
    alice(&s, "POST", "/v0/node/n1/power_cycle", None)
        .await
        .empty_ok();
    let deadline = Instant::now() + Duration::from_secs(8);
    while bmc.node_pid().is_none_or(|pid| pid == second) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let third = bmc.node_pid().expect("machine back on after the cycle");
    assert_ne!(third, second, "soft cycle did not restart the machine");
    assert_eq!(power_status(&s, "n1").await, "on");
    assert!(
        !log_text().contains(PASSWORD),
        "the BMC password was logged"
    );
    s.shutdown().await;
}

/// Reads the console as `user` until `want` shows up (or `limit` passes).
struct Viewer {
    resp: reqwest::Response,
    seen: String,
}

impl Viewer {
    async fn open(s: &TestServer, node: &str) -> Viewer {
        let resp = reqwest::Client::new()
            .get(format!("{}/v0/node/{node}/console", s.url))
            .basic_auth(ALICE.unwrap().0, Some(ALICE.unwrap().1))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/octet-stream");
        Viewer {
            resp,
            seen: String::new(),
        }
    }

    /// The next chunk, `None` when the stream ended, `Some("")` when nothing came in `limit`.
    async fn chunk(&mut self, limit: Duration) -> Option<String> {
        match tokio::time::timeout(limit, self.resp.chunk()).await {
            Err(_) => Some(String::new()),
            Ok(Ok(Some(bytes))) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                self.seen.push_str(&text);
                Some(text)
            }
            Ok(_) => None,
        }
    }

    async fn read_until(&mut self, want: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while !self.seen.contains(want) && Instant::now() < deadline {
            if self.chunk(Duration::from_millis(500)).await.is_none() {
                break;
            }
        }
        self.seen.contains(want)
    }

    /// Whether the stream ends within `limit`.
    async fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.chunk(Duration::from_millis(200)).await.is_none() {
                return true;
            }
        }
        false
    }
}

/// The highest `tick N` in `text`.
fn last_tick(text: &str) -> u32 {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("tick "))
        .filter_map(|n| n.trim().parse().ok())
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_keeps_output_and_recovers_a_stale_session() {
    capture_logs();
    let Some(bmc) = IpmiSim::start() else { return };
    // Someone left a SOL session behind: a killed `sol activate` keeps the payload active.
    let mut stray = std::process::Command::new("ipmitool")
        .args(["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p"])
        .arg(bmc.port.to_string())
        .args(["-U", USER, "-P", PASSWORD, "sol", "activate"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    stray.kill().unwrap();
    let _ = stray.wait();
    let out = bmc.ipmitool(&["sol", "activate"]);
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("already active"), "no stale payload: {said}");

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.obm.command_timeout_secs = 10.0;
    let log_dir = dir.path().join("consoles");
    config.obm.console_log_dir = Some(log_dir.clone());
    let s = TestServer::start_with(dir, config, true).await;
    ipmi_node(&s, "n1", &bmc.host(), PASSWORD).await;
    alice(&s, "POST", "/v0/node/n1/power_on", None)
        .await
        .empty_ok();

    // ipmi_sim connects SOL to the machine's serial port on a ~10 s timer.
    let mut first = Viewer::open(&s, "n1").await;
    assert!(
        first.read_until("tick 2", Duration::from_secs(30)).await,
        "no console output: {:?}",
        first.seen
    );
    assert!(first.seen.contains("node login:"), "{:?}", first.seen);
    assert!(first.seen.contains("booted from"), "{:?}", first.seen);
    let seen_by_first = last_tick(&first.seen);
    drop(first);

    // Output printed while nobody watched is in the tail the next viewer gets first.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut second = Viewer::open(&s, "n1").await;
    let tail = second.chunk(Duration::from_secs(2)).await.unwrap();
    assert!(
        tail.contains("node login:"),
        "tail lacks the banner: {tail:?}"
    );
    assert!(
        last_tick(&tail) >= seen_by_first + 2,
        "tail {tail:?} lacks the ticks after {seen_by_first}"
    );
    let log_file = log_dir.join("n1.log");
    let logged = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        logged.contains("node login:"),
        "console log file: {logged:?}"
    );

    // A new viewer takes over: the previous stream ends, the new one gets output.
    let mut third = Viewer::open(&s, "n1").await;
    assert!(
        second.ends_within(Duration::from_secs(3)).await,
        "old viewer kept streaming"
    );
    let before = last_tick(&third.seen) + 1;
    assert!(
        third
            .read_until(&format!("tick {}", before.max(2)), Duration::from_secs(5))
            .await
    );

    // Disabling the OBM ends the stream and forgets the output.
    alice(
        &s,
        "PUT",
        "/v0/node/n1/obm",
        Some(json!({"enabled": false})),
    )
    .await
    .empty_ok();
    assert!(
        third.ends_within(Duration::from_secs(3)).await,
        "viewer outlived the OBM"
    );
    alice(&s, "GET", "/v0/node/n1/console", None)
        .await
        .err(409, "BlockedError");
    assert!(
        !log_file.exists(),
        "the console log survived disabling the OBM"
    );
    // The session was closed properly: the BMC has no payload left behind, so a new SOL
    // client gets a session at once.
    let probe = tokio::process::Command::new("timeout")
        .args([
            "2",
            "ipmitool",
            "-I",
            "lanplus",
            "-C",
            "3",
            "-H",
            "127.0.0.1",
            "-p",
        ])
        .arg(bmc.port.to_string())
        .args(["-U", USER, "-P", PASSWORD, "sol", "activate"])
        .stdin(std::process::Stdio::piped())
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&probe.stdout);
    assert!(said.contains("SOL Session operational"), "{said:?}");
    assert!(!said.contains("already active"), "{said:?}");
    assert!(
        !log_text().contains(PASSWORD),
        "the BMC password was logged"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_bmcs_fail_in_time_and_the_api_stays_responsive() {
    capture_logs();
    let Some(bmc) = IpmiSim::start() else { return };
    let limit = 3.0;
    let s = server(limit).await;
    // A wrong password, a port where no BMC listens, and a BMC that never answers.
    ipmi_node(&s, "wrong-pw", &bmc.host(), "not-the-password").await;
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    ipmi_node(&s, "nobody", &format!("127.0.0.1:{closed_port}"), PASSWORD).await;
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_host = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    ipmi_node(&s, "silent", &silent_host, PASSWORD).await;

    for node in ["wrong-pw", "nobody", "silent"] {
        let started = Instant::now();
        let path = format!("/v0/node/{node}/power_on");
        let call = alice(&s, "POST", &path, None);
        let probe = async {
            // Meanwhile the API answers other calls at once.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let t = Instant::now();
            let r = s.admin("GET", "/v0/nodes/all", None).await;
            assert_eq!(r.status, 200);
            t.elapsed()
        };
        let (r, probe_took) = tokio::join!(call, probe);
        let took = started.elapsed();
        r.err(500, "OBMError");
        // The tenant learns what kind of failure it was, not where the BMC is.
        let msg = r.json["msg"].as_str().unwrap();
        assert!(
            msg.contains(node) && msg.contains("server log"),
            "{node}: {msg}"
        );
        assert!(!msg.contains("127.0.0.1"), "{node}: {msg}");
        assert!(!r.text.contains(PASSWORD) && !r.text.contains("not-the-password"));
        assert!(
            took < Duration::from_secs_f64(2.0 * limit + 2.0),
            "{node}: took {took:?}"
        );
        assert!(
            probe_took < Duration::from_secs(1),
            "API blocked: {probe_took:?}"
        );
    }
    // The administrator gets ipmitool's own words.
    let r = s.admin("POST", "/v0/node/wrong-pw/power_on", None).await;
    r.err(500, "OBMError");
    assert!(r.text.contains("no IPMI session"), "{}", r.text);
    assert!(!r.text.contains("not-the-password"), "{}", r.text);
    let logs = log_text();
    assert!(
        !logs.contains(PASSWORD) && !logs.contains("not-the-password"),
        "a BMC password was logged"
    );
    drop(silent);
    s.shutdown().await;
}
