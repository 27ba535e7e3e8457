//! `auth.backend = "keystone"` against a real Keystone (lab): tokens of two projects' members
//! and of an admin through an authorization matrix, a token for a project HIL lacks, garbage,
//! revocation, expiry, and Keystone going away.

mod common;
mod lab;

use std::time::{Duration, Instant};

use common::*;
use hil_server::config::ProjectMatch;
use lab::keystone::Keystone;
use serde_json::{json, Value};

/// A server that takes `ks`'s tokens, HIL projects named as `project_match` says.
async fn server(ks: &Keystone, project_match: ProjectMatch, revalidate_secs: u64) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    ks.configure(&mut config.auth).await;
    let k = &mut config.auth.keystone;
    k.project_match = project_match;
    k.revalidate_secs = revalidate_secs;
    k.timeout_secs = 3.0;
    let mut s = TestServer::start_with(dir, config, true).await;
    s.admin_token = Some(ks.admin_token().await);
    s
}

/// Waits until `path` answers `status` to `token` (a cached answer may hold for a while).
async fn eventually(s: &TestServer, token: &str, path: &str, status: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let r = s.call_token(Some(token), "GET", path, None).await;
        if r.status == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: still {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The path and body that create network `name` owned by and for `project`.
fn network(name: &str, project: &str) -> (String, Value) {
    let body = json!({"owner": project, "access": project, "net_id": ""});
    (format!("/v0/network/{name}"), body)
}

fn names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn keystone_tokens_follow_hils_rules() {
    let Some(ks) = Keystone::start().await else {
        return;
    };
    lab::capture_logs();
    let physics = ks.project("physics").await;
    let chem = ks.project("chem").await;
    let biology = ks.project("biology").await;
    ks.user("alice", "alice-pw", "member", &[&physics, &biology])
        .await;
    ks.user("bob", "bob-pw", "member", &[&chem]).await;
    ks.user("root", "root-pw", "admin", &[&chem]).await;
    let s = server(&ks, ProjectMatch::Id, 2).await;

    // HIL's rule: HIL projects are named after Keystone project ids.
    for p in [&physics, &chem] {
        s.project(p).await;
    }
    s.node("n-phys").await;
    s.reserve(&physics, "n-phys").await;
    s.node("n-chem").await;
    s.reserve(&chem, "n-chem").await;
    let extensions = s.ok("GET", "/v0/active_extensions", None).await;
    assert!(extensions
        .as_array()
        .unwrap()
        .contains(&json!("hil.ext.auth.keystone")));

    let alice = ks.token("alice", "alice-pw", "physics").await;
    let bob = ks.token("bob", "bob-pw", "chem").await;
    let root = ks.token("root", "root-pw", "chem").await; // admin role in any project
    let alice_bio = ks.token("alice", "alice-pw", "biology").await; // no such HIL project
    let phys_nodes = format!("/v0/project/{physics}/nodes");
    let chem_nodes = format!("/v0/project/{chem}/nodes");

    // who → (project route answers, admin-only route answers)
    let cases: [(&str, Option<&str>, u16, u16, u16); 6] = [
        ("anonymous", None, 401, 401, 401),
        ("garbage", Some("not-a-token"), 401, 401, 401),
        ("alice (physics)", Some(&alice), 200, 401, 401),
        ("bob (chem)", Some(&bob), 401, 200, 401),
        ("root (admin)", Some(&root), 200, 200, 200),
        (
            "alice (biology, not in HIL)",
            Some(&alice_bio),
            401,
            401,
            401,
        ),
    ];
    for (who, token, physics_status, chem_status, admin_status) in cases {
        let r = s.call_token(token, "GET", &phys_nodes, None).await;
        assert_eq!(r.status, physics_status, "{who} {phys_nodes}: {}", r.text);
        if r.status == 200 {
            assert_eq!(names(&r.json), ["n-phys"], "{who}");
        } else {
            assert_eq!(r.json["type"], "AuthorizationError", "{who}: {}", r.text);
        }
        let r = s.call_token(token, "GET", &chem_nodes, None).await;
        assert_eq!(r.status, chem_status, "{who} {chem_nodes}: {}", r.text);
        let r = s
            .call_token(token, "GET", "/v0/active_extensions", None)
            .await;
        assert_eq!(
            r.status, admin_status,
            "{who} active_extensions: {}",
            r.text
        );
    }

    // Refused tokens are counted by reason in the metrics (never by token or user).
    let failures = |reason| s.ctx.metrics.auth_failures.get(&["keystone", reason]);
    assert!(failures("invalid_token") >= 1, "the garbage token");
    assert!(failures("unknown_project") >= 1, "the biology token");

    // A member changes its own project, and only its own.
    let (path, body) = network("phys-net", &physics);
    let r = s.call_token(Some(&alice), "PUT", &path, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (path, body) = network("chem-net", &chem);
    let r = s.call_token(Some(&alice), "PUT", &path, Some(body)).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let obmd = json!({"obmd": {"uri": "http://obmd/n-new", "admin_token": "t"}});
    let r = s
        .call_token(Some(&alice), "PUT", "/v0/node/n-new", Some(obmd))
        .await;
    assert_eq!(r.status, 401, "node_register is for admins: {}", r.text);
    let networks = s.ok("GET", "/v0/networks", None).await;
    assert!(networks.get("phys-net").is_some() && networks.get("chem-net").is_none());

    // Revoked: refused once the cached answer is older than revalidate_secs (2 s).
    ks.revoke(&alice).await;
    eventually(&s, &alice, &phys_nodes, 401, Duration::from_secs(6)).await;
    let r = s.call_token(Some(&bob), "GET", &chem_nodes, None).await;
    assert_eq!(r.status, 200, "other tokens are untouched");
    // Tokens and the service password stay out of the logs.
    let log = lab::log_text();
    let (_, service_password, _) = ks.service_user().await;
    for secret in [&alice, &bob, &root, &service_password] {
        assert!(!log.contains(secret.as_str()), "a secret in the log");
    }
    assert!(
        log.contains("Keystone does not know the caller's token"),
        "the log is captured"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn projects_may_match_by_name() {
    let Some(ks) = Keystone::start().await else {
        return;
    };
    let physics = ks.project("physics").await;
    ks.user("alice", "alice-pw", "member", &[&physics]).await;
    let s = server(&ks, ProjectMatch::Name, 60).await;
    s.project("physics").await;
    s.node("n1").await;
    s.reserve("physics", "n1").await;
    let alice = ks.token("alice", "alice-pw", "physics").await;
    let r = s
        .call_token(Some(&alice), "GET", "/v0/project/physics/nodes", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r.json), ["n1"]);

    // Keystone going away: cached tokens keep working until revalidation; new ones get a
    // clear 503, quickly.
    let fresh = ks.token("alice", "alice-pw", "physics").await;
    let mut ks = ks;
    ks.stop();
    let r = s
        .call_token(Some(&alice), "GET", "/v0/project/physics/nodes", None)
        .await;
    assert_eq!(r.status, 200, "a validated token is remembered: {}", r.text);
    let started = Instant::now();
    let r = s
        .call_token(Some(&fresh), "GET", "/v0/project/physics/nodes", None)
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json["type"], "ServiceUnavailableError", "{}", r.text);
    let msg = r.json["msg"].as_str().unwrap();
    assert!(msg.contains("Keystone"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(4), "no hang");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_tokens_are_refused() {
    // Every token of this Keystone, HIL's own service token included, lives 4 to 5 s.
    let Some(ks) = Keystone::start_with_expiry(5).await else {
        return;
    };
    let physics = ks.project("physics").await;
    ks.user("alice", "alice-pw", "member", &[&physics]).await;
    let s = server(&ks, ProjectMatch::Id, 60).await;
    s.project(&physics).await;
    let path = format!("/v0/project/{physics}/nodes");
    let alice = ks.token("alice", "alice-pw", "physics").await;
    let r = s.call_token(Some(&alice), "GET", &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Remembered only until the token expires, however long revalidate_secs is.
    eventually(&s, &alice, &path, 401, Duration::from_secs(8)).await;
    // A new token works: HIL renews its own expired service token by itself.
    let again = ks.token("alice", "alice-pw", "physics").await;
    let r = s.call_token(Some(&again), "GET", &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.shutdown().await;
}
