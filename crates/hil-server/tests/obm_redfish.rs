//! Redfish through HIL's API against sushy-tools' emulator (`lab::sushy`), a real Redfish
//! implementation. Its power changes land after a random delay of 1–11 s, so the tests poll
//! the emulator for them instead of sleeping.

mod common;
mod lab;

use common::*;
use lab::sushy::{Sushy, PASSWORD, USER};
use lab::{capture_logs, log_text};
use serde_json::json;

const REDFISH: &str = "http://schema.massopencloud.org/haas/v0/obm/redfish";
const N1: &str = "11111111-1111-1111-1111-111111111111";
const N2: &str = "22222222-2222-2222-2222-222222222222";
const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));

async fn redfish_node(s: &TestServer, node: &str, url: &str, system: &str, password: &str) {
    let obm = json!({"type": REDFISH, "host": url, "user": USER, "password": password,
                     "system": system});
    s.ok(
        "PUT",
        &format!("/v0/node/{node}"),
        Some(json!({"obm": obm})),
    )
    .await;
    s.ok(
        "POST",
        "/v0/project/p/connect_node",
        Some(json!({"node": node})),
    )
    .await;
    let path = format!("/v0/node/{node}/obm");
    s.call(ALICE, "PUT", &path, Some(json!({"enabled": true})))
        .await
        .empty_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_and_boot_override_reach_the_emulator() {
    capture_logs();
    let Some(bmc) = Sushy::start(&[(N1, "node1", "Off"), (N2, "node2", "On")]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.obm.command_timeout_secs = 10.0;
    let s = TestServer::start_with(dir, config, true).await;
    s.project("p").await;
    s.user("alice", "alice-pw", false, &["p"]).await;
    redfish_node(&s, "n1", &bmc.url(), N1, PASSWORD).await;

    let call = |method: &'static str, suffix: &'static str, body| {
        let path = format!("/v0/node/n1/{suffix}");
        let s = &s;
        async move { s.call(ALICE, method, &path, body).await }
    };
    call("GET", "power_status", None).await;
    assert_eq!(bmc.power_state(N1), "Off");
    call("POST", "power_on", None).await.empty_ok();
    assert_eq!(bmc.wait_for_power(N1, "On"), "On");
    let st = call("GET", "power_status", None).await;
    assert_eq!(st.json, json!({"power_status": "on"}));

    call("PUT", "boot_device", Some(json!({"bootdev": "pxe"})))
        .await
        .empty_ok();
    assert_eq!(bmc.boot_target(N1), "Pxe");
    call("PUT", "boot_device", Some(json!({"bootdev": "disk"})))
        .await
        .empty_ok();
    assert_eq!(bmc.boot_target(N1), "Hdd");

    call("POST", "power_off", None).await.empty_ok();
    assert_eq!(bmc.wait_for_power(N1, "Off"), "Off");
    let st = call("GET", "power_status", None).await;
    assert_eq!(st.json, json!({"power_status": "off"}));
    // A cycle of a node that is off powers it on.
    call("POST", "power_cycle", Some(json!({"force": true})))
        .await
        .empty_ok();
    assert_eq!(bmc.wait_for_power(N1, "On"), "On");

    // Redfish has no serial console.
    call("GET", "console", None).await.err(409, "BlockedError");

    // A wrong password: the BMC's refusal, not the password, comes back.
    redfish_node(&s, "n2", &bmc.url(), N2, "not-the-password").await;
    let r = s.call(ALICE, "POST", "/v0/node/n2/power_off", None).await;
    r.err(500, "OBMError");
    assert!(r.text.contains("n2"), "{}", r.text);
    assert!(!r.text.contains("not-the-password"), "{}", r.text);
    assert_eq!(
        bmc.power_state(N2),
        "On",
        "a refused request changed the node"
    );
    let logs = log_text();
    assert!(!logs.contains("not-the-password") && !logs.contains(&format!(":{PASSWORD}@")));
    s.shutdown().await;
}
