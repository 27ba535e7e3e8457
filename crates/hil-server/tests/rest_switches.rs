//! The REST switch drivers (Dell OS9, Brocade VDX) against a stand-in switch that keeps real
//! port state (`lab::rest_switch`): first the drivers alone, request by request, then
//! through the server's HTTP API and worker.

mod common;
mod lab;
use std::collections::BTreeSet;

use common::*;
use hil_drivers::switch::rest::{brocade, dellnos9, BrocadeDriver, DellNos9Driver};
use hil_drivers::switch::DriverOptions;
use hil_drivers::{PortChange, SwitchDriver, SwitchErrorKind, SwitchSession, SwitchSpec};
use lab::rest_switch::{Kind, PortView, RestSwitch};
use serde_json::{json, Value};

const SWITCH_USER: &str = "hil";
const SWITCH_PW: &str = "sw-Secret-42";
const T: Option<(&str, &str)> = Some(("t", "tpw"));

// ---- the drivers alone ----

fn spec(url: &str, interface_type: &str, password: &str) -> SwitchSpec {
    let config = json!({"hostname": url, "username": SWITCH_USER, "password": password,
                        "interface_type": interface_type});
    SwitchSpec {
        label: "sw".into(),
        config: config.as_object().unwrap().clone(),
    }
}

fn modify(port: &str, channel: &str, network: Option<&str>) -> PortChange {
    PortChange::Modify {
        port: port.into(),
        channel: channel.into(),
        network_id: network.map(String::from),
        previous: None,
    }
}

fn revert(port: &str) -> PortChange {
    PortChange::Revert { port: port.into() }
}

fn view(shutdown: bool, native: Option<u16>, tagged: &[u16]) -> PortView {
    PortView {
        shutdown,
        native,
        tagged: tagged.iter().copied().collect::<BTreeSet<_>>(),
        native_tagged: false,
    }
}

