//! The OBM calls through the HTTP API with the mock OBM driver (fast, in-process BMCs) and an
//! obmd stand-in: registration forms, authorization, the disabled-OBM rule, secrets, console
//! hand-over and clearing, release, and HIL v0.4's redirects. The real BMC stacks are in
//! `obm_ipmi.rs` and `obm_redfish.rs`.

mod common;
#[path = "common/obmd.rs"]
mod obmd;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const IPMI: &str = "http://schema.massopencloud.org/haas/v0/obm/ipmi";
const BMC_PW: &str = "bmc-Secret-77";
const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));
const BOB: Option<(&str, &str)> = Some(("bob", "bob-pw"));

fn mock_obm(host: &str) -> Value {
    json!({"obm": {"type": MOCK_OBM, "host": host, "user": "root", "password": BMC_PW}})
}

/// Node `node` (mock BMC `host`) in project p (alice); bob is in project q.
async fn setup(s: &TestServer, node: &str, host: &str) {
    s.ok("PUT", &format!("/v0/node/{node}"), Some(mock_obm(host)))
        .await;
    if s.admin("GET", "/v0/project/p/nodes", None).await.status == 404 {
        s.project("p").await;
        s.project("q").await;
        s.user("alice", "alice-pw", false, &["p"]).await;
        s.user("bob", "bob-pw", false, &["q"]).await;
    }
    s.ok(
        "POST",
        "/v0/project/p/connect_node",
        Some(json!({"node": node})),
    )
    .await;
}

async fn enable(s: &TestServer, who: Option<(&str, &str)>, node: &str, on: bool) -> Resp {
    s.call(
        who,
        "PUT",
        &format!("/v0/node/{node}/obm"),
        Some(json!({ "enabled": on })),
    )
    .await
}

/// Every OBM call a tenant can make: (method, path suffix, body).
fn obm_calls() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("PUT", "obm", Some(json!({"enabled": true}))),
        ("POST", "power_on", None),
        ("POST", "power_off", None),
        ("POST", "power_cycle", Some(json!({"force": false}))),
        ("GET", "power_status", None),
        ("PUT", "boot_device", Some(json!({"bootdev": "pxe"}))),
        ("GET", "console", None),
    ]
}

#[tokio::test]
async fn registration_takes_one_valid_obm_and_keeps_its_secrets() {
    let s = TestServer::start().await;
    let bad = [
        (json!({}), 400, "ValidationError"),
        (
            json!({"obm": mock_obm("h")["obm"], "obmd": {"uri": "http://o/n", "admin_token": "t"}}),
            400,
            "ValidationError",
        ),
        (
            json!({"obm": {"type": "http://example.com/obm/floppy", "host": "h"}}),
            400,
            "BadArgumentError",
        ),
        (
            json!({"obm": {"type": IPMI, "host": "h", "user": "u"}}),
            400,
            "ValidationError",
        ),
        (
            json!({"obm": {"type": IPMI, "host": "h", "user": "u", "password": "p", "x": 1}}),
            400,
            "ValidationError",
        ),
        (
            json!({"obm": {"type": IPMI, "host": "h:notaport", "user": "u", "password": "p"}}),
            400,
            "ValidationError",
        ),
        (json!({"obm": "ipmi"}), 400, "ValidationError"),
    ];
    for (body, status, kind) in bad {
        let r = s.admin("PUT", "/v0/node/n1", Some(body.clone())).await;
        r.err(status, kind);
        assert!(!r.text.contains(BMC_PW), "{}", r.text);
        s.admin("GET", "/v0/node/n1", None)
            .await
            .err(404, "NotFoundError");
    }
    let r = s
        .admin(
            "PUT",
            "/v0/node/n1",
            Some(json!({"obm": {"type": "http://example.com/obm/floppy", "host": "h"}})),
        )
        .await;
    assert_eq!(
        r.json["msg"],
        "'http://example.com/obm/floppy' is not a valid OBM type."
    );

    let ipmi = json!({"obm": {"type": IPMI, "host": "10.0.0.9:623", "user": "root",
                              "password": BMC_PW, "cipher_suite": 17}});
    s.admin("PUT", "/v0/node/n1", Some(ipmi)).await.empty_ok();
    // Neither show_node nor the admin's OBM view carries the password.
    let shown = s.admin("GET", "/v0/node/n1", None).await;
    assert!(!shown.text.contains(BMC_PW));
    let details = s.ok("GET", "/v0/node/n1/obm_details", None).await;
    assert_eq!(
        details,
        json!({"type": IPMI, "enabled": false, "host": "10.0.0.9:623", "user": "root",
               "cipher_suite": 17})
    );
    let obmd = json!({"obmd": {"uri": "http://obmd.example/node/n2", "admin_token": "tok"}});
    s.ok("PUT", "/v0/node/n2", Some(obmd)).await;
    let details = s.ok("GET", "/v0/node/n2/obm_details", None).await;
    assert_eq!(
        details,
        json!({"type": "obmd", "enabled": false, "uri": "http://obmd.example/node/n2"})
    );
    s.shutdown().await;
}

#[tokio::test]
async fn other_tenants_get_401_and_disabled_obms_409_on_every_call() {
    let s = TestServer::start().await;
    setup(&s, "n1", "mock-authz").await;
    for (method, suffix, body) in obm_calls() {
        let path = format!("/v0/node/n1/{suffix}");
        let r = s.call(BOB, method, &path, body.clone()).await;
        r.err(401, "AuthorizationError");
        let r = s.call(None, method, &path, body.clone()).await;
        r.err(401, "AuthorizationError");
        if suffix != "obm" {
            let r = s.call(ALICE, method, &path, body).await;
            r.err(409, "BlockedError");
            assert_eq!(r.json["msg"], "OBM is not enabled");
        }
    }
    enable(&s, ALICE, "n1", true).await.empty_ok();
    for (method, suffix, body) in obm_calls() {
        let path = format!("/v0/node/n1/{suffix}");
        s.call(BOB, method, &path, body)
            .await
            .err(401, "AuthorizationError");
    }
    // The admin-only calls.
    for (method, body) in [("GET", None), ("PUT", Some(mock_obm("other")))] {
        s.call(ALICE, method, "/v0/node/n1/obm_details", body)
            .await
            .err(401, "AuthorizationError");
    }
    // A free node's OBM belongs to the administrators.
    s.ok("PUT", "/v0/node/free1", Some(mock_obm("mock-free")))
        .await;
    enable(&s, ALICE, "free1", true)
        .await
        .err(401, "AuthorizationError");
    enable(&s, Some(ADMIN), "free1", true).await.empty_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn power_boot_and_status_with_the_mock_bmc() {
    let s = TestServer::start().await;
    setup(&s, "n1", "mock-power").await;
    enable(&s, ALICE, "n1", true).await.empty_ok();
    let status = |r: Resp| r.json["power_status"].as_str().unwrap().to_string();
    let st = s.call(ALICE, "GET", "/v0/node/n1/power_status", None).await;
    assert_eq!(status(st), "off");
    s.call(ALICE, "POST", "/v0/node/n1/power_on", None)
        .await
        .empty_ok();
    let st = s.call(ALICE, "GET", "/v0/node/n1/power_status", None).await;
    assert_eq!(status(st), "on");
    s.call(ALICE, "POST", "/v0/node/n1/power_off", None)
        .await
        .empty_ok();
    s.call(ALICE, "POST", "/v0/node/n1/power_cycle", None)
        .await
        .empty_ok();
    let st = s.call(ALICE, "GET", "/v0/node/n1/power_status", None).await;
    assert_eq!(status(st), "on");
    for bad in [
        json!({"bootdev": "floppy"}),
        json!({"bootdev": 7}),
        json!({}),
    ] {
        let r = s
            .call(ALICE, "PUT", "/v0/node/n1/boot_device", Some(bad))
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
    s.call(
        ALICE,
        "POST",
        "/v0/node/n1/power_cycle",
        Some(json!({"force": "yes"})),
    )
    .await
    .err(400, "ValidationError");

    // A BMC that fails or hangs answers an OBMError naming the node, in time.
    s.ok("PUT", "/v0/node/dead", Some(mock_obm("unreachable")))
        .await;
    s.reserve("p", "dead").await;
    enable(&s, ALICE, "dead", true).await.empty_ok();
    let r = s.call(ALICE, "POST", "/v0/node/dead/power_on", None).await;
    r.err(500, "OBMError");
    assert!(
        r.json["msg"].as_str().unwrap().contains("dead"),
        "{}",
        r.text
    );
    s.shutdown().await;
}

#[tokio::test]
async fn consoles_hand_over_and_forget_their_output() {
    let s = TestServer::start().await;
    setup(&s, "n1", "mock-console").await;
    enable(&s, ALICE, "n1", true).await.empty_ok();
    let open = || async {
        reqwest::Client::new()
            .get(format!("{}/v0/node/n1/console", s.url))
            .basic_auth("alice", Some("alice-pw"))
            .send()
            .await
            .unwrap()
    };
    let mut first = open().await;
    let banner = first.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&banner).contains("mock console of mock-console"));
    // A second viewer takes over; the first stream ends.
    let mut second = open().await;
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while first.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the first viewer kept streaming");
    let tail = String::from_utf8_lossy(&second.chunk().await.unwrap().unwrap()).into_owned();
    assert_eq!(tail.matches("mock console of").count(), 1, "{tail:?}");

    // Disable and enable again: the new session's tail has none of the old output.
    tokio::time::sleep(Duration::from_millis(500)).await;
    enable(&s, ALICE, "n1", false).await.empty_ok();
    enable(&s, ALICE, "n1", true).await.empty_ok();
    let mut third = open().await;
    let tail = String::from_utf8_lossy(&third.chunk().await.unwrap().unwrap()).into_owned();
    assert!(tail.starts_with("mock console of"), "{tail:?}");
    assert!(
        !tail.contains("line 2\r\n"),
        "old output survived: {tail:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn consoles_resume_when_the_server_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path()).await;
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), config.clone(), true).await;
    setup(&s, "n1", "mock-restart").await;
    enable(&s, ALICE, "n1", true).await.empty_ok();
    s.shutdown().await;

    // The new server keeps the console from its start, before anyone asks for it.
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), config, true).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let mut viewer = reqwest::Client::new()
        .get(format!("{}/v0/node/n1/console", s.url))
        .basic_auth("alice", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    let tail = String::from_utf8_lossy(&viewer.chunk().await.unwrap().unwrap()).into_owned();
    assert!(
        tail.starts_with("mock console of") && tail.contains("line 2\r\n"),
        "output of the resumed session is missing: {tail:?}"
    );
    drop(viewer);
    s.shutdown().await;
    drop(dir);
}