fn state(pairs: &[(&str, &str)]) -> hil_drivers::PortState {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn dell_session(sw: &RestSwitch, save: bool) -> Box<dyn SwitchSession> {
    let options = DriverOptions {
        save,
        ..DriverOptions::default()
    };
    DellNos9Driver::new(options)
        .open(&spec(&sw.url(), "GigabitEthernet", SWITCH_PW))
        .await
        .expect("open")
}

async fn brocade_session(sw: &RestSwitch) -> Box<dyn SwitchSession> {
    BrocadeDriver::new(DriverOptions::default())
        .open(&spec(&sw.url(), "TenGigabitEthernet", SWITCH_PW))
        .await
        .expect("open")
}

#[tokio::test]
async fn dellnos9_driver_sends_hils_requests_and_keeps_the_port_consistent() {
    let sw = RestSwitch::start(Kind::DellNos9, SWITCH_USER, SWITCH_PW).await;
    let mut s = dell_session(&sw, true).await;
    let iface = "/api/running/dell/interfaces/interface/gige-1-3";
    let cli = "/api/running/dell/_operations/cli";

    // (a) set native on a port that is off: GET is-on → PUT on → POST untagged.
    s.apply(&modify("1/3", "vlan/native", Some("100")))
        .await
        .unwrap();
    assert_eq!(
        sw.requests(),
        [
            format!("GET {iface}?with-defaults"),
            format!("PUT {iface}"),
            format!("POST {cli}"),
        ]
    );
    assert_eq!(sw.port("1/3"), view(false, Some(100), &[]));

    // (b) tagged VLANs on a port that is on: GET is-on → POST tagged (no PUT).
    sw.clear_requests();
    s.apply(&modify("1/3", "vlan/200", Some("200")))
        .await
        .unwrap();
    assert_eq!(
        sw.requests(),
        [format!("GET {iface}?with-defaults"), format!("POST {cli}")]
    );
    s.apply(&modify("1/3", "vlan/201", Some("201")))
        .await
        .unwrap();
    assert_eq!(sw.port("1/3"), view(false, Some(100), &[200, 201]));
    // (e) read: the stand-in prints `T 200-201`, which the driver expands.
    assert_eq!(
        s.port_state("1/3").await.unwrap(),
        state(&[
            ("vlan/native", "100"),
            ("vlan/200", "200"),
            ("vlan/201", "201")
        ])
    );

    // (c) remove tagged: one POST.
    sw.clear_requests();
    s.apply(&modify("1/3", "vlan/201", None)).await.unwrap();
    assert_eq!(sw.requests(), [format!("POST {cli}")]);

    // save: CLI `write`.
    s.save().await.unwrap();
    assert_eq!(sw.saves(), 1);

    // (d) revert: every VLAN off in one POST, then the port is shut down.
    sw.clear_requests();
    s.apply(&revert("1/3")).await.unwrap();
    assert_eq!(
        sw.requests(),
        [
            format!("GET {iface}?with-defaults"),
            format!("POST {cli}"),
            format!("POST {cli}"),
            format!("PUT {iface}"),
        ]
    );
    assert_eq!(sw.port("1/3"), PortView::idle());
    assert!(s.port_state("1/3").await.unwrap().is_empty());

    // Reverting an idle port only makes sure it is shut down.
    sw.clear_requests();
    s.apply(&revert("1/3")).await.unwrap();
    assert_eq!(
        sw.requests(),
        [format!("GET {iface}?with-defaults"), format!("PUT {iface}")]
    );
    assert!(
        sw.requests().iter().all(|r| !r.contains("%5C")),
        "no stray backslash"
    );
    s.close().await.unwrap();
}

#[tokio::test]
async fn dellnos9_driver_native_removal_revert_of_hand_made_state_and_no_save() {
    let sw = RestSwitch::start(Kind::DellNos9, SWITCH_USER, SWITCH_PW).await;
    let mut s = dell_session(&sw, false).await;
    s.apply(&modify("1/0/1", "vlan/native", Some("300")))
        .await
        .unwrap();
    // (a') remove native: the port goes back to shut down, out of hybrid mode.
    s.apply(&modify("1/0/1", "vlan/native", None))
        .await
        .unwrap();
    assert_eq!(sw.port("1/0/1"), PortView::idle());

    // A port configured by hand with several VLANs is cleaned completely.
    sw.configure_port("1/4", Some(10), &[11, 12, 13]);
    s.apply(&revert("1/4")).await.unwrap();
    assert_eq!(sw.port("1/4"), PortView::idle());

    // A native VLAN replacing another one (the worker's `previous`) moves the port.
    sw.configure_port("1/5", Some(10), &[]);
    let change = PortChange::Modify {
        port: "1/5".into(),
        channel: "vlan/native".into(),
        network_id: Some("20".into()),
        previous: Some("10".into()),
    };
    s.apply(&change).await.unwrap();
    assert_eq!(sw.port("1/5").native, Some(20));

    // With saving off, save() sends nothing.
    sw.clear_requests();
    s.save().await.unwrap();
    assert!(sw.requests().is_empty());
    assert_eq!(sw.saves(), 0);

    // Removing a native VLAN the port does not have only makes sure the port is shut down.
    s.apply(&modify("1/6", "vlan/native", None)).await.unwrap();
    assert_eq!(sw.port("1/6"), PortView::idle());

    // A switch-side refusal is a Rejected error carrying the switch's reason.
    sw.configure_port("1/7", Some(30), &[]);
    let err = s
        .apply(&modify("1/7", "vlan/30", Some("30")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, SwitchErrorKind::Rejected);
    assert!(
        err.message.contains("HTTP 400") && err.message.contains("untagged in this Vlan"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn brocade_driver_sends_hils_requests_with_well_formed_xml() {
    let sw = RestSwitch::start(Kind::Brocade, SWITCH_USER, SWITCH_PW).await;
    let mut s = brocade_session(&sw).await;
    let base = "/rest/config/running/interface/TenGigabitEthernet/%22101/0/10%22";

    // (a) GET base → DELETE shutdown → POST switchport → PUT mode → DELETE tag → PUT native.
    s.apply(&modify("101/0/10", "vlan/native", Some("100")))
        .await
        .unwrap();
    assert_eq!(
        sw.requests(),
        [
            format!("GET {base}"),
            format!("DELETE {base}/shutdown"),
            format!("POST {base}"),
            format!("PUT {base}/switchport/mode"),
            format!("DELETE {base}/switchport/trunk/tag/native-vlan"),
            format!("PUT {base}/switchport/trunk"),
        ]
    );
    assert_eq!(sw.port("101/0/10"), view(false, Some(100), &[]));

    // (b) the stand-in refuses malformed XML, so this also proves the add body is well-formed.
    sw.clear_requests();
    s.apply(&modify("101/0/10", "vlan/200", Some("200")))
        .await
        .unwrap();
    assert_eq!(
        sw.requests(),
        [
            format!("GET {base}"),
            format!("POST {base}"),
            format!("PUT {base}/switchport/mode"),
            format!("PUT {base}/switchport/trunk/allowed/vlan"),
        ]
    );
    s.apply(&modify("101/0/10", "vlan/202", Some("202")))
        .await
        .unwrap();
    assert_eq!(sw.port("101/0/10"), view(false, Some(100), &[200, 202]));
    assert_eq!(
        s.port_state("101/0/10").await.unwrap(),
        state(&[
            ("vlan/native", "100"),
            ("vlan/200", "200"),
            ("vlan/202", "202")
        ])
    );

    // (c) remove tagged: one PUT.
    sw.clear_requests();
    s.apply(&modify("101/0/10", "vlan/202", None))
        .await
        .unwrap();
    assert_eq!(
        sw.requests(),
        [format!("PUT {base}/switchport/trunk/allowed/vlan")]
    );

    // (d) revert: read → allow none → DELETE native → shut down.
    sw.clear_requests();
    s.apply(&revert("101/0/10")).await.unwrap();
    assert_eq!(
        sw.requests(),
        [
            format!("GET {base}/switchport/trunk"),
            format!("PUT {base}/switchport/trunk/allowed/vlan"),
            format!("DELETE {base}/switchport/trunk/native-vlan"),
            format!("POST {base}"),
        ]
    );
    assert_eq!(sw.port("101/0/10"), PortView::idle());
    assert!(s.port_state("101/0/10").await.unwrap().is_empty());

    // Revert of a port never configured for switching, and of one already shut down (409).
    s.apply(&revert("1/0/1")).await.unwrap();
    assert_eq!(sw.port("1/0/1"), PortView::idle());
    s.apply(&revert("101/0/10")).await.unwrap();

    // (a') remove native then shut down; no save for this switch.
    s.apply(&modify("1/0/2", "vlan/native", Some("7")))
        .await
        .unwrap();
    s.apply(&modify("1/0/2", "vlan/native", None))
        .await
        .unwrap();
    assert_eq!(sw.port("1/0/2"), PortView::idle());
    sw.clear_requests();
    s.save().await.unwrap();
    assert!(sw.requests().is_empty());
    s.close().await.unwrap();
}

#[tokio::test]
async fn stand_in_rejects_hils_malformed_body_and_wrong_credentials() {
    let sw = RestSwitch::start(Kind::Brocade, SWITCH_USER, SWITCH_PW).await;
    sw.configure_port("1/0/4", Some(5), &[]);
    let url = format!(
        "{}/rest/config/running/interface/TenGigabitEthernet/%221/0/4%22/switchport/trunk/allowed/vlan",
        sw.url()
    );
    let http = reqwest::Client::new();
    let put = |body: &'static str, pw: &'static str| {
        http.put(&url)
            .basic_auth(SWITCH_USER, Some(pw))
            .body(body)
            .send()
    };
    assert_eq!(
        put("<vlan><add>6</vlan></vlan>", SWITCH_PW)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        put("<vlan><add>6</add></vlan>", "wrong")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        put("<vlan><add>6</add></vlan>", SWITCH_PW)
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(sw.port("1/0/4").tagged, BTreeSet::from([6]));
}

#[tokio::test]
async fn rest_driver_errors_have_kinds_and_no_secrets() {
    let sw = RestSwitch::start(Kind::DellNos9, SWITCH_USER, SWITCH_PW).await;
    let driver = DellNos9Driver::new(DriverOptions {
        connect_timeout: std::time::Duration::from_secs(2),
        command_timeout: std::time::Duration::from_millis(300),
        save: true,
    });
    let wrong = "not-the-Password-99";
    let mut s = driver
        .open(&spec(&sw.url(), "GigabitEthernet", wrong))
        .await
        .unwrap();
    let e = s
        .apply(&modify("1/3", "vlan/native", Some("100")))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SwitchErrorKind::Auth, "{}", e.message);
    assert!(e.message.contains("authentication"), "{}", e.message);
    assert!(!e.message.contains(wrong) && !e.message.contains(SWITCH_PW));

    let mut s = driver
        .open(&spec(&sw.url(), "GigabitEthernet", SWITCH_PW))
        .await
        .unwrap();
    sw.fail_with(500);
    let e = s.port_state("1/3").await.unwrap_err();
    assert_eq!(e.kind, SwitchErrorKind::Rejected);
    assert!(
        e.message.contains("HTTP 500")
            && e.message.contains("simulated switch failure")
            && !e.message.contains("second line"),
        "{}",
        e.message
    );

    sw.recover();
    sw.hang();
    let e = s.port_state("1/3").await.unwrap_err();
    assert_eq!(e.kind, SwitchErrorKind::Timeout, "{}", e.message);
    assert!(e.is_transient());
}

// ---- through the API ----

async fn rest_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = vec!["mock".into(), "dellnos9".into(), "brocade".into()];
    config.switches.connect_timeout_secs = 2.0;
    config.switches.command_timeout_secs = 1.0;
    TestServer::start_with(dir, config, true).await
}

async fn register(s: &TestServer, name: &str, uri: &str, url: &str, ty: &str, pw: &str) {
    let body = json!({"type": uri, "hostname": url, "username": SWITCH_USER, "password": pw,
                      "interface_type": ty});
    s.ok("PUT", &format!("/v0/switch/{name}"), Some(body)).await;
}

/// Project `p` (tenant t/tpw) with node n1 cabled to `switch`'s `port`, networks pnet (1001)
/// and trunk (1002).
async fn tenant_on(s: &TestServer, switch: &str, port: &str) {
    s.cabled_node("n1", switch, port).await;
    s.project("p").await;
    s.user("t", "tpw", false, &["p"]).await;
    s.reserve("p", "n1").await;
    s.network("pnet", "p", "p", "").await;
    s.network("trunk", "p", "p", "").await;
}

/// Tenant connect/detach; returns the finished action.
async fn nic_op(s: &TestServer, op: &str, network: &str, channel: Option<&str>) -> Value {
    let mut body = json!({"network": network});
    if let Some(c) = channel {
        body["channel"] = json!(c);
    }
    let r = s
        .call(T, "POST", &format!("/v0/node/n1/nic/eth0/{op}"), Some(body))
        .await;
    assert_eq!(r.status, 202, "{op} {network}: {}", r.text);
    s.wait_action(r.json["status_id"].as_str().unwrap()).await
}

/// The full tenant story on one REST switch, checked on the switch itself.
async fn connect_detach_revert(s: &TestServer, sw: &RestSwitch, switch: &str, port: &str) {
    tenant_on(s, switch, port).await;
    assert_eq!(
        s.ok("GET", &format!("/v0/switch/{switch}"), None).await["capabilities"],
        json!([])
    );

    // Native first: a tagged network cannot come before the native one.
    let r = s
        .call(
            T,
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "trunk", "channel": "vlan/1002"})),
        )
        .await;
    r.err(409, "BlockedError");
    assert_eq!(r.json["msg"], "Please attach a native network first");
    assert!(sw.requests().is_empty(), "nothing reached the switch");

    let a = nic_op(s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "DONE", "{a}");
    assert_eq!(sw.port(port), view(false, Some(1001), &[]));
    let a = nic_op(s, "connect_network", "trunk", Some("vlan/1002")).await;
    assert_eq!(a["status"], "DONE", "{a}");
    assert_eq!(sw.port(port), view(false, Some(1001), &[1002]));
    assert_eq!(
        s.call(T, "GET", "/v0/node/n1", None).await.json["nics"][0]["networks"],
        json!({"vlan/native": "pnet", "vlan/1002": "trunk"})
    );

    // Native last: it cannot be detached while a tagged network is on the nic.
    s.call(
        T,
        "POST",
        "/v0/node/n1/nic/eth0/detach_network",
        Some(json!({"network": "pnet"})),
    )
    .await
    .err(409, "BlockedError");

    let a = nic_op(s, "detach_network", "trunk", None).await;
    assert_eq!(a["status"], "DONE", "{a}");
    assert_eq!(sw.port(port), view(false, Some(1001), &[]));
    let a = nic_op(s, "detach_network", "pnet", None).await;
    assert_eq!(a["status"], "DONE", "{a}");
    assert_eq!(sw.port(port), PortView::idle(), "shut down, no VLANs");

    // Revert (admin) takes everything off and shuts the port down.
    nic_op(s, "connect_network", "pnet", None).await;
    nic_op(s, "connect_network", "trunk", Some("vlan/1002")).await;
    assert_eq!(sw.port(port), view(false, Some(1001), &[1002]));
    let r = s
        .admin(
            "POST",
            &format!("/v0/switch/{switch}/port/{port}/revert"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = s.wait_action(r.json["status_id"].as_str().unwrap()).await;
    assert_eq!(a["status"], "DONE", "{a}");
    assert_eq!(sw.port(port), PortView::idle());
    assert_eq!(
        s.call(T, "GET", "/v0/node/n1", None).await.json["nics"][0]["networks"],
        json!({})
    );
}

#[tokio::test]
async fn dellnos9_through_the_api() {
    let s = rest_server().await;
    let sw = RestSwitch::start(Kind::DellNos9, SWITCH_USER, SWITCH_PW).await;
    register(
        &s,
        "dell",
        dellnos9::TYPE_URI,
        &sw.url(),
        "GigabitEthernet",
        SWITCH_PW,
    )
    .await;
    connect_detach_revert(&s, &sw, "dell", "1/3").await;
    // The worker saves once per batch that changed something: CLI `write`.
    assert!(sw.saves() >= 1, "running config saved");
    assert!(s
        .ok("GET", "/v0/active_extensions", None)
        .await
        .to_string()
        .contains("hil.ext.switches.dellnos9"));
    s.shutdown().await;
}

#[tokio::test]
async fn dellnos9_save_can_be_switched_off_per_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.switches.enabled = vec!["dellnos9".into()];
    config
        .switches
        .save_by_type
        .insert("dellnos9".into(), false);
    let s = TestServer::start_with(dir, config, true).await;
    let sw = RestSwitch::start(Kind::DellNos9, SWITCH_USER, SWITCH_PW).await;
    register(
        &s,
        "dell",
        dellnos9::TYPE_URI,
        &sw.url(),
        "GigabitEthernet",
        SWITCH_PW,
    )
    .await;
    tenant_on(&s, "dell", "1/3").await;
    let a = nic_op(&s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "DONE", "{a}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sw.saves(), 0);
    s.shutdown().await;
}

#[tokio::test]
async fn brocade_through_the_api() {
    let s = rest_server().await;
    let sw = RestSwitch::start(Kind::Brocade, SWITCH_USER, SWITCH_PW).await;
    register(
        &s,
        "vdx",
        brocade::TYPE_URI,
        &sw.url(),
        "TenGigabitEthernet",
        SWITCH_PW,
    )
    .await;
    connect_detach_revert(&s, &sw, "vdx", "101/0/10").await;
    s.shutdown().await;
}

#[tokio::test]
async fn wrong_switch_password_is_an_authentication_error_without_the_password() {
    let s = rest_server().await;
    let sw = RestSwitch::start(Kind::DellNos9, SWITCH_USER, SWITCH_PW).await;
    let wrong = "Wrong-Switch-Pw-77";
    register(
        &s,
        "dell",
        dellnos9::TYPE_URI,
        &sw.url(),
        "GigabitEthernet",
        wrong,
    )
    .await;
    tenant_on(&s, "dell", "1/3").await;
    let a = nic_op(&s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "ERROR", "{a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(error.to_lowercase().contains("authentication"), "{error}");
    assert!(
        !error.contains(wrong) && !error.contains(SWITCH_PW),
        "{error}"
    );
    assert_eq!(sw.port("1/3"), PortView::idle());
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["nics"][0]["networks"],
        json!({}),
        "no attachment on ERROR"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn failing_hanging_and_unreachable_switches_end_in_error() {
    let s = rest_server().await;
    let sw = RestSwitch::start(Kind::Brocade, SWITCH_USER, SWITCH_PW).await;
    register(
        &s,
        "vdx",
        brocade::TYPE_URI,
        &sw.url(),
        "TenGigabitEthernet",
        SWITCH_PW,
    )
    .await;
    tenant_on(&s, "vdx", "1/0/1").await;

    sw.fail_with(500);
    let a = nic_op(&s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "ERROR", "{a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("HTTP 500") && error.contains("simulated switch failure"),
        "{error}"
    );

    // A switch that never answers: each attempt times out, the worker retries, then gives up.
    sw.recover();
    sw.hang();
    let a = nic_op(&s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "ERROR", "{a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(error.contains("did not answer in time"), "{error}");

    // Recovered: the same request now succeeds.
    sw.recover();
    let a = nic_op(&s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "DONE", "{a}");
    assert_eq!(sw.port("1/0/1"), view(false, Some(1001), &[]));

    // Nothing listens at the registered address any more.
    let url = sw.url();
    drop(sw);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let a = nic_op(&s, "connect_network", "trunk", Some("vlan/1002")).await;
    assert_eq!(a["status"], "ERROR", "{a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cannot reach") && error.contains(&url),
        "{error}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rest_switch_registration_is_validated() {
    let s = rest_server().await;
    let good = |uri: &str, ty: &str| {
        json!({"type": uri, "hostname": "http://sw.example:8008", "username": "u",
               "password": "p", "interface_type": ty})
    };
    let mut cases = Vec::new();
    for uri in [dellnos9::TYPE_URI, brocade::TYPE_URI] {
        let ty = "TenGigabitEthernet";
        let mut ftp = good(uri, ty);
        ftp["hostname"] = json!("ftp://sw.example");
        cases.push(ftp);
        let mut extra = good(uri, ty);
        extra["dummy_vlan"] = json!("2222");
        cases.push(extra);
        let mut missing = good(uri, ty);
        missing.as_object_mut().unwrap().remove("interface_type");
        cases.push(missing);
        let mut number = good(uri, ty);
        number["password"] = json!(5);
        cases.push(number);
    }
    cases.push(good(dellnos9::TYPE_URI, "Ethernet"));
    cases.push(good(brocade::TYPE_URI, "Ten/../x"));
    for (i, body) in cases.into_iter().enumerate() {
        s.admin("PUT", &format!("/v0/switch/bad{i}"), Some(body.clone()))
            .await
            .err(400, "BadArgumentError");
    }

    s.ok(
        "PUT",
        "/v0/switch/dell",
        Some(good(dellnos9::TYPE_URI, "TenGigabitEthernet")),
    )
    .await;
    s.ok(
        "PUT",
        "/v0/switch/vdx",
        Some(good(brocade::TYPE_URI, "TenGigabitEthernet")),
    )
    .await;
    for sw in ["dell", "vdx"] {
        for bad in ["gi1/0/1", "Te1/0/1", "1", "1/2/3/4"] {
            s.admin("PUT", &format!("/v0/switch/{sw}/port/{bad}"), None)
                .await
                .err(400, "BadArgumentError");
        }
        s.ok("PUT", &format!("/v0/switch/{sw}/port/1/0/1"), None)
            .await;
        s.ok("PUT", &format!("/v0/switch/{sw}/port/1/2"), None)
            .await;
    }
    assert_eq!(
        s.ok("GET", "/v0/switch/vdx", None).await,
        json!({"name": "vdx", "ports": [{"label": "1/0/1"}, {"label": "1/2"}], "capabilities": []})
    );
    s.shutdown().await;
}

/// HIL's tests and inventories register REST switches without a scheme
/// (`"hostname": "mybrocade.example.com"`). That is accepted and means HTTPS: the plain-HTTP
/// stand-in never sees a request, and the action's error names the https:// URL it tried.
#[tokio::test]
async fn rest_hostnames_without_a_scheme_mean_https() {
    let s = rest_server().await;
    let sw = RestSwitch::start(Kind::Brocade, SWITCH_USER, SWITCH_PW).await;
    let bare = sw.url().trim_start_matches("http://").to_string();
    register(
        &s,
        "vdx",
        brocade::TYPE_URI,
        &bare,
        "TenGigabitEthernet",
        SWITCH_PW,
    )
    .await;
    s.ok(
        "PUT",
        "/v0/switch/dell",
        Some(
            json!({"type": dellnos9::TYPE_URI, "hostname": "sw.example:8008",
                    "username": "u", "password": "p", "interface_type": "GigabitEthernet"}),
        ),
    )
    .await;
    tenant_on(&s, "vdx", "1/0/1").await;
    let a = nic_op(&s, "connect_network", "pnet", None).await;
    assert_eq!(a["status"], "ERROR", "{a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("https://{bare}")), "{error}");
    assert!(sw.requests().is_empty(), "{:?}", sw.requests());
    assert_eq!(sw.port("1/0/1"), PortView::idle());
    s.shutdown().await;
}