#[tokio::test]
async fn api_only_servers_keep_no_consoles_but_serve_power() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path()).await;
    let s = TestServer::start_with(dir, config, false).await;
    setup(&s, "n1", "mock-api-only").await;
    enable(&s, ALICE, "n1", true).await.empty_ok();
    s.call(ALICE, "POST", "/v0/node/n1/power_on", None)
        .await
        .empty_ok();
    let r = s.call(ALICE, "GET", "/v0/node/n1/console", None).await;
    r.err(409, "BlockedError");
    assert!(
        r.json["msg"].as_str().unwrap().contains("worker"),
        "{}",
        r.text
    );
    s.shutdown().await;
}

#[tokio::test]
async fn release_needs_a_disabled_obm_and_can_power_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    config.release.power_off = true;
    let s = TestServer::start_with(dir, config, true).await;
    setup(&s, "n1", "mock-release").await;
    enable(&s, ALICE, "n1", true).await.empty_ok();
    s.call(ALICE, "POST", "/v0/node/n1/power_on", None)
        .await
        .empty_ok();
    let detach = || {
        s.call(
            ALICE,
            "POST",
            "/v0/project/p/detach_node",
            Some(json!({"node": "n1"})),
        )
    };
    let r = detach().await;
    r.err(409, "BlockedError");
    assert_eq!(r.json["msg"], "Node's obm is enabled.");
    // The details cannot change under an enabled OBM.
    s.admin("PUT", "/v0/node/n1/obm_details", Some(mock_obm("x")))
        .await
        .err(409, "BlockedError");
    enable(&s, ALICE, "n1", false).await.empty_ok();
    detach().await.empty_ok();
    // Released and powered off: the admin checks through the (now free) node's OBM.
    enable(&s, Some(ADMIN), "n1", true).await.empty_ok();
    let st = s.admin("GET", "/v0/node/n1/power_status", None).await;
    assert_eq!(st.json["power_status"], "off", "{}", st.text);
    enable(&s, Some(ADMIN), "n1", false).await.empty_ok();

    // A node whose BMC cannot power it off stays with its tenant.
    setup(&s, "n2", "unreachable").await;
    let r = s
        .call(
            ALICE,
            "POST",
            "/v0/project/p/detach_node",
            Some(json!({"node": "n2"})),
        )
        .await;
    r.err(500, "OBMError");
    let nodes = s.call(ALICE, "GET", "/v0/project/p/nodes", None).await;
    assert_eq!(nodes.json, json!(["n2"]));

    // An admin may point a node at another BMC while its OBM is disabled.
    s.admin("PUT", "/v0/node/n2/obm_details", Some(mock_obm("mock-n2")))
        .await
        .empty_ok();
    let details = s.ok("GET", "/v0/node/n2/obm_details", None).await;
    assert_eq!(details["host"], "mock-n2");
    s.call(
        ALICE,
        "POST",
        "/v0/project/p/detach_node",
        Some(json!({"node": "n2"})),
    )
    .await
    .empty_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn obmd_nodes_get_hils_tokens_and_redirects() {
    let obmd = obmd::Obmd::start("obmd-admin-secret").await;
    let s = TestServer::start().await;
    let body = json!({"obmd": {"uri": obmd.node_uri("n1"), "admin_token": "obmd-admin-secret"}});
    s.ok("PUT", "/v0/node/n1", Some(body)).await;
    s.project("p").await;
    s.user("alice", "alice-pw", false, &["p"]).await;
    s.reserve("p", "n1").await;
    enable(&s, ALICE, "n1", true).await.empty_ok();
    let token = obmd.token("n1").expect("HIL minted a token");

    // Without following redirects: HIL answers 307 to obmd with the token.
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, suffix) in [
        ("POST", "power_cycle"),
        ("POST", "power_on"),
        ("POST", "power_off"),
        ("PUT", "boot_device"),
        ("GET", "power_status"),
        ("GET", "console"),
    ] {
        let r = no_follow
            .request(
                method.parse().unwrap(),
                format!("{}/v0/node/n1/{suffix}", s.url),
            )
            .basic_auth("alice", Some("alice-pw"))
            .body(if suffix == "boot_device" {
                r#"{"bootdev": "A"}"#
            } else {
                ""
            })
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 307, "{suffix}");
        assert_eq!(
            r.headers()["location"],
            format!("{}/{suffix}?token={token}", obmd.node_uri("n1")).as_str()
        );
    }
    // Following them, the call reaches obmd with its body and without HIL's credentials.
    let r = s
        .call(
            ALICE,
            "POST",
            "/v0/node/n1/power_cycle",
            Some(json!({"force": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(obmd.powered("n1"));
    let seen = obmd.seen();
    let cycle = seen
        .iter()
        .find(|x| x.path.ends_with("/power_cycle"))
        .unwrap();
    assert_eq!(cycle.method, "POST");
    assert_eq!(
        serde_json::from_str::<Value>(&cycle.body).unwrap(),
        json!({"force": true})
    );
    assert!(!cycle.authorization, "HIL credentials were sent to obmd");

    // Disabling revokes the token at obmd; then calls are refused by HIL.
    enable(&s, ALICE, "n1", false).await.empty_ok();
    assert_eq!(obmd.token("n1"), None);
    s.call(ALICE, "POST", "/v0/node/n1/power_on", None)
        .await
        .err(409, "BlockedError");

    // A wrong admin token: obmd refuses, HIL answers OBMError and enables nothing.
    let body = json!({"obmd": {"uri": obmd.node_uri("n2"), "admin_token": "wrong"}});
    s.ok("PUT", "/v0/node/n2", Some(body)).await;
    let r = enable(&s, Some(ADMIN), "n2", true).await;
    r.err(500, "OBMError");
    assert!(!r.text.contains("wrong"), "{}", r.text);
    let details = s.ok("GET", "/v0/node/n2/obm_details", None).await;
    assert_eq!(details["enabled"], false);
    s.shutdown().await;
}
